"""Password and client-secret hashing with Argon2id (argon2-cffi).

Hashing is deliberately slow and memory-hard, so it runs in worker threads (never on the event
loop) and at most a few at a time (bounded memory: each hash takes ``argon2_memory_kib``).
Unknown usernames are checked against a dummy hash so that timing does not reveal which
accounts exist.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.settings import GatewaySettings


class Passwords:
    def __init__(self, settings: GatewaySettings, concurrency: int = 4) -> None:
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; a missing hash is checked against a dummy (same cost)."""
        if password_hash is None:
            if self._dummy is None:
                self._dummy = await self.hash("not-a-real-password-0")
            password_hash = self._dummy
            await self._check(password_hash, password)
            return False
        return await self._check(password_hash, password)

    async def _check(self, password_hash: str, password: str) -> bool:
        async with self._slots:
            try:
                return await asyncio.to_thread(self.hasher.verify, password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return False
