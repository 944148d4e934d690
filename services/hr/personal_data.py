"""National ID numbers at rest: encrypted per row, found and kept unique by a keyed blind index.

``staff.national_id`` holds ``v1:…`` (AES-256-GCM, :class:`chassis.crypto.FieldCipher`), sealed with
the row's id as authenticated context so a ciphertext copied onto another person does not open;
``staff.national_id_digest`` holds HMAC-SHA256 of the upper-cased number under a key derived from
the same secret (``HR_PERSONAL_DATA_KEY``), on which the per-zone unique constraint sits. Neither
can be reversed or recomputed from a guess without the key.

The use cases reach the cipher through their session (``session.info``, which the chassis fills from
``Database.session_info``): :func:`install` puts it there before the first request or seed.

**Start-up step** (not the migration: the migration job holds no key). Before the service takes
requests, :func:`upgrade_stored` brings every stored number to the current format and key: a number
stored in plain text by an earlier version (no ``v1:`` prefix), or sealed under a key now listed in
``HR_PERSONAL_DATA_PREVIOUS_KEYS``, is re-encrypted and its blind index recomputed — each row by a
compare-and-set update, so replicas starting together do not clash and a second run changes nothing.
A value no configured key opens stops the start with an error naming the setting (a wrong key would
otherwise answer 500 on every staff read).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

from fastapi import APIRouter, FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from chassis.crypto import DecryptionError, FieldCipher, load_key
from chassis.db import Database
from chassis.service import ServiceContext
from services.hr.models import Staff
from services.hr.settings import HrSettings

log = logging.getLogger("hr.personal_data")

SESSION_KEY = "hr.national_ids"
KEY_FILE = "hr-personal-data-key"


class UnreadablePersonalData(RuntimeError):
    """Stored national ID numbers that no configured key opens (the message holds counts, never values)."""


@dataclass(frozen=True)
class NationalIds:
    """Sealing, opening and indexing of one staff record's national ID number."""

    cipher: FieldCipher

    @staticmethod
    def context(staff_id: str) -> str:
        return f"hr/staff.national_id/{staff_id}"

    def seal(self, staff_id: str, number: str) -> str:
        return self.cipher.encrypt(number, context=self.context(staff_id))

    def reveal(self, staff: Staff) -> str:
        """The number in full (callers mask it unless the reader may see it; never log it)."""
        if not self.cipher.is_encrypted(staff.national_id):
            # A row not yet upgraded by the start-up step (written by an earlier version while this
            # replica was already serving): its plaintext is what there is.
            return staff.national_id
        return self.cipher.decrypt(staff.national_id, context=self.context(staff.id))

    def index(self, number: str) -> str:
        """The blind index uniqueness is checked on (the check digit ``X`` in either case is one number)."""
        return self.cipher.blind_index(number.strip().upper())

    def is_current(self, staff_id: str, stored: str) -> bool:
        return self.cipher.is_current(stored, context=self.context(staff_id))


def build(settings: HrSettings) -> NationalIds:
    key = load_key(
        settings.personal_data_key, setting="HR_PERSONAL_DATA_KEY", file_name=KEY_FILE, development=settings.is_development
    )
    return NationalIds(FieldCipher(key, previous=settings.personal_data_previous_key_list))


def install(ctx: ServiceContext, session: AsyncSession | None = None) -> NationalIds:
    """Make the cipher reachable from every new session (and from ``session``, opened before); idempotent."""
    ids = ctx.db.session_info.get(SESSION_KEY)
    if ids is None:
        ids = build(cast(HrSettings, ctx.settings))
        ctx.db.session_info[SESSION_KEY] = ids
    if session is not None:
        session.info[SESSION_KEY] = ids
    return cast(NationalIds, ids)


def of(session: AsyncSession) -> NationalIds:
    ids = session.info.get(SESSION_KEY)
    if ids is None:
        raise RuntimeError("the HR personal-data cipher is not installed on this session (personal_data.install)")
    return cast(NationalIds, ids)


@dataclass
class UpgradeReport:
    examined: int = 0
    encrypted: int = 0  # were plain text
    reencrypted: int = 0  # were sealed under a previous key
    reindexed: int = 0  # only the blind index was stale


async def upgrade_stored(db: Database, ids: NationalIds, *, batch: int = 500) -> UpgradeReport:
    """Bring every stored national ID number to the current format, key and blind index (see module doc)."""
    report = UpgradeReport()
    unreadable = 0
    after = ""
    while True:
        async with db.session() as session:
            rows = (
                await session.execute(
                    select(Staff.id, Staff.national_id, Staff.national_id_digest)
                    .where(col(Staff.id) > after)
                    .order_by(col(Staff.id))
                    .limit(batch)
                )
            ).tuples().all()
            if not rows:
                break
            after = rows[-1][0]
            for staff_id, stored, digest in rows:
                report.examined += 1
                if not ids.cipher.is_encrypted(stored):
                    number, sealed, kind = stored, ids.seal(staff_id, stored), "encrypted"
                else:
                    try:
                        number = ids.cipher.decrypt(stored, context=ids.context(staff_id))
                    except DecryptionError:
                        unreadable += 1
                        continue
                    if ids.is_current(staff_id, stored):
                        sealed, kind = stored, "reindexed"
                    else:
                        sealed, kind = ids.seal(staff_id, number), "reencrypted"
                index = ids.index(number)
                if sealed == stored and index == digest:
                    continue
                changed = await session.execute(
                    update(Staff)
                    .where(col(Staff.id) == staff_id, col(Staff.national_id) == stored)
                    .values(national_id=sealed, national_id_digest=index)
                )
                if cast(Any, changed).rowcount:
                    setattr(report, kind, getattr(report, kind) + 1)
            await session.commit()
    if report.encrypted or report.reencrypted or report.reindexed:
        log.warning(
            "national ID numbers upgraded at start: %d encrypted (were plain text), %d re-encrypted under the"
            " current key, %d re-indexed, of %d", report.encrypted, report.reencrypted, report.reindexed, report.examined,
        )
    if unreadable:
        raise UnreadablePersonalData(
            f"{unreadable} of {report.examined} stored national ID numbers do not decrypt with HR_PERSONAL_DATA_KEY"
            " (nor HR_PERSONAL_DATA_PREVIOUS_KEYS): wrong key? Refusing to start."
        )
    return report


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the chassis's lifespan (after migrations and seed), before the first request."""
    ctx: ServiceContext = app.state.ctx
    await upgrade_stored(ctx.db, install(ctx))
    yield


#: No routes: included only so that FastAPI merges :func:`lifespan` into the app's.
router = APIRouter(lifespan=lifespan)
