"""Use cases for projects: record, amend, move through the lifecycle, check against the admission
catalog, and record funds in place. Each takes the session and the caller, writes its events to the
outbox and its audit entries on that same session, and never commits.

A project's chain role is read from its zone's status on its node when the project is recorded or
moved to another node (unless staff state it); a later change of the node's status does not
re-label projects already classified — the role says what the project did for the chain when it
was courted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from chassis.audit import record_audit
from chassis.auth import Principal, ensure_owner, ensure_zone, scoped_zone
from chassis.errors import Conflict, FieldError, NotFound, Unprocessable
from chassis.outbox import record_event
from chassis.pagination import Page, PageParams, paginate
from services.investment import events as ev
from services.investment.access import today, wan, write_zone
from services.investment.chains import new_id, thresholds_of
from services.investment.domain import (
    FUNDING_SOURCE_LABELS,
    STAGE_LABELS,
    AdmissionFacts,
    ChainRole,
    FundingSource,
    IllegalTransition,
    NodeStatus,
    ProjectFacts,
    Shortfall,
    Stage,
    StageRequirementsUnmet,
    allowed_next_stages,
    check_transition,
    days_in_stage,
    derive_chain_role,
    evaluate_admission,
    funds_accepted_in,
    local_date,
    period_is_future,
    shortfalls_for,
    start_of_local_day,
)
from services.investment.models import (
    AdmissionCheck,
    CatalogEntry,
    Chain,
    ChainNode,
    FundsRecord,
    NodeZoneStatus,
    Project,
    StageChange,
    utcnow,
)
from services.investment.schemas import (
    AdmissionCheckOut,
    CriterionOut,
    FundsIn,
    FundsListOut,
    FundsOut,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    StageChangeOut,
    TransitionIn,
    TransitionOut,
)

#: Fields of a project that PATCH may change and the ``updated`` event reports.
EDITABLE_FIELDS = (
    "name", "investor", "uscc", "chain_code", "node_id", "chain_role", "sector_code", "agreed_investment_wan",
    "funding_source", "land_area_mu", "expected_annual_output_wan", "expected_annual_tax_wan",
    "expected_annual_energy_tce", "key_project", "leader", "task_team", "policy_measures", "agency", "note",
)
NOT_NULLABLE = ("name", "investor", "key_project", "task_team", "policy_measures")


# --- loading and presenting ------------------------------------------------------------------------


async def load_project(session: AsyncSession, caller: Principal, project_id: str) -> Project:
    """The project if the caller may see it; another zone's or another enterprise's looks missing."""
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound("项目不存在", "Project not found")
    ensure_owner(caller, project.uscc)
    ensure_zone(caller, project.zone_id)
    return project


def _change_out(row: StageChange) -> StageChangeOut:
    return StageChangeOut(
        from_stage=Stage(row.from_stage) if row.from_stage else None,
        to_stage=Stage(row.to_stage),
        to_stage_label=STAGE_LABELS[Stage(row.to_stage)],
        changed_at=row.changed_at,
        effective_on=local_date(row.changed_at),
        days_in_previous_stage=row.days_in_previous_stage,
        reason=row.reason,
        actor=row.actor,
    )


async def _history(session: AsyncSession, project_ids: Sequence[str]) -> dict[str, list[StageChange]]:
    out: dict[str, list[StageChange]] = defaultdict(list)
    if not project_ids:
        return out
    rows = (
        await session.execute(
            select(StageChange)
            .where(col(StageChange.project_id).in_(list(project_ids)))
            .order_by(col(StageChange.changed_at), col(StageChange.recorded_at))
        )
    ).scalars()
    for row in rows:
        out[row.project_id].append(row)
    return out


def project_out(p: Project, history: list[StageChange]) -> ProjectOut:
    stage = Stage(p.stage)
    stage_dates: dict[str, date] = {}
    for h in history:
        stage_dates[h.to_stage] = local_date(h.changed_at)
    return ProjectOut(
        id=p.id,
        zone_id=p.zone_id,
        name=p.name,
        investor=p.investor,
        uscc=p.uscc,
        chain_code=p.chain_code,
        node_id=p.node_id,
        chain_role=ChainRole(p.chain_role) if p.chain_role else None,
        chain_role_derived=p.chain_role_derived,
        sector_code=p.sector_code,
        agreed_investment_wan=wan(p.agreed_investment_wan),
        funding_source=FundingSource(p.funding_source) if p.funding_source else None,
        land_area_mu=wan(p.land_area_mu),
        expected_annual_output_wan=wan(p.expected_annual_output_wan),
        expected_annual_tax_wan=wan(p.expected_annual_tax_wan),
        expected_annual_energy_tce=wan(p.expected_annual_energy_tce),
        key_project=p.key_project,
        leader=p.leader,
        task_team=list(p.task_team or []),
        policy_measures=list(p.policy_measures or []),
        agency=p.agency,
        note=p.note,
        stage=stage,
        stage_label=STAGE_LABELS[stage],
        stage_entered_at=p.stage_entered_at,
        days_in_stage=max(0, (today() - local_date(p.stage_entered_at)).days),
        allowed_next_stages=allowed_next_stages(stage),
        signed_on=p.signed_on,
        dropped_from_stage=Stage(p.dropped_from_stage) if p.dropped_from_stage else None,
        drop_reason=p.drop_reason,
        admission_passed=p.admission_passed,
        admission_checked_at=p.admission_checked_at,
        stage_dates=stage_dates,
        stage_history=[_change_out(h) for h in history],
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


async def present(session: AsyncSession, project: Project) -> ProjectOut:
    return project_out(project, (await _history(session, [project.id]))[project.id])


def _snapshot(p: Project) -> dict[str, Any]:
    return {
        "project_id": p.id,
        "zone_id": p.zone_id,
        "name": p.name,
        "stage": p.stage,
        "investor": p.investor,
        "uscc": p.uscc,
        "chain_code": p.chain_code,
        "node_id": p.node_id,
        "chain_role": p.chain_role,
        "sector_code": p.sector_code,
        "agreed_investment_wan": wan(p.agreed_investment_wan),
        "funding_source": p.funding_source,
        "land_area_mu": wan(p.land_area_mu),
        "key_project": p.key_project,
        "leader": p.leader,
    }


def _audit_view(p: Project) -> dict[str, Any]:
    return {f: getattr(p, f) for f in (*EDITABLE_FIELDS, "stage", "chain_role_derived", "zone_id")}


# --- chain and role --------------------------------------------------------------------------------


async def _resolve_chain(
    session: AsyncSession, zone_id: str, chain_code: str | None, node_id: str | None, *, chain_code_given: bool
) -> tuple[str | None, ChainNode | None, NodeStatus | None]:
    """The chain code and node a project sits on, and the zone's status on that node."""
    node = None
    if node_id is not None:
        node = await session.get(ChainNode, node_id)
        if node is None:
            raise Unprocessable(
                "产业链环节不存在", "Unknown chain node",
                errors=[FieldError("node_id", "产业链环节不存在", "unknown chain node", code="unknown")],
            )
        chain = await session.get(Chain, node.chain_id)
        assert chain is not None
        if chain_code_given and chain_code is not None and chain_code != chain.code:
            raise Unprocessable(
                f"环节不属于产业链 {chain_code}", f"The node is not on chain {chain_code}",
                errors=[FieldError("chain_code", f"所选环节属于产业链 {chain.code}", f"the node is on chain {chain.code}",
                                   code="mismatch")],
            )
        chain_code = chain.code
    elif chain_code is not None:
        found = (await session.execute(select(col(Chain.id)).where(col(Chain.code) == chain_code))).first()
        if found is None:
            raise Unprocessable(
                f"产业链 {chain_code} 不存在", f"Unknown chain {chain_code}",
                errors=[FieldError("chain_code", "产业链不存在", "unknown chain", code="unknown")],
            )
    status = None
    if node is not None:
        row = (
            await session.execute(
                select(col(NodeZoneStatus.status)).where(col(NodeZoneStatus.node_id) == node.id, col(NodeZoneStatus.zone_id) == zone_id)
            )
        ).scalar_one_or_none()
        status = NodeStatus(row) if row else None
    return chain_code, node, status


