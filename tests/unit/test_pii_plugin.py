"""The personal-data scan catches what the platform would emit (tests/support/pii_plugin.py): a log
record, an HTTP response, an event and an outbox row with an unmasked national ID each make a
finding; a test that leaks one fails, naming the source and showing the number only masked."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx

from chassis.events import CloudEvent
from chassis.validators import national_id_with_check_digit
from tests.support.pii import scan_outbox_rows
from tests.support.pii_plugin import diverted, note_sent_by_test

VALID = national_id_with_check_digit("51010419851231002")
MASKED = f"{VALID[:6]}********{VALID[-4:]}"
REPO = Path(__file__).resolve().parents[2]


def test_a_log_record_with_an_id_in_its_message_or_extra_fields_is_caught():
    log = logging.getLogger("services.hr.test")
    with diverted() as caught:
        log.warning("registered %s", VALID)
        log.warning("registered", extra={"national_id": VALID})
    assert [f.shown for f in caught] == [MASKED, MASKED]
    assert "services.hr.test" in caught[0].source


async def test_an_http_response_with_an_id_is_caught_unless_an_hr_admin_reads_a_staff_record():
    unmasked = {"id": "s1", "national_id": VALID, "national_id_masked": False}

    def app(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [unmasked]} if request.url.path == "/staff" else unmasked)

    async with httpx.AsyncClient(transport=httpx.MockTransport(app), base_url="http://test") as client:
        with diverted() as caught:
            await client.get("/staff")  # allow-listed: HR administrators read records unmasked, audited
            await client.get("/api/hr/staff/s1")
            await client.get("/positions/p1")  # the same body elsewhere is a leak
    assert [(f.source, f.shown) for f in caught] == [("HTTP response GET /positions/p1 (200)", MASKED)]


def test_an_undeclared_id_on_an_allow_listed_path_is_still_caught():
    def app(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"national_id": VALID, "national_id_masked": True, "note": VALID})

    with httpx.Client(transport=httpx.MockTransport(app), base_url="http://test") as client, diverted() as caught:
        client.get("/staff/s1")
    assert [f.shown for f in caught] == [MASKED, MASKED]


def test_an_event_read_from_the_broker_is_caught_unless_a_test_published_it():
    leaking = CloudEvent(type="zone.hr.staff.registered.v1", source="/zone/hr", data={"who": VALID})
    own = CloudEvent(type="zone.hr.staff.registered.v1", source="/zone/hr", data={"who": VALID})
    note_sent_by_test(own.id)
    with diverted() as caught:
        for event in (leaking, own):
            CloudEvent.from_kafka(event.kafka_headers(), event.kafka_value())
    assert len(caught) == 1 and leaking.id in caught[0].source and caught[0].shown == MASKED


def test_an_outbox_row_with_an_id_is_caught_and_the_scan_resumes_after_it():
    rows = [(1, "zone.hr.x.v1", json.dumps({"ok": "510104********0027"}), None), (2, "zone.hr.y.v1", json.dumps({"id": VALID}), None)]
    found, last = scan_outbox_rows(rows, "hr.db")
    assert last == 2
    assert [(f.source, f.shown) for f in found] == [("outbox_event seq 2 (zone.hr.y.v1) in database hr.db", MASKED)]


def test_a_test_whose_platform_logs_an_id_fails_naming_the_test_and_showing_the_id_masked(tmp_path: Path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.support.pii_plugin"]\n')
    (tmp_path / "test_leak.py").write_text(
        textwrap.dedent(
            f"""
            import logging

            def test_leaks():
                logging.getLogger("services.hr.people").warning("created staff %s", "{VALID}")

            def test_clean():
                logging.getLogger("services.hr.people").warning("created staff %s", "{MASKED}")
            """
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "--show-capture=no", str(tmp_path)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120,
    )
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert "test_leak.py::test_leaks" in out and MASKED in out and "services.hr.people" in out
    assert VALID not in out
