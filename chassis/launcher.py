"""``make run``: the whole platform on one machine, on the embedded default.

Starts the embedded Kafka-protocol broker (unless ``ZONE_KAFKA_BOOTSTRAP_SERVERS`` points at a real
cluster; its TLS and SASL settings, ``ZONE_KAFKA_SECURITY_PROTOCOL``, ``ZONE_KAFKA_SSL_CAFILE`` …,
then reach every app as ``<SERVICE>_KAFKA_*``), then the gateway and every service as its own
uvicorn process with its SQLite file under ``var/`` (migrations are applied and demo data seeded
as each starts), waits until every ``/readyz`` answers, prints the URLs, and on Ctrl-C or SIGTERM
stops everything it started.

Ports (each configurable): gateway 8000 (``GATEWAY_PORT``), investment 8001, approvals 8002,
hr 8003, stats 8004 (``<SERVICE>_PORT``), broker 9092 (``BROKER_PORT``).

The :class:`Platform` class is the same machinery for the end-to-end and fault tests.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from chassis.broker import EmbeddedBroker, LaunchError, port_is_free


@dataclass(frozen=True)
class AppSpec:
    name: str
    module: str  # the package holding ``app.py`` with ``create_app()``
    default_port: int
    env_prefix: str


APPS: list[AppSpec] = [
    AppSpec("gateway", "gateway", 8000, "GATEWAY_"),
    AppSpec("investment", "services.investment", 8001, "INVESTMENT_"),
    AppSpec("approvals", "services.approvals", 8002, "APPROVALS_"),
    AppSpec("hr", "services.hr", 8003, "HR_"),
    AppSpec("stats", "services.stats", 8004, "STATS_"),
]
SERVICES = [a for a in APPS if a.name != "gateway"]


def available_apps() -> list[AppSpec]:
    """The apps whose package exists in this checkout."""
    found = []
    for app in APPS:
        try:
            if importlib.util.find_spec(f"{app.module}.app") is not None:
                found.append(app)
        except ModuleNotFoundError:  # the app's package is not in this checkout
            continue
    return found


@dataclass
class Platform:
    """The broker and every app as real processes on loopback."""

    var_dir: Path = Path("var")
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)
    broker_port: int = 9092
    kafka_bootstrap: str | None = None  # an external cluster; None starts the embedded broker
    database_urls: dict[str, str] = field(default_factory=dict)
    seed_demo_data: bool = True
    topic_prefix: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    apps: list[AppSpec] = field(default_factory=available_apps)
    broker: EmbeddedBroker | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def port(self, name: str) -> int:
        spec = next(a for a in [*self.apps, *APPS] if a.name == name)
        return self.ports.get(name) or int(os.environ.get(f"{spec.env_prefix}PORT", spec.default_port))

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.port(name)}"

    @property
    def bootstrap(self) -> str:
        if self.kafka_bootstrap:
            return self.kafka_bootstrap
        assert self.broker is not None
        return self.broker.bootstrap_servers

    def app_env(self, spec: AppSpec) -> dict[str, str]:
        p = spec.env_prefix
        db_url = self.database_urls.get(spec.name) or f"sqlite+aiosqlite:///{(self.var_dir / f'{spec.name}.db').resolve()}"
        env = {
            **os.environ,
            f"{p}PORT": str(self.port(spec.name)),
            f"{p}HOST": self.host,
            f"{p}DATABASE_URL": db_url,
            f"{p}KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            f"{p}TOPIC_PREFIX": self.topic_prefix,
            f"{p}SEED_DEMO_DATA": "true" if self.seed_demo_data else "false",
            f"{p}JWKS_URL": f"{self.url('gateway')}/.well-known/jwks.json",
            "ZONE_VAR_DIR": str(self.var_dir.resolve()),
        }
        if spec.name == "gateway":
            for svc in SERVICES:
                env[f"GATEWAY_{svc.name.upper()}_URL"] = self.url(svc.name)
        if self.kafka_bootstrap:
            # A real cluster is usually secured: ZONE_KAFKA_SECURITY_PROTOCOL, ZONE_KAFKA_SSL_CAFILE,
            # ZONE_KAFKA_SASL_* … reach every app as <P>KAFKA_*, unless the app has its own value
            # (each app logs in as itself, so per-app SASL users stay possible).
            for name, value in os.environ.items():
                if name.startswith("ZONE_KAFKA_") and name != "ZONE_KAFKA_BOOTSTRAP_SERVERS":
                    env.setdefault(f"{p}{name.removeprefix('ZONE_')}", value)
        env.update(self.extra_env)
        return env

    def check_ports(self) -> None:
        taken = [f"{a.name} {self.port(a.name)}" for a in self.apps if not port_is_free(self.host, self.port(a.name))]
        if taken:
            raise LaunchError(f"port already in use: {', '.join(taken)} (set <APP>_PORT to move it)")

    def start(self, timeout_s: float = 60.0) -> Platform:
        if not self.apps:
            raise LaunchError("no apps found in this checkout")
        self.var_dir.mkdir(parents=True, exist_ok=True)
        (self.var_dir / "log").mkdir(exist_ok=True)
        self.check_ports()
        try:
            if not self.kafka_bootstrap:
                self.broker = EmbeddedBroker(self.host, self.broker_port, self.var_dir / "log" / "broker.log").start()
            for spec in self.apps:
                self.start_app(spec)
            self.wait_ready(timeout_s)
        except BaseException:
            # The caller never gets a platform to stop: what did start must not outlive this call
            # (each app runs in its own session, so nothing else would ever reap it).
            self.stop()
            raise
        return self

    def start_app(self, spec: AppSpec) -> None:
        log = open(self.var_dir / "log" / f"{spec.name}.log", "ab")
        self.processes[spec.name] = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", f"{spec.module}.app:create_app", "--factory",
                "--host", self.host, "--port", str(self.port(spec.name)),
                "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "5",
            ],
            env=self.app_env(spec),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout_s: float, names: list[str] | None = None) -> None:
        deadline = time.monotonic() + timeout_s
        pending = set(names or self.processes)
        with httpx.Client(timeout=2.0) as client:
            while pending:
                for name in sorted(pending):
                    proc = self.processes[name]
                    if proc.poll() is not None:
                        raise LaunchError(
                            f"{name} exited with code {proc.returncode}; see {self.var_dir / 'log' / (name + '.log')}"
                        )
                    try:
                        if client.get(f"{self.url(name)}/readyz").status_code == 200:
                            pending.discard(name)
                    except httpx.HTTPError:
                        pass
                if pending and time.monotonic() > deadline:
                    raise LaunchError(f"not ready within {timeout_s:.0f}s: {', '.join(sorted(pending))}")
                if pending:
                    time.sleep(0.2)

    def stop_app(self, name: str, sig: int = signal.SIGTERM, timeout_s: float = 10.0) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout_s)
        except ProcessLookupError:
            pass

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_app(name)
        if self.broker is not None:
            self.broker.stop()
            self.broker = None


def main() -> int:
    platform = Platform(
        var_dir=Path(os.environ.get("ZONE_VAR_DIR", "var")),
        broker_port=int(os.environ.get("BROKER_PORT", "9092")),
        kafka_bootstrap=os.environ.get("ZONE_KAFKA_BOOTSTRAP_SERVERS") or None,
        seed_demo_data=os.environ.get("ZONE_SEED_DEMO_DATA", "true").lower() != "false",
    )
    stopping = False

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        started = time.monotonic()
        platform.start()
        print(f"\n产业功能区企业服务平台 zone platform is up ({time.monotonic() - started:.1f}s):")
        if platform.broker is not None:
            print(f"  broker (embedded Tansu)   {platform.bootstrap}")
        for spec in platform.apps:
            print(f"  {spec.name:<25} {platform.url(spec.name)}   docs: {platform.url(spec.name)}/docs")
        accounts = platform.var_dir / "demo-accounts.txt"
        if accounts.exists():
            print("\n演示账户 demo accounts:\n" + accounts.read_text(encoding="utf-8"))
        print(f"logs: {platform.var_dir / 'log'}/   Ctrl-C stops everything.", flush=True)
        while not stopping:
            for name, proc in platform.processes.items():
                if proc.poll() is not None:
                    print(f"{name} exited unexpectedly (code {proc.returncode}); stopping", file=sys.stderr)
                    stopping = True
                    break
            time.sleep(0.5)
        return 0
    except LaunchError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    finally:
        platform.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
