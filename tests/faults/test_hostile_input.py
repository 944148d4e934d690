"""Hostile input: schemathesis fuzzes every operation of every service's OpenAPI (at least 100
examples each, NUL bytes allowed, huge numbers and long strings included) against the real
processes, with an administrator's token so the generated requests reach the deepest code. No
response may be a 5xx. (Responses' schemas are checked by each service's own tests.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

MAX_EXAMPLES = os.environ.get("HOSTILE_MAX_EXAMPLES", "100")
MAX_SECONDS = os.environ.get("HOSTILE_MAX_SECONDS", "90")


@pytest.mark.parametrize("service", ["investment", "approvals", "hr", "stats"])
def test_no_input_makes_a_server_error(platform, issuer, service, tmp_path: Path):
    base = platform.url(service)
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(schemathesis), "run", f"{base}/openapi.json",
            "--checks", "not_a_server_error",
            "--max-examples", MAX_EXAMPLES,
            "--max-time", MAX_SECONDS,
            "--generation-allow-x00", "true",
            "--header", f"Authorization: {issuer.admin()['Authorization']}",
            "--exclude-path-regex", "^/admin/",  # replays and redrives are operator actions, tested elsewhere
            "--request-timeout", "20",
            "--workers", "2",
            "--seed", "20261123",
        ],
        capture_output=True, text=True, timeout=int(MAX_SECONDS) + 120, cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert "SUMMARY" in output, output[-6000:]  # the run completed and reported
    # Judge by what the API answered: the failure list must be empty. (schemathesis also exits
    # non-zero for its own generator errors, e.g. hypothesis's lambda reflection on Python 3.11.)
    failures = output.split("Failures:", 1)[1].split("\n\n", 1)[0] if "Failures:" in output else ""
    assert not failures.strip(), output[output.find("FAILURES"):][:6000]
    assert "Server error" not in output, output[-6000:]
