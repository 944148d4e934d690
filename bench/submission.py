"""Submission throughput: application filings per second through the real gateway, against a ceiling
behind the same gateway, in the same run, driven by the same load generator.

What runs, each as its own process on loopback:

- the embedded broker, the real gateway (demo accounts; rate limits raised so that the limiter is not
  what is measured) and the real approval service (reference data seeded), both on PostgreSQL when
  ``BENCH_DATABASE_URL``/``TEST_DATABASE_URL`` names a server (fresh databases, dropped afterwards),
  else on SQLite files;
- the ceiling: a bare FastAPI endpoint that writes, with raw SQL (SQLAlchemy core ``text``) in one
  transaction, as many rows as one real filing writes (counted table by table on the approval
  service's database after a probe filing), on the same engine settings as the services. The
  gateway's ``/api/investment`` route points at it, so both go through the same hop.

Every filing is a distinct valid request from an enterprise token issued by the gateway: a counter in
the body and in the ``Idempotency-Key``. The load comes from :mod:`bench.loadgen` in its own process,
interleaved (ceiling, through the gateway, directly to the service) twice, best of two.

Targets (issue 9): through the gateway ≥ 0.35× the ceiling with p99 ≤ 60 ms at 20 clients; the
database-backed write through the gateway ≥ 0.65× the same write sent directly to the service.

``python -m bench.submission [--clients 20] [--seconds 5]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, inspect, select, table, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.common import Report, fresh_postgres_database, tear_down
from chassis.broker import free_port, wait_for_port
from chassis.launcher import APPS, AppSpec, Platform
from services.approvals.settings import ApprovalsSettings

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "Demo@2025"
ENTERPRISE = ("xingu.jicheng", "91510100MA6DGXQ125", "成都芯谷集成电路设计有限公司")
ITEM = "51011600HB-XK-0001"  # 环评报告表审批, delegated to 成都芯谷 in the demo data
MATERIALS = [{"code": "application_form"}, {"code": "eia_report_form"}]

#: The ceiling: parse the JSON body, write ``CEILING_ROWS`` (a JSON {table: rows}) rows in one
#: transaction, one statement per table (as the ORM's flush does), answer 201 with a small JSON body.
CEILING_APP = '''
import json, os, uuid
from typing import Any
from fastapi import FastAPI
from sqlalchemy import text
from chassis.db import Database

ROWS = json.loads(os.environ["CEILING_ROWS"])
db = Database(os.environ["CEILING_DATABASE_URL"], pool_size=int(os.environ["CEILING_POOL_SIZE"]),
              max_overflow=int(os.environ["CEILING_MAX_OVERFLOW"]))
INSERT = text("INSERT INTO ceiling_rows (id, request_id, kind, position, payload) VALUES (:id, :request_id, :kind, :position, :payload)")
app = FastAPI()


@app.on_event("startup")
async def create_table() -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text(
            "CREATE TABLE IF NOT EXISTS ceiling_rows (id VARCHAR(36) PRIMARY KEY, request_id VARCHAR(36) NOT NULL,"
            " kind VARCHAR(64) NOT NULL, position INTEGER NOT NULL, payload TEXT NOT NULL)"
        ))


@app.post("/file", status_code=201)
async def file(body: dict[str, Any]) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    payload = json.dumps(body, ensure_ascii=False)
    async with db.engine.begin() as conn:
        for kind, count in ROWS.items():
            params = [
                {"id": str(uuid.uuid4()), "request_id": request_id, "kind": kind, "position": i, "payload": payload}
                for i in range(count)
            ]
            await conn.execute(INSERT, params if count > 1 else params[0])
    return {"id": request_id, "rows": sum(ROWS.values())}
'''


def filing_body(n: int | str, uscc: str = ENTERPRISE[1], name: str = ENTERPRISE[2]) -> dict[str, Any]:
    return {
        "zone_id": "cd-xingu",
        "applicant": {"uscc": uscc, "name": name, "contact_person": f"王经理{n}", "contact_phone": "13800028001"},
        "item_codes": [ITEM],
        "materials": MATERIALS,
    }


def loadgen(
    url: str, *, method: str = "GET", clients: int, seconds: float, headers: dict[str, str] | None = None,
    json_body: str | None = None,
) -> dict[str, Any]:
    """One :mod:`bench.loadgen` run in its own process; its JSON result."""
    args = [sys.executable, "-m", "bench.loadgen", url, "--method", method, "-c", str(clients), "-d", str(seconds)]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    if json_body is not None:
        args += ["--json-body", json_body]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def login(base_url: str, username: str) -> str:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        r = client.post("/auth/token", data={"grant_type": "password", "username": username, "password": PASSWORD})
        r.raise_for_status()
        return str(r.json()["access_token"])


async def table_counts(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: inspect(c).get_table_names())
            counts = {}
            for name in names:
                if name != "alembic_version":
                    counts[name] = int((await conn.execute(select(func.count()).select_from(table(name)))).scalar_one())
            return counts
    finally:
        await engine.dispose()


async def count_rows(url: str, name: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(f"SELECT count(*) FROM {name}"))).scalar_one())
    finally:
        await engine.dispose()


#: uvicorn under cProfile. uvicorn restores the previous SIGTERM handler after its graceful shutdown
#: and raises the signal again, so the handler installed here is what finally writes the profile.
PROFILED_UVICORN = """
import cProfile, signal, sys, time, uvicorn
out, app, host, port = sys.argv[1:5]
profiler = cProfile.Profile(time.process_time)  # CPU time: waiting on sockets is not what is looked for
def dump(*_):
    profiler.disable()
    profiler.dump_stats(out)
    sys.exit(0)
