"""Statistics: a zone's quarter summary over 5,000 enterprises × 36 months × 20 indicators
(3.6 M accepted report values), against a plain SQL ``GROUP BY`` over those raw values computing the
same figures, measured in the same run. Target (issue 9): summary median < 50 ms.

What is measured, all on one PostgreSQL database (``BENCH_DATABASE_URL`` or ``TEST_DATABASE_URL``):

- the summary through the real HTTP endpoint of a stats app running as a uvicorn process
  (``GET /zones/{id}/summary?period=``, staff token, keep-alive client);
- the same use case in-process (``summaries.zone_summary`` on a session) and its one aggregate
  query (``repository.cells_for``), to see what HTTP and serialisation add;
- the ceiling: one ``GROUP BY`` over ``report_value`` of the zone for the two years a quarter summary
  needs (current, previous quarter, same quarter last year, year to date), via asyncpg.

The data is bulk-loaded with ``COPY`` and the pre-aggregates built the way an operator would after a
bulk import: ``POST /admin/aggregates/rebuild`` on the running app. Before timing anything, every
figure of the summary is checked against figures computed independently from the ``GROUP BY`` rows,
so the benchmark also proves the pre-aggregates are right.

On SQLite (no PostgreSQL server configured) it is skipped: loading 3.6 M rows into SQLite through
the ORM takes longer than the rest of ``make bench``, and a smaller scale would not answer the question.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from bench.common import Report, drop_postgres_database, fresh_postgres_database
from chassis.auth import Principal
from chassis.broker import EmbeddedBroker, free_port
from chassis.db import Database
from chassis.migrations import upgrade
from services.stats import repository as repo
from services.stats import summaries
from services.stats.definition import DEFINITION
from tests.support.tokens import TokenIssuer

ZONE = "bench-zone"
OTHER_ZONE = "bench-other"  # a second zone's rows must not leak into the first one's figures
ENTERPRISES = 5_000
MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]  # 36 months
QUARTER = "2025-Q2"  # previous quarter 2025-Q1, same quarter last year 2024-Q2, year to date 2025-01..06
#: 20 monthly direct-report indicators: 12 flows (sum), 4 rates (average), 4 stocks (latest).
INDICATORS = [(f"bench_{i:02d}", "sum" if i <= 12 else "average" if i <= 16 else "latest") for i in range(1, 21)]
DECIMALS = 2
SUMMARY_REQUESTS = 60
GROUP_BY_RUNS = 5


def asyncpg_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql"))


def units_of(enterprise: int, month_index: int, indicator_index: int) -> int:
    """A deterministic spread of values (units of 1/10,000), some with odd last digits so rounding matters."""
    return ((enterprise * 2_654_435_761 + month_index * 40_503 + indicator_index * 9_973) % 5_000_000) * 37 + enterprise % 7


def uscc_of(enterprise: int) -> str:
    return f"91510100{enterprise:010d}"


# --- loading -----------------------------------------------------------------------------------------


async def load(conn: asyncpg.Connection) -> int:
    """Zones, indicators, 180,000 accepted reports and 3.6 M values (plus a small second zone), by COPY."""
    now = datetime.now(UTC)
    await conn.execute("DELETE FROM indicator_aggregate")
    await conn.copy_records_to_table(
        "zone",
        columns=["zone_id", "name", "type", "district", "partners", "active", "source", "updated_at"],
        records=[
            (ZONE, "基准测试功能区", "产业新城", "高新区",
             json.dumps([{"district": "高新区", "share_percent": 70}, {"district": "双流区", "share_percent": 30}]),
             True, "seed", now),
            (OTHER_ZONE, "另一功能区", "特色街区", "锦江区", "[]", True, "seed", now),
        ],
    )
    await conn.copy_records_to_table(
        "indicator",
        columns=["code", "name", "unit", "period_type", "aggregation", "source", "cumulative", "decimals",
                 "higher_is_better", "position", "created_at", "created_by"],
        records=[
            (code, f"基准指标{i + 1:02d}", "万元", "month", agg, "direct_report", False, DECIMALS, True, 1000 + i, now, "bench")
            for i, (code, agg) in enumerate(INDICATORS)
        ],
    )
    stored = 0
    enterprises = [(e, ZONE) for e in range(ENTERPRISES)] + [(ENTERPRISES + e, OTHER_ZONE) for e in range(50)]
    for mi, month in enumerate(MONTHS):
        reports: list[tuple[Any, ...]] = []
        values: list[tuple[Any, ...]] = []
        for e, zone in enterprises:
            rid = str(uuid.UUID(int=(mi << 64) | e))
            reports.append((rid, zone, uscc_of(e), month, "month", "accepted", 1, 2, json.dumps([c for c, _ in INDICATORS]),
                            "{}", 0, now, "bench", now, "bench", now))
            for ii, (code, _) in enumerate(INDICATORS):
                u = units_of(e, mi, ii)
                values.append((rid, code, zone, uscc_of(e), month, u, u))
        await conn.copy_records_to_table(
            "report",
            columns=["id", "zone_id", "uscc", "period", "period_type", "status", "version", "lock_version", "form_codes",
                     "explanations", "revision_count", "submitted_at", "submitted_by", "reviewed_at", "reviewed_by", "created_at"],
            records=reports,
        )
        await conn.copy_records_to_table(
            "report_value",
            columns=["report_id", "indicator_code", "zone_id", "uscc", "period", "value_units", "accepted_units"],
            records=values,
        )
        stored += len(values)
    await conn.execute("VACUUM ANALYZE")
    return stored


# --- the ceiling and the independent check ------------------------------------------------------------

GROUP_BY = """
SELECT indicator_code, period, SUM(accepted_units) AS sum_units, COUNT(accepted_units) AS n
FROM report_value
WHERE zone_id = $1 AND period >= $2 AND period <= $3 AND accepted_units IS NOT NULL
GROUP BY indicator_code, period
"""


def quarter_months(year: int, q: int) -> list[str]:
    return [f"{year}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]


def expected_figures(rows: list[asyncpg.Record]) -> dict[str, dict[str, float | None]]:
    """The summary's figures computed straight from the GROUP BY rows — written apart from the
    domain code on purpose, so a wrong pre-aggregate or a wrong combination shows as a mismatch."""
    cells: dict[str, dict[str, tuple[int, int]]] = {}
    for r in rows:
        cells.setdefault(r["indicator_code"], {})[r["period"]] = (int(r["sum_units"]), int(r["n"]))

    def over(code: str, agg: str, months: list[str]) -> float | None:
        present = [cells.get(code, {}).get(m) for m in months]
        present_cells = [c for c in present if c and c[1] > 0]
        if not present_cells:
            return None
        if agg == "sum":
            value = Decimal(sum(s for s, _ in present_cells)) / 10_000
        elif agg == "average":
            value = Decimal(sum(s for s, _ in present_cells)) / 10_000 / sum(n for _, n in present_cells)
        else:  # latest: the last month with data
            value = Decimal(present_cells[-1][0]) / 10_000
        return float(value.quantize(Decimal(1).scaleb(-DECIMALS), rounding=ROUND_HALF_UP))

    year, q = int(QUARTER[:4]), int(QUARTER[-1])
    prev = (year, q - 1) if q > 1 else (year - 1, 4)
    out: dict[str, dict[str, float | None]] = {}
    for code, agg in INDICATORS:
        out[code] = {
            "value": over(code, agg, quarter_months(year, q)),
            "previous_value": over(code, agg, quarter_months(*prev)),
            "last_year_value": over(code, agg, quarter_months(year - 1, q)),
            "year_to_date": over(code, agg, [f"{year}-{m:02d}" for m in range(1, 3 * q + 1)]),
        }
    return out


def check_summary(summary: dict[str, Any], expected: dict[str, dict[str, float | None]]) -> None:
    got = {i["code"]: i for i in summary["indicators"] if i["code"] in expected}
    assert set(got) == set(expected), f"indicators missing from the summary: {sorted(set(expected) - set(got))}"
    for code, figures in expected.items():
        for name, want in figures.items():
            assert want is not None, f"{code} {name}: no data in the GROUP BY (loading went wrong)"
            assert got[code][name] == want, f"{code} {name}: summary {got[code][name]} != GROUP BY {want}"
        if got[code]["aggregation"] != "average":  # quantities are credited to the partners, in full
            parts = got[code]["partner_shares"]
            assert parts and round(sum(p["value"] for p in parts), DECIMALS) == figures["value"], f"{code} partner shares"


# --- the running app --------------------------------------------------------------------------------


def start_stats(url: str, bootstrap: str, jwks_json: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STATS_DATABASE_URL": url,
        "STATS_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "STATS_TOPIC_PREFIX": f"b{uuid.uuid4().hex[:6]}.",
        "STATS_JWKS_JSON": jwks_json,
        "STATS_RUN_MIGRATIONS_ON_START": "false",
        "STATS_SEED_DEMO_DATA": "false",
    }
    log = open(log_path, "ab")  # the child writes it until it stops
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "services.stats.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


async def wait_ready(client: httpx.AsyncClient, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"stats app exited with {proc.returncode}")
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("stats app not ready in time")


def ms_median(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timings(n: int) -> Iterator[int]:
    """At most ``n`` runs and at most 60 s of them."""
    deadline = time.monotonic() + 60
    for i in range(n):
        if time.monotonic() > deadline:
            return
        yield i


async def main() -> Report:
    report = Report("stats-summary")
    url = await fresh_postgres_database("stats")
    if url is None:
        print("stats summary benchmark skipped: it needs PostgreSQL (set BENCH_DATABASE_URL or TEST_DATABASE_URL)", flush=True)
        report.add("skipped: no PostgreSQL server (BENCH_DATABASE_URL / TEST_DATABASE_URL)", 0, "")
        return report
    tmp = Path(tempfile.mkdtemp(prefix="bench-stats-"))
    broker = EmbeddedBroker(port=free_port(), log_path=tmp / "broker.log").start()
    issuer = TokenIssuer()
    proc: subprocess.Popen[bytes] | None = None
    db: Database | None = None
    try:
        await upgrade(DEFINITION.migrations_dir, url, DEFINITION.metadata)
        conn = await asyncpg.connect(asyncpg_url(url))
        try:
            started = time.monotonic()
            stored = await load(conn)
            report.add("raw values stored (report_value rows, COPY)", stored, "rows", note=f"{ENTERPRISES} enterprises × 36 months × 20 indicators in the measured zone + 50 enterprises elsewhere")
            report.add("bulk load incl. VACUUM ANALYZE", time.monotonic() - started, "s")

            port = free_port()
            proc = start_stats(url, broker.bootstrap_servers, issuer.jwks_json, port, tmp / "stats.log")
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
                await wait_ready(client, proc)
                started = time.monotonic()
                rebuilt = await client.post("/admin/aggregates/rebuild", headers=issuer.staff(None, roles=("stats-admin",)))
                assert rebuilt.status_code == 200, rebuilt.text
                report.add("POST /admin/aggregates/rebuild (3.6 M values)", time.monotonic() - started, "s", note=rebuilt.text[:120])
                await conn.execute("ANALYZE indicator_aggregate")

                # The ceiling, and the figures it yields, first.
                year = int(QUARTER[:4])
                args = (ZONE, f"{year - 1}-01", f"{year}-12")
                rows = await conn.fetch(GROUP_BY, *args)
                expected = expected_figures(rows)
                group_by: list[float] = []
                for _ in timings(GROUP_BY_RUNS):
                    t = time.perf_counter()
                    await conn.fetch(GROUP_BY, *args)
                    group_by.append(time.perf_counter() - t)
                ceiling = ms_median(group_by)
                report.add("GROUP BY over raw values (2 years of the zone, 2.4 M rows), median", ceiling, "ms")

                # The summary through HTTP: correct first, then timed.
                headers = issuer.staff(ZONE, roles=("stats",))
                path = f"/zones/{ZONE}/summary"
                first = await client.get(path, params={"period": QUARTER}, headers=headers)
                assert first.status_code == 200, first.text
                check_summary(first.json(), expected)
                report.add("summary figures equal GROUP BY figures", len(expected) * 4, "figures checked")
                http: list[float] = []
                for _ in timings(SUMMARY_REQUESTS):
                    t = time.perf_counter()
                    r = await client.get(path, params={"period": QUARTER}, headers=headers)
                    http.append(time.perf_counter() - t)
                    assert r.status_code == 200
                http_ms = ms_median(http)
                report.add("quarter summary over HTTP (uvicorn), median", http_ms, "ms", ceiling=ceiling, target="< 50 ms")
                report.add("quarter summary over HTTP (uvicorn), p95", sorted(http)[int(0.95 * (len(http) - 1))] * 1000, "ms", ceiling=ceiling)
        finally:
            await conn.close()

        # In-process: the use case and its one query, on the app's own session machinery.
        db = Database(url)
        principal = Principal(subject="bench", kind="staff", roles=frozenset({"stats"}), zone_id=ZONE)
        in_proc: list[float] = []
        query: list[float] = []
        async with db.session() as session:
            summary = await summaries.zone_summary(session, principal, ZONE, QUARTER)
            check_summary(summary.model_dump(mode="json"), expected)
            for _ in timings(SUMMARY_REQUESTS):
                t = time.perf_counter()
                await summaries.zone_summary(session, principal, ZONE, QUARTER)
                in_proc.append(time.perf_counter() - t)
            codes = [c for c, _ in INDICATORS]
            for _ in timings(SUMMARY_REQUESTS):
                t = time.perf_counter()
                await repo.cells_for(session, ZONE, {year, year - 1}, codes)
                query.append(time.perf_counter() - t)
        report.add("quarter summary in-process (zone_summary), median", ms_median(in_proc), "ms", ceiling=ceiling)
        report.add("its aggregate query (cells_for, 2 years), median", ms_median(query), "ms", ceiling=ceiling)
        verdict = "met" if http_ms < 50 else "missed"
        report.add(f"target summary median < 50 ms: {verdict}", http_ms, "ms", ceiling=50, target="< 50 ms")
        return report
    finally:
        if proc is not None:
            stop(proc)
        if db is not None:
            await db.dispose()
        broker.stop()
        await drop_postgres_database(url)


if __name__ == "__main__":
    print(asyncio.run(main()).write(), file=sys.stderr)
