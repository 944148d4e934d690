"""The personal-data scan of every tier (issue 9): no unmasked national ID number in anything the
platform emits while the suites run. Registered by the root ``tests/conftest.py``.

What is scanned, and when (the detector and the scanners are in ``tests/support/pii.py``):

- every log record, as it is handled: ``logging.Logger.callHandlers`` is wrapped, because the
  chassis' ``setup_logging`` replaces the root logger's handlers each time a service starts — a
  handler of ours would be dropped by the first one;
- every HTTP response a client in the test process receives (``httpx.Client.send`` and
  ``httpx.AsyncClient.send``; streamed responses are left alone) — the tests' clients of in-process
  apps (ASGI transport), of the real processes in e2e and faults, and of the gateway;
- every event decoded from the broker in the test process (``CloudEvent.from_kafka``: the tests'
  readers in ``tests/support/events.py`` and elsewhere, and in-process consumers), except events the
  tests themselves published (``tests.support.events.publish`` notes them);
- the ``outbox_event`` rows of every database ``DatabaseInfra`` created, after the test that
  created it (fixtures finalised), and once more before the databases are dropped;
- the log files and SQLite databases of every ``Platform`` (e2e, faults), when it stops.

Requests the tests send are not scanned: tests legitimately send full numbers (HR registers
people). A finding fails the test it happened in, naming the source and showing the number masked;
one outside any test fails the session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import pii
from tests.support.pii import Finding


class Collector:
    def __init__(self) -> None:
        self.current: str | None = None
        self.pending: dict[str, list[Finding]] = {}
        self.orphans: list[Finding] = []
        self.diverted: list[Finding] | None = None
        #: database URL → (the test that created it, last outbox seq scanned)
        self.databases: dict[str, list[Any]] = {}
        self.created_by: dict[str, list[str]] = {}
        self.sent_by_tests: set[str] = set()
        #: how much was scanned, by kind (printed at the end, so a silent scan shows as such)
        self.scanned: dict[str, int] = dict.fromkeys(("HTTP responses", "log records", "events", "outbox rows", "platform log files"), 0)
        self._lock = threading.Lock()

    def add(self, found: list[Finding]) -> None:
        if not found:
            return
        with self._lock:
            if self.diverted is not None:
                self.diverted.extend(found)
            elif self.current is not None:
                self.pending.setdefault(self.current, []).extend(found)
            else:
                self.orphans.extend(found)


COLLECTOR = Collector()


@contextlib.contextmanager
def diverted() -> Iterator[list[Finding]]:
    """Findings made inside the block go to the returned list instead of failing the test
    (for the tests of this plugin)."""
    caught: list[Finding] = []
    previous, COLLECTOR.diverted = COLLECTOR.diverted, caught
    try:
        yield caught
    finally:
        COLLECTOR.diverted = previous


def note_sent_by_test(event_id: str) -> None:
    COLLECTOR.sent_by_tests.add(event_id)


# --- what is patched -----------------------------------------------------------------------------------

_busy = threading.local()


def _scan_http(response: httpx.Response) -> None:
    COLLECTOR.scanned["HTTP responses"] += 1
    request = response.request
    COLLECTOR.add(
        pii.scan_response(
            request.method,
            str(request.url),
            response.status_code,
            response.headers.multi_items(),
            response.content,
            response.headers.get("content-type", ""),
        )
    )


def _scan_databases(urls: list[str]) -> None:
    sqlite_urls = [u for u in urls if u.startswith("sqlite")]
    pg_urls = [u for u in urls if not u.startswith("sqlite")]
    for url in sqlite_urls:
        entry = COLLECTOR.databases[url]
        path = pii._sqlite_path(url)
        if path is None:
            continue
        found, last = pii.scan_outbox_rows(pii.outbox_rows_sqlite(path, entry[1]), f"{path.name} (created by {entry[0]})")
        COLLECTOR.scanned["outbox rows"] += max(0, last - entry[1])
        entry[1] = max(entry[1], last)
        COLLECTOR.add(found)
    if not pg_urls:
        return
    try:
        asyncio.get_running_loop()
        return  # inside an event loop (should not happen at teardown): the final scan will cover them
    except RuntimeError:
        pass

    async def _all() -> None:
        for url in pg_urls:
            entry = COLLECTOR.databases[url]
            rows = await pii.outbox_rows_postgres(url, entry[1])
            found, last = pii.scan_outbox_rows(rows, f"{url.rsplit('/', 1)[-1]} (created by {entry[0]})")
            COLLECTOR.scanned["outbox rows"] += len(rows)
            entry[1] = max(entry[1], last)
            COLLECTOR.add(found)

    asyncio.run(_all())


def _scan_platform(var_dir: Path) -> None:
    for log in sorted((var_dir / "log").glob("*.log")):
        COLLECTOR.scanned["platform log files"] += 1
        COLLECTOR.add([Finding(f"platform {f.source}", f.shown) for f in pii.scan_log_file(log)])
    for db in sorted(var_dir.glob("*.db")):
        found, _ = pii.scan_outbox_rows(pii.outbox_rows_sqlite(db, 0), f"platform {db.name}")
        COLLECTOR.add(found)


_originals: dict[str, Any] = {}


def install() -> None:
    if _originals:
        return
    from chassis.events import CloudEvent
    from chassis.launcher import Platform
    from tests.support.infra import DatabaseInfra

    call_handlers = _originals["callHandlers"] = logging.Logger.callHandlers

    def callHandlers(self: logging.Logger, record: logging.LogRecord) -> None:
        if not getattr(_busy, "on", False):
            _busy.on = True
            try:
                COLLECTOR.scanned["log records"] += 1
                COLLECTOR.add(pii.scan_log_record(record))
            finally:
                _busy.on = False
        call_handlers(self, record)

    async_send = _originals["AsyncClient.send"] = httpx.AsyncClient.send

    async def AsyncClient_send(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await async_send(self, request, **kwargs)
        if not kwargs.get("stream"):
            _scan_http(response)
        return response

    sync_send = _originals["Client.send"] = httpx.Client.send

    def Client_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = sync_send(self, request, **kwargs)
        if not kwargs.get("stream"):
            _scan_http(response)
        return response

    from_kafka = _originals["from_kafka"] = CloudEvent.__dict__["from_kafka"]

    def from_kafka_scanned(cls: type[CloudEvent], headers: Any, value: bytes) -> CloudEvent:
        event = from_kafka.__func__(cls, headers, value)
        if event.id not in COLLECTOR.sent_by_tests:
            COLLECTOR.scanned["events"] += 1
            COLLECTOR.add(pii.scan_event(event, "read from the broker"))
        return event

    new_database = _originals["new_database"] = DatabaseInfra.new_database

    async def new_database_noted(self: DatabaseInfra, definition: Any) -> str:
        url = await new_database(self, definition)
        creator = COLLECTOR.current or "<session>"
        COLLECTOR.databases[url] = [creator, 0]
        COLLECTOR.created_by.setdefault(creator, []).append(url)
        return url

    infra_stop = _originals["DatabaseInfra.stop"] = DatabaseInfra.stop

    def infra_stop_scanned(self: DatabaseInfra) -> None:
        _scan_databases(list(COLLECTOR.databases))  # once more before they are dropped
        COLLECTOR.databases.clear()
        infra_stop(self)

    platform_stop = _originals["Platform.stop"] = Platform.stop

    def platform_stop_scanned(self: Platform) -> None:
        platform_stop(self)
        _scan_platform(self.var_dir)

    logging.Logger.callHandlers = callHandlers  # type: ignore[method-assign]
    httpx.AsyncClient.send = AsyncClient_send  # type: ignore[method-assign]
    httpx.Client.send = Client_send  # type: ignore[method-assign]
    CloudEvent.from_kafka = classmethod(from_kafka_scanned)  # type: ignore[method-assign,assignment]
    DatabaseInfra.new_database = new_database_noted  # type: ignore[method-assign]
    DatabaseInfra.stop = infra_stop_scanned  # type: ignore[method-assign]
    Platform.stop = platform_stop_scanned  # type: ignore[method-assign]


def uninstall() -> None:
    if not _originals:
        return
    from chassis.events import CloudEvent
    from chassis.launcher import Platform
    from tests.support.infra import DatabaseInfra

    logging.Logger.callHandlers = _originals.pop("callHandlers")  # type: ignore[method-assign]
    httpx.AsyncClient.send = _originals.pop("AsyncClient.send")  # type: ignore[method-assign]
    httpx.Client.send = _originals.pop("Client.send")  # type: ignore[method-assign]
    CloudEvent.from_kafka = _originals.pop("from_kafka")  # type: ignore[method-assign]
    DatabaseInfra.new_database = _originals.pop("new_database")  # type: ignore[method-assign]
    DatabaseInfra.stop = _originals.pop("DatabaseInfra.stop")  # type: ignore[method-assign]
    Platform.stop = _originals.pop("Platform.stop")  # type: ignore[method-assign]


# --- pytest hooks -----------------------------------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    install()


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    COLLECTOR.current = item.nodeid
    yield
    COLLECTOR.current = None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    # The test's services have stopped: what they left in their outboxes is final for this test.
    mine = [url for url in COLLECTOR.created_by.pop(item.nodeid, []) if url in COLLECTOR.databases]
    if mine:
        _scan_databases(mine)


def _failure_text(nodeid: str, found: list[Finding]) -> str:
    unique = list(dict.fromkeys(f.describe() for f in found))
    shown = "\n".join(f"  - {line}" for line in unique[:20])
    more = f"\n  … and {len(unique) - 20} more" if len(unique) > 20 else ""
    return f"{nodeid}: the platform emitted unmasked national ID numbers ({len(found)}):\n{shown}{more}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when == "setup" or (report.when == "call" and report.skipped):
        return  # reported with the call, or at teardown
    found = COLLECTOR.pending.pop(item.nodeid, [])
    if not found:
        return
    text = _failure_text(item.nodeid, found)
    if report.failed:
        report.sections.append(("unmasked national ID numbers", text))
    else:
        report.outcome = "failed"
        report.longrepr = text


def pytest_terminal_summary(terminalreporter: Any) -> None:
    counts = ", ".join(f"{n} {kind}" for kind, n in COLLECTOR.scanned.items())
    terminalreporter.write_line(f"personal-data scan: {counts}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leftovers = COLLECTOR.orphans + [f for found in COLLECTOR.pending.values() for f in found]
    if not leftovers:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    text = _failure_text("outside any test", leftovers)
    if reporter is not None:
        reporter.write_line(text, red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