signal.signal(signal.SIGTERM, dump)
profiler.enable()
uvicorn.run(app, factory=True, host=host, port=int(port), access_log=False, log_level="warning")
dump()
"""


class ProfiledPlatform(Platform):
    """The platform, with the named apps run under cProfile (``--profile approvals``): each writes
    ``<var_dir>/<app>.prof`` when it stops (read it with ``python -m pstats``)."""

    profile: tuple[str, ...] = ()

    def start_app(self, spec: AppSpec) -> None:
        if spec.name not in self.profile:
            super().start_app(spec)
            return
        log = open(self.var_dir / "log" / f"{spec.name}.log", "ab")
        self.processes[spec.name] = subprocess.Popen(
            [sys.executable, "-c", PROFILED_UVICORN, str(self.var_dir / f"{spec.name}.prof"),
             f"{spec.module}.app:create_app", self.host, str(self.port(spec.name))],
            env=self.app_env(spec), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )


def bench_env() -> dict[str, str]:
    """What the gateway and the service need for a benchmark: cheap password hashing for the one login,
    limits out of the way, quiet logs."""
    env = {
        "GATEWAY_KEY_PASSPHRASE": "bench-passphrase",
        "GATEWAY_DEMO_PASSWORD": PASSWORD,
        "GATEWAY_ARGON2_TIME_COST": "1",
        "GATEWAY_ARGON2_MEMORY_KIB": "8192",
        "GATEWAY_ARGON2_PARALLELISM": "1",
        "GATEWAY_RATE_LIMIT_PER_S": "1000000",
        "GATEWAY_RATE_LIMIT_BURST": "1000000",
        "ZONE_ADMIN_USERNAME": "admin",
        "ZONE_ADMIN_PASSWORD": PASSWORD,
    }
    for app in APPS:
        env[f"{app.env_prefix}LOG_LEVEL"] = "WARNING"
        env[f"{app.env_prefix}LOG_JSON"] = "false"
    return env


def start_uvicorn(module_app: str, env: dict[str, str], cwd: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", module_app, "--host", "127.0.0.1", "--port", str(port),
             "--no-access-log", "--log-level", "warning"],
            env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    wait_for_port("127.0.0.1", port, 60, process)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def run(clients: int = 20, seconds: float = 5.0, profile: tuple[str, ...] = ()) -> Report:
    workdir = Path(tempfile.mkdtemp(prefix="bench-submission-"))
    pg = {name: asyncio.run(fresh_postgres_database(f"sub_{name}")) for name in ("gateway", "approvals", "ceiling")}
    urls = {name: url or f"sqlite+aiosqlite:///{workdir / f'{name}.db'}" for name, url in pg.items()}
    db_kind = "PostgreSQL" if pg["approvals"] else "SQLite"
    ceiling_port = free_port()
    platform = ProfiledPlatform(
        var_dir=workdir,
        ports={a.name: free_port() for a in APPS},
        broker_port=free_port(),
        database_urls={"gateway": urls["gateway"], "approvals": urls["approvals"]},
        seed_demo_data=True,
        topic_prefix=f"bench{uuid.uuid4().hex[:6]}.",
        extra_env={**bench_env(), "GATEWAY_INVESTMENT_URL": f"http://127.0.0.1:{ceiling_port}"},
        apps=[a for a in APPS if a.name in ("gateway", "approvals")],
    )
    platform.profile = profile
    report = Report("submission")
    ceiling: subprocess.Popen[bytes] | None = None
    try:
        platform.start(timeout_s=120)
        gateway, approvals = platform.url("gateway"), platform.url("approvals")
        token = login(gateway, ENTERPRISE[0])
        auth = {"Authorization": f"Bearer {token}"}

        # One probe filing through the gateway: what a filing writes, table by table.
        before = asyncio.run(table_counts(urls["approvals"]))
        with httpx.Client(timeout=30) as client:
            r = client.post(f"{gateway}/api/approvals/applications", json=filing_body("probe"),
                            headers={**auth, "Idempotency-Key": f"probe-{uuid.uuid4()}"})
        if r.status_code != 201:
            raise RuntimeError(f"probe filing failed: {r.status_code} {r.text[:500]}")
        after = asyncio.run(table_counts(urls["approvals"]))
        rows = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
        print(f"one filing writes {sum(rows.values())} rows: {rows}", flush=True)

        Path(workdir, "ceiling_app.py").write_text(CEILING_APP)
        pool = ApprovalsSettings(database_url=urls["ceiling"])
        ceiling_env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(workdir), str(REPO)]),
            "CEILING_DATABASE_URL": urls["ceiling"],
            "CEILING_ROWS": json.dumps(rows),
            # The same connection pool as the service's (its settings, or what the environment overrides).
            "CEILING_POOL_SIZE": os.environ.get("APPROVALS_DATABASE_POOL_SIZE", str(pool.database_pool_size)),
            "CEILING_MAX_OVERFLOW": os.environ.get("APPROVALS_DATABASE_MAX_OVERFLOW", str(pool.database_max_overflow)),
        }
        ceiling = start_uvicorn("ceiling_app:app", ceiling_env, str(workdir), ceiling_port, workdir / "log" / "ceiling.log")

        run_id = uuid.uuid4().hex[:8]
        template = json.dumps(filing_body("{n}"), ensure_ascii=False)
        targets = {
            "ceiling": f"{gateway}/api/investment/file",
            "via": f"{gateway}/api/approvals/applications",
            "direct": f"{approvals}/applications",
        }

        pids = {"gateway": platform.processes["gateway"].pid, "approvals": platform.processes["approvals"].pid,
                "ceiling": ceiling.pid}

        def measure(kind: str, round_: str, duration: float) -> dict[str, Any]:
            headers = {**auth, "Idempotency-Key": f"bench-{run_id}-{kind}-{round_}-{{n}}"}
            cpu_before, wall_before = {n: cpu_s(p) for n, p in pids.items()}, time.monotonic()
            result = loadgen(targets[kind], method="POST", clients=clients, seconds=duration, headers=headers,
                             json_body=template)
            wall = time.monotonic() - wall_before
            # How busy each server process was (1.0 = one core): what bounds the figure when it saturates.
            result["cores"] = {n: round((cpu_s(p) - cpu_before[n]) / wall, 2) for n, p in pids.items()}
            print(f"  {kind:8} {round_}: {json.dumps(result)}", flush=True)
            return result

        for kind in targets:  # warm the pools, the caches and the JIT-less interpreter's branch of every path
            measure(kind, "warm", 1.0)
        apps_before = asyncio.run(count_rows(urls["approvals"], "application"))
        results: dict[str, list[dict[str, Any]]] = {kind: [] for kind in targets}
        for round_ in ("r1", "r2"):  # interleaved, so that the machine's load falls on all three alike
            for kind in targets:
                results[kind].append(measure(kind, round_, seconds))
        apps_written = asyncio.run(count_rows(urls["approvals"], "application")) - apps_before
    finally:
        if ceiling is not None:
            stop(ceiling)
        tear_down(platform, profile, workdir, pg)

    best = {kind: max(runs, key=lambda r: r["rps"]) for kind, runs in results.items()}
    accepted = sum(r["statuses"].get("201", 0) for kind in ("via", "direct") for r in results[kind])
    errors = {kind: sum(r["errors"] for r in runs) for kind, runs in results.items()}
    where = f"{clients} clients, {db_kind}, {sum(rows.values())} rows per filing"
    report.add(
        "filings/s through the gateway vs. raw-SQL ceiling behind the same gateway", best["via"]["rps"], "req/s",
        ceiling=best["ceiling"]["rps"], target="≥ 0.35× ceiling",
        note=f"{where}; errors via {errors['via']}, ceiling {errors['ceiling']}; cores busy via {best['via']['cores']}, "
             f"ceiling {best['ceiling']['cores']}; load average {os.getloadavg()[0]:.1f}",
    )
    report.add(
        "filing p99 through the gateway", best["via"]["p99_ms"], "ms", ceiling=60.0, target="≤ 60 ms",
        note=f"{where}; p50 {best['via']['p50_ms']} ms, p95 {best['via']['p95_ms']} ms "
             f"(ceiling p50 {best['ceiling']['p50_ms']}, p99 {best['ceiling']['p99_ms']} ms)",
    )
    report.add(
        "filings/s through the gateway vs. directly to the approval service", best["via"]["rps"], "req/s",
        ceiling=best["direct"]["rps"], target="≥ 0.65× direct",
        note=f"{where}; direct p50 {best['direct']['p50_ms']} ms, p99 {best['direct']['p99_ms']} ms, errors {errors['direct']}, "
             f"cores busy {best['direct']['cores']}",
    )
    report.add(
        "applications written per 201 answered (every filing distinct)", apps_written, "rows", ceiling=accepted,
        target="= 1.0 (warm-up filings make it a little over)",
    )
    return report


def main(argv: list[str] | None = None) -> Report:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--profile", action="append", default=[], choices=[a.name for a in APPS],
                        help="run this app under cProfile (slows it; for finding the hot path, not for figures)")
    args = parser.parse_args(argv)
    return run(args.clients, args.seconds, tuple(args.profile))


if __name__ == "__main__":
    started = time.monotonic()
    print(main().write(), file=sys.stderr)
    print(f"({time.monotonic() - started:.0f} s)", file=sys.stderr)