# --- create / read / update ------------------------------------------------------------------------


async def create_project(session: AsyncSession, caller: Principal, body: ProjectIn) -> ProjectOut:
    zone = write_zone(caller, body.zone_id)
    now = utcnow()
    lead_on = body.lead_on
    if lead_on is not None and lead_on > today():
        raise Unprocessable(
            "获取线索日期不能晚于今天", "lead_on cannot be in the future",
            errors=[FieldError("lead_on", "不能晚于今天", "cannot be in the future", code="future_date")],
        )
    entered_at = now if lead_on is None or lead_on == today() else start_of_local_day(lead_on)
    chain_code, node, status = await _resolve_chain(
        session, zone, body.chain_code, body.node_id, chain_code_given=body.chain_code is not None
    )
    role = body.chain_role or derive_chain_role(status)
    project = Project(
        id=new_id(),
        zone_id=zone,
        name=body.name,
        investor=body.investor,
        uscc=body.uscc,
        chain_code=chain_code,
        node_id=node.id if node else None,
        chain_role=role.value if role else None,
        chain_role_derived=body.chain_role is None and role is not None,
        sector_code=body.sector_code,
        funding_source=body.funding_source.value if body.funding_source else None,
        key_project=body.key_project,
        leader=body.leader,
        task_team=list(body.task_team),
        policy_measures=list(body.policy_measures),
        agency=body.agency,
        note=body.note,
        stage=Stage.LEAD.value,
        stage_entered_at=entered_at,
        created_at=now,
        created_by=caller.subject,
        updated_at=now,
        agreed_investment_wan=body.agreed_investment_wan,
        land_area_mu=body.land_area_mu,
        expected_annual_output_wan=body.expected_annual_output_wan,
        expected_annual_tax_wan=body.expected_annual_tax_wan,
        expected_annual_energy_tce=body.expected_annual_energy_tce,
    )
    session.add(project)
    await session.flush()
    session.add(
        StageChange(
            id=new_id(), project_id=project.id, zone_id=zone, from_stage=None, to_stage=Stage.LEAD.value,
            changed_at=entered_at, actor=caller.subject, recorded_at=now,
        )
    )
    await session.flush()
    await record_audit(
        session, caller, "project.create", entity_type="project", entity_id=project.id, zone_id=zone,
        after=_audit_view(project),
    )
    await record_event(
        session, ev.PROJECT_CREATED, {**_snapshot(project), "created_at": now},
        subject=project.id, zone_id=zone, key=project.id,
    )
    return await present(session, project)


