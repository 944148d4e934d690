"""Views that combine every service: an enterprise's own file (一企一档) and the staff dashboard.

Backends are called concurrently over the same pooled connections as the proxy, each with its
own timeout (``GATEWAY_AGGREGATE_TIMEOUT_S``) and behind its circuit breaker, with the caller's
token, so each service still decides what the caller may see. When a part cannot be fetched the
rest is returned and the missing part is named in ``partial``; a part the caller may not see is
named in ``forbidden``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import aiohttp
from opentelemetry import propagate
from starlette.requests import Request

from chassis.auth import Principal
from gateway.proxy import Backend, BackendTimeout, BackendUnavailable

SHANGHAI = ZoneInfo("Asia/Shanghai")
FORWARDED = ("authorization", "accept-language")


@dataclass
class Part:
    service: str
    data: Any = None
    failure: str | None = None  # unavailable | forbidden | missing
    status: int | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def call_headers(request: Request) -> dict[str, str]:
    headers = {name: request.headers[name] for name in FORWARDED if name in request.headers}
    headers["accept"] = "application/json"
    if request.client is not None:
        headers["x-forwarded-for"] = request.client.host
    propagate.inject(headers)
    return headers


async def fetch(backend: Backend, path: str, params: dict[str, Any], headers: dict[str, str], timeout_s: float) -> Part:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    try:
        response = await backend.request(
            "GET", path + ("?" + query if query else ""), headers=headers, retryable=True, timeout_s=timeout_s
        )
    except (BackendUnavailable, BackendTimeout):
        return Part(backend.name, failure="unavailable")
    try:
        if response.status == 200:
            return Part(backend.name, data=await response.json(content_type=None), status=200)
        if response.status in (401, 403):
            return Part(backend.name, failure="forbidden", status=response.status)
        return Part(backend.name, failure="missing" if response.status < 500 else "unavailable", status=response.status)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return Part(backend.name, failure="unavailable")
    finally:
        response.release()


def items(data: Any) -> list[Any]:
    """The list in a page (``{"items": [...]}``) or a bare list; anything else is no items."""
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return list(data["items"])
    if isinstance(data, list):
        return data
    return []


def failed(parts: Iterable[Part], kind: str) -> list[str]:
    if kind == "forbidden":
        return sorted({p.service for p in parts if p.failure == "forbidden"})
    return sorted({p.service for p in parts if p.failure is not None and p.failure != "forbidden"})


async def enterprise_overview(
    backends: dict[str, Backend], principal: Principal, headers: dict[str, str], timeout_s: float
) -> dict[str, Any]:
    uscc = principal.uscc or ""
    projects, applications, due, returned = await asyncio.gather(
        fetch(backends["investment"], "/projects", {"uscc": uscc, "size": 100}, headers, timeout_s),
        fetch(backends["approvals"], "/applications", {"uscc": uscc, "size": 100}, headers, timeout_s),
        fetch(backends["stats"], "/reports/due", {"uscc": uscc}, headers, timeout_s),
        fetch(backends["stats"], "/reports", {"uscc": uscc, "status": "returned", "size": 100}, headers, timeout_s),
    )
    application_items = items(applications.data)
    alerts = {"yellow": 0, "red": 0}
    for application in application_items:
        level = application.get("alert_level") if isinstance(application, dict) else None
        if level in alerts:
            alerts[level] += 1
    parts = (projects, applications, due, returned)
    return {
        "uscc": uscc,
        "name": principal.name,
        "projects": items(projects.data),
        "applications": application_items,
        "alerts": alerts,
        "reports_due": due.data,
        "reports_returned": items(returned.data),
        "partial": sorted({p.service for p in parts if not p.ok}),
    }


def current_period(now: datetime | None = None) -> str:
    return f"{(now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).year}"


async def zone_figures(
    backends: dict[str, Backend], zone: dict[str, Any], period: str, headers: dict[str, str], timeout_s: float
) -> tuple[dict[str, Any], list[Part]]:
    zone_id = zone["zone_id"]
    parts = await asyncio.gather(
        fetch(backends["investment"], "/pipeline/summary", {"zone_id": zone_id}, headers, timeout_s),
        fetch(backends["approvals"], "/summary", {"zone_id": zone_id}, headers, timeout_s),
        fetch(backends["hr"], "/headcount", {"zone_id": zone_id}, headers, timeout_s),
        fetch(backends["stats"], f"/zones/{quote(zone_id, safe='')}/summary", {"period": period}, headers, timeout_s),
    )
    pipeline, approvals, headcount, statistics = parts
    return (
        {
            "zone_id": zone_id,
            "name": zone.get("name"),
            "type": zone.get("type"),
            "pipeline": pipeline.data,
            "approvals": approvals.data,
            "headcount": headcount.data,
            "statistics": statistics.data,
            "partial": failed(parts, "unavailable"),
            "forbidden": failed(parts, "forbidden"),
        },
        list(parts),
    )


async def ranking(
    backends: dict[str, Backend], year: int, headers: dict[str, str], timeout_s: float
) -> Part:
    """The latest published assessment: this year's, or last year's while this one is not out yet.

    Both years are asked at once (asking for last year only after this year's 404 put a second round
    trip on every city dashboard). None published yet is no ranking, not a failed part.
    """
    this_year, last_year = await asyncio.gather(
        fetch(backends["stats"], f"/assessments/{year}", {}, headers, timeout_s),
        fetch(backends["stats"], f"/assessments/{year - 1}", {}, headers, timeout_s),
    )
    if this_year.failure == "missing":
        if last_year.failure == "missing":
            return Part(this_year.service, data=None, status=404)
        return last_year
    return this_year


async def dashboard(
    backends: dict[str, Backend],
    zones: list[dict[str, Any]],
    *,
    city_wide: bool,
    period: str,
    headers: dict[str, str],
    timeout_s: float,
) -> dict[str, Any]:
    calls: list[Any] = [zone_figures(backends, zone, period, headers, timeout_s) for zone in zones]
    if city_wide:
        calls.append(fetch(backends["investment"], "/pipeline/summary", {}, headers, timeout_s))
        calls.append(ranking(backends, int(period[:4]), headers, timeout_s))
    outcomes = await asyncio.gather(*calls)  # every backend call of the dashboard at once
    results: list[tuple[dict[str, Any], list[Part]]] = outcomes[: len(zones)]
    extra: list[Part] = outcomes[len(zones) :]
    pipeline_total = extra[0].data if city_wide else None
    ranked = extra[1].data if city_wide else None
    all_parts = [p for _, parts in results for p in parts] + extra
    return {
        "scope": "city" if city_wide else "zone",
        "zone_id": None if city_wide else (zones[0]["zone_id"] if zones else None),
        "period": period,
        "zones": [figures for figures, _ in results],
        "pipeline_total": pipeline_total,
        "ranking": ranked,
        "partial": failed(all_parts, "unavailable"),
        "forbidden": failed(all_parts, "forbidden"),
    }
