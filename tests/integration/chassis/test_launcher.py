"""`make run`'s launcher: clear one-line errors, every app up, and nothing left behind on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chassis.broker import EmbeddedBroker, LaunchError, free_port, tansu_binary
from chassis.launcher import APPS, available_apps

ROOT = Path(__file__).resolve().parents[3]


def test_a_missing_broker_binary_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("TANSU_BIN", "/nonexistent/tansu")
    with pytest.raises(LaunchError, match="TANSU_BIN=/nonexistent/tansu is not an executable file"):
        tansu_binary()


def test_a_taken_broker_port_is_a_one_line_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(LaunchError, match=f"broker port {port} is already in use"):
            EmbeddedBroker(port=port).start()


def _launcher_env(tmp_path: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {**os.environ, "ZONE_VAR_DIR": str(tmp_path / "var"), "BROKER_PORT": str(ports["broker"])}
    for app in APPS:
        env[f"{app.env_prefix}PORT"] = str(ports[app.name])
    return env


def test_the_launcher_reports_a_taken_app_port_in_one_line(tmp_path):
    if not available_apps():
        pytest.skip("no apps in this checkout yet")
    ports = {a.name: free_port() for a in APPS} | {"broker": free_port()}
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", ports[available_apps()[0].name]))
    blocker.listen()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "chassis.launcher"],
            cwd=ROOT, env=_launcher_env(tmp_path, ports), capture_output=True, text=True, timeout=60,
        )
    finally:
        blocker.close()
    assert result.returncode == 1
    assert "port already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_launcher_starts_every_app_and_sigterm_leaves_no_process_behind(tmp_path):
    apps = available_apps()
    if not apps:
        pytest.skip("no apps in this checkout yet")
    ports = {a.name: free_port() for a in APPS} | {"broker": free_port()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "chassis.launcher"],
        cwd=ROOT, env=_launcher_env(tmp_path, ports), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        output = ""
        assert proc.stdout is not None
        while "is up" not in output and time.monotonic() < deadline and proc.poll() is None:
            output += proc.stdout.readline()
        assert "is up" in output, output
        for app in apps:
            r = httpx.get(f"http://127.0.0.1:{ports[app.name]}/readyz", timeout=5)
            assert r.status_code == 200, (app.name, r.text)
        children = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        assert proc.returncode == 0
        time.sleep(0.5)
        for port in [ports[a.name] for a in apps] + [ports["broker"]]:
            with socket.socket() as s:
                assert s.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still served"
        alive = [pid for pid in children if Path(f"/proc/{pid}").exists()]
        assert not alive, f"processes left behind: {alive}"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_platform_that_fails_to_start_leaves_no_process_behind(tmp_path):
    from chassis.launcher import AppSpec, Platform

    healthy = next(a for a in APPS if a.name == "investment")
    broken = AppSpec("broken", "no_such_package_anywhere", 0, "BROKEN_")
    platform = Platform(
        var_dir=tmp_path / "var", ports={healthy.name: free_port(), broken.name: free_port()}, broker_port=free_port(),
        apps=[healthy, broken], seed_demo_data=False,
    )
    with pytest.raises(LaunchError, match="broken exited"):
        platform.start(timeout_s=60)
    assert platform.processes == {} and platform.broker is None
