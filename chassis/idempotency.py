"""``Idempotency-Key`` for creating POSTs: a retry gets the first response, not a duplicate.

Rules: keys are scoped per client (the token's subject) and kept ``idempotency_ttl_hours`` (24 h by
default); the same key with a different body is a 422; a retry while the first request is still in
flight is a 409. The key is claimed by one statement (``INSERT … ON CONFLICT … DO UPDATE`` of an expired
key), committed at once so that concurrent retries see it; the response is stored in the *request's*
transaction, together with the record it describes: either both are committed or neither is. If the
request fails, the claim is released so the client may retry.

Usage in a route::

    @router.post("/applications", status_code=201)
    async def file_application(body: ApplicationIn, session: Session, caller: Caller, idem: Idempotency):
        return await idem.run(session, lambda: service.file(session, caller, body), status_code=201)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from chassis.auth import Caller
from chassis.errors import BadRequest, Conflict, FieldError, Unprocessable
from chassis.tables import idempotency_key

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

_INSTANT = idempotency_key.c.expires_at.type
#: Claims a key in one statement: a new key is inserted, an expired one taken over, a live one left alone
#: (no row returned). PostgreSQL and SQLite (≥ 3.35) both speak this. Written as text, and every statement
#: of a request's path built once with bound parameters: SQLAlchemy's ``on_conflict_do_update`` is never
#: in its compiled cache (it was compiled afresh per request), and ``.values(...)`` per call costs a
#: coercion and a cache key per value.
_CLAIM = text(
    "INSERT INTO idempotency_key (client, key, endpoint, request_hash, state, status_code, response_body,"
    " created_at, expires_at)"
    " VALUES (:client, :key, :endpoint, :request_hash, 'in_flight', NULL, NULL, :created_at, :expires_at)"
    " ON CONFLICT (client, key) DO UPDATE SET endpoint = excluded.endpoint, request_hash = excluded.request_hash,"
    " state = excluded.state, status_code = NULL, response_body = NULL, created_at = excluded.created_at,"
    " expires_at = excluded.expires_at"
    " WHERE idempotency_key.expires_at < :now"
    " RETURNING key"
).bindparams(
    bindparam("created_at", type_=_INSTANT), bindparam("expires_at", type_=_INSTANT), bindparam("now", type_=_INSTANT)
)
#: Stores the response in the request's transaction.
_STORE = (
    update(idempotency_key)
    .where(idempotency_key.c.client == bindparam("b_client"), idempotency_key.c.key == bindparam("b_key"))
    .values(state="done", status_code=bindparam("status_code"), response_body=bindparam("response_body"))
)


def _encode(result: Any) -> Any:
    """The JSON form of a use case's result. A pydantic model dumps itself in one call, which is what
    ``jsonable_encoder`` does too before walking the (already plain) result once more, field by field."""
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(result)


class _Serialized(JSONResponse):
    """A JSON response whose body is given already serialized (bytes)."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else super().render(content)