async def get_project(session: AsyncSession, caller: Principal, project_id: str) -> ProjectOut:
    return await present(session, await load_project(session, caller, project_id))


DATE_FIELDS = ("created", "signed", "stage_entered")


async def list_projects(
    session: AsyncSession,
    caller: Principal,
    page: PageParams,
    *,
    zone_id: str | None = None,
    stage: Stage | None = None,
    chain_code: str | None = None,
    chain_role: ChainRole | None = None,
    key_project: bool | None = None,
    leader: str | None = None,
    uscc: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    date_field: str = "created",
    q: str | None = None,
) -> Page[ProjectOut]:
    query: Select[Any] = select(Project)
    if caller.is_enterprise:
        # An enterprise sees only what carries its own USCC, whatever it asks for.
        if uscc is not None and uscc != caller.uscc:
            return Page[ProjectOut](items=[], total=0, page=page.page, size=page.size)
        query = query.where(col(Project.uscc) == caller.uscc)
        if zone_id:
            query = query.where(col(Project.zone_id) == zone_id)
    else:
        zone = scoped_zone(caller, zone_id)
        if zone is not None:
            query = query.where(col(Project.zone_id) == zone)
        if uscc:
            query = query.where(col(Project.uscc) == uscc)
    if stage is not None:
        query = query.where(col(Project.stage) == stage.value)
    if chain_code:
        query = query.where(col(Project.chain_code) == chain_code)
    if chain_role is not None:
        query = query.where(col(Project.chain_role) == chain_role.value)
    if key_project is not None:
        query = query.where(col(Project.key_project) == key_project)
    if leader:
        query = query.where(col(Project.leader) == leader)
    if q:
        like = f"%{q}%"
        query = query.where(col(Project.name).like(like) | col(Project.investor).like(like))
    if date_from is not None or date_to is not None:
        if date_field == "signed":
            if date_from is not None:
                query = query.where(col(Project.signed_on) >= date_from)
            if date_to is not None:
                query = query.where(col(Project.signed_on) <= date_to)
        else:
            column = col(Project.created_at) if date_field == "created" else col(Project.stage_entered_at)
            if date_from is not None:
                query = query.where(column >= start_of_local_day(date_from))
            if date_to is not None:
                query = query.where(column < start_of_local_day(date_to + timedelta(days=1)))
    query = query.order_by(col(Project.created_at).desc(), col(Project.id))
    rows, total = await paginate(session, query, page)
    history = await _history(session, [p.id for p in rows])
    return Page[ProjectOut](
        items=[project_out(p, history[p.id]) for p in rows], total=total, page=page.page, size=page.size
    )


