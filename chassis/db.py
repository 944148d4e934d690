"""Async database engine and sessions, SQLite (embedded) or PostgreSQL (deployed).

Only the edges commit: a request's session (see :func:`chassis.deps.get_session`) and the consumer
loop. On SQLite every transaction starts with ``BEGIN IMMEDIATE``: the embedded mode has several
writers (requests, relay, consumers) and a deferred transaction that later wants to write would
fail with "database is locked" instead of waiting its turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger("chassis.db")


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
            kwargs["poolclass"] = NullPool
            kwargs["async_creator"] = self._open_sqlite
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
        #: SQLite only: the driver connections whose worker threads may still run, so that :meth:`dispose`
        #: can wait for them (see :meth:`_finish_sqlite_threads`). Pruned of finished threads at every open.
        self._sqlite_connections: set[aiosqlite.Connection] = set()
        if self.is_sqlite:
            _configure_sqlite(self.engine)
            # Worked out once: every session on SQLite opens a connection (NullPool).
            args, options = self.engine.dialect.create_connect_args(self.engine.url)
            self._sqlite_connect: tuple[list[Any], dict[str, Any]] = (list(args), {**options, "timeout": 30})
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
        if self.is_sqlite:
            await self._finish_sqlite_threads()

    async def _open_sqlite(self) -> aiosqlite.Connection:
        """Open a SQLite connection, known to :meth:`dispose` from before its thread starts."""
        args, options = self._sqlite_connect
        connection = aiosqlite.connect(*args, **options)
        self._sqlite_connections -= {c for c in self._sqlite_connections if not c._thread.is_alive()}
        self._sqlite_connections.add(connection)
        return await connection

    async def _finish_sqlite_threads(self, timeout_s: float = 5.0) -> None:
        """Let the worker threads of SQLite connections that cancelled tasks left behind finish.

        aiosqlite runs each connection on its own thread, which posts every result back to the event
        loop. A task cancelled while opening a connection or mid-query (the relay or a consumer, at
        shutdown) leaves that thread running: it finishes the operation and posts to a loop that may
        have closed by then ("Event loop is closed"), or waits for work forever. Stopping it here
        queues behind whatever it is doing, and the stop is awaited while the loop still runs.
        """
        for connection in list(self._sqlite_connections):
            self._sqlite_connections.discard(connection)
            if not connection._thread.is_alive():
                continue  # closed normally
            try:
                if connection._running:
                    stopped = connection.stop()
                    if stopped is not None:
                        await asyncio.wait_for(stopped, timeout_s)
                else:  # already told to stop (SQLAlchemy's terminate): it will once its queue is done
                    await asyncio.to_thread(connection._thread.join, timeout_s)
            except Exception as exc:  # shutting down: report, never fail the shutdown
                log.warning("a SQLite connection's thread did not stop at shutdown: %r", exc)


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
