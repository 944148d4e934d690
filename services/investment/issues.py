"""Use cases for coordination issues (调度, "开发区吹哨、部门报到", seed 003): investment staff raise a
blocker on a project to a department with a due date; the department reports (acknowledges) and
resolves it, or it is escalated. Leaders list what is overdue.

Who may act: investment staff raise; investment staff or staff of the responsible department
acknowledge ("报到") and resolve; those and leaders escalate. The department is recognised by its
code, ``department_code`` — the HR service's department code, which its staff's tokens carry as the
``dept`` claim — and only in the issue's own zone (every zone has its own ``planning``). The
``department`` text is the name shown (芯谷规划建设局); it never grants anything. An issue raised
without a code is acted on by investment staff (and escalated by leaders) only.

Every staff member of the zone reads the zone's issues; ``department_code`` filters the listing, so
a department lists what is addressed to it with its own code.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from chassis.audit import record_audit
from chassis.auth import Principal, ensure_zone, scoped_zone
from chassis.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from chassis.outbox import record_event
from chassis.pagination import Page, PageParams
from services.investment import events as ev
from services.investment.access import ROLE_INVESTMENT, ROLE_LEADER, today
from services.investment.chains import new_id
from services.investment.domain import (
    ISSUE_STATUS_LABELS,
    IllegalIssueAction,
    IssueAction,
    IssueStatus,
    Stage,
    allowed_issue_actions,
    days_overdue,
    is_overdue,
    issue_after,
)
from services.investment.models import CoordinationIssue, Project, utcnow
from services.investment.projects import load_project
from services.investment.schemas import IssueAcknowledgeIn, IssueEscalateIn, IssueIn, IssueOut, IssueResolveIn

ACTION_LABELS = {IssueAction.ACKNOWLEDGE: "报到", IssueAction.RESOLVE: "解决", IssueAction.ESCALATE: "升级"}


def issue_out(row: CoordinationIssue, project_name: str, on: date) -> IssueOut:
    status = IssueStatus(row.status)
    return IssueOut(
        id=row.id,
        project_id=row.project_id,
        project_name=project_name,
        zone_id=row.zone_id,
        title=row.title,
        description=row.description,
        department=row.department,
        department_code=row.department_code,
        due_date=row.due_date,
        status=status,
        status_label=ISSUE_STATUS_LABELS[status],
        overdue=is_overdue(status, row.due_date, on),
        days_overdue=days_overdue(status, row.due_date, on),
        escalation_level=row.escalation_level,
        escalated_to=row.escalated_to,
        escalation_reason=row.escalation_reason,
        resolution=row.resolution,
        allowed_actions=allowed_issue_actions(status),
        raised_by=row.raised_by,
        raised_at=row.raised_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        escalated_at=row.escalated_at,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
    )


def _due_not_past(due: date, field: str = "due_date") -> None:
    if due < today():
        raise Unprocessable(
            "办结期限不能早于今天", "The due date cannot be in the past",
            errors=[FieldError(field, "不能早于今天", "cannot be in the past", code="past_date")],
        )


async def raise_issue(session: AsyncSession, caller: Principal, project_id: str, body: IssueIn) -> IssueOut:
    project = await load_project(session, caller, project_id)
    if project.stage == Stage.DROPPED.value:
        raise Conflict(
            "项目已终止，不能再提出调度事项", "The project was dropped", current_stage=project.stage,
        )
    _due_not_past(body.due_date)
    now = utcnow()
    row = CoordinationIssue(
        id=new_id(), project_id=project.id, zone_id=project.zone_id, title=body.title, description=body.description,
        department=body.department, department_code=body.department_code, due_date=body.due_date,
        status=IssueStatus.OPEN.value, raised_by=caller.subject,
        raised_at=now, updated_at=now,
    )
    session.add(row)
    await session.flush()
    out = issue_out(row, project.name, today())
    await record_audit(
        session, caller, "issue.raise", entity_type="coordination_issue", entity_id=row.id, zone_id=row.zone_id,
        after=out.model_dump(mode="json"),
    )
    await record_event(
        session, ev.ISSUE_RAISED,
        {
            "issue_id": row.id, "project_id": project.id, "zone_id": row.zone_id, "title": row.title,
            "department": row.department, "department_code": row.department_code, "due_date": row.due_date,
            "raised_by": caller.subject, "raised_at": now,
        },
        subject=row.id, zone_id=row.zone_id, key=project.id,
    )
    return out


async def _load(session: AsyncSession, caller: Principal, issue_id: str) -> tuple[CoordinationIssue, Project]:
    row = await session.get(CoordinationIssue, issue_id)
    if row is None:
        raise NotFound("调度事项不存在", "Issue not found")
    ensure_zone(caller, row.zone_id)
    project = await session.get(Project, row.project_id)
    assert project is not None
    return row, project


def is_responsible_department(caller: Principal, row: CoordinationIssue) -> bool:
    """The caller works in the department the issue is addressed to: same zone, ``dept`` claim equal to
    the issue's department code. Department codes repeat across zones, so the zone must match too."""
    return (
        row.department_code is not None
        and caller.zone_id == row.zone_id
        and caller.department == row.department_code
    )