def _closed(project: Project) -> None:
    if project.stage == Stage.DROPPED.value:
        raise Conflict(
            "项目已终止，不能再办理", "The project was dropped; it takes no further changes",
            current_stage=project.stage, allowed_next_stages=[],
        )


def _shortfall_conflict(stage: Stage, gaps: list[Shortfall], *, entering: bool, current: Stage) -> Conflict:
    names = "、".join(g.label for g in gaps)
    verb = "进入" if entering else "处于"
    errors = [
        FieldError(
            g.field,
            f"{verb}「{STAGE_LABELS[stage]}」阶段须有有效的{g.label}" if g.problem == "invalid"
            else f"{verb}「{STAGE_LABELS[stage]}」阶段须填写{g.label}",
            f"{stage.value} requires a valid {g.field}" if g.problem == "invalid" else f"{stage.value} requires {g.field}",
            code="required_for_stage" if g.problem == "missing" else "invalid_for_stage",
        )
        for g in gaps
    ]
    return Conflict(
        f"{verb}「{STAGE_LABELS[stage]}」阶段前须补全：{names}" if entering else f"项目处于「{STAGE_LABELS[stage]}」阶段，{names}不能为空",
        f"{'Entering' if entering else 'Being in'} {stage.value} requires: {', '.join(g.field for g in gaps)}",
        errors=errors,
        current_stage=current.value,
        allowed_next_stages=[s.value for s in allowed_next_stages(current)],
        missing_fields=[g.field for g in gaps],
    )


def _facts(p: Project) -> ProjectFacts:
    return ProjectFacts(
        investor=p.investor,
        agreed_investment_wan=p.agreed_investment_wan,
        funding_source=p.funding_source,
        uscc=p.uscc,
        land_area_mu=p.land_area_mu,
    )


