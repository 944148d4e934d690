"""HTTP routes of the investment service: parse, authorise, call the use case, return.

Paths are the service's own (the gateway serves them under ``/api/investment``). Creating POSTs
accept ``Idempotency-Key``; lists are paginated (``page``, ``size``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator, StringConstraints

from chassis.auth import ZoneIds
from chassis.errors import FieldError, Unprocessable
from chassis.idempotency import Idempotency
from chassis.pagination import Page, Pagination
from chassis.service import Ctx, Session
from chassis.validators import USCC
from services.investment import chains, issues, pipeline, projects
from services.investment.access import InvestmentStaff, Staff, StaffOrEnterprise
from services.investment.domain import ChainRole, IssueAction, IssueStatus, Stage
from services.investment.schemas import (
    AdmissionCheckOut,
    CatalogEntryIn,
    CatalogEntryOut,
    CatalogEntryPatch,
    ChainIn,
    ChainOut,
    DepartmentCode,
    FundsIn,
    FundsListOut,
    FundsOut,
    IssueAcknowledgeIn,
    IssueEscalateIn,
    IssueIn,
    IssueOut,
    IssueResolveIn,
    NodeIn,
    NodeOut,
    NodeStatusIn,
    PipelineSummaryByZoneOut,
    PipelineSummaryOut,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    TargetIn,
    TargetOut,
    TransitionIn,
    TransitionOut,
)

TAG_CHAINS = "产业链 chains"
TAG_TARGETS = "目标企业名录 targets"
TAG_CATALOG = "项目准入目录 catalog"
TAG_PROJECTS = "招商项目 projects"
TAG_FUNDS = "实际到位资金 funds"
TAG_ISSUES = "项目调度 issues"
TAG_PIPELINE = "项目储备与转化 pipeline"


def _blank_is_none(value: Any) -> Any:
    """``?uscc=&zone_id=`` (an empty filter, as aggregators send) means no filter."""
    return None if value == "" else value


Blank = BeforeValidator(_blank_is_none)


# Length limits belong to the string inside the optional type: a blank filter becomes None first.
Text36 = Annotated[str, StringConstraints(max_length=36)]
Text64 = Annotated[str, StringConstraints(max_length=64)]
Text100 = Annotated[str, StringConstraints(max_length=100)]


ZoneQuery = Annotated[Text64 | None, Blank, Query(description="功能区 ID（功能区工作人员只能是本区；市级人员可不填）")]
CodeQuery = Annotated[Text64 | None, Blank, Query()]



async def refuse_nul_characters(request: Request) -> None:
    """PostgreSQL cannot store or compare text with NUL characters: refuse them as bad input."""
    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        if "\x00" in str(value):
            raise Unprocessable(
                "参数不能包含空字符", f"{name} must not contain NUL characters",
                errors=[FieldError(name, "不能包含空字符（\\u0000）", "must not contain NUL characters", code="nul_character")],
            )


router = APIRouter(dependencies=[Depends(refuse_nul_characters)])


# --- chains ---------------------------------------------------------------------------------------


@router.get("/chains", tags=[TAG_CHAINS], summary="产业链全景（环节及各功能区情况）", response_model=list[ChainOut])
async def list_chains(session: Session, caller: Staff, zone_id: ZoneQuery = None) -> list[ChainOut]:
    return await chains.list_chains(session, caller, zone_id)


@router.post(
    "/chains", tags=[TAG_CHAINS], summary="新增产业链（市级招商人员或管理员）", status_code=201, response_model=ChainOut
)
async def create_chain(body: ChainIn, session: Session, caller: InvestmentStaff, idem: Idempotency) -> JSONResponse:
    return await idem.run(session, lambda: chains.create_chain(session, caller, body), status_code=201)


@router.get("/chains/{chain_id}", tags=[TAG_CHAINS], summary="查看产业链", response_model=ChainOut)
async def get_chain(chain_id: str, session: Session, caller: Staff, zone_id: ZoneQuery = None) -> ChainOut:
    return await chains.get_chain(session, caller, chain_id, zone_id)


@router.post(
    "/chains/{chain_id}/nodes", tags=[TAG_CHAINS], summary="新增产业链环节（市级招商人员或管理员）", status_code=201,
    response_model=NodeOut,
)
async def add_node(
    chain_id: str, body: NodeIn, session: Session, caller: InvestmentStaff, idem: Idempotency
) -> JSONResponse:
    return await idem.run(session, lambda: chains.add_node(session, caller, chain_id, body), status_code=201)


@router.put(
    "/chains/{chain_id}/nodes/{node_id}/status", tags=[TAG_CHAINS], summary="标注本功能区在环节上的情况（已有/薄弱/缺失）",
    response_model=NodeOut,
)
async def set_node_status(
    chain_id: str, node_id: str, body: NodeStatusIn, session: Session, caller: InvestmentStaff
) -> NodeOut:
    return await chains.set_node_status(session, caller, chain_id, node_id, body)


# --- targets --------------------------------------------------------------------------------------


@router.get("/targets", tags=[TAG_TARGETS], summary="重点企业和配套企业名录", response_model=Page[TargetOut])
async def list_targets(
    session: Session,
    caller: Staff,
    page: Pagination,
    zone_id: ZoneQuery = None,
    chain_code: CodeQuery = None,
    node_id: Annotated[Text36 | None, Blank, Query()] = None,
    kind: Annotated[Literal["key", "supporting"] | None, Blank, Query()] = None,
) -> Page[TargetOut]:
    return await chains.list_targets(
        session, caller, page, zone_id=zone_id, chain_code=chain_code, node_id=node_id, kind=kind
    )


@router.post("/targets", tags=[TAG_TARGETS], summary="新增目标企业", status_code=201, response_model=TargetOut)
async def create_target(body: TargetIn, session: Session, caller: InvestmentStaff, idem: Idempotency) -> JSONResponse:
    return await idem.run(session, lambda: chains.create_target(session, caller, body), status_code=201)


# --- catalog --------------------------------------------------------------------------------------


@router.get("/catalog", tags=[TAG_CATALOG], summary="项目准入目录", response_model=Page[CatalogEntryOut])
async def list_catalog(
    session: Session,
    caller: Staff,
    page: Pagination,
    zone_id: ZoneQuery = None,
    chain_code: CodeQuery = None,
    sector_code: CodeQuery = None,
) -> Page[CatalogEntryOut]:
    return await chains.list_catalog(
        session, caller, page, zone_id=zone_id, chain_code=chain_code, sector_code=sector_code
    )


@router.post(
    "/catalog", tags=[TAG_CATALOG], summary="新增准入目录行业及门槛", status_code=201, response_model=CatalogEntryOut
)
async def create_catalog_entry(
    body: CatalogEntryIn, session: Session, caller: InvestmentStaff, idem: Idempotency
) -> JSONResponse:
    return await idem.run(session, lambda: chains.create_catalog_entry(session, caller, body), status_code=201)


@router.get("/catalog/{entry_id}", tags=[TAG_CATALOG], summary="查看准入目录条目", response_model=CatalogEntryOut)
async def get_catalog_entry(entry_id: str, session: Session, caller: Staff) -> CatalogEntryOut:
    return await chains.get_catalog_entry(session, caller, entry_id)


@router.patch("/catalog/{entry_id}", tags=[TAG_CATALOG], summary="修改准入门槛", response_model=CatalogEntryOut)
async def update_catalog_entry(
    entry_id: str, body: CatalogEntryPatch, session: Session, caller: InvestmentStaff
) -> CatalogEntryOut:
    return await chains.update_catalog_entry(session, caller, entry_id, body)


# --- projects -------------------------------------------------------------------------------------


@router.post("/projects", tags=[TAG_PROJECTS], summary="录入招商项目（线索）", status_code=201, response_model=ProjectOut)
async def create_project(body: ProjectIn, session: Session, caller: InvestmentStaff, idem: Idempotency) -> JSONResponse:
    return await idem.run(session, lambda: projects.create_project(session, caller, body), status_code=201)


@router.get("/projects", tags=[TAG_PROJECTS], summary="招商项目列表（企业只看到本企业的项目）", response_model=Page[ProjectOut])
async def list_projects(
    session: Session,
    caller: StaffOrEnterprise,
    page: Pagination,
    zone_id: ZoneQuery = None,
    stage: Annotated[Stage | None, Blank, Query()] = None,
    chain_code: CodeQuery = None,
    chain_role: Annotated[ChainRole | None, Blank, Query()] = None,
    key_project: Annotated[bool | None, Blank, Query()] = None,
    leader: Annotated[Text100 | None, Blank, Query(description="联系领导")] = None,
    uscc: Annotated[USCC | None, Blank, Query(description="项目企业统一社会信用代码")] = None,
    date_from: Annotated[date | None, Blank, Query(description="起始日期（含）")] = None,
    date_to: Annotated[date | None, Blank, Query(description="截止日期（含）")] = None,
    date_field: Annotated[
        Literal["created", "signed", "stage_entered"],
        Query(description="日期范围作用于：created 录入日期 / signed 签约日期 / stage_entered 进入当前阶段日期"),
    ] = "created",
    q: Annotated[Text100 | None, Blank, Query(description="按项目名称或投资方模糊查询")] = None,
) -> Page[ProjectOut]:
    return await projects.list_projects(
        session, caller, page, zone_id=zone_id, stage=stage, chain_code=chain_code, chain_role=chain_role,
        key_project=key_project, leader=leader, uscc=uscc, date_from=date_from, date_to=date_to,
        date_field=date_field, q=q,
    )


@router.get("/projects/{project_id}", tags=[TAG_PROJECTS], summary="查看招商项目", response_model=ProjectOut)
async def get_project(project_id: str, session: Session, caller: StaffOrEnterprise) -> ProjectOut:
    return await projects.get_project(session, caller, project_id)


@router.patch("/projects/{project_id}", tags=[TAG_PROJECTS], summary="修改招商项目", response_model=ProjectOut)
async def update_project(project_id: str, body: ProjectPatch, session: Session, caller: InvestmentStaff) -> ProjectOut:
    return await projects.update_project(session, caller, project_id, body)


@router.post(
    "/projects/{project_id}/transitions", tags=[TAG_PROJECTS], summary="推进项目阶段或终止项目",
    response_model=TransitionOut,
)
async def transition(
    project_id: str, body: TransitionIn, session: Session, caller: InvestmentStaff, idem: Idempotency
) -> JSONResponse:
    return await idem.run(session, lambda: projects.transition(session, caller, project_id, body), status_code=200)


@router.post(
    "/projects/{project_id}/admission-check", tags=[TAG_PROJECTS], summary="项目准入评估", status_code=201,
    response_model=AdmissionCheckOut,
)
async def check_admission(project_id: str, session: Session, caller: InvestmentStaff, idem: Idempotency) -> JSONResponse:
    return await idem.run(session, lambda: projects.check_admission(session, caller, project_id), status_code=201)


@router.get(
    "/projects/{project_id}/admission-checks", tags=[TAG_PROJECTS], summary="项目准入评估记录",
    response_model=list[AdmissionCheckOut],
)
async def list_admission_checks(project_id: str, session: Session, caller: StaffOrEnterprise) -> list[AdmissionCheckOut]:
    return await projects.list_admission_checks(session, caller, project_id)


@router.post(
    "/projects/{project_id}/funds", tags=[TAG_FUNDS], summary="录入实际到位资金", status_code=201, response_model=FundsOut
)
async def record_funds(
    project_id: str, body: FundsIn, session: Session, caller: InvestmentStaff, idem: Idempotency
) -> JSONResponse:
    return await idem.run(session, lambda: projects.record_funds(session, caller, project_id, body), status_code=201)


@router.get("/projects/{project_id}/funds", tags=[TAG_FUNDS], summary="项目到位资金", response_model=FundsListOut)
async def list_funds(project_id: str, session: Session, caller: StaffOrEnterprise) -> FundsListOut:
    return await projects.list_funds(session, caller, project_id)


# --- coordination issues --------------------------------------------------------------------------


@router.post(
    "/projects/{project_id}/issues", tags=[TAG_ISSUES], summary="提出项目调度事项（吹哨）", status_code=201,
    response_model=IssueOut,
)
async def raise_issue(
    project_id: str, body: IssueIn, session: Session, caller: InvestmentStaff, idem: Idempotency
) -> JSONResponse:
    return await idem.run(session, lambda: issues.raise_issue(session, caller, project_id, body), status_code=201)


@router.get("/issues", tags=[TAG_ISSUES], summary="调度事项列表（overdue=true 为超期事项）", response_model=Page[IssueOut])
async def list_issues(
    session: Session,
    caller: Staff,
    page: Pagination,
    zone_id: ZoneQuery = None,
    status: Annotated[IssueStatus | None, Blank, Query()] = None,
    overdue: Annotated[bool | None, Blank, Query()] = None,
    project_id: Annotated[Text36 | None, Blank, Query()] = None,
    department: Annotated[Text100 | None, Blank, Query(description="责任部门名称")] = None,
    department_code: Annotated[
        DepartmentCode | None, Blank, Query(description="责任部门代码：部门工作人员以本部门代码查看交给本部门的事项")
    ] = None,
) -> Page[IssueOut]:
    return await issues.list_issues(
        session, caller, page, zone_id=zone_id, status=status, overdue=overdue, project_id=project_id,
        department=department, department_code=department_code,
    )


@router.get("/issues/{issue_id}", tags=[TAG_ISSUES], summary="查看调度事项", response_model=IssueOut)
async def get_issue(issue_id: str, session: Session, caller: Staff) -> IssueOut:
    return await issues.get_issue(session, caller, issue_id)


def _max_level(ctx: Any) -> int:
    return int(getattr(ctx.settings, "issue_max_escalation_level", 3))


@router.post("/issues/{issue_id}/acknowledge", tags=[TAG_ISSUES], summary="部门报到（确认受理）", response_model=IssueOut)
async def acknowledge_issue(
    issue_id: str,
    session: Session,
    caller: Staff,
    ctx: Ctx,
    body: Annotated[IssueAcknowledgeIn | None, Body()] = None,
) -> IssueOut:
    return await issues.act_on_issue(
        session, caller, issue_id, IssueAction.ACKNOWLEDGE, body or IssueAcknowledgeIn(), max_escalation_level=_max_level(ctx)
    )


@router.post("/issues/{issue_id}/resolve", tags=[TAG_ISSUES], summary="解决调度事项", response_model=IssueOut)
async def resolve_issue(issue_id: str, body: IssueResolveIn, session: Session, caller: Staff, ctx: Ctx) -> IssueOut:
    return await issues.act_on_issue(
        session, caller, issue_id, IssueAction.RESOLVE, body, max_escalation_level=_max_level(ctx)
    )


@router.post("/issues/{issue_id}/escalate", tags=[TAG_ISSUES], summary="升级调度事项", response_model=IssueOut)
async def escalate_issue(issue_id: str, body: IssueEscalateIn, session: Session, caller: Staff, ctx: Ctx) -> IssueOut:
    return await issues.act_on_issue(
        session, caller, issue_id, IssueAction.ESCALATE, body, max_escalation_level=_max_level(ctx)
    )


# --- pipeline -------------------------------------------------------------------------------------


# Declared before /pipeline/summary so that nothing under /pipeline can ever shadow it.
@router.get(
    "/pipeline/summary/zones", tags=[TAG_PIPELINE], summary="多个功能区的项目储备与转化汇总（市级工作台一次取全）",
    response_model=PipelineSummaryByZoneOut,
)
async def pipeline_summary_by_zone(session: Session, caller: Staff, zone_id: ZoneIds) -> PipelineSummaryByZoneOut:
    return await pipeline.pipeline_summary_by_zone(session, caller, zone_id)


@router.get(
    "/pipeline/summary", tags=[TAG_PIPELINE], summary="项目储备与转化汇总（各阶段数量、协议投资额、转化率、停留天数）",
    response_model=PipelineSummaryOut,
)
async def pipeline_summary(
    session: Session,
    caller: Staff,
    zone_id: ZoneQuery = None,
    chain_code: CodeQuery = None,
    chain_role: Annotated[ChainRole | None, Blank, Query()] = None,
    key_project: Annotated[bool | None, Blank, Query()] = None,
) -> PipelineSummaryOut:
    return await pipeline.pipeline_summary(
        session, caller, zone_id=zone_id, chain_code=chain_code, chain_role=chain_role, key_project=key_project
    )
