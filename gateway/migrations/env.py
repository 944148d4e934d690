"""Alembic environment: the chassis runs it (see chassis.migrations)."""

from chassis.migrations import run_env

run_env()
