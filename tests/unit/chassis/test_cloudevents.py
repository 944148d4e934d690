"""The CloudEvents envelope in Kafka binary content mode, and the catalog's naming rules."""

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from chassis.events import CloudEvent, EventCatalog


class Accepted(BaseModel):
    application_id: str


def test_an_event_survives_the_round_trip_through_kafka_headers_and_value():
    event = CloudEvent(
        type="zone.approvals.application.accepted.v1",
        source="/zone-platform/approvals",
        subject="app-1",
        data={"application_id": "app-1", "名称": "施工许可"},
        zoneid="cd-xingu",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        time=datetime(2026, 10, 9, 8, 30, tzinfo=UTC),
    )
    back = CloudEvent.from_kafka(event.kafka_headers(), event.kafka_value())
    assert back == event


def test_binary_mode_puts_attributes_in_ce_headers():
    event = CloudEvent(type="zone.hr.position.created.v1", source="/zone-platform/hr", data={}, subject="p1")
    names = [k for k, _ in event.kafka_headers()]
    assert names[:6] == ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"]
    assert "ce_subject" in names


def test_a_message_without_the_required_attributes_is_not_a_cloudevent():
    with pytest.raises(ValueError, match="ce_type"):
        CloudEvent.from_kafka([(b"ce_id".decode(), b"1"), ("ce_source", b"x"), ("ce_specversion", b"1.0")], b"{}")


def test_type_names_follow_zone_service_aggregate_event_version():
    catalog = EventCatalog("approvals")
    catalog.define("zone.approvals.application.accepted.v1", Accepted, aggregate="application", description="受理")
    for bad in ("zone.approvals.accepted.v1", "zone.hr.application.accepted.v1", "zone.approvals.application.accepted"):
        with pytest.raises(ValueError):
            catalog.define(bad, Accepted, aggregate="application", description="x")
    with pytest.raises(ValueError, match="twice"):
        catalog.define("zone.approvals.application.accepted.v1", Accepted, aggregate="application", description="x")


def test_the_schema_of_an_event_type_is_draft_2020_12_with_its_description():
    catalog = EventCatalog("approvals")
    et = catalog.define("zone.approvals.application.accepted.v1", Accepted, aggregate="application", description="已受理")
    schema = et.json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["required"] == ["application_id"]
