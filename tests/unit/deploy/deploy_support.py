"""What the deployment checks share (imported by the test modules beside it): where the files are, the apps the launcher knows, and the
environment variable names each app's settings class reads (derived from the class itself)."""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from chassis.launcher import APPS, AppSpec

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
APP_BY_NAME: dict[str, AppSpec] = {a.name: a for a in APPS}

#: Read outside the settings classes: the OpenTelemetry SDK reads OTEL_* itself, chassis/settings.py
#: reads ZONE_VAR_DIR at import (the embedded mode's files), and the gateway's first administrator
#: may be given unprefixed (ZONE_ADMIN_*, an alias the gateway's settings declare).
ALWAYS_ACCEPTED_PREFIXES = ("OTEL_", "ZONE_ADMIN_")
ALWAYS_ACCEPTED = {"ZONE_VAR_DIR"}


def settings_class(app: str) -> type[BaseSettings] | None:
    """The app's settings class, or None when its package is not in this checkout yet."""
    spec = APP_BY_NAME[app]
    module_name = f"{spec.module}.settings"
    try:
        if importlib.util.find_spec(module_name) is None:
            return None
    except ModuleNotFoundError:
        return None
    module = importlib.import_module(module_name)
    wanted = "GatewaySettings" if app == "gateway" else f"{app.capitalize()}Settings"
    cls = getattr(module, wanted, None)
    assert cls is not None, f"{module_name} defines no {wanted}"
    return cls  # type: ignore[no-any-return]


def env_names(cls: type[BaseSettings]) -> set[str]:
    """Every variable name the class reads: env_prefix + field name, or the field's aliases."""
    prefix = str(cls.model_config.get("env_prefix") or "")
    names: set[str] = set()
    for field_name, info in cls.model_fields.items():
        alias = info.validation_alias
        if alias is None:
            names.add(f"{prefix}{field_name}".upper())
        elif isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices if isinstance(choice, str))
    return names


def accepted(app: str) -> Callable[[str], bool] | None:
    cls = settings_class(app)
    if cls is None:
        return None
    names = env_names(cls)
    return lambda name: name in names or name in ALWAYS_ACCEPTED or name.startswith(ALWAYS_ACCEPTED_PREFIXES)


def require_settings(app: str) -> Callable[[str], bool]:
    check = accepted(app)
    if check is None:
        pytest.skip(f"{APP_BY_NAME[app].module} is not in this checkout yet: its settings cannot be checked")
    return check


def definitions() -> dict[str, Any]:
    """DEFINITION of every app whose definition module is in this checkout."""
    out = {}
    for spec in APPS:
        try:
            found = importlib.util.find_spec(f"{spec.module}.definition") is not None
        except ModuleNotFoundError:
            found = False
        if found:
            out[spec.name] = importlib.import_module(f"{spec.module}.definition").DEFINITION
    return out


def load_yaml_documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def topics_table() -> dict[str, tuple[int, int, str]]:
    """deploy/kafka/topics.txt: topic → (partitions, retention.ms, cleanup.policy)."""
    table: dict[str, tuple[int, int, str]] = {}
    for raw in (DEPLOY / "kafka" / "topics.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            name, partitions, retention, cleanup = line.split()
            assert name not in table, f"topic {name} listed twice in topics.txt"
            table[name] = (int(partitions), int(retention), cleanup)
    return table


@functools.cache
def load_compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data
