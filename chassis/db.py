"""Async database engine and sessions, SQLite (embedded) or PostgreSQL (deployed).

Only the edges commit: a request's session (see :func:`chassis.deps.get_session`) and the consumer
loop. On SQLite every transaction starts with ``BEGIN IMMEDIATE``: the embedded mode has several
writers (requests, relay, consumers) and a deferred transaction that later wants to write would
fail with "database is locked" instead of waiting its turn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


class PlatformSession(AsyncSession):
    """A session that wakes the outbox relay after committing events."""

    async def commit(self) -> None:
        await super().commit()
        if self.info.pop("outbox_pending", False):
            notify = self.info.get("on_outbox_commit")
            if notify is not None:
                notify()


class Database:
    """One service's database: the engine, its sessions and what dialect it speaks."""

    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 20, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = is_sqlite_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            # One connection per session (cheap for a local file): with a bounded pool, sessions
            # waiting for the single write lock could hold every pooled connection.
            kwargs["connect_args"] = {"timeout": 30}
            kwargs["poolclass"] = NullPool
        else:
            kwargs.update(
                pool_size=pool_size,
                max_overflow=max_overflow,
                # No pre-ping (a round trip per checkout): a disconnect error invalidates the
                # whole pool, so after a database restart one request gets a 503 and the next
                # ones reconnect.
                pool_timeout=5,
                pool_recycle=1800,
            )
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        #: Copied into every new session's ``info``: the topic prefix and the relay's wake-up call.
        self.session_info: dict[str, Any] = {}
        self._sessionmaker = async_sessionmaker(self.engine, class_=PlatformSession, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def new_session(self) -> AsyncSession:
        session = self._sessionmaker()
        session.info.update(self.session_info)
        return session

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that the caller commits; rolled back if the block raises."""
        session = self.new_session()
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        finally:
            await session.close()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own BEGIN is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
