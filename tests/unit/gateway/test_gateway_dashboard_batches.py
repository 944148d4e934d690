"""The city dashboard asks each service for many zones at once: at most 50 zones per call, every zone
answered from the call that named it, a failed call failing only the zones it named."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from gateway.aggregation import BATCH_ZONES, batch_parts


class Answer:
    def __init__(self, status: int, body: Any) -> None:
        self.status, self.body = status, body

    async def json(self, content_type: str | None = None) -> Any:
        return self.body

    def release(self) -> None:
        pass


class FakeBackend:
    """Answers a batch call from the zone ids it names; the chunk holding ``fail_zone`` answers 503."""

    name = "hr"

    def __init__(self, fail_zone: str | None = None) -> None:
        self.fail_zone = fail_zone
        self.calls: list[list[str]] = []

    async def request(self, method: str, path_and_query: str, **_: Any) -> Answer:
        zones = parse_qs(urlsplit(path_and_query).query)["zone_id"]
        self.calls.append(zones)
        if self.fail_zone in zones:
            return Answer(503, {"detail": "down"})
        return Answer(200, {"items": [{"zone_id": z} for z in zones if z != "z-unknown"], "missing": ["z-unknown"]})


async def test_more_zones_than_one_call_takes_are_asked_in_calls_of_at_most_fifty():
    zones = [f"z{i:03d}" for i in range(BATCH_ZONES * 2 + 1)]
    backend = FakeBackend()
    parts = await batch_parts(backend, "/headcount/zones", zones, {}, {}, 1.0)  # type: ignore[arg-type]
    assert [len(c) for c in backend.calls] == [BATCH_ZONES, BATCH_ZONES, 1]
    assert sorted(z for c in backend.calls for z in c) == zones
    assert all(parts[z].ok and parts[z].data == {"zone_id": z} for z in zones)


async def test_a_failed_call_fails_only_the_zones_it_named_and_an_unknown_zone_is_missing():
    zones = [f"z{i:03d}" for i in range(BATCH_ZONES)] + ["z-late", "z-unknown"]
    backend = FakeBackend(fail_zone="z001")
    parts = await batch_parts(backend, "/headcount/zones", zones, {}, {}, 1.0)  # type: ignore[arg-type]
    assert all(parts[z].failure == "unavailable" for z in zones[:BATCH_ZONES])
    assert parts["z-late"].ok and parts["z-unknown"].failure == "missing"
