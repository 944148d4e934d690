"""The Dockerfile and the image's entry point, checked without a Docker engine: multi-stage, slim,
non-root, health-checked, every app's port exposed, and the first argument choosing what runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.unit.deploy.deploy_support import APP_BY_NAME, ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def test_the_image_is_built_in_stages_on_a_slim_python_3_11():
    froms = [args for word, args in instructions() if word == "FROM"]
    assert len(froms) >= 2, "multi-stage: build tools stay out of the runtime image"
    assert all("python:${PYTHON_VERSION}-slim" in f for f in froms)
    assert re.search(r"^ARG PYTHON_VERSION=3\.11$", DOCKERFILE, re.M)
    final = stages()[-1]
    copied_from_build = [args for word, args in final if word == "COPY" and args.startswith("--from=build")]
    assert copied_from_build, "the runtime stage takes the built virtualenv from the build stage"


def test_the_final_stage_runs_as_a_numeric_non_root_user():
    users = [args for word, args in stages()[-1] if word == "USER"]
    assert users, "the runtime stage must switch to an unprivileged user"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "numeric, so Kubernetes can verify runAsNonRoot"


def test_the_project_is_installed_without_dev_extras():
    runs = " ".join(args for word, args in instructions() if word == "RUN")
    assert "pip install" in runs
    assert "[dev]" not in runs and ".[dev" not in runs
    assert "--editable ." in runs or "pip install ." in runs


def test_health_check_and_exposed_ports_match_the_launcher():
    final = stages()[-1]
    health = [args for word, args in final if word == "HEALTHCHECK"]
    assert health and "healthcheck" in health[0]
    exposed = {int(p) for word, args in final if word == "EXPOSE" for p in args.split()}
    assert exposed == {spec.default_port for spec in APP_BY_NAME.values()}
    entry = [args for word, args in final if word == "ENTRYPOINT"]
    assert entry == ['["zone-entrypoint"]']


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "var", "tests", "**/__pycache__", "**/.pytest_cache", "deploy/.env"} <= ignored
    for source in ("chassis", "services", "gateway", "deploy/docker", "pyproject.toml", "README.md"):
        assert source not in ignored, f"the image needs {source}"
    for source in re.findall(r"^COPY (?!--from)(?:--\S+ )*(\S+)", DOCKERFILE, re.M):
        assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


@pytest.fixture
def fake_zonectl(tmp_path: Path) -> dict[str, str]:
    """A PATH whose zonectl prints its arguments, so the entry point's dispatch can be observed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "zonectl"
    fake.write_text('#!/bin/sh\necho "zonectl $*"\n', encoding="utf-8")
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"}


def run_entrypoint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    shell = shutil.which("sh") or "/bin/sh"
    return subprocess.run([shell, str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=10)


@pytest.mark.parametrize("app", list(APP_BY_NAME))
def test_the_first_argument_names_the_app_to_serve(fake_zonectl, app):
    result = run_entrypoint(fake_zonectl, app)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"zonectl serve {app}"


def test_migrate_and_zonectl_arguments_pass_through(fake_zonectl):
    assert run_entrypoint(fake_zonectl, "migrate", "all", "--wait", "60").stdout.strip() == "zonectl migrate all --wait 60"
    assert run_entrypoint(fake_zonectl, "zonectl", "dead-letters", "list", "stats").stdout.strip() == (
        "zonectl dead-letters list stats"
    )
    assert run_entrypoint(fake_zonectl, "echo", "anything else").stdout.strip() == "anything else"
    assert "migrate <service|all>" in run_entrypoint(fake_zonectl).stdout


def test_the_entry_point_serves_only_the_apps_the_cli_knows():
    from chassis.cli import APP_PORTS

    served = re.search(r"^\s*([a-z|]+)\)\s*$", ENTRYPOINT.read_text(encoding="utf-8"), re.M)
    assert served is not None
    assert set(served.group(1).split("|")) == set(APP_PORTS) == set(APP_BY_NAME)
