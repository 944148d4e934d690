"""The event contract: CloudEvents 1.0 in Kafka binary content mode, and each service's catalog.

A service declares its events once in an :class:`EventCatalog` — type name, the pydantic model of
its data (which yields the JSON Schema), the aggregate it is keyed by, a description. Everything
else is derived from that: the outbox validates data against it, the AsyncAPI document is
generated from it, and tests check what reached the broker against its schema.

Binary content mode: the attributes travel as ``ce_*`` Kafka headers, the data is the message value
(JSON), ``content-type`` names its media type, and ``traceparent`` carries the W3C trace context.
The zone id is the CloudEvents extension attribute ``zoneid`` (header ``ce_zoneid``).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"


def new_event_id() -> str:
    return str(uuid.uuid4())


@dataclass
class CloudEvent:
    """One event as it travels: attributes plus JSON data."""

    type: str
    source: str
    data: dict[str, Any]
    subject: str | None = None
    id: str = field(default_factory=new_event_id)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    zoneid: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None
    datacontenttype: str = JSON_CONTENT_TYPE
    specversion: str = SPEC_VERSION

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("ce_specversion", self.specversion),
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_time", self.time.isoformat()),
            ("content-type", self.datacontenttype),
        ]
        if self.subject is not None:
            headers.append(("ce_subject", self.subject))
        if self.zoneid is not None:
            headers.append(("ce_zoneid", self.zoneid))
        if self.traceparent:
            headers.append(("traceparent", self.traceparent))
        if self.tracestate:
            headers.append(("tracestate", self.tracestate))
        return [(k, v.encode()) for k, v in headers]

    def kafka_value(self) -> bytes:
        return json.dumps(self.data, ensure_ascii=False, separators=(",", ":"), default=str).encode()

    @classmethod
    def from_kafka(cls, headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...], value: bytes) -> CloudEvent:
        """Parse a binary-mode message. Raises ValueError when a required attribute is missing."""
        h = {k: v.decode() for k, v in headers or ()}
        missing = [a for a in ("ce_id", "ce_source", "ce_type", "ce_specversion") if a not in h]
        if missing:
            raise ValueError(f"not a CloudEvent: missing {', '.join(missing)}")
        return cls(
            id=h["ce_id"],
            source=h["ce_source"],
            type=h["ce_type"],
            specversion=h["ce_specversion"],
            subject=h.get("ce_subject"),
            time=datetime.fromisoformat(h["ce_time"]) if "ce_time" in h else datetime.now(UTC),
            zoneid=h.get("ce_zoneid"),
            traceparent=h.get("traceparent"),
            tracestate=h.get("tracestate"),
            datacontenttype=h.get("content-type", JSON_CONTENT_TYPE),
            data=json.loads(value) if value else {},
        )

    def to_structured(self) -> dict[str, Any]:
        """The structured-mode JSON form (used by webhooks and the outbox API)."""
        out: dict[str, Any] = {
            "specversion": self.specversion,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.isoformat(),
            "datacontenttype": self.datacontenttype,
            "data": self.data,
        }
        if self.subject is not None:
            out["subject"] = self.subject
        if self.zoneid is not None:
            out["zoneid"] = self.zoneid
        return out


@dataclass(frozen=True)
class EventType:
    """A published event type: its name, data model and where it goes."""

    name: str
    model: type[BaseModel]
    service: str
    aggregate: str
    description: str

    @property
    def summary(self) -> str:
        return self.description.split("\n")[0]

    def json_schema(self) -> dict[str, Any]:
        schema = self.model.model_json_schema()
        schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
        schema.setdefault("title", self.name)
        schema.setdefault("description", self.description)
        return schema


class EventCatalog:
    """The events one service publishes on its topic ``zone.<service>``."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.source = f"/zone-platform/{service}"
        self._types: dict[str, EventType] = {}

    def define(self, name: str, model: type[BaseModel], *, aggregate: str, description: str) -> EventType:
        if not re.fullmatch(rf"zone\.{re.escape(self.service)}\.[a-z_]+\.[a-z_]+\.v[0-9]+", name):
            raise ValueError(f"event type {name!r} must be zone.{self.service}.<aggregate>.<event>.v<N>")
        if name in self._types:
            raise ValueError(f"event type {name!r} defined twice")
        et = EventType(name=name, model=model, service=self.service, aggregate=aggregate, description=description)
        self._types[name] = et
        return et

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._types.values())

    def __getitem__(self, name: str) -> EventType:
        return self._types[name]

    def __contains__(self, name: object) -> bool:
        return name in self._types

    @property
    def types(self) -> list[EventType]:
        return list(self._types.values())
