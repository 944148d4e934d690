"""The whole platform as real processes — the broker, the gateway and every service — used through the gateway.

An enterprise files an application, staff accept, approve and complete it, the enterprise sees it in its
own file, the statistics summary counts it, and a subscribed government system receives the signed event
(a second subscriber that is down gets retries, a dead letter, and the redelivery). Then the access
matrix: no enterprise reads another's anything, no zone's staff act in another zone, staff-only and
admin-only endpoints refuse an enterprise. Last, a stopped service: 503 for its routes, a partial dashboard.

A service whose package does not exist in this checkout makes the tests that need it skip.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from chassis.broker import free_port
from chassis.launcher import APPS, Platform, available_apps
from tests.support.webhooks import Receiver, signature_is_valid

PASSWORD = "Demo@2025"
ENTERPRISE_A = ("xingu.jicheng", "91510100MA6DGXQ125", "成都芯谷集成电路设计有限公司")
ENTERPRISE_B = ("rongxin.fengce", "91510100MA6C8U4P5L", "蓉芯封装测试有限公司")
COMPLETED = "zone.approvals.application.completed.v1"
ITEM = "51011600ZJ-XK-0001"  # 建筑工程施工许可证核发, delegated to 成都芯谷 in the approvals demo data
PRESENT = {a.name for a in available_apps()}


def needs(*services: str) -> pytest.MarkDecorator:
    missing = [s for s in services if s not in PRESENT]
    return pytest.mark.skipif(bool(missing), reason=f"service package missing in this checkout: {', '.join(missing)}")


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if "gateway" not in PRESENT:
        pytest.skip("no gateway package")
    var_dir: Path = tmp_path_factory.mktemp("platform")
    env = {
        "ZONE_ADMIN_USERNAME": "admin",
        "ZONE_ADMIN_PASSWORD": PASSWORD,
        "GATEWAY_KEY_PASSPHRASE": "e2e-passphrase",
        "GATEWAY_DEMO_PASSWORD": PASSWORD,
        "GATEWAY_ARGON2_TIME_COST": "1",
        "GATEWAY_ARGON2_MEMORY_KIB": "8192",
        "GATEWAY_ARGON2_PARALLELISM": "1",
        "GATEWAY_WEBHOOK_ALLOW_PRIVATE": "true",
        "GATEWAY_WEBHOOK_MAX_ATTEMPTS": "3",
        "GATEWAY_WEBHOOK_BACKOFF_BASE_S": "0.2",
        "GATEWAY_WEBHOOK_POLL_INTERVAL_S": "0.2",
        "GATEWAY_BREAKER_RESET_S": "2",
        "GATEWAY_RATE_LIMIT_PER_S": "1000",
        "GATEWAY_RATE_LIMIT_BURST": "2000",
        "GATEWAY_TOKEN_RATE_LIMIT_BURST": "200",
    }
    for app in APPS:
        env[f"{app.env_prefix}RELAY_POLL_INTERVAL_S"] = "0.2"
        env[f"{app.env_prefix}LOG_JSON"] = "false"
    platform = Platform(
        var_dir=var_dir,
        ports={app.name: free_port() for app in APPS},
        broker_port=free_port(),
        seed_demo_data=True,
        topic_prefix=f"e2e{uuid.uuid4().hex[:6]}.",
        extra_env=env,
    )
    try:
        platform.start(timeout_s=120)
    except Exception:
        platform.stop()
        raise
    yield platform
    platform.stop()


@pytest.fixture
async def gateway(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.url("gateway"), timeout=30) as client:
        yield client


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    r = await client.post("/auth/token", data={"grant_type": "password", "username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def eventually(check: Any, timeout_s: float = 30.0, interval_s: float = 0.25, message: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval_s)
    raise AssertionError(f"not true within {timeout_s}s: {message} (last: {last})")


async def subscriber(client: httpx.AsyncClient, admin: dict[str, str], callback_url: str) -> tuple[dict[str, str], dict[str, Any]]:
    client_id = f"district-stats-{uuid.uuid4().hex[:6]}"
    created = await client.post("/admin/clients", headers=admin,
                                json={"client_id": client_id, "name": "区统计局", "event_types": [COMPLETED]})
    assert created.status_code == 201, created.text
    token = await client.post("/auth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                   "client_secret": created.json()["client_secret"]})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    subscription = await client.post("/api/subscriptions", headers=auth,
                                     json={"callback_url": callback_url, "event_types": [COMPLETED],
                                           "filters": {"zoneid": "cd-xingu"}})
    assert subscription.status_code == 201, subscription.text
    return auth, subscription.json()


async def file_application(client: httpx.AsyncClient, enterprise: dict[str, str], who: tuple[str, str, str]) -> dict[str, Any]:
    item = await client.get(f"/api/approvals/items/{ITEM}", headers=enterprise)
    assert item.status_code == 200, item.text
    materials = [{"code": m["code"]} for m in item.json()["materials"] if m.get("mandatory", True)]
    body = {
        "zone_id": "cd-xingu",
        "applicant": {"uscc": who[1], "name": who[2], "contact_person": "王经理", "contact_phone": "13800138000"},
        "item_codes": [ITEM],
        "materials": materials,
    }
    key = {"Idempotency-Key": uuid.uuid4().hex}
    filed = await client.post("/api/approvals/applications", json=body, headers={**enterprise, **key})
    assert filed.status_code == 201, filed.text
    again = await client.post("/api/approvals/applications", json=body, headers={**enterprise, **key})
    assert again.json()["id"] == filed.json()["id"]  # a retried filing is the same filing
    return dict(filed.json())


async def approvals_completed(client: httpx.AsyncClient, headers: dict[str, str], period: str) -> float:
    r = await client.get("/api/stats/zones/cd-xingu/summary", params={"period": period}, headers=headers)
    assert r.status_code == 200, r.text
    indicator = next(i for i in r.json()["indicators"] if i["code"] == "approvals_completed")
    return float(indicator["value"] or 0)


@needs("approvals", "stats", "investment")
async def test_an_application_filed_through_the_gateway_is_seen_counted_and_shared(gateway: httpx.AsyncClient):
    admin = await login(gateway, "admin")
    enterprise = await login(gateway, ENTERPRISE_A[0])
    staff = await login(gateway, "xingu.approvals")
    statistician = await login(gateway, "city.stats")
    period = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")

    receiver = await Receiver().start()
    down = Receiver()  # a second subscriber whose endpoint is not up
    try:
        auth, subscription = await subscriber(gateway, admin, receiver.url)
        down_auth, down_subscription = await subscriber(gateway, admin, down.url)

        # Let the demo data's own events settle before taking the baseline.
        async def settled() -> float | None:
            first = await approvals_completed(gateway, statistician, period)
            await asyncio.sleep(1.0)
            return first if first == await approvals_completed(gateway, statistician, period) else None

        baseline = await eventually(lambda: _as_truthy(settled()), timeout_s=60, message="stats never settled")
        baseline = float(baseline[0])

        application = await file_application(gateway, enterprise, ENTERPRISE_A)
        app_id = application["id"]
        for action, body in (("accept", {}), ("approve", {}), ("complete", {"certificate_no": "CDXG-SG-2026-0042"})):
            r = await gateway.post(f"/api/approvals/applications/{app_id}/{action}", json=body, headers=staff)
            assert r.status_code == 200, (action, r.text)
        assert r.json()["status"] == "completed" and r.json()["certificate_no"] == "CDXG-SG-2026-0042"

        overview = (await gateway.get("/api/me/overview", headers=enterprise)).json()
        mine = next(a for a in overview["applications"] if a["id"] == app_id)
        assert mine["uscc"] == ENTERPRISE_A[1] and mine["status"] == "completed"
        assert mine["due_date"] is not None and mine["alert_level"] in ("none", "yellow", "red")
        assert overview["partial"] == []

        await eventually(
            lambda: _at_least(approvals_completed(gateway, statistician, period), baseline + 1),
            timeout_s=60, message="the statistics summary never counted the completion",
        )

        async def delivered() -> list[dict[str, Any]]:
            return [d["json"] for d in receiver.deliveries if d["json"]["subject"] == app_id]

        [event] = await eventually(delivered, timeout_s=60, message="the subscriber never received the event")
        seen = next(d for d in receiver.deliveries if d["json"]["subject"] == app_id)
        assert signature_is_valid(subscription["secret"], seen["headers"], seen["body"])
        assert event["type"] == COMPLETED and event["data"]["certificate_no"] == "CDXG-SG-2026-0042"
        assert event["data"]["uscc"] == ENTERPRISE_A[1] and event["zoneid"] == "cd-xingu"

        # The subscriber that was down: retried, dead-lettered, then redelivered once it is up.
        async def dead() -> list[dict[str, Any]]:
            r = await gateway.get(f"/api/subscriptions/{down_subscription['id']}/deliveries", headers=down_auth,
                                  params={"status": "dead"})
            return [d for d in r.json()["items"] if d["event_id"] == event["id"]]

        [letter] = await eventually(dead, timeout_s=60, message="never dead-lettered")
        assert letter["attempts"] == 3
        await down.start()
        r = await gateway.post(f"/api/subscriptions/{down_subscription['id']}/deliveries/{letter['id']}/redeliver",
                               headers=down_auth)
        assert r.status_code == 200
        await eventually(lambda: _has(down.deliveries, event["id"]), timeout_s=30, message="redelivery never arrived")
        redelivered_headers = next(d["headers"] for d in down.deliveries if d["json"]["id"] == event["id"])
        assert redelivered_headers["webhook-id"] == letter["id"]
        assert auth  # the first subscriber's token stays valid throughout
    finally:
        await receiver.stop()
        await down.stop()


async def _as_truthy(value: Any) -> Any:
    result = await value
    return None if result is None else (result,)


async def _at_least(value: Any, wanted: float) -> bool:
    return float(await value) >= wanted


async def _has(deliveries: list[dict[str, Any]], event_id: str) -> bool:
    return any(d["json"]["id"] == event_id for d in deliveries)


@needs("approvals", "investment", "stats", "hr")
async def test_an_enterprise_cannot_read_or_touch_another_enterprises_anything(gateway: httpx.AsyncClient):
    a = await login(gateway, ENTERPRISE_A[0])
    b = await login(gateway, ENTERPRISE_B[0])
    application = await file_application(gateway, a, ENTERPRISE_A)
    app_id = application["id"]
    assert (await gateway.get(f"/api/approvals/applications/{app_id}", headers=a)).status_code == 200
    for method, path, body in [
        ("get", f"/api/approvals/applications/{app_id}", None),
        ("post", f"/api/approvals/applications/{app_id}/resubmit", {}),
        ("post", f"/api/approvals/applications/{app_id}/evaluate", {"score": 1, "comment": "差"}),
        ("post", f"/api/approvals/applications/{app_id}/accept", {}),
        ("get", f"/api/approvals/applications/{app_id}/documents/any", None),
    ]:
        r = await gateway.request(method, path, json=body, headers=b)
        assert r.status_code in (403, 404), (method, path, r.status_code, r.text)
        assert ENTERPRISE_A[1] not in r.text
    listing = await gateway.get("/api/approvals/applications", params={"uscc": ENTERPRISE_A[1]}, headers=b)
    assert listing.status_code in (200, 403, 404)
    assert ENTERPRISE_A[1] not in listing.text
    own = await gateway.get("/api/approvals/applications", headers=b)
    assert all(item["uscc"] == ENTERPRISE_B[1] for item in own.json()["items"])
    assert app_id not in own.text

    investment_staff = await login(gateway, "xingu.investment")
    projects = (await gateway.get("/api/investment/projects", params={"uscc": ENTERPRISE_A[1], "size": 50},
                                  headers=investment_staff)).json()["items"]
    for project in projects:
        r = await gateway.get(f"/api/investment/projects/{project['id']}", headers=b)
        assert r.status_code in (403, 404), r.text
        for sub in ("funds", "admission-checks"):
            r = await gateway.get(f"/api/investment/projects/{project['id']}/{sub}", headers=b)
            assert r.status_code in (403, 404), (sub, r.status_code)
    theirs = await gateway.get("/api/investment/projects", params={"uscc": ENTERPRISE_A[1]}, headers=b)
    assert ENTERPRISE_A[1] not in theirs.text

    statistician = await login(gateway, "city.stats")
    reports = (await gateway.get("/api/stats/reports", params={"uscc": ENTERPRISE_A[1], "size": 50},
                                 headers=statistician)).json()["items"]
    for report in reports:
        r = await gateway.get(f"/api/stats/reports/{report['id']}", headers=b)
        assert r.status_code in (403, 404), r.text
        r = await gateway.post(f"/api/stats/reports/{report['id']}/resubmit", json={}, headers=b)
        assert r.status_code in (403, 404, 422), r.text  # 422: the body is checked before the report is looked up
        assert ENTERPRISE_A[1] not in r.text
    for path in ("/api/stats/reports", "/api/stats/reports/due"):
        r = await gateway.get(path, params={"uscc": ENTERPRISE_A[1]}, headers=b)
        assert ENTERPRISE_A[1] not in r.text, path

    assert (await gateway.get("/api/hr/staff", headers=b)).status_code == 403
    overview = (await gateway.get("/api/me/overview", headers=b)).json()
    assert app_id not in json.dumps(overview) and ENTERPRISE_A[1] not in json.dumps(overview)


@needs("approvals", "investment", "stats")
async def test_staff_of_one_zone_cannot_act_or_read_in_another(gateway: httpx.AsyncClient):
    enterprise = await login(gateway, ENTERPRISE_A[0])
    application = await file_application(gateway, enterprise, ENTERPRISE_A)  # in cd-xingu
    biotown = await login(gateway, "biotown.approvals")
    for action, body in (("accept", {}), ("refuse", {"reason": "材料不全"})):
        r = await gateway.post(f"/api/approvals/applications/{application['id']}/{action}", json=body, headers=biotown)
        assert r.status_code in (403, 404), (action, r.text)
    assert (await gateway.get(f"/api/approvals/applications/{application['id']}", headers=biotown)).status_code in (403, 404)
    listed = await gateway.get("/api/approvals/applications", params={"zone_id": "cd-xingu"}, headers=biotown)
    assert listed.status_code == 403 or application["id"] not in listed.text
    still = await gateway.get(f"/api/approvals/applications/{application['id']}", headers=enterprise)
    assert still.json()["status"] == application["status"]  # nothing happened

    xingu_investment = await login(gateway, "xingu.investment")
    city_stats = await login(gateway, "city.stats")
    leader = await login(gateway, "xingu.leader")
    foreign = (await gateway.get("/api/investment/projects", params={"zone_id": "tf-biotown"}, headers=xingu_investment))
    assert foreign.status_code == 403 or all(p["zone_id"] == "cd-xingu" for p in foreign.json()["items"])
    assert (await gateway.get("/api/stats/zones/tf-biotown/summary", params={"period": "2026"}, headers=leader)).status_code in (403, 404)
    assert (await gateway.get("/api/stats/zones/tf-biotown/summary", params={"period": "2026"}, headers=city_stats)).status_code == 200
    assert (await gateway.get("/api/dashboard", params={"zone_id": "tf-biotown"}, headers=leader)).status_code == 403


@needs("approvals", "investment", "stats", "hr")
async def test_staff_only_and_admin_only_endpoints_refuse_an_enterprise_token(gateway: httpx.AsyncClient):
    enterprise = await login(gateway, ENTERPRISE_A[0])
    refused = [
        ("get", "/admin/accounts", None),
        ("post", "/admin/keys/rotate", None),
        ("post", "/admin/zones", {"zone_id": "xx-new", "name": "新区", "type": "产业新城", "district": "双流区"}),
        ("post", "/admin/clients", {"client_id": "x-sys", "name": "x", "event_types": []}),
        ("get", "/api/dashboard", None),
        ("get", "/api/subscriptions", None),
        ("get", "/audit", None),
        ("post", "/api/approvals/items", {}),
        ("post", "/api/approvals/delegations", {}),
        ("get", "/api/approvals/summary", None),
        ("post", "/api/investment/projects", {}),
        ("get", "/api/investment/pipeline/summary", None),
        ("post", "/api/hr/positions", {}),
        ("get", "/api/hr/headcount", None),
        ("post", "/api/stats/indicators", {}),
        ("post", "/api/stats/assessments/2026", {}),
        ("get", "/api/stats/zones/cd-xingu/summary?period=2026", None),
        ("get", "/api/approvals/admin/outbox", None),
        ("get", "/api/hr/audit", None),
    ]
    for method, path, body in refused:
        r = await gateway.request(method, path, json=body, headers=enterprise)
        assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
        assert r.headers["content-type"].startswith("application/problem+json")


@needs("investment", "approvals", "stats", "hr")
async def test_a_stopped_service_gives_503_for_its_routes_and_a_partial_dashboard(platform: Platform, gateway: httpx.AsyncClient):
    leader = await login(gateway, "xingu.leader")
    whole = (await gateway.get("/api/dashboard", headers=leader)).json()
    assert whole["partial"] == [], whole
    platform.stop_app("hr")
    try:
        started = time.monotonic()
        r = await gateway.get("/api/hr/headcount", params={"zone_id": "cd-xingu"}, headers=leader)
        assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
        assert r.headers["content-type"].startswith("application/problem+json")
        assert time.monotonic() - started < 3
        board = (await gateway.get("/api/dashboard", headers=leader)).json()
        assert board["partial"] == ["hr"]
        [zone] = board["zones"]
        assert zone["headcount"] is None
        assert zone["pipeline"] is not None and zone["approvals"] is not None and zone["statistics"] is not None
        assert (await gateway.get("/api/approvals/summary", params={"zone_id": "cd-xingu"}, headers=leader)).status_code != 503
    finally:
        platform.start_app(next(a for a in APPS if a.name == "hr"))
        platform.wait_ready(60, ["hr"])
