"""Footprint: resident memory of every app idle and after a burst of reads, and the time from
starting the platform (installed) to every ``/readyz`` green. Targets (issue 9): ≤ 150 MB each; ≤ 15 s.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Report
from bench.loadgen import run_load
from chassis.broker import free_port
from chassis.launcher import Platform, available_apps


def rss_mb(pid: int) -> float:
    """Resident set of a process and its children (uvicorn runs the app in the process itself)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> Report:
    report = Report("footprint")
    apps = available_apps()
    platform = Platform(
        var_dir=Path(tempfile.mkdtemp(prefix="bench-footprint-")),
        ports={a.name: free_port() for a in apps},
        broker_port=free_port(),
        seed_demo_data=True,
    )
    started = time.monotonic()
    platform.start(timeout_s=120)
    ready_s = time.monotonic() - started
    report.add("start to every /readyz green (demo seed included)", ready_s, "s", ceiling=15, target="≤ 15 s")
    try:
        time.sleep(2)
        for name, proc in platform.processes.items():
            report.add(f"{name} RSS idle", rss_mb(proc.pid), "MB", ceiling=150, target="≤ 150 MB")
        for name in platform.processes:
            asyncio.run(run_load(f"{platform.url(name)}/openapi.json", concurrency=10, duration_s=3, warmup_s=0.2))
            asyncio.run(run_load(f"{platform.url(name)}/healthz", concurrency=20, duration_s=3, warmup_s=0.2))
        for name, proc in platform.processes.items():
            report.add(f"{name} RSS after load", rss_mb(proc.pid), "MB", ceiling=150, target="≤ 150 MB")
    finally:
        platform.stop()
    return report


if __name__ == "__main__":
    print(main().write(), file=sys.stderr)
