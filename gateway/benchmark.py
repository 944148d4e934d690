"""The gateway hop, measured: the same cheap read directly against a service and through the gateway.

``python -m gateway.benchmark [--clients 20] [--seconds 5]`` starts, as separate processes on free
loopback ports, a minimal FastAPI "ping" service (the ceiling) and the real gateway (temporary
SQLite database, rate limits raised so that the benchmark measures the hop and not the limiter)
whose ``/api/investment`` points at it, then drives both with the same aiohttp load generator and
prints requests/s, median and p99 latency, and the ratio. The load comes from ``wrk`` when it is
installed (``apt-get install wrk``), else from an aiohttp client (which then takes a core of its
own and lowers both figures). Everything stops by itself.

The HTTP client in the gateway's hot path decides this figure (issue 9 calibration on this
machine: httpx's default AsyncClient 0.07× direct, httpx over an aiohttp transport 0.24×,
aiohttp 0.46×); the gateway uses aiohttp with a pooled keep-alive connector per backend.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from chassis.broker import free_port, wait_for_port

PING_APP = '''
from fastapi import FastAPI
app = FastAPI()

@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}
'''


async def _load(url: str, clients: int, seconds: float) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - start)

        for _ in range(50):  # warm up the pools
            async with session.get(url) as response:
                await response.read()
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] if latencies else 0.0
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000, errors


def _wrk(url: str, clients: int, seconds: float) -> tuple[float, float, float, int]:
    """The same measurement with wrk (Debian package ``wrk``), which costs the machine far less than Python."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{max(1, int(seconds))}s", "--latency", url],
        capture_output=True, text=True, timeout=seconds + 30, check=True,
    ).stdout

    def ms(label: str) -> float:
        value = next(line.split()[1] for line in out.splitlines() if line.strip().startswith(label))
        unit = value.lstrip("0123456789.")
        number = float(value[: len(value) - len(unit)])
        return number * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rate = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
    errors = sum(int(n) for line in out.splitlines() if "Non-2xx" in line for n in line.split()[-1:])
    return rate, ms("50%"), ms("99%"), errors


def measure(url: str, clients: int, seconds: float) -> tuple[float, float, float, int]:
    if shutil.which("wrk"):
        return _wrk(url, clients, seconds)
    return asyncio.run(_load(url, clients, seconds))


def _start(args: list[str], env: dict[str, str], cwd: str, port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", *args, "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    wait_for_port("127.0.0.1", port, 30, process)
    return process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    workdir = tempfile.mkdtemp(prefix="gateway-bench-")
    Path(workdir, "ping_app.py").write_text(PING_APP)
    backend_port, gateway_port = free_port(), free_port()
    repo = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([workdir, repo]), "ZONE_VAR_DIR": workdir}
    gateway_env = {
        **env,
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/gateway.db",
        "GATEWAY_INVESTMENT_URL": f"http://127.0.0.1:{backend_port}",
        "GATEWAY_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",  # no broker needed for the hop
        "GATEWAY_RELAY_ENABLED": "false",
        "GATEWAY_CONSUMERS_ENABLED": "false",
        "GATEWAY_RATE_LIMIT_PER_S": "1000000",
        "GATEWAY_RATE_LIMIT_BURST": "1000000",
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    processes = []
    try:
        processes.append(_start(["ping_app:app"], env, workdir, backend_port))
        processes.append(_start(["gateway.app:create_app", "--factory"], gateway_env, repo, gateway_port))
        direct_url = f"http://127.0.0.1:{backend_port}/ping"
        via_url = f"http://127.0.0.1:{gateway_port}/api/investment/ping"
        measure(via_url, args.clients, 1)  # warm both pools
        # Interleaved, twice each, best of two: the ratio holds on a busy machine.
        runs = [(measure(direct_url, args.clients, args.seconds), measure(via_url, args.clients, args.seconds))
                for _ in range(2)]
        direct = max((r[0] for r in runs), key=lambda m: m[0])
        via = max((r[1] for r in runs), key=lambda m: m[0])
        # One client: interleaved short runs, the lowest median of each side. A latency floor is
        # what the code costs; on a shared machine any single run can land on someone else's burst.
        singles = [(measure(direct_url, 1, 1), measure(via_url, 1, 1)) for _ in range(5)]
        one_direct = min((r[0] for r in singles), key=lambda m: m[1])
        one_via = min((r[1] for r in singles), key=lambda m: m[1])
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
    print(f"{args.clients} clients, {args.seconds:.0f} s each, GET /ping, load from {'wrk' if shutil.which('wrk') else 'aiohttp'}")
    print(f"  direct        {direct[0]:8.0f} req/s  median {direct[1]:6.2f} ms  p99 {direct[2]:6.2f} ms  errors {direct[3]}")
    print(f"  via gateway   {via[0]:8.0f} req/s  median {via[1]:6.2f} ms  p99 {via[2]:6.2f} ms  errors {via[3]}")
    print(f"  ratio         {via[0] / direct[0]:.2f}x direct")
    print(f"1 client (best of 5 interleaved 1 s runs): added median latency {one_via[1] - one_direct[1]:.2f} ms "
          f"(direct {one_direct[1]:.2f} ms, via gateway {one_via[1]:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
