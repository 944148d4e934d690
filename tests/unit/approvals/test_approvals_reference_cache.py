"""The reference-data cache's own rules: fresh values are reused, a commit of reference data clears them,
a value read while such a commit happened is not kept, and each database has its own cache."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from services.approvals import refcache


@pytest.fixture
async def engines(tmp_path: Any) -> AsyncIterator[tuple[Any, Any]]:
    one = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    two = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'two.db'}")
    yield one, two
    await one.dispose()
    await two.dispose()


class Loader:
    def __init__(self, value: str, during: Any = None) -> None:
        self.value, self.during, self.calls = value, during, 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.during is not None:
            self.during()
        return f"{self.value}{self.calls}"


async def test_a_fresh_value_is_read_once_and_a_commit_of_reference_data_clears_it(engines):
    engine, _ = engines
    async with AsyncSession(engine) as session:
        load = Loader("v")
        assert await refcache.cached(session, "k", 60, load) == "v1"
        assert await refcache.cached(session, "k", 60, load) == "v1"
        refcache.clear(session.sync_session.get_bind())
        assert await refcache.cached(session, "k", 60, load) == "v2"


async def test_a_value_read_while_reference_data_was_committed_is_not_kept(engines):
    engine, _ = engines
    async with AsyncSession(engine) as session:
        bind = session.sync_session.get_bind()
        racing = Loader("old", during=lambda: refcache.clear(bind))
        assert await refcache.cached(session, "k", 60, racing) == "old1"  # answered, but not stored
        assert await refcache.cached(session, "k", 60, Loader("new")) == "new1"


async def test_a_zero_ttl_reads_every_time_and_each_database_has_its_own_cache(engines):
    one, two = engines
    async with AsyncSession(one) as a, AsyncSession(two) as b:
        load = Loader("v")
        assert await refcache.cached(a, "off", 0, load) == "v1"
        assert await refcache.cached(a, "off", 0, load) == "v2"
        assert await refcache.cached(a, "k", 60, Loader("one")) == "one1"
        assert await refcache.cached(b, "k", 60, Loader("two")) == "two1"


async def test_a_value_is_read_again_once_its_ttl_has_passed(engines, monkeypatch):
    engine, _ = engines
    now = [500.0]
    monkeypatch.setattr(refcache, "clock", lambda: now[0])
    async with AsyncSession(engine) as session:
        load = Loader("v")
        assert await refcache.cached(session, "ttl", 60, load) == "v1"
        now[0] += 59.9
        assert await refcache.cached(session, "ttl", 60, load) == "v1"
        now[0] += 0.2
        assert await refcache.cached(session, "ttl", 60, load) == "v2"
