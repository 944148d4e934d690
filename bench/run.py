"""``make bench``: every benchmark in one run, each figure beside a ceiling measured in the same run.

Reports are written to ``bench/results/``. PostgreSQL is used where ``BENCH_DATABASE_URL`` (or
``TEST_DATABASE_URL``) names a server; otherwise SQLite. Traffic stays on loopback; every loop is
bounded. The gateway hop is ``python -m gateway.benchmark`` (run here too).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

from bench import aggregation, event_latency, footprint, stats_summary, submission


def main() -> int:
    print("== gateway hop (gateway.benchmark)", flush=True)
    for clients in (1, 20, 50):
        subprocess.run([sys.executable, "-m", "gateway.benchmark", "--clients", str(clients), "--seconds", "5"], check=False)
    print("== submission throughput (filings through the gateway vs. a raw-SQL ceiling behind it)", flush=True)
    print(submission.main([]).write(), flush=True)
    print("== aggregation (/api/dashboard vs. the slowest backend call it makes)", flush=True)
    print(aggregation.main([]).write(), flush=True)
    print("== event latency and relay drain", flush=True)
    print(asyncio.run(event_latency.main()).write(), flush=True)
    print("== footprint", flush=True)
    print(footprint.main().write(), flush=True)
    print("== statistics summary (pre-aggregates vs. GROUP BY over 3.6 M values)", flush=True)
    print(asyncio.run(stats_summary.main()).write(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
