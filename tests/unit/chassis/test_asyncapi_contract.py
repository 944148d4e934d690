"""The checked-in event contract (docs/asyncapi.json, docs/events.md) is what the code publishes."""

from pathlib import Path

import jsonschema
import pytest

from chassis.asyncapi import available_catalogs, build_asyncapi, render_json, render_markdown

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_the_checked_in_asyncapi_document_matches_the_code():
    expected = render_json(build_asyncapi())
    actual = (DOCS / "asyncapi.json").read_text(encoding="utf-8")
    assert actual == expected, "event contract drifted: run `.venv/bin/python -m chassis.asyncapi > docs/asyncapi.json`"


def test_the_checked_in_event_table_matches_the_code():
    expected = render_markdown()
    actual = (DOCS / "events.md").read_text(encoding="utf-8")
    assert actual == expected, "run `.venv/bin/python -m chassis.asyncapi --markdown > docs/events.md`"


def test_every_service_publishes_on_its_own_channel_with_versioned_types():
    document = build_asyncapi()
    assert document["asyncapi"] == "3.0.0"
    assert set(document["channels"]) == {"zone.platform", "zone.investment", "zone.approvals", "zone.hr", "zone.stats"}
    for channel_id, channel in document["channels"].items():
        assert channel["address"] == channel_id
        for ref in channel["messages"].values():
            message = document["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
            assert message["name"].startswith(channel_id + ".")
            assert message["name"].rsplit(".", 1)[1].startswith("v")


@pytest.mark.parametrize("catalog", available_catalogs(), ids=lambda c: c.service)
def test_every_event_schema_is_a_valid_json_schema_that_carries_the_zone(catalog):
    for et in catalog.types:
        schema = et.json_schema()
        jsonschema.Draft202012Validator.check_schema(schema)
        if catalog.service != "platform" or et.aggregate == "zone":
            assert "zone_id" in schema["properties"], f"{et.name} data has no zone_id"