def _may_act(caller: Principal, row: CoordinationIssue, action: IssueAction) -> None:
    allowed = caller.has_any_role(ROLE_INVESTMENT) or is_responsible_department(caller, row)
    if action == IssueAction.ESCALATE:
        allowed = allowed or caller.has_any_role(ROLE_LEADER)
    if allowed:
        return
    label = ACTION_LABELS[action]
    who_zh = "招商人员或领导" if action == IssueAction.ESCALATE else "招商人员"
    who_en = "investment staff or leaders" if action == IssueAction.ESCALATE else "investment staff"
    if row.department_code is None:
        raise Forbidden(
            f"此事项未指定责任部门代码，只有{who_zh}可{label}",
            f"The issue names no department code: only {who_en} may {action.value} it",
        )
    yours_zh = f"（您的部门代码为 {caller.department}）" if caller.department else "（您的账户未归属部门）"
    yours_en = f" (yours is {caller.department!r})" if caller.department else " (your account has no department)"
    raise Forbidden(
        f"只有{who_zh}或责任部门「{row.department}」（部门代码 {row.department_code}）的工作人员可{label}此事项{yours_zh}",
        f"Only {who_en} or staff of the responsible department {row.department_code!r} may {action.value} "
        f"this issue{yours_en}",
        department_code=row.department_code,
    )


def _illegal(exc: IllegalIssueAction) -> Conflict:
    if exc.reason == "max_level":
        return Conflict(
            "已升级至最高层级，不能再升级", "The issue is already at the highest escalation level",
            current_status=exc.status.value, allowed_actions=[a.value for a in exc.allowed],
        )
    allowed = "、".join(ACTION_LABELS[a] for a in exc.allowed) or "无（已解决）"
    return Conflict(
        f"事项当前为「{ISSUE_STATUS_LABELS[exc.status]}」，不能{ACTION_LABELS[exc.action]}；可执行：{allowed}",
        f"The issue is {exc.status.value}; it cannot be {exc.action.value}d. "
        f"Allowed: {', '.join(a.value for a in exc.allowed) or 'none'}",
        current_status=exc.status.value,
        allowed_actions=[a.value for a in exc.allowed],
    )