async def update_project(session: AsyncSession, caller: Principal, project_id: str, body: ProjectPatch) -> ProjectOut:
    project = await load_project(session, caller, project_id)
    _closed(project)
    given = body.model_fields_set
    for name in NOT_NULLABLE:
        if name in given and getattr(body, name) is None:
            raise Unprocessable(
                f"{name} 不能为空", f"{name} cannot be null",
                errors=[FieldError(name, "不能为空", "cannot be null", code="missing")],
            )
    before = _audit_view(project)
    values: dict[str, Any] = {}
    for name in given:
        value = getattr(body, name)
        if hasattr(value, "value"):
            value = value.value
        if isinstance(value, list):
            value = list(value)
        values[name] = value

    if {"node_id", "chain_code"} & given:
        node_id = values["node_id"] if "node_id" in given else project.node_id
        if "chain_code" in given:
            chain_code = values["chain_code"]
        elif "node_id" in given and node_id is not None:
            chain_code = None  # follows the new node
        else:
            chain_code = project.chain_code
        if "node_id" not in given and node_id is not None:
            node = await session.get(ChainNode, node_id)
            chain = await session.get(Chain, node.chain_id) if node else None
            if chain is not None and chain.code != chain_code:
                raise Unprocessable(
                    "项目当前环节不属于该产业链，请同时修改环节", "The project's node is on another chain; change node_id too",
                    errors=[FieldError("chain_code", "与当前环节所属产业链不一致", "does not match the node's chain",
                                       code="mismatch")],
                )
        resolved_code, node, status = await _resolve_chain(
            session, project.zone_id, chain_code, node_id, chain_code_given="chain_code" in given
        )
        values["chain_code"], values["node_id"] = resolved_code, node.id if node else None
        location_changed = (values["chain_code"], values["node_id"]) != (project.chain_code, project.node_id)
    else:
        status, location_changed = None, False
        if project.node_id is not None and "chain_role" in given and values["chain_role"] is None:
            _, _, status = await _resolve_chain(
                session, project.zone_id, project.chain_code, project.node_id, chain_code_given=False
            )

    if "chain_role" in given and values["chain_role"] is not None:
        values["chain_role_derived"] = False
    elif ("chain_role" in given) or (location_changed and (project.chain_role_derived or project.chain_role is None)):
        role = derive_chain_role(status)
        values["chain_role"] = role.value if role else None
        values["chain_role_derived"] = role is not None

    changed = {k: v for k, v in values.items() if getattr(project, k) != v}
    if not changed:
        return await present(session, project)
    for name, value in changed.items():
        setattr(project, name, value)
    gaps = shortfalls_for(Stage(project.stage), _facts(project))
    if gaps:
        raise _shortfall_conflict(Stage(project.stage), gaps, entering=False, current=Stage(project.stage))
    now = utcnow()
    project.updated_at = now
    session.add(project)
    await session.flush()
    await record_audit(
        session, caller, "project.update", entity_type="project", entity_id=project.id, zone_id=project.zone_id,
        before={k: before[k] for k in changed if k in before}, after={k: getattr(project, k) for k in changed},
    )
    await record_event(
        session, ev.PROJECT_UPDATED,
        {**_snapshot(project), "changed_fields": sorted(changed), "updated_at": now},
        subject=project.id, zone_id=project.zone_id, key=project.id,
    )
    return await present(session, project)


# --- lifecycle -------------------------------------------------------------------------------------


def _illegal(exc: IllegalTransition) -> Conflict:
    allowed = "、".join(f"「{STAGE_LABELS[s]}」({s.value})" for s in exc.allowed) or "无（已是终态）"
    current = f"「{STAGE_LABELS[exc.current]}」({exc.current.value})"
    target = f"「{STAGE_LABELS[exc.target]}」({exc.target.value})"
    return Conflict(
        f"项目当前处于{current}，不能进入{target}；可进入：{allowed}",
        f"The project is in {exc.current.value}; it cannot move to {exc.target.value}. "
        f"Allowed next stages: {', '.join(s.value for s in exc.allowed) or 'none (final stage)'}",
        errors=[
            FieldError(
                "to_stage",
                f"当前阶段{current}的下一步只能是：{allowed}",
                f"from {exc.current.value} the next stage can only be: {', '.join(s.value for s in exc.allowed) or 'none'}",
                code="illegal_transition",
            )
        ],
        current_stage=exc.current.value,
        allowed_next_stages=[s.value for s in exc.allowed],
    )


