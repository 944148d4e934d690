"""The pipeline summary leaders read (项目储备与转化): where projects stand, how many move on, how
long each stage takes — for one zone, or across zones for city-level users."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from chassis.auth import Principal, scoped_zone, scoped_zones
from services.investment.domain import (
    STAGE_LABELS,
    ChainRole,
    GroupFigures,
    PipelineProject,
    Stage,
    StageStay,
    summarize_pipeline,
)
from services.investment.models import Chain, Project, StageChange, utcnow
from services.investment.schemas import (
    ConversionOut,
    GroupOut,
    PipelineStageOut,
    PipelineSummaryByZoneOut,
    PipelineSummaryOut,
)


async def chain_names(session: AsyncSession) -> dict[str, str]:
    """Every chain's name by its code: the labels of a summary's by-chain groups."""
    return dict((await session.execute(select(col(Chain.code), col(Chain.name)))).tuples().all())


async def pipeline_summary(
    session: AsyncSession,
    caller: Principal,
    *,
    zone_id: str | None,
    chain_code: str | None = None,
    chain_role: ChainRole | None = None,
    key_project: bool | None = None,
    names: dict[str, str] | None = None,
) -> PipelineSummaryOut:
    """One zone's pipeline summary (all zones for city-level users naming none), optionally filtered.

    ``names`` are the chains' names (:func:`chain_names`) when the caller has read them already.
    """
    zone = scoped_zone(caller, zone_id)
    conditions: list[Any] = []
    if zone is not None:
        conditions.append(col(Project.zone_id) == zone)
    if chain_code:
        conditions.append(col(Project.chain_code) == chain_code)
    if chain_role is not None:
        conditions.append(col(Project.chain_role) == chain_role.value)
    if key_project is not None:
        conditions.append(col(Project.key_project) == key_project)
    rows = (
        await session.execute(
            select(
                col(Project.stage), col(Project.dropped_from_stage), col(Project.agreed_investment_wan), col(Project.chain_code),
                col(Project.chain_role),
            ).where(*conditions)
        )
    ).all()
    projects = [
        PipelineProject(
            stage=Stage(r.stage),
            dropped_from=Stage(r.dropped_from_stage) if r.dropped_from_stage else None,
            agreed_investment_wan=r.agreed_investment_wan,
            chain_code=r.chain_code,
            chain_role=ChainRole(r.chain_role) if r.chain_role else None,
        )
        for r in rows
    ]
    stay_rows = (
        await session.execute(
            select(col(StageChange.from_stage), col(StageChange.days_in_previous_stage))
            .join(Project, col(Project.id) == col(StageChange.project_id))
            .where(col(StageChange.from_stage).is_not(None), *conditions)
        )
    ).all()
    stays = [StageStay(Stage(r.from_stage), int(r.days_in_previous_stage or 0)) for r in stay_rows]
    figures = summarize_pipeline(projects, stays)
    if names is None:
        names = await chain_names(session)

    def group(g: GroupFigures, label: str) -> GroupOut:
        return GroupOut(
            key=g.key, label=label, count=g.count, agreed_investment_wan=float(g.agreed_investment_wan), by_stage=g.by_stage
        )

    return PipelineSummaryOut(
        zone_id=zone,
        as_of=utcnow(),
        filters={
            k: v for k, v in {
                "chain_code": chain_code,
                "chain_role": chain_role.value if chain_role else None,
                "key_project": key_project,
            }.items() if v is not None
        },
        total_projects=figures.total_projects,
        total_agreed_investment_wan=float(figures.total_agreed_investment_wan),
        active_projects=figures.active_projects,
        active_agreed_investment_wan=float(figures.active_agreed_investment_wan),
        stages=[
            PipelineStageOut(
                stage=s.stage, label=STAGE_LABELS[s.stage], count=s.count,
                agreed_investment_wan=float(s.agreed_investment_wan), reached=s.reached,
                median_days=s.median_days, finished_stays=s.finished_stays,
            )
            for s in figures.stages
        ],
        conversions=[
            ConversionOut(
                from_stage=c.from_stage, to_stage=c.to_stage, reached_from=c.reached_from, reached_to=c.reached_to,
                rate=c.rate,
            )
            for c in figures.conversions
        ],
        by_chain=[group(g, names.get(g.key, g.key) if g.key else "未归属产业链") for g in figures.by_chain],
        by_chain_role=[group(g, g.key or "未认定") for g in figures.by_chain_role],
    )


async def pipeline_summary_by_zone(
    session: AsyncSession, caller: Principal, zone_ids: Sequence[str]
) -> PipelineSummaryByZoneOut:
    """Several zones' summaries in one request (the city dashboard), each exactly the one-zone summary.

    Duplicates collapse keeping the first-seen order. Every zone is scoped before anything is read, so a
    zone's staff naming any other zone is refused (403) for the whole request. The service keeps no
    registry of zones: an unknown zone is an empty summary, never missing.
    """
    zones = scoped_zones(caller, zone_ids)
    names = await chain_names(session)
    items = [await pipeline_summary(session, caller, zone_id=zone, names=names) for zone in zones]
    return PipelineSummaryByZoneOut(items=items, missing=[])
