"""``zonectl replay`` and ``zonectl dead-letters`` against a real service process (the chassis's
sample service under uvicorn), its real database and the real broker."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.integration.cli.cli_support import AppProcess, app_env, start_app, zonectl
from tests.support.events import read_all
from tests.support.sample_service.definition import DEFINITION
from tests.support.validators import VALID_USCC


@dataclass
class SampleService:
    app: AppProcess
    topic_prefix: str
    token: str
    bootstrap: str

    def cli(self, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
        return zonectl(capsys, "--token", self.token, *argv, "--service-url", self.app.url)

    def post_note(self, title: str, poison: bool = False) -> dict[str, Any]:
        response = httpx.post(
            f"{self.app.url}/notes",
            json={"zone_id": "zone-a", "title": title, "owner_uscc": VALID_USCC, "poison": poison},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    def wait(self, check: Any, what: str, timeout_s: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.2)
        raise AssertionError(f"not within {timeout_s}s: {what}")

    def backlog(self) -> int:
        response = httpx.get(f"{self.app.url}/admin/outbox", headers={"Authorization": f"Bearer {self.token}"})
        return int(response.json()["backlog"])


@pytest.fixture(scope="module")
def sample_service(kafka, databases, issuer, tmp_path_factory) -> Iterator[SampleService]:
    tmp_path = tmp_path_factory.mktemp("sample")
    url = asyncio.run(databases.new_database(DEFINITION))
    prefix = f"t{uuid.uuid4().hex[:8]}."
    env = app_env("SAMPLE_", database_url=url, bootstrap=kafka.bootstrap, topic_prefix=prefix, jwks_json=issuer.jwks_json)
    app = start_app("tests.integration.cli.sample_app:create_app", env, tmp_path / "sample.log")
    try:
        yield SampleService(app, prefix, issuer.token("ops", "admin", roles=("admin",)), kafka.bootstrap)
    finally:
        app.stop()


def test_replay_republishes_the_outbox_from_a_point_in_time_to_a_chosen_topic(sample_service, capsys):
    before = datetime.now(UTC) - timedelta(seconds=1)
    notes = [sample_service.post_note(f"项目洽谈纪要 {n}") for n in range(3)]
    sample_service.wait(lambda: sample_service.backlog() == 0, "the relay published the notes")
    target = f"{sample_service.topic_prefix}zone.sample.replayed"

    code, out, err = sample_service.cli(
        capsys, "replay", "sample", "--since", before.isoformat(), "--topic", target,
        "--types", "zone.sample.note.created.v1",
    )
    assert code == 0, err
    assert "已重放 3 条事件" in out
    replayed = asyncio.run(read_all(sample_service.bootstrap, target, expect_at_least=3))
    assert sorted(e.data["note_id"] for e in replayed) == sorted(n["id"] for n in notes)

    code, out, err = sample_service.cli(capsys, "replay", "sample", "--since", before.isoformat(),
                                        "--until", (before + timedelta(milliseconds=1)).isoformat())
    assert code == 0, err
    assert "已重放 0 条事件" in out


def test_a_poisoned_event_shows_up_in_dead_letters_and_a_missing_one_cannot_be_redriven(sample_service, capsys):
    sample_service.post_note("无法处理的纪要", poison=True)

    def listed() -> Any:
        code, out, err = sample_service.cli(capsys, "dead-letters", "list", "sample", "--json")
        assert code == 0, err
        import json

        page = json.loads(out)
        return page if page["total"] >= 1 else None

    page = sample_service.wait(listed, "the poisoned event was dead-lettered")
    letter = page["items"][0]
    assert letter["type"] == "zone.sample.note.poisoned.v1"
    assert letter["consumer"] == f"{sample_service.topic_prefix}sample.projection"
    assert letter["attempts"] == 4, "three retries, then the dead letter"
    assert letter["redriven_at"] is None

    code, out, _err = sample_service.cli(capsys, "dead-letters", "list", "sample")
    assert code == 0
    assert "zone.sample.note.poisoned.v1" in out and "RuntimeError" in out and "共 1 条" in out

    code, out, err = sample_service.cli(capsys, "dead-letters", "redrive", "sample", "999999")
    assert code == 1
    assert "HTTP 404" in err and "死信不存在" in err


def test_an_operator_token_is_required(sample_service, capsys, issuer):
    enterprise = issuer.token(f"ent-{VALID_USCC}", "enterprise", uscc=VALID_USCC)
    code, _out, err = zonectl(capsys, "--token", enterprise, "dead-letters", "list", "sample",
                              "--service-url", sample_service.app.url)
    assert code == 1 and "HTTP 403" in err
    code, _out, err = zonectl(capsys, "--token", "not-a-jwt", "replay", "sample", "--since", "2026-01-01",
                              "--service-url", sample_service.app.url)
    assert code == 1 and "HTTP 401" in err
