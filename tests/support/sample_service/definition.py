"""A tiny service used only to test the chassis end to end: notes that emit events, and a
projection that consumes them. It shows the shape every real service follows."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from chassis.audit import record_audit
from chassis.auth import Caller, ensure_owner, ensure_zone, require
from chassis.consumer import ConsumerSpec
from chassis.errors import NotFound
from chassis.events import CloudEvent, EventCatalog
from chassis.idempotency import Idempotency
from chassis.outbox import record_event
from chassis.service import ServiceDefinition, Session
from chassis.settings import ServiceSettings
from chassis.validators import USCC


class SampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SAMPLE_", extra="ignore")
    service_name: str = "sample"


class SampleTable(SQLModel, registry=registry()):
    pass


class Note(SampleTable, table=True):
    __tablename__ = "note"
    id: str = SQLField(primary_key=True)
    zone_id: str = SQLField(index=True)
    title: str
    owner_uscc: str


class NoteProjection(SampleTable, table=True):
    __tablename__ = "note_projection"
    note_id: str = SQLField(primary_key=True)
    title: str
    times_applied: int = 0


class NoteCreated(BaseModel):
    note_id: str
    zone_id: str
    title: str


EVENTS = EventCatalog("sample")
NOTE_CREATED = EVENTS.define("zone.sample.note.created.v1", NoteCreated, aggregate="note", description="A note was created.")
NOTE_POISONED = EVENTS.define(
    "zone.sample.note.poisoned.v1", NoteCreated, aggregate="note", description="A note whose handler always fails."
)


class NoteIn(BaseModel):
    zone_id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=1, max_length=100)
    owner_uscc: USCC
    poison: bool = False


router = APIRouter()
Writer = require("notes")


@router.post("/notes", status_code=201)
async def create_note(body: NoteIn, session: Session, caller: Caller, idem: Idempotency) -> Any:
    async def create() -> dict[str, Any]:
        ensure_zone(caller, body.zone_id, not_found=False)
        note = Note(id=str(uuid.uuid4()), zone_id=body.zone_id, title=body.title, owner_uscc=body.owner_uscc)
        session.add(note)
        await session.flush()
        await record_audit(session, caller, "note.create", entity_type="note", entity_id=note.id, after=note.model_dump())
        event_type = NOTE_POISONED if body.poison else NOTE_CREATED
        await record_event(
            session, event_type, NoteCreated(note_id=note.id, zone_id=note.zone_id, title=note.title),
            subject=note.id, zone_id=note.zone_id,
        )
        return note.model_dump()

    return await idem.run(session, create, status_code=201)


@router.post("/attachments", status_code=201)
async def attach(
    file: Annotated[UploadFile, File()], session: Session, caller: Caller, idem: Idempotency
) -> Any:
    async def store() -> dict[str, Any]:
        content = await file.read()
        return {"id": str(uuid.uuid4()), "sha256": hashlib.sha256(content).hexdigest()}

    return await idem.run(session, store, status_code=201)


@router.get("/notes/{note_id}")
async def get_note(note_id: str, session: Session, caller: Caller) -> dict[str, Any]:
    note = await session.get(Note, note_id)
    if note is None:
        raise NotFound("记录不存在", "Not found")
    ensure_owner(caller, note.owner_uscc)
    ensure_zone(caller, note.zone_id)
    return note.model_dump()


@router.get("/projections/{note_id}")
async def get_projection(note_id: str, session: Session) -> dict[str, Any]:
    row = (await session.execute(select(NoteProjection).where(NoteProjection.note_id == note_id))).scalar_one_or_none()
    if row is None:
        raise NotFound("尚未投影", "Not projected yet")
    return row.model_dump()


async def on_note_created(session: AsyncSession, event: CloudEvent) -> None:
    row = await session.get(NoteProjection, event.data["note_id"])
    if row is None:
        row = NoteProjection(note_id=event.data["note_id"], title=event.data["title"])
    row.times_applied += 1
    session.add(row)


async def on_poisoned(session: AsyncSession, event: CloudEvent) -> None:
    raise RuntimeError(f"cannot handle note {event.data['note_id']}")


DEFINITION = ServiceDefinition(
    name="sample",
    title="Sample service (chassis tests)",
    description="Exercises the chassis.",
    routers=[router],
    metadata=SampleTable.metadata,
    migrations_dir=Path(__file__).parent / "migrations",
    events=EVENTS,
    settings_class=SampleSettings,
    consumers=[
        ConsumerSpec(
            name="projection",
            services=["sample"],
            handlers={NOTE_CREATED.name: on_note_created, NOTE_POISONED.name: on_poisoned},
        )
    ],
)