async def act_on_issue(
    session: AsyncSession,
    caller: Principal,
    issue_id: str,
    action: IssueAction,
    body: IssueAcknowledgeIn | IssueResolveIn | IssueEscalateIn,
    *,
    max_escalation_level: int,
) -> IssueOut:
    row, project = await _load(session, caller, issue_id)
    _may_act(caller, row, action)
    status = IssueStatus(row.status)
    try:
        new_status = issue_after(status, action, escalation_level=row.escalation_level, max_level=max_escalation_level)
    except IllegalIssueAction as exc:
        raise _illegal(exc) from exc
    today_ = today()
    before = issue_out(row, project.name, today_).model_dump(mode="json")
    now = utcnow()
    was_overdue = is_overdue(status, row.due_date, today_)
    if isinstance(body, IssueEscalateIn) and body.due_date is not None:
        _due_not_past(body.due_date)
    row.status = new_status.value
    row.updated_at = now
    if action == IssueAction.ACKNOWLEDGE:
        row.acknowledged_by, row.acknowledged_at = caller.subject, now
    elif action == IssueAction.RESOLVE:
        assert isinstance(body, IssueResolveIn)
        row.resolved_by, row.resolved_at, row.resolution = caller.subject, now, body.resolution
    else:
        assert isinstance(body, IssueEscalateIn)
        row.escalation_level += 1
        row.escalated_to, row.escalation_reason, row.escalated_at = body.escalated_to, body.reason, now
        if body.due_date is not None:
            row.due_date = body.due_date
    session.add(row)
    await session.flush()
    out = issue_out(row, project.name, today_)
    audit_after: dict[str, Any] = out.model_dump(mode="json")
    if isinstance(body, IssueAcknowledgeIn) and body.note:
        audit_after["note"] = body.note
    await record_audit(
        session, caller, f"issue.{action.value}", entity_type="coordination_issue", entity_id=row.id,
        zone_id=row.zone_id, before=before, after=audit_after,
    )
    key = {"subject": row.id, "zone_id": row.zone_id, "key": row.project_id}
    if action == IssueAction.RESOLVE:
        await record_event(
            session, ev.ISSUE_RESOLVED,
            {
                "issue_id": row.id, "project_id": row.project_id, "zone_id": row.zone_id,
                "department": row.department, "department_code": row.department_code,
                "resolution": row.resolution, "due_date": row.due_date,
                "resolved_at": now, "on_time": not was_overdue,
            },
            **key,
        )
    elif action == IssueAction.ESCALATE:
        await record_event(
            session, ev.ISSUE_ESCALATED,
            {
                "issue_id": row.id, "project_id": row.project_id, "zone_id": row.zone_id,
                "department": row.department, "department_code": row.department_code,
                "escalated_to": row.escalated_to, "reason": row.escalation_reason,
                "escalation_level": row.escalation_level, "due_date": row.due_date, "overdue": was_overdue,
                "escalated_at": now,
            },
            **key,
        )
    return out


async def get_issue(session: AsyncSession, caller: Principal, issue_id: str) -> IssueOut:
    row, project = await _load(session, caller, issue_id)
    return issue_out(row, project.name, today())


async def list_issues(
    session: AsyncSession,
    caller: Principal,
    page: PageParams,
    *,
    zone_id: str | None,
    status: IssueStatus | None,
    overdue: bool | None,
    project_id: str | None,
    department: str | None,
    department_code: str | None,
) -> Page[IssueOut]:
    zone = scoped_zone(caller, zone_id)
    today_ = today()
    query: Select[Any] = select(CoordinationIssue, col(Project.name)).join(
        Project, col(Project.id) == col(CoordinationIssue.project_id)
    )
    if zone is not None:
        query = query.where(col(CoordinationIssue.zone_id) == zone)
    if status is not None:
        query = query.where(col(CoordinationIssue.status) == status.value)
    late = and_(col(CoordinationIssue.status) != IssueStatus.RESOLVED.value, col(CoordinationIssue.due_date) < today_)
    if overdue is True:
        query = query.where(late)
    elif overdue is False:
        query = query.where(or_(col(CoordinationIssue.status) == IssueStatus.RESOLVED.value, col(CoordinationIssue.due_date) >= today_))
    if project_id:
        query = query.where(col(CoordinationIssue.project_id) == project_id)
    if department:
        query = query.where(col(CoordinationIssue.department) == department)
    if department_code:
        query = query.where(col(CoordinationIssue.department_code) == department_code)
    query = query.order_by(col(CoordinationIssue.due_date), col(CoordinationIssue.raised_at))
    ids = query.with_only_columns(col(CoordinationIssue.id)).order_by(None).subquery()
    total = int((await session.execute(select(func.count()).select_from(ids))).scalar_one())
    rows = (await session.execute(query.offset(page.offset).limit(page.size))).all()
    return Page[IssueOut](
        items=[issue_out(r, name, today_) for r, name in rows], total=total, page=page.page, size=page.size
    )

