"""Tokens for tests: a signing key of the tests' own, whose JWKS the services under test trust.

In production the gateway issues tokens; here the tests stand in for it, with the same claims.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from chassis.auth import SigningKey, build_claims, jwks_document


class TokenIssuer:
    def __init__(self) -> None:
        self.key = SigningKey.generate("test-key")
        self.jwks_json = json.dumps(jwks_document([self.key]))

    def token(self, subject: str, kind: str, **claims: object) -> str:
        return self.key.sign(build_claims(subject=subject, kind=kind, **claims))  # type: ignore[arg-type]

    def headers(self, subject: str, kind: str, **claims: object) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, kind, **claims)}"}

    def staff(
        self, zone_id: str | None = "zone-a", roles: Iterable[str] = (), department: str | None = None, subject: str | None = None
    ) -> dict[str, str]:
        """A zone's staff member (``zone_id=None`` makes a city-level one)."""
        roles = tuple(roles)
        return self.headers(subject or f"staff-{zone_id}-{'-'.join(roles)}", "staff", roles=roles, zone_id=zone_id, department=department)

    def enterprise(self, uscc: str, subject: str | None = None) -> dict[str, str]:
        return self.headers(subject or f"ent-{uscc}", "enterprise", uscc=uscc)

    def admin(self) -> dict[str, str]:
        return self.headers("admin", "admin", roles=("admin",))

    def system(self, name: str = "credit-platform", event_types: Iterable[str] = ()) -> dict[str, str]:
        return self.headers(name, "system", roles=("system",), event_types=tuple(event_types))
