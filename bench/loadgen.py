"""A small closed-loop HTTP load generator: N concurrent clients on one aiohttp pool, bounded in
requests and seconds, loopback only. Reports throughput and latency percentiles.

Run it in its own process (``python -m bench.loadgen URL ...``) so it does not share an event loop
with what it measures. ``{n}`` in a header value or in ``--json-body`` is replaced by a request
counter, so that every request can be distinct (e.g. ``-H "Idempotency-Key: run1-{n}"``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    statuses: dict[str, int]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(q * (len(values) - 1)))))
    return values[k]


async def run_load(
    url: str,
    *,
    method: str = "GET",
    concurrency: int = 20,
    duration_s: float = 5.0,
    max_requests: int = 200_000,
    headers: dict[str, str] | None = None,
    body: Callable[[int], Any] | None = None,
    warmup_s: float = 0.5,
) -> LoadResult:
    host = urlsplit(url).hostname
    if host not in LOOPBACK:
        raise ValueError(f"load goes to loopback only, not {host}")
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    counter = 0
    # Header values with ``{n}`` get the request counter (distinct Idempotency-Keys, for instance).
    templated = {k: v for k, v in (headers or {}).items() if "{n}" in v}
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency, keepalive_timeout=30)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        start = time.perf_counter()
        measure_from = start + warmup_s
        stop_at = measure_from + duration_s

        async def worker() -> None:
            nonlocal counter, errors
            while True:
                now = time.perf_counter()
                if now >= stop_at or counter >= max_requests:
                    return
                counter += 1
                payload = body(counter) if body else None
                request_headers = headers
                if templated:
                    n = str(counter)
                    request_headers = {**(headers or {}), **{k: v.replace("{n}", n) for k, v in templated.items()}}
                t0 = time.perf_counter()
                try:
                    async with session.request(method, url, json=payload, headers=request_headers) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError):
                    status = 0
                t1 = time.perf_counter()
                if t0 >= measure_from:
                    latencies.append(t1 - t0)
                    statuses[str(status)] = statuses.get(str(status), 0) + 1
                    if status == 0 or status >= 400:
                        errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = min(time.perf_counter(), stop_at) - measure_from
    n = len(latencies)
    return LoadResult(
        requests=n,
        errors=errors,
        seconds=round(elapsed, 3),
        rps=round(n / elapsed, 1) if elapsed > 0 else 0.0,
        p50_ms=round(statistics.median(latencies) * 1000, 3) if latencies else float("nan"),
        p95_ms=round(percentile(latencies, 0.95) * 1000, 3),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 3),
        statuses=statuses,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--method", default="GET")
    parser.add_argument("-c", "--concurrency", type=int, default=20)
    parser.add_argument("-d", "--duration", type=float, default=5.0)
    parser.add_argument("-H", "--header", action="append", default=[])
    parser.add_argument("--json-body", default=None, help="a JSON body; {n} is replaced by a request counter")
    args = parser.parse_args()
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    body = None
    if args.json_body:
        template = args.json_body
        body = lambda n: json.loads(template.replace("{n}", str(n)))  # noqa: E731
    result = asyncio.run(
        run_load(args.url, method=args.method, concurrency=args.concurrency, duration_s=args.duration, headers=headers, body=body)
    )
    json.dump(asdict(result), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
