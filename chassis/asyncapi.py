"""The AsyncAPI 3.0 document of every event the platform publishes, generated from the catalogs.

Channels are the topics (``zone.<service>``), messages carry the CloudEvents binary-mode headers
and the JSON Schema of their data. The checked-in copy is ``docs/asyncapi.json``; a test fails when
code and document drift apart. Regenerate with::

    .venv/bin/python -m chassis.asyncapi > docs/asyncapi.json
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from typing import Any

from chassis.events import EventCatalog

#: Where each publishing service's contract module lives.
CONTRACT_MODULES = {
    "platform": "gateway.events",
    "investment": "services.investment.events",
    "approvals": "services.approvals.events",
    "hr": "services.hr.events",
    "stats": "services.stats.events",
}

CLOUDEVENTS_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 属性，Kafka 二进制内容模式 / CloudEvents attributes in Kafka binary content mode",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "事件唯一标识，消费方据此去重 / unique id; deduplicate on it"},
        "ce_source": {"type": "string", "description": "/zone-platform/<service>"},
        "ce_type": {"type": "string", "description": "zone.<service>.<aggregate>.<event>.v<N>"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "聚合标识（与消息键相同）/ aggregate id (same as the key)"},
        "ce_zoneid": {"type": "string", "description": "功能区标识（扩展属性）/ zone id extension attribute"},
        "content-type": {"type": "string", "const": "application/json"},
        "traceparent": {"type": "string", "description": "W3C trace context"},
    },
}


def available_catalogs() -> list[EventCatalog]:
    catalogs = []
    for module_name in CONTRACT_MODULES.values():
        if importlib.util.find_spec(module_name.rsplit(".", 1)[0]) is None:
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        catalogs.append(module.EVENTS)
    return catalogs


def _message_id(event_type: str) -> str:
    return event_type.removeprefix("zone.").replace(".", "_")


def build_asyncapi(catalogs: list[EventCatalog] | None = None) -> dict[str, Any]:
    catalogs = available_catalogs() if catalogs is None else catalogs
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEventHeaders": CLOUDEVENTS_HEADERS}
    for catalog in sorted(catalogs, key=lambda c: c.service):
        channel_id = f"zone.{catalog.service}"
        channel_messages = {}
        for et in sorted(catalog.types, key=lambda t: t.name):
            mid = _message_id(et.name)
            schema = et.model.model_json_schema(ref_template=f"#/components/schemas/{catalog.service}_{{model}}")
            for name, sub in schema.pop("$defs", {}).items():
                schemas[f"{catalog.service}_{name}"] = sub
            schema_id = mid
            schemas[schema_id] = schema
            messages[mid] = {
                "name": et.name,
                "title": et.summary,
                "summary": et.summary,
                "description": et.description,
                "contentType": "application/json",
                "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
                "payload": {"$ref": f"#/components/schemas/{schema_id}"},
                "bindings": {
                    "kafka": {
                        "key": {"type": "string", "description": f"{et.aggregate} id（同一聚合的事件保持顺序）"},
                        "bindingVersion": "0.5.0",
                    }
                },
            }
            channel_messages[mid] = {"$ref": f"#/components/messages/{mid}"}
        channels[channel_id] = {
            "address": channel_id,
            "title": f"{catalog.service} events",
            "description": f"{catalog.service} 服务发布的领域事件；消息键为聚合标识。Deployments may prefix topic names.",
            "messages": channel_messages,
            "bindings": {"kafka": {"bindingVersion": "0.5.0"}},
        }
        operations[f"publish_{catalog.service}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "summary": f"{catalog.service} 服务经事务发件箱发布（至少一次，按事件 id 去重）",
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{mid}"} for mid in channel_messages],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "产业功能区企业服务平台 领域事件 / Zone platform domain events",
            "version": "1.0.0",
            "description": (
                "其他政府系统可用 Kafka 消费组直接订阅这些主题，或通过网关注册 Webhook。"
                "Events are CloudEvents 1.0 in Kafka binary content mode; delivery is at least once, "
                "so deduplicate on ce_id. A breaking change is a new type version published beside the old."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "embedded": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "make run (Tansu, memory-only)"},
            "production": {"host": "kafka-bootstrap:9093", "protocol": "kafka-secure", "description": "Strimzi, TLS/SCRAM"},
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def render_markdown(catalogs: list[EventCatalog] | None = None) -> str:
    """A human-readable table of every event type (``docs/events.md``), generated like the JSON."""
    catalogs = available_catalogs() if catalogs is None else catalogs
    lines = [
        "# 事件契约 · Event contract",
        "",
        "Generated from the services' event catalogs by `python -m chassis.asyncapi --markdown`;",
        "the machine-readable contract is [`asyncapi.json`](asyncapi.json). Every event is a CloudEvent 1.0",
        "in Kafka binary mode on topic `zone.<service>`, keyed by its aggregate id, with the zone in `ce_zoneid`.",
        "Delivery is at least once: deduplicate on `ce_id`.",
        "",
    ]
    for catalog in sorted(catalogs, key=lambda c: c.service):
        lines += [f"## `zone.{catalog.service}`", "", "| type | key | data fields | description |", "|---|---|---|---|"]
        for et in sorted(catalog.types, key=lambda t: t.name):
            fields = ", ".join(f"`{f}`" for f in et.model.model_fields)
            description = et.description.replace("\n", " ").replace("|", "\\|")
            lines.append(f"| `{et.name}` | {et.aggregate} | {fields} | {description} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    if "--markdown" in sys.argv:
        sys.stdout.write(render_markdown())
    else:
        sys.stdout.write(render_json(build_asyncapi()))
