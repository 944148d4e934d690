"""In-process cache of the reference data every filing reads: the item catalog's versions in force, the
delegation list and the working calendar.

They change rarely and only through this service (its catalog, delegation and calendar routes, and the
seed), so a filing answers from memory instead of four queries. A cached value is dropped:

- when a session of this process commits a change to those tables (ORM objects flushed, or an
  ``insert``/``update``/``delete`` on them executed through a session): the cache is cleared after the
  commit, and a value read before the commit but stored after it is not kept (``generation``);
- after ``reference_cache_ttl_s`` seconds, which bounds how long another replica's change goes unseen
  (0 turns the cache off).

A session that has itself changed reference data reads through the cache, so it sees its own writes.
One cache per database engine: several services (or test instances) in one process share nothing.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction

from services.approvals.models import ApprovalItemVersion, CalendarOverrideRow, Delegation

T = TypeVar("T")

_MODELS = (ApprovalItemVersion, Delegation, CalendarOverrideRow)
_TABLE_NAMES = frozenset(m.__tablename__ for m in _MODELS)
#: ``session.info`` flag: this session has written reference data that is not committed yet.
_CHANGED = "approvals_reference_data_changed"
#: Unknown codes asked for are cached too (as "not found"): bound the memory that costs.
MAX_ENTRIES = 10_000
#: Where expiry times come from. Monotonic, so a wall-clock step cannot keep stale data; a module
#: attribute so that tests can move time on instead of sleeping through the TTL.
clock: Callable[[], float] = time.monotonic


@dataclass
class _Cache:
    generation: int = 0
    entries: dict[Hashable, tuple[float, Any]] = field(default_factory=dict)

    def clear(self) -> None:
        self.generation += 1
        self.entries.clear()


_caches: WeakKeyDictionary[Any, _Cache] = WeakKeyDictionary()


def _cache_for(bind: Any) -> _Cache:
    cache = _caches.get(bind)
    if cache is None:
        cache = _caches[bind] = _Cache()
    return cache


async def cached(session: AsyncSession, key: Hashable, ttl_s: float, load: Callable[[], Awaitable[T]]) -> T:
    """``load()``'s result, from the cache when fresh. Whatever ``load`` returns is shared between requests:
    plain values or ORM objects detached from their session (see :func:`detached`), never mutated."""
    if ttl_s <= 0 or session.info.get(_CHANGED):
        return await load()
    cache = _cache_for(session.sync_session.get_bind())
    now = clock()
    hit = cache.entries.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]  # type: ignore[no-any-return]
    generation = cache.generation
    value = await load()
    # A commit of reference data while we read (generation moved on) may have made the value stale.
    if cache.generation == generation and not session.info.get(_CHANGED):
        if len(cache.entries) >= MAX_ENTRIES:
            cache.entries.clear()
        cache.entries[key] = (now + ttl_s, value)
    return value


def detached(session: AsyncSession, row: T) -> T:
    """``row`` taken out of ``session``, so that the session's rollback or close cannot expire the copy
    that other requests read."""
    if row is not None and row in session:
        session.expunge(row)
    return row


def clear(bind: Any) -> None:
    """Forget everything cached for this engine (what a commit of reference data does)."""
    cache = _caches.get(bind)
    if cache is not None:
        cache.clear()


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    if any(isinstance(obj, _MODELS) for obj in chain(session.new, session.dirty, session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _TABLE_NAMES:
            state.session.info[_CHANGED] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_CHANGED, False):
        clear(session.get_bind())


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction: nothing written survives
        session.info.pop(_CHANGED, None)