class IdempotencyGuard:
    def __init__(self, request: Request, client: str, key: str | None, body: bytes) -> None:
        self.request = request
        self.client = client
        self.key = key
        self.endpoint = f"{request.method} {request.url.path}"
        self.request_hash = hashlib.sha256(self.endpoint.encode() + b"\n" + body).hexdigest()

    async def run(
        self,
        session: AsyncSession,
        action: Callable[[], Awaitable[Any]],
        *,
        status_code: int = 201,
        headers: dict[str, str] | None = None,
    ) -> JSONResponse:
        if self.key is None:
            result = await action()
            return JSONResponse(_encode(result), status_code=status_code, headers=headers)

        db = self.request.app.state.ctx.db
        replay = await self._claim(db)
        if replay is not None:
            return replay
        try:
            result = await action()
            # Serialized once: the same bytes are stored for replays and sent now.
            text = json.dumps(_encode(result), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            await session.execute(
                _STORE, {"b_client": self.client, "b_key": self.key, "status_code": status_code, "response_body": text}
            )
        except BaseException:
            # Release the write lock (SQLite) before releasing the claim in another transaction.
            await session.rollback()
            await self._release(db)
            raise
        return _Serialized(text.encode(), status_code=status_code, headers=headers)

    async def _claim(self, db: Any) -> JSONResponse | None:
        now = datetime.now(UTC)
        ttl = timedelta(hours=self.request.app.state.ctx.settings.idempotency_ttl_hours)
        params = {
            "client": self.client,
            "key": self.key,
            "endpoint": self.endpoint,
            "request_hash": self.request_hash,
            "created_at": now,
            "expires_at": now + ttl,
            "now": now,
        }
        lookup = select(idempotency_key).where(
            idempotency_key.c.client == self.client, idempotency_key.c.key == self.key
        )
        if db.is_postgres:
            # One statement needs no transaction: in autocommit there is no BEGIN and no COMMIT to wait for.
            async with db.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                if (await conn.execute(_CLAIM, params)).first() is not None:
                    return None
                row = (await conn.execute(lookup)).first()
        else:  # SQLite: the chassis's sessions take the write lock up front (BEGIN IMMEDIATE)
            async with db.session() as s:
                claimed = (await s.execute(_CLAIM, params)).first() is not None
                if not claimed:
                    row = (await s.execute(lookup)).first()
                await s.commit()
            if claimed:
                return None
        if row is None:  # released between our insert and our read: let the client retry
            raise Conflict("相同幂等键的请求正在处理，请稍后重试", "A request with this key is in flight; retry")
        if row.request_hash != self.request_hash:
            raise Unprocessable(
                "该幂等键已用于内容不同的请求",
                "This Idempotency-Key was already used with a different request",
                errors=[FieldError(HEADER, "该幂等键已用于内容不同的请求", "key reused with a different body")],
            )
        if row.state != "done":
            raise Conflict(
                "相同幂等键的请求正在处理，请稍后重试",
                "A request with this Idempotency-Key is still in flight",
                headers={"Retry-After": "1"},
            )
        return JSONResponse(
            json.loads(row.response_body),
            status_code=row.status_code,
            headers={"Idempotent-Replayed": "true"},
        )

    async def _release(self, db: Any) -> None:
        async with db.session() as s:
            await s.execute(
                delete(idempotency_key).where(
                    idempotency_key.c.client == self.client,
                    idempotency_key.c.key == self.key,
                    idempotency_key.c.state == "in_flight",
                )
            )
            await s.commit()


async def idempotency_guard(request: Request, principal: Caller) -> IdempotencyGuard:
    key = request.headers.get(HEADER)
    if key is not None:
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise BadRequest(
                f"Idempotency-Key 必须是 1 到 {MAX_KEY_LENGTH} 个可见字符",
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
                errors=[FieldError(HEADER, "格式不正确", "invalid")],
            )
    client = f"{principal.kind}:{principal.subject}"
    try:
        body = await request.body()
    except RuntimeError:
        # FastAPI parsed a multipart form first and consumed the stream: fingerprint the form.
        body = await _form_fingerprint(request)
    return IdempotencyGuard(request, client, key, body)


async def _form_fingerprint(request: Request) -> bytes:
    """The parsed form's fields and uploaded files' contents, in a stable order."""
    digest = hashlib.sha256()
    form = await request.form()
    for name, value in sorted(form.multi_items(), key=lambda item: item[0]):
        digest.update(name.encode() + b"\0")
        if isinstance(value, str):
            digest.update(value.encode() + b"\0")
            continue
        digest.update((value.filename or "").encode() + b"\0")
        while chunk := await value.read(1 << 16):
            digest.update(chunk)
        await value.seek(0)
    return digest.digest()


Idempotency = Annotated[IdempotencyGuard, Depends(idempotency_guard)]


async def purge_expired(db: Any) -> int:
    async with db.session() as s:
        result = await s.execute(delete(idempotency_key).where(idempotency_key.c.expires_at < datetime.now(UTC)))
        await s.commit()
        return int(result.rowcount or 0)