async def transition(session: AsyncSession, caller: Principal, project_id: str, body: TransitionIn) -> TransitionOut:
    project = await load_project(session, caller, project_id)
    current, target = Stage(project.stage), body.to_stage
    if target not in allowed_next_stages(current):
        raise _illegal(IllegalTransition(current, target))
    field_errors: list[FieldError] = []
    if target == Stage.DROPPED and not body.reason:
        field_errors.append(FieldError("reason", "终止项目须填写原因", "a reason is required to drop a project", code="missing"))
    if body.uscc is not None and target != Stage.REGISTERED:
        field_errors.append(
            FieldError("uscc", "只能在注册落地时登记统一社会信用代码（其他时候请修改项目）",
                       "uscc is given only when registering (else PATCH the project)", code="not_applicable")
        )
    if body.land_area_mu is not None and target != Stage.LAND_SECURED:
        field_errors.append(
            FieldError("land_area_mu", "只能在供地时登记用地面积（其他时候请修改项目）",
                       "land_area_mu is given only when land is secured (else PATCH the project)", code="not_applicable")
        )
    now = utcnow()
    today_ = today()
    effective_on = body.effective_on or today_
    entered_on = local_date(project.stage_entered_at)
    if effective_on > today_:
        field_errors.append(FieldError("effective_on", "不能晚于今天", "cannot be in the future", code="future_date"))
    elif effective_on < entered_on:
        field_errors.append(
            FieldError("effective_on", f"不能早于进入当前阶段的日期 {entered_on.isoformat()}",
                       f"cannot be before the current stage began ({entered_on.isoformat()})", code="before_stage_start")
        )
    if field_errors:
        raise Unprocessable("提交的阶段变更有误", "The transition request is invalid", errors=field_errors)

    before = _audit_view(project)
    supplied: dict[str, Any] = {}
    if body.uscc is not None and body.uscc != project.uscc:
        supplied["uscc"] = body.uscc
    if body.land_area_mu is not None and body.land_area_mu != project.land_area_mu:
        supplied["land_area_mu"] = body.land_area_mu
    facts = _facts(project)
    facts = ProjectFacts(**{**asdict(facts), **supplied})
    try:
        check_transition(current, target, facts)
    except StageRequirementsUnmet as exc:
        raise _shortfall_conflict(exc.stage, exc.shortfalls, entering=True, current=current) from exc

    changed_at = now if effective_on == today_ else start_of_local_day(effective_on)
    if changed_at < project.stage_entered_at:
        changed_at = project.stage_entered_at
    previous_entered_at = project.stage_entered_at
    days = days_in_stage(previous_entered_at, changed_at)
    for name, value in supplied.items():
        setattr(project, name, value)
    project.stage = target.value
    project.stage_entered_at = changed_at
    project.updated_at = now
    if target == Stage.SIGNED:
        project.signed_on = effective_on
    if target == Stage.DROPPED:
        project.dropped_from_stage = current.value
        project.drop_reason = body.reason
    change = StageChange(
        id=new_id(), project_id=project.id, zone_id=project.zone_id, from_stage=current.value, to_stage=target.value,
        changed_at=changed_at, previous_entered_at=previous_entered_at, days_in_previous_stage=days,
        reason=body.reason, actor=caller.subject, recorded_at=now,
    )
    session.add(project)
    session.add(change)
    await session.flush()
    await record_audit(
        session, caller, f"project.transition.{target.value}", entity_type="project", entity_id=project.id,
        zone_id=project.zone_id,
        before={"stage": current.value, **{k: before[k] for k in supplied}},
        after={"stage": target.value, "effective_on": effective_on, "reason": body.reason, **supplied},
    )
    key = {"subject": project.id, "zone_id": project.zone_id, "key": project.id}
    await record_event(
        session, ev.PROJECT_STAGE_CHANGED,
        {
            "project_id": project.id, "zone_id": project.zone_id, "name": project.name,
            "from_stage": current.value, "to_stage": target.value, "changed_at": changed_at,
            "effective_on": effective_on, "previous_stage_entered_at": previous_entered_at,
            "days_in_previous_stage": days, "reason": body.reason,
        },
        **key,
    )
    if supplied:
        await record_event(
            session, ev.PROJECT_UPDATED,
            {**_snapshot(project), "changed_fields": sorted(supplied), "updated_at": now},
            **key,
        )
    if target == Stage.SIGNED:
        await record_event(
            session, ev.PROJECT_SIGNED,
            {
                "project_id": project.id, "zone_id": project.zone_id, "name": project.name,
                "investor": project.investor, "uscc": project.uscc,
                "agreed_investment_wan": wan(project.agreed_investment_wan),
                "funding_source": project.funding_source, "signed_on": effective_on,
                "chain_code": project.chain_code, "chain_role": project.chain_role, "key_project": project.key_project,
            },
            **key,
        )
    if target == Stage.DROPPED:
        await record_event(
            session, ev.PROJECT_DROPPED,
            {
                "project_id": project.id, "zone_id": project.zone_id, "name": project.name,
                "from_stage": current.value, "reason": body.reason, "dropped_on": effective_on,
                "agreed_investment_wan": wan(project.agreed_investment_wan), "chain_code": project.chain_code,
                "key_project": project.key_project,
            },
            **key,
        )
    return TransitionOut(project=await present(session, project), transition=_change_out(change))


