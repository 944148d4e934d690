"""``Idempotency-Key`` for creating POSTs: a retry gets the first response, not a duplicate.

Rules: keys are scoped per client (the token's subject) and kept ``idempotency_ttl_hours`` (24 h by
default); the same key with a different body is a 422; a retry while the first request is still in
flight is a 409. The key is claimed in its own short transaction (so concurrent retries see it),
and the response is stored in the *request's* transaction, together with the record it describes:
either both are committed or neither is. If the request fails, the claim is released so the client
may retry.

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
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chassis.auth import Caller
from chassis.errors import BadRequest, Conflict, FieldError, Unprocessable
from chassis.tables import idempotency_key

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


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
            return JSONResponse(jsonable_encoder(result), status_code=status_code, headers=headers)

        db = self.request.app.state.ctx.db
        replay = await self._claim(db)
        if replay is not None:
            return replay
        try:
            result = await action()
            body = jsonable_encoder(result)
            await session.execute(
                update(idempotency_key)
                .where(idempotency_key.c.client == self.client, idempotency_key.c.key == self.key)
                .values(state="done", status_code=status_code, response_body=json.dumps(body, ensure_ascii=False))
            )
        except BaseException:
            # Release the write lock (SQLite) before releasing the claim in another transaction.
            await session.rollback()
            await self._release(db)
            raise
        return JSONResponse(body, status_code=status_code, headers=headers)

    async def _claim(self, db: Any) -> JSONResponse | None:
        now = datetime.now(UTC)
        ttl = timedelta(hours=self.request.app.state.ctx.settings.idempotency_ttl_hours)
        async with db.session() as s:
            await s.execute(
                delete(idempotency_key).where(
                    idempotency_key.c.client == self.client,
                    idempotency_key.c.key == self.key,
                    idempotency_key.c.expires_at < now,
                )
            )
            try:
                await s.execute(
                    insert(idempotency_key).values(
                        client=self.client,
                        key=self.key,
                        endpoint=self.endpoint,
                        request_hash=self.request_hash,
                        state="in_flight",
                        created_at=now,
                        expires_at=now + ttl,
                    )
                )
                await s.commit()
                return None
            except IntegrityError:
                await s.rollback()
            row = (
                await s.execute(
                    select(idempotency_key).where(
                        idempotency_key.c.client == self.client, idempotency_key.c.key == self.key
                    )
                )
            ).first()
            await s.commit()
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
