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
    # A list value repeats the parameter (?zone_id=a&zone_id=b), as the batch endpoints take it.
    query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
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


#: The four figures of a zone on the dashboard: (key in the answer, service, one zone's path, several zones' path).
FIGURES = (
    ("pipeline", "investment", "/pipeline/summary", "/pipeline/summary/zones"),
    ("approvals", "approvals", "/summary", "/summary/zones"),
    ("headcount", "hr", "/headcount", "/headcount/zones"),
    ("statistics", "stats", "/zones/{zone_id}/summary", "/zones/summaries"),
)
#: Zones per batch call (the services accept at most 50).
BATCH_ZONES = 50


def zone_view(zone: dict[str, Any], parts: list[Part]) -> dict[str, Any]:
    """One zone's block of the dashboard from its four parts (in FIGURES order)."""
    return {
        "zone_id": zone["zone_id"],
        "name": zone.get("name"),
        "type": zone.get("type"),
        **{key: part.data for (key, *_), part in zip(FIGURES, parts, strict=True)},
        "partial": failed(parts, "unavailable"),
        "forbidden": failed(parts, "forbidden"),
    }


async def zone_figures(
    backends: dict[str, Backend], zone: dict[str, Any], period: str, headers: dict[str, str], timeout_s: float
) -> tuple[dict[str, Any], list[Part]]:
    """One zone's four figures, one call each (a zone's own dashboard)."""
    zone_id = zone["zone_id"]
    parts = list(await asyncio.gather(*(
        fetch(
            backends[service], path.format(zone_id=quote(zone_id, safe="")),
            {"period": period} if service == "stats" else {"zone_id": zone_id}, headers, timeout_s,
        )
        for _key, service, path, _batch in FIGURES
    )))
    return zone_view(zone, parts), parts


async def batch_parts(
    backend: Backend, path: str, zone_ids: list[str], params: dict[str, Any], headers: dict[str, str], timeout_s: float
) -> dict[str, Part]:
    """One service's figure for many zones in one call per 50 zones, as a part per zone.

    A failed call fails the part of every zone it asked for; a zone the service answers in ``missing``
    (it has no record of it) is a missing part for that zone alone.
    """
    chunks = [zone_ids[i : i + BATCH_ZONES] for i in range(0, len(zone_ids), BATCH_ZONES)]
    answers = await asyncio.gather(*(
        fetch(backend, path, {**params, "zone_id": chunk}, headers, timeout_s) for chunk in chunks
    ))
    out: dict[str, Part] = {}
    for chunk, answer in zip(chunks, answers, strict=True):
        by_zone = {
            item.get("zone_id"): item
            for item in (answer.data.get("items", []) if answer.ok and isinstance(answer.data, dict) else [])
            if isinstance(item, dict)
        }
        for zone_id in chunk:
            if not answer.ok:
                out[zone_id] = Part(backend.name, failure=answer.failure, status=answer.status)
            elif zone_id in by_zone:
                out[zone_id] = Part(backend.name, data=by_zone[zone_id], status=200)
            else:
                out[zone_id] = Part(backend.name, failure="missing", status=404)
    return out


async def city_figures(
    backends: dict[str, Backend], zones: list[dict[str, Any]], period: str, headers: dict[str, str], timeout_s: float
) -> list[tuple[dict[str, Any], list[Part]]]:
    """Every zone's four figures with one call per service (not four per zone): a city dashboard over
    four zones made 16 calls, each paying the services' whole per-request cost."""
    zone_ids = [z["zone_id"] for z in zones]
    per_service = await asyncio.gather(*(
        batch_parts(backends[service], batch, zone_ids, {"period": period} if service == "stats" else {}, headers, timeout_s)
        for _key, service, _path, batch in FIGURES
    ))
    out = []
    for zone in zones:
        parts = [figures[zone["zone_id"]] for figures in per_service]
        out.append((zone_view(zone, parts), parts))
    return out


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
    calls: list[Any] = (
        [city_figures(backends, zones, period, headers, timeout_s)]
        if city_wide
        else [zone_figures(backends, zone, period, headers, timeout_s) for zone in zones]
    )
    if city_wide:
        calls.append(fetch(backends["investment"], "/pipeline/summary", {}, headers, timeout_s))
        calls.append(ranking(backends, int(period[:4]), headers, timeout_s))
    outcomes = await asyncio.gather(*calls)  # every backend call of the dashboard at once
    results: list[tuple[dict[str, Any], list[Part]]]
    if city_wide:
        results, extra = outcomes[0], list(outcomes[1:])
    else:
        results, extra = list(outcomes), []
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