# --- admission check -------------------------------------------------------------------------------


def _check_out(row: AdmissionCheck) -> AdmissionCheckOut:
    return AdmissionCheckOut(
        id=row.id,
        project_id=row.project_id,
        zone_id=row.zone_id,
        sector_code=row.sector_code,
        catalog_entry_id=row.catalog_entry_id,
        passed=row.passed,
        criteria=[CriterionOut.model_validate(c) for c in row.criteria],
        checked_at=row.checked_at,
        checked_by=row.checked_by,
    )


async def check_admission(session: AsyncSession, caller: Principal, project_id: str) -> AdmissionCheckOut:
    """Evaluate the project against its sector's entry in its zone's catalog; store and publish."""
    project = await load_project(session, caller, project_id)
    _closed(project)
    if not project.sector_code:
        raise Conflict(
            "项目未填写细分行业，无法进行准入评估", "The project has no sector_code to check against the catalog",
            errors=[FieldError("sector_code", "请先填写项目的细分行业", "set the project's sector_code first", code="missing")],
        )
    entry = (
        await session.execute(
            select(CatalogEntry).where(
                col(CatalogEntry.zone_id) == project.zone_id, col(CatalogEntry.sector_code) == project.sector_code
            )
        )
    ).scalar_one_or_none()
    result = evaluate_admission(
        thresholds_of(entry) if entry else None,
        AdmissionFacts(
            agreed_investment_wan=project.agreed_investment_wan,
            land_area_mu=project.land_area_mu,
            expected_annual_output_wan=project.expected_annual_output_wan,
            expected_annual_tax_wan=project.expected_annual_tax_wan,
            expected_annual_energy_tce=project.expected_annual_energy_tce,
        ),
        sector_code=project.sector_code,
    )
    now = utcnow()
    criteria = [
        {
            "criterion": c.criterion, "label": c.label, "unit": c.unit, "comparison": c.comparison,
            "required": wan(c.required), "actual": wan(c.actual), "passed": c.passed, "reason": c.reason,
        }
        for c in result.criteria
    ]
    row = AdmissionCheck(
        id=new_id(), project_id=project.id, zone_id=project.zone_id, catalog_entry_id=entry.id if entry else None,
        sector_code=project.sector_code, passed=result.passed, criteria=criteria, checked_at=now,
        checked_by=caller.subject,
    )
    project.admission_passed, project.admission_checked_at = result.passed, now
    session.add(row)
    session.add(project)
    await session.flush()
    await record_audit(
        session, caller, "project.admission_check", entity_type="project", entity_id=project.id,
        zone_id=project.zone_id, after={"check_id": row.id, "passed": result.passed, "criteria": criteria},
    )
    await record_event(
        session, ev.PROJECT_ADMISSION_CHECKED,
        {
            "check_id": row.id, "project_id": project.id, "zone_id": project.zone_id, "uscc": project.uscc,
            "sector_code": project.sector_code, "catalog_entry_id": row.catalog_entry_id, "passed": result.passed,
            "criteria": criteria, "checked_at": now,
        },
        subject=project.id, zone_id=project.zone_id, key=project.id,
    )
    return _check_out(row)


