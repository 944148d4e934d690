"""Finding unmasked national ID numbers (居民身份证号) in what the platform emits.

The detector: an 18-character PRC resident identity number (17 digits and a digit or ``X``) whose
birth date and check digit are valid (``stdnum.cn.ric``, as ``chassis.validators`` checks them) and which is not part of a longer run of letters and digits — so a USCC (统一社会信用代码, also
18 characters), a trace id or a UUID never counts, nor does a masked number (``510104********1234``).

The scanners turn each kind of output — an HTTP response, a log record, an event, an outbox row, a
process's log file — into :class:`Finding` values that name where the number was and show it only
masked. ``tests/support/pii_plugin.py`` feeds them everything the suites' platform emits.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from chassis.validators import mask_national_id

# 17 digits and a digit or X, with no letter or digit on either side (a USCC, a hex id or a longer
# number is one longer run and is left alone).
_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])([0-9]{17}[0-9Xx])(?![0-9A-Za-z])")


def is_national_id(candidate: str) -> bool:
    """Check digit (GB 11643, ``stdnum.cn.ric``) and birth date valid. The region is not checked:
    stdnum's region table lacks some real districts (e.g. 510104 锦江区), and a leak is a leak."""
    try:
        born = ric.get_birth_date(candidate)
    except (StdnumError, ValueError):
        return False
    return 1900 <= born.year <= 2099 and bool(ric.calc_check_digit(candidate) == candidate[-1])


def national_ids_in(text: str) -> list[str]:
    """Every unmasked resident ID number in ``text`` (uppercased), in order."""
    if len(text) < 18:
        return []
    return [c for m in _CANDIDATE.finditer(text) if is_national_id(c := m.group(1).upper())]


def masked(national_id: str) -> str:
    return mask_national_id(national_id) or ""


@dataclass(frozen=True)
class Finding:
    """An unmasked ID in the platform's output; ``shown`` is its masked form, never the number."""

    source: str
    shown: str

    def describe(self) -> str:
        return f"unmasked national ID {self.shown} in {self.source}"


def findings(text: str, source: str) -> list[Finding]:
    return [Finding(source, masked(n)) for n in national_ids_in(text)]


# --- HTTP responses ---------------------------------------------------------------------------------

_TEXT_TYPES = ("json", "text/", "xml", "csv", "javascript", "x-www-form-urlencoded")

#: Where the platform returns a national ID in full *on purpose*. Each entry: a path pattern and the
#: reason; in a matching response the ``national_id`` of an object that says
#: ``"national_id_masked": false`` is allowed, and nothing else is.
ALLOWED_UNMASKED = [
    (
        # HR staff records: shown in full only to HR administrators (services/hr/access.py
        # can_unmask), each such read audited as ``staff.national_id.read`` (services/hr/people.py);
        # the record says so itself with ``national_id_masked: false``. Directly or via the gateway.
        re.compile(r"^(/api/hr)?/staff(/[^/]+)?/?$"),
        "HR administrators read staff records unmasked, audited",
    ),
]


def _drop_declared_unmasked(node: Any) -> Any:
    """The JSON with the ``national_id`` removed from every object declaring ``national_id_masked: false``."""
    if isinstance(node, dict):
        out = {k: _drop_declared_unmasked(v) for k, v in node.items()}
        if out.get("national_id_masked") is False:
            out.pop("national_id", None)
        return out
    if isinstance(node, list):
        return [_drop_declared_unmasked(v) for v in node]
    return node


def scan_response(method: str, url: str, status: int, headers: Iterable[tuple[str, str]], body: bytes | None, content_type: str) -> list[Finding]:
    path = urlsplit(url).path
    source = f"HTTP response {method} {path} ({status})"
    out = findings(" ".join(f"{k}: {v}" for k, v in headers), source + " headers")
    if not body or not any(t in content_type.lower() for t in _TEXT_TYPES):
        return out
    text = body.decode("utf-8", errors="replace")
    if not national_ids_in(text):
        return out
    if any(pattern.match(path) for pattern, _reason in ALLOWED_UNMASKED) and "json" in content_type:
        try:
            text = json.dumps(_drop_declared_unmasked(json.loads(text)), ensure_ascii=False)
        except ValueError:
            pass
    return out + findings(text, source)


# --- log records ------------------------------------------------------------------------------------

_STANDARD_ATTRS = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {"message", "asctime"}


def log_record_text(record: logging.LogRecord) -> str:
    """What a handler could write of a record: the formatted message, the exception and every extra field."""
    try:
        parts = [record.getMessage()]
    except Exception:  # a broken format string is the logging call's problem, not a leak
        parts = [str(record.msg)]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    if record.exc_text:
        parts.append(record.exc_text)
    for key, value in vars(record).items():
        if key not in _STANDARD_ATTRS:
            parts.append(f"{key}={value!r}")
    return "\n".join(parts)


def scan_log_record(record: logging.LogRecord) -> list[Finding]:
    return findings(log_record_text(record), f"log record {record.name} {record.levelname} ({record.pathname}:{record.lineno})")


# --- events -----------------------------------------------------------------------------------------


def scan_event(event: Any, where: str) -> list[Finding]:
    """A CloudEvent as a consumer sees it: data, subject and every attribute."""
    try:
        data = json.dumps(event.data, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        data = repr(event.data)
    text = f"{data}\n{event.subject or ''}\n{event.zoneid or ''}"
    return findings(text, f"event {event.type} (id {event.id}) {where}")


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite"):
        return None
    return Path(url.split(":///", 1)[1]) if ":///" in url else None


def outbox_rows_sqlite(path: Path, after_seq: int) -> Iterator[tuple[int, str, str, str | None]]:
    if not path.exists():
        return
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        yield from conn.execute(
            "SELECT seq, type, data, subject FROM outbox_event WHERE seq > ? ORDER BY seq", (after_seq,)
        )
    except sqlite3.OperationalError:  # no outbox table in this database: nothing to scan
        return
    finally:
        conn.close()


async def outbox_rows_postgres(url: str, after_seq: int) -> list[tuple[int, str, str, str | None]]:
    import asyncpg

    parts = urlsplit(url)
    try:
        conn = await asyncpg.connect(parts._replace(scheme="postgresql").geturl(), timeout=10)
    except (OSError, asyncpg.PostgresError):  # already dropped
        return []
    try:
        rows = await conn.fetch(
            "SELECT seq, type, data, subject FROM outbox_event WHERE seq > $1 ORDER BY seq", after_seq
        )
    except asyncpg.UndefinedTableError:
        return []
    finally:
        await conn.close()
    return [(r["seq"], r["type"], r["data"], r["subject"]) for r in rows]


def scan_outbox_rows(rows: Iterable[tuple[int, str, str, str | None]], database: str) -> tuple[list[Finding], int]:
    """Findings in outbox rows, and the last ``seq`` seen (scans resume after it)."""
    out: list[Finding] = []
    last = 0
    for seq, type_, data, subject in rows:
        last = max(last, int(seq))
        out += findings(f"{data}\n{subject or ''}", f"outbox_event seq {seq} ({type_}) in database {database}")
    return out, last


# --- log files of processes ---------------------------------------------------------------------------


def scan_log_file(path: Path) -> list[Finding]:
    out: list[Finding] = []
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                out += findings(line, f"log file {path.name}:{number}")
    except FileNotFoundError:
        pass
    return out
