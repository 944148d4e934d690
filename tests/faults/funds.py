"""Funds in place (实际到位资金) filed through the investment service at a steady, bounded rate: the
fault tier's source of real events. Each filing is 1 万元 and emits one
``zone.investment.funds.recorded.v1`` event, so counting successful filings counts the events."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from chassis.launcher import Platform
from tests.support.tokens import TokenIssuer

ZONE = "cd-xingu"


def period() -> str:
    return datetime.now(UTC).astimezone().strftime("%Y-%m")


class Filings:
    """Files funds at a steady, bounded rate and counts what succeeded."""

    def __init__(self, platform: Platform, issuer: TokenIssuer) -> None:
        self.base = platform.url("investment")
        self.staff = issuer.staff(ZONE, roles=("investment",), subject="fault.investment")
        self.ok = 0
        self.failures: list[Any] = []
        self.project_id = ""

    async def create_project(self, client: httpx.AsyncClient) -> None:
        project = {
            "name": "故障演练项目", "investor": "演练投资有限公司",
            "agreed_investment_wan": 50000, "funding_source": "domestic_outside_city",
        }
        r = await client.post(f"{self.base}/projects", json=project, headers=self.staff)
        assert r.status_code == 201, r.text
        self.project_id = r.json()["id"]
        # Funds in place are recorded only for signed projects.
        for stage in ("contacting", "negotiating", "signed"):
            r = await client.post(
                f"{self.base}/projects/{self.project_id}/transitions", json={"to_stage": stage}, headers=self.staff
            )
            assert r.status_code == 200, r.text

    async def file(self, client: httpx.AsyncClient, *, rate: float, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        interval = 1 / rate
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                r = await client.post(
                    f"{self.base}/projects/{self.project_id}/funds",
                    json={"period": period(), "amount_wan": 1, "source": "domestic_outside_city"},
                    headers=self.staff,
                    timeout=10,
                )
                if r.status_code == 201:
                    self.ok += 1
                else:
                    self.failures.append((r.status_code, r.text[:200]))
            except httpx.HTTPError as exc:
                self.failures.append(repr(exc))
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