async def list_admission_checks(session: AsyncSession, caller: Principal, project_id: str) -> list[AdmissionCheckOut]:
    project = await load_project(session, caller, project_id)
    rows = (
        await session.execute(
            select(AdmissionCheck).where(col(AdmissionCheck.project_id) == project.id).order_by(col(AdmissionCheck.checked_at).desc())
        )
    ).scalars()
    return [_check_out(r) for r in rows]


# --- funds in place --------------------------------------------------------------------------------


def _funds_out(row: FundsRecord) -> FundsOut:
    return FundsOut(
        id=row.id, project_id=row.project_id, zone_id=row.zone_id, period=row.period,
        amount_wan=float(row.amount_wan), source=row.source,  # type: ignore[arg-type]
        source_label=FUNDING_SOURCE_LABELS[row.source], note=row.note, recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
    )


async def record_funds(session: AsyncSession, caller: Principal, project_id: str, body: FundsIn) -> FundsOut:
    project = await load_project(session, caller, project_id)
    if period_is_future(body.period, today()):
        raise Unprocessable(
            "统计期不能晚于本月", "The period cannot be after the current month",
            errors=[FieldError("period", "统计期不能晚于本月", "cannot be after the current month", code="future_period")],
        )
    stage = Stage(project.stage)
    if not funds_accepted_in(stage):
        raise Conflict(
            f"项目处于「{STAGE_LABELS[stage]}」阶段，签约后（且未终止）方可录入到位资金",
            f"Funds are recorded for signed projects that are not dropped; this one is {stage.value}",
            errors=[FieldError("stage", "项目尚未签约或已终止", "not signed yet, or dropped", code="stage")],
            current_stage=stage.value,
        )
    now = utcnow()
    row = FundsRecord(
        id=new_id(), project_id=project.id, zone_id=project.zone_id, period=body.period, amount_wan=body.amount_wan,
        source=body.source.value, note=body.note, recorded_at=now, recorded_by=caller.subject,
    )
    session.add(row)
    await session.flush()
    out = _funds_out(row)
    await record_audit(
        session, caller, "funds.record", entity_type="funds_record", entity_id=row.id, zone_id=project.zone_id,
        after=out.model_dump(mode="json"),
    )
    await record_event(
        session, ev.FUNDS_RECORDED,
        {
            "record_id": row.id, "project_id": project.id, "zone_id": project.zone_id, "period": row.period,
            "amount_wan": float(row.amount_wan), "source": row.source, "uscc": project.uscc, "recorded_at": now,
        },
        subject=project.id, zone_id=project.zone_id, key=project.id,
    )
    return out


async def list_funds(session: AsyncSession, caller: Principal, project_id: str) -> FundsListOut:
    project = await load_project(session, caller, project_id)
    rows = list(
        (
            await session.execute(
                select(FundsRecord).where(col(FundsRecord.project_id) == project.id).order_by(col(FundsRecord.period), col(FundsRecord.recorded_at))
            )
        ).scalars()
    )
    by_source: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        by_source[r.source] += r.amount_wan
    total = sum(by_source.values(), Decimal("0"))
    return FundsListOut(
        items=[_funds_out(r) for r in rows],
        total_wan=float(total),
        by_source={k: float(v) for k, v in sorted(by_source.items())},
    )
