"""Event subscriptions: events from the real broker delivered to a real receiver, signed, retried, dead-lettered, redelivered."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from chassis.events import CloudEvent
from chassis.tables import audit_log
from gateway.models import SeenEvent
from tests.support.events import publish
from tests.support.services import eventually
from tests.support.validators import VALID_USCC
from tests.support.webhooks import signature_is_valid

COMPLETED = "zone.approvals.application.completed.v1"
REVOKED = "zone.approvals.application.commitment_revoked.v1"


def completed(application_id: str, zone_id: str = "cd-xingu", item_codes: tuple[str, ...] = ("XK-001",)) -> CloudEvent:
    return CloudEvent(
        type=COMPLETED, source="/zone-platform/approvals", subject=application_id, zoneid=zone_id,
        data={"application_id": application_id, "zone_id": zone_id, "uscc": VALID_USCC, "item_codes": list(item_codes),
              "completed_at": "2026-03-02T10:00:00+08:00", "accepted_at": "2026-02-20T09:00:00+08:00", "promised_days": 5,
              "working_days_used": 4, "on_time": True, "certificate_no": "CD-2026-0001"},
    )


async def subscribe(gw, token: str, **body):  # type: ignore[no-untyped-def]
    r = await gw.client.post("/api/subscriptions", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    return r.json()


async def deliveries(gw, token: str, subscription_id: str, **params):  # type: ignore[no-untyped-def]
    r = await gw.client.get(f"/api/subscriptions/{subscription_id}/deliveries", params=params,
                            headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_matching_event_reaches_the_subscriber_signed_and_others_do_not(gateway_factory, webhook_receiver, kafka):
    gw = await gateway_factory(consumers_enabled=True)
    receiver = await webhook_receiver().start()
    token = await gw.client_token("credit-platform", [COMPLETED, REVOKED])
    subscription = await subscribe(gw, token, callback_url=receiver.url, event_types=[COMPLETED],
                                   filters={"zoneid": "cd-xingu", "data": {"item_codes": "XK-001"}})
    assert subscription["secret"].startswith("whsec_")
    topic = gw.settings.topic("approvals")
    wanted = completed("app-1", item_codes=("XK-001", "XK-007"))
    for event in (completed("app-2", zone_id="tf-biotown"), completed("app-3", item_codes=("XK-002",)), wanted):
        await publish(kafka.bootstrap, topic, event)
    await eventually(lambda: _at_least(receiver, 1), timeout_s=30, message="no delivery")
    await asyncio.sleep(0.5)
    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    assert signature_is_valid(subscription["secret"], delivery["headers"], delivery["body"])
    assert delivery["headers"]["Content-Type"].startswith("application/cloudevents+json")
    body = delivery["json"]
    assert body["id"] == wanted.id and body["type"] == COMPLETED and body["subject"] == "app-1"
    assert body["zoneid"] == "cd-xingu" and body["data"]["certificate_no"] == "CD-2026-0001"
    [listed] = await deliveries(gw, token, subscription["id"])
    assert listed["status"] == "delivered" and listed["id"] == delivery["headers"]["webhook-id"]
    assert listed["event_id"] == wanted.id and listed["attempts"] == 1 and listed["last_status_code"] == 204


async def _at_least(receiver, n: int) -> bool:  # type: ignore[no-untyped-def]
    return len(receiver.deliveries) >= n


async def test_a_subscriber_that_is_down_gets_retries_then_a_dead_letter_that_can_be_redelivered(
    gateway_factory, webhook_receiver, kafka
):
    gw = await gateway_factory(consumers_enabled=True, webhook_max_attempts=3, webhook_backoff_base_s=0.1)
    receiver = webhook_receiver()  # not listening yet: the subscriber is down
    token = await gw.client_token("district-stats", [COMPLETED])
    subscription = await subscribe(gw, token, callback_url=receiver.url, event_types=[COMPLETED])
    await publish(kafka.bootstrap, gw.settings.topic("approvals"), completed("app-9"))

    async def dead():  # type: ignore[no-untyped-def]
        items = await deliveries(gw, token, subscription["id"], status="dead")
        return items[0] if items else None

    letter = await eventually(dead, timeout_s=30, message="never dead-lettered")
    assert letter["attempts"] == 3 and letter["last_status_code"] is None and "Connect" in letter["last_error"]
    assert datetime.fromisoformat(letter["last_attempt_at"]) - datetime.fromisoformat(letter["created_at"]) >= timedelta(
        seconds=0.1 + 0.2
    )  # backed off 0.1 s, then 0.2 s
    await receiver.start()
    r = await gw.client.post(f"/api/subscriptions/{subscription['id']}/deliveries/{letter['id']}/redeliver",
                             headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["redeliveries"] == 1
    again = await gw.client.post(f"/api/subscriptions/{subscription['id']}/deliveries/{letter['id']}/redeliver",
                                 headers={"Authorization": f"Bearer {token}"})
    assert again.status_code in (200, 409)
    await eventually(lambda: _at_least(receiver, 1), timeout_s=10, message="redelivery never arrived")
    assert receiver.deliveries[0]["headers"]["webhook-id"] == letter["id"]
    assert signature_is_valid(subscription["secret"], receiver.deliveries[0]["headers"], receiver.deliveries[0]["body"])

    async def delivered():  # type: ignore[no-untyped-def]
        return (await deliveries(gw, token, subscription["id"]))[0]["status"] == "delivered"

    await eventually(delivered, timeout_s=10)


async def test_a_new_subscription_can_ask_for_the_events_since_a_point_in_time(gateway_factory, webhook_receiver, kafka):
    gw = await gateway_factory(consumers_enabled=True)
    before = datetime.now(UTC) - timedelta(minutes=5)
    event = completed("app-old")
    await publish(kafka.bootstrap, gw.settings.topic("approvals"), event)

    async def seen():  # type: ignore[no-untyped-def]
        async with gw.state.ctx.db.session() as s:
            return await s.get(SeenEvent, event.id)

    await eventually(seen, timeout_s=30, message="the gateway never saw the event")
    receiver = await webhook_receiver().start()
    token = await gw.client_token("market-regulation", [COMPLETED])
    later = await subscribe(gw, token, callback_url=receiver.url, event_types=[COMPLETED])
    assert later["replayed"] == 0
    replaying = await subscribe(gw, token, callback_url=receiver.url, event_types=[COMPLETED],
                                replay_from=before.isoformat())
    assert replaying["replayed"] == 1
    await eventually(lambda: _at_least(receiver, 1), timeout_s=10)
    assert receiver.deliveries[0]["json"]["id"] == event.id
    assert signature_is_valid(replaying["secret"], receiver.deliveries[0]["headers"], receiver.deliveries[0]["body"])


async def test_subscriptions_are_limited_to_granted_types_and_allowed_callbacks_and_their_owner(gateway_factory):
    gw = await gateway_factory(webhook_allow_private=False)
    token = await gw.client_token("credit-platform", [REVOKED])
    auth = {"Authorization": f"Bearer {token}"}
    not_granted = await gw.client.post("/api/subscriptions", headers=auth,
                                       json={"callback_url": "https://8.8.8.8/hooks", "event_types": [COMPLETED]})
    assert not_granted.status_code == 422 and not_granted.json()["errors"][0]["field"] == "event_types.0"
    for url in ("http://127.0.0.1:9/hooks", "http://169.254.169.254/latest/meta-data", "http://10.0.0.8/x",
                "http://localhost:8000/x", "file:///etc/passwd"):
        r = await gw.client.post("/api/subscriptions", headers=auth, json={"callback_url": url, "event_types": [REVOKED]})
        assert r.status_code == 422, url
        assert r.json()["errors"][0]["field"] == "callback_url"
    ok = await gw.client.post("/api/subscriptions", headers=auth,
                              json={"callback_url": "https://8.8.8.8/hooks", "event_types": [REVOKED]})
    assert ok.status_code == 201, ok.text
    subscription_id = ok.json()["id"]
    listed = await gw.client.get("/api/subscriptions", headers=auth)
    assert [s["id"] for s in listed.json()["items"]] == [subscription_id] and "secret" not in listed.json()["items"][0]
    other = {"Authorization": f"Bearer {await gw.client_token('someone-else', [REVOKED])}"}
    for method, path in (("get", f"/api/subscriptions/{subscription_id}"),
                         ("get", f"/api/subscriptions/{subscription_id}/deliveries"),
                         ("patch", f"/api/subscriptions/{subscription_id}"),
                         ("delete", f"/api/subscriptions/{subscription_id}")):
        r = await gw.client.request(method, path, headers=other, json={} if method == "patch" else None)
        assert r.status_code == 404, (method, path)
    assert (await gw.client.get("/api/subscriptions", headers=other)).json()["total"] == 0
    await gw.create_account(username="ent", kind="enterprise", uscc=VALID_USCC)
    assert (await gw.client.get("/api/subscriptions", headers=await gw.headers("ent"))).status_code == 403
    patched = await gw.client.patch(f"/api/subscriptions/{subscription_id}", headers=auth, json={"active": False})
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert (await gw.client.delete(f"/api/subscriptions/{subscription_id}", headers=auth)).status_code == 204
    async with gw.state.ctx.db.session() as s:
        actions = (await s.execute(select(audit_log.c.action, audit_log.c.after).where(audit_log.c.entity_id == subscription_id)
                                   .order_by(audit_log.c.id))).all()
    assert [a.action for a in actions] == ["subscription.create", "subscription.update", "subscription.delete"]
    assert "whsec_" not in str([a.after for a in actions])


async def test_a_rotated_secret_signs_alongside_the_old_one_until_the_overlap_ends(gateway_factory, webhook_receiver, kafka):
    gw = await gateway_factory(consumers_enabled=True)
    receiver = await webhook_receiver().start()
    token = await gw.client_token("credit-platform", [COMPLETED])
    auth = {"Authorization": f"Bearer {token}"}
    subscription = await subscribe(gw, token, callback_url=receiver.url, event_types=[COMPLETED])
    old = subscription["secret"]
    path = f"/api/subscriptions/{subscription['id']}/rotate-secret"

    other = {"Authorization": f"Bearer {await gw.client_token('someone-else', [COMPLETED])}"}
    assert (await gw.client.post(path, headers=other)).status_code == 404
    too_long = await gw.client.post(path, headers=auth, json={"overlap_hours": 1000})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "overlap_hours"

    rotated = await gw.client.post(path, headers=auth, json={"overlap_hours": 24})
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old and rotated.json()["previous_secret_expires_at"] is not None
    await publish(kafka.bootstrap, gw.settings.topic("approvals"), completed("app-rot-1"))
    await eventually(lambda: _at_least(receiver, 1), timeout_s=30, message="no delivery after the rotation")
    first = receiver.deliveries[0]
    assert len(first["headers"]["webhook-signature"].split()) == 2
    assert signature_is_valid(old, first["headers"], first["body"]) and signature_is_valid(new, first["headers"], first["body"])

    leaked = await gw.client.post(path, headers=auth, json={"overlap_hours": 0})  # a leak: the old secret stops at once
    newest = leaked.json()["secret"]
    assert leaked.status_code == 200 and leaked.json()["previous_secret_expires_at"] is None
    await publish(kafka.bootstrap, gw.settings.topic("approvals"), completed("app-rot-2"))
    await eventually(lambda: _at_least(receiver, 2), timeout_s=30, message="no delivery after the second rotation")
    second = receiver.deliveries[1]
    assert signature_is_valid(newest, second["headers"], second["body"])
    assert not signature_is_valid(new, second["headers"], second["body"])

    async with gw.state.ctx.db.session() as s:
        actions = (await s.execute(select(audit_log.c.action, audit_log.c.after)
                                   .where(audit_log.c.entity_id == subscription["id"]).order_by(audit_log.c.id))).all()
    assert [a.action for a in actions].count("subscription.rotate_secret") == 2
    assert "whsec_" not in str([a.after for a in actions])
