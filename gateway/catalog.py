"""Which event types exist: the published catalogs of every service present in this deployment.

A type is checked against its producer's catalog when that service's contract module is
installed; a type of a service that is not installed here passes on its shape alone (the gateway
may front a service deployed from another release).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from chassis.asyncapi import available_catalogs
from gateway import domain


@lru_cache(maxsize=1)
def known_catalogs() -> dict[str, frozenset[str]]:
    return {c.service: frozenset(t.name for t in c.types) for c in available_catalogs()}


def known_for(requested: Sequence[str]) -> set[str]:
    """The set ``requested`` is validated against: every type of the installed catalogs, plus the
    requested types whose producing service is not installed."""
    catalogs = known_catalogs()
    known: set[str] = set().union(*catalogs.values()) if catalogs else set()
    for event_type in requested:
        parts = event_type.split(".")
        if len(parts) > 1 and parts[1] not in catalogs:
            known.add(event_type)
    return known


def check_types(requested: Sequence[str], allowed: Sequence[str] | None) -> None:
    domain.check_event_types(requested, allowed, known_for(requested))
