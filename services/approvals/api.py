"""The HTTP surface of the approval service: thin routes that parse, call a use case, and answer.

Paths are the service's own (the gateway serves them under ``/api/approvals``). Every creating POST honours
``Idempotency-Key``; lists are paginated; errors are problem details.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import FileResponse
from starlette.convertors import Convertor, register_url_convertor

from chassis.auth import Caller, Principal, ZoneIds, require
from chassis.clock import clock_of, local_date
from chassis.errors import BadRequest, FieldError, Unprocessable
from chassis.idempotency import HEADER as IDEMPOTENCY_HEADER
from chassis.idempotency import MAX_KEY_LENGTH, Idempotency, IdempotencyGuard
from chassis.pagination import Page, Pagination
from chassis.service import Ctx, ServiceContext, Session
from services.approvals import applications as uc
from services.approvals import catalog, queries
from services.approvals.deadlines import AlertLevel
from services.approvals.domain import ITEM_CODE_PATTERN, Status
from services.approvals.schemas import (
    MATERIAL_CODE,
    ZONE_ID,
    ActionNote,
    ApplicationCreate,
    ApplicationOut,
    ApplicationSummaryOut,
    AssignIn,
    CalendarDayChange,
    CalendarDayIn,
    CalendarYearOut,
    CompleteIn,
    CorrectionRequest,
    DelegationCreate,
    DelegationEnd,
    DelegationOut,
    DocumentOut,
    EligibilityOut,
    EvaluateIn,
    FollowUpClose,
    FollowUpOut,
    ItemCreate,
    ItemDetail,
    ItemOut,
    ItemUpdate,
    ReasonIn,
    ResubmitIn,
    SummaryByZoneOut,
    SummaryOut,
    VerifyIn,
)
from services.approvals.settings import ApprovalsSettings

TAG_CATALOG = "事项清单 catalog"
TAG_DELEGATIONS = "赋权清单 delegations"
TAG_CALENDAR = "工作日历 calendar"
TAG_APPLICATIONS = "办件 applications"
TAG_FOLLOW_UPS = "好差评回访 follow-ups"
TAG_SUMMARY = "统计汇总 summary"

router = APIRouter()

#: Staff, administrators and enterprises (object-level rules apply inside).
Member = Annotated[Principal, Depends(require(kinds=("staff", "admin", "enterprise")))]
#: Staff and administrators only.
Staff = Annotated[Principal, Depends(require())]
ApplicationId = Annotated[str, Path(min_length=1, max_length=36, description="办件编号")]


def env_of(ctx: ServiceContext) -> uc.Env:
    settings = ctx.settings
    assert isinstance(settings, ApprovalsSettings)
    return uc.Env(now=clock_of(ctx.extras).now(), settings=settings)


def _today(ctx: ServiceContext) -> dt.date:
    return local_date(clock_of(ctx.extras).now())


def _check_range(date_from: dt.date | None, date_to: dt.date | None) -> None:
    if date_from and date_to and date_from > date_to:
        raise Unprocessable(
            "起始日期不能晚于截止日期", "date_from is after date_to",
            errors=[FieldError("date_from", "不能晚于 date_to", "after date_to")],
        )


_ZONE_ID = re.compile(ZONE_ID)


def _check_zone_ids(values: list[str]) -> None:
    """Each zone a batch summary names must be a zone ID as the single summary accepts it: a bad one is a
    422 naming ``zone_id`` (so every item is what the single summary answers)."""
    if not all(_ZONE_ID.fullmatch(value) for value in values):
        raise Unprocessable(
            "功能区 ID 格式不正确", "zone_id is not a zone ID",
            errors=[FieldError("zone_id", "格式不正确", "not a zone ID")],
        )

def upload_idempotency(
    request: Request, caller: Principal, content: bytes, filename: str | None, material_code: str | None
) -> IdempotencyGuard:
    """``Idempotency-Key`` for multipart uploads. The chassis's dependency reads the raw body, which FastAPI
    has already consumed to parse the form; the request is identified here by what was parsed instead."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None:
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise BadRequest(
                f"Idempotency-Key 必须是 1 到 {MAX_KEY_LENGTH} 个可见字符",
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
                errors=[FieldError(IDEMPOTENCY_HEADER, "格式不正确", "invalid")],
            )
    fingerprint = hashlib.sha256(content).hexdigest().encode() + f"|{filename}|{material_code}".encode()
    return IdempotencyGuard(request, f"{caller.kind}:{caller.subject}", key, fingerprint)


def _check_calendar_day(day: dt.date) -> None:
    if not 2000 <= day.year <= 2100:
        raise Unprocessable(
            "日期应在 2000 至 2100 年之间", "the date must lie between 2000 and 2100",
            errors=[FieldError("day", "超出范围", "out of range")],
        )


def _page(items: list[Any], total: int, page: Pagination) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page.page, "size": page.size}


# --- catalog ------------------------------------------------------------------------------------------------------


@router.get("/items", tags=[TAG_CATALOG], summary="事项清单（现行版本）", response_model=Page[ItemOut])
async def list_items(
    session: Session,
    ctx: Ctx,
    _: Caller,
    page: Pagination,
    q: Annotated[str | None, Query(max_length=100, description="按名称或编码搜索")] = None,
    type_code: Annotated[str | None, Query(pattern=r"^(XK|QR|BA|JF|JL|CJ|QT|GG)$", description="事项类型代码")] = None,
    commitment_allowed: Annotated[bool | None, Query(description="是否可告知承诺")] = None,
    department: Annotated[str | None, Query(max_length=100, description="主管部门")] = None,
    as_of: Annotated[dt.date | None, Query(description="查看该日有效的版本（默认今天）")] = None,
    include_abolished: bool = False,
) -> dict[str, Any]:
    items, total = await catalog.list_items(
        session, page, as_of=as_of or _today(ctx), q=q, type_code=type_code, commitment_allowed=commitment_allowed,
        department=department, include_abolished=include_abolished,
    )
    return _page(items, total, page)


@router.get("/items/{code}", tags=[TAG_CATALOG], summary="事项详情（办事指南）及版本", response_model=ItemDetail)
async def get_item(
    session: Session,
    ctx: Ctx,
    _: Caller,
    code: Annotated[str, Path(max_length=40)],
    as_of: Annotated[dt.date | None, Query(description="该日有效的版本")] = None,
    version: Annotated[int | None, Query(ge=1, description="指定版本号")] = None,
) -> ItemDetail:
    return await catalog.get_item(session, code, as_of=as_of or _today(ctx), version=version)


@router.post("/items", tags=[TAG_CATALOG], summary="新增事项（市级事项管理员）", status_code=201, response_model=ItemOut)
async def create_item(body: ItemCreate, session: Session, ctx: Ctx, caller: Staff, idem: Idempotency) -> Any:
    env = env_of(ctx)
    return await idem.run(session, lambda: catalog.create_item(session, caller, body, env.now), status_code=201)


@router.put("/items/{code}", tags=[TAG_CATALOG], summary="发布事项新版本（已受理的办件沿用原版本）", response_model=ItemOut)
async def update_item(
    body: ItemUpdate, session: Session, ctx: Ctx, caller: Staff, code: Annotated[str, Path(pattern=ITEM_CODE_PATTERN)]
) -> ItemOut:
    return await catalog.update_item(session, caller, code, body, env_of(ctx).now)


# --- delegations -----------------------------------------------------------------------------------------------


@router.get("/delegations", tags=[TAG_DELEGATIONS], summary="赋权清单", response_model=Page[DelegationOut])
async def list_delegations(
    session: Session,
    ctx: Ctx,
    caller: Staff,
    page: Pagination,
    zone_id: Annotated[str | None, Query(pattern=ZONE_ID)] = None,
    item_code: Annotated[str | None, Query(max_length=40)] = None,
    in_force_on: Annotated[dt.date | None, Query(description="只看该日有效的赋权")] = None,
) -> dict[str, Any]:
    items, total = await catalog.list_delegations(
        session, caller, page, today=_today(ctx), zone_id=zone_id, item_code=item_code, in_force_on=in_force_on
    )
    return _page(items, total, page)


@router.post("/delegations", tags=[TAG_DELEGATIONS], summary="新增赋权", status_code=201, response_model=DelegationOut)
async def create_delegation(body: DelegationCreate, session: Session, ctx: Ctx, caller: Staff, idem: Idempotency) -> Any:
    env = env_of(ctx)
    return await idem.run(session, lambda: catalog.create_delegation(session, caller, body, env.now), status_code=201)


@router.post("/delegations/{delegation_id}/end", tags=[TAG_DELEGATIONS], summary="终止赋权（收回）", response_model=DelegationOut)
async def end_delegation(
    body: DelegationEnd, session: Session, ctx: Ctx, caller: Staff, delegation_id: Annotated[str, Path(max_length=36)]
) -> DelegationOut:
    return await catalog.end_delegation(session, caller, delegation_id, body, env_of(ctx).now)


# --- calendar ----------------------------------------------------------------------------------------------------


class _DayConvertor(Convertor[str]):
    """``/calendar/{day:day}`` matches only YYYY-MM-DD, so ``/calendar/2026`` (a year) and ``/calendar/2026-10-01``
    (a day) are different resources: PUT on a year is 405 with the day's methods in Allow, not a 422 about a date.
    The value stays text; the route's parameter type validates it as a date."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("day", _DayConvertor())
# /calendar/2026 is a year (GET only) and /calendar/2026-10-01 a day (PUT, DELETE): the other methods are 405.
_NOT_THIS_RESOURCE: dict[int | str, dict[str, Any]] = {405: {"description": "路径是年份（只读）或日期（只可设置、撤销），不支持该方法；Allow 列出可用方法"}}


@router.get("/calendar/{year:int}", tags=[TAG_CALENDAR], responses=_NOT_THIS_RESOURCE, summary="某年工作日历（节假日、调休与管理员调整）", response_model=CalendarYearOut)
async def calendar_year(session: Session, _: Caller, year: Annotated[int, Path(ge=2000, le=2100)]) -> CalendarYearOut:
    return await catalog.calendar_year(session, year)


@router.put("/calendar/{day:day}", tags=[TAG_CALENDAR], responses=_NOT_THIS_RESOURCE, summary="设置某日为工作日或休息日（市级事项管理员）", response_model=CalendarDayChange)
async def set_calendar_day(
    body: CalendarDayIn, session: Session, ctx: Ctx, caller: Staff, day: Annotated[dt.date, Path(description="YYYY-MM-DD")]
) -> CalendarDayChange:
    _check_calendar_day(day)
    env = env_of(ctx)
    return await catalog.set_calendar_day(session, caller, day, body, env.now, env.settings.alert_yellow_percent)


@router.delete("/calendar/{day:day}", tags=[TAG_CALENDAR], responses=_NOT_THIS_RESOURCE, summary="撤销某日的管理员调整", response_model=CalendarDayChange)
async def delete_calendar_day(
    session: Session, ctx: Ctx, caller: Staff, day: Annotated[dt.date, Path(description="YYYY-MM-DD")]
) -> CalendarDayChange:
    env = env_of(ctx)
    return await catalog.delete_calendar_day(session, caller, day, env.now, env.settings.alert_yellow_percent)


# --- applications ----------------------------------------------------------------------------------------------------


@router.post(
    "/applications", tags=[TAG_APPLICATIONS], summary="提交办件申请（可多事项打包“一件事”）", status_code=201,
    response_model=ApplicationOut,
)
async def file_application(body: ApplicationCreate, session: Session, ctx: Ctx, caller: Member, idem: Idempotency) -> Any:
    env = env_of(ctx)
    return await idem.run(session, lambda: uc.file_application(session, caller, body, env), status_code=201)


@router.get("/applications", tags=[TAG_APPLICATIONS], summary="办件列表（按状态、预警、企业、事项、代办员、日期筛选）", response_model=Page[ApplicationSummaryOut])
async def list_applications(
    session: Session,
    ctx: Ctx,
    caller: Member,
    page: Pagination,
    zone_id: Annotated[str | None, Query(pattern=ZONE_ID)] = None,
    status: Annotated[list[Status] | None, Query(description="办件状态，可多选")] = None,
    alert: Annotated[AlertLevel | None, Query(description="预警级别 none/yellow/red")] = None,
    uscc: Annotated[str | None, Query(max_length=18)] = None,
    item: Annotated[str | None, Query(max_length=40, description="包含该事项编码")] = None,
    agent: Annotated[str | None, Query(max_length=100, description="帮办代办员或首问负责人账号")] = None,
    date_from: Annotated[dt.date | None, Query(description="提交日期起")] = None,
    date_to: Annotated[dt.date | None, Query(description="提交日期止")] = None,
    commitment: bool | None = None,
    verification: Annotated[str | None, Query(pattern=r"^(pending|confirmed|revoked)$")] = None,
    project_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    _check_range(date_from, date_to)
    env = env_of(ctx)
    items, total = await queries.list_applications(
        session, caller, page, today=env.today, yellow_percent=env.settings.alert_yellow_percent, zone_id=zone_id,
        status=status, alert=alert, uscc=uscc, item=item, agent=agent, date_from=date_from, date_to=date_to,
        commitment=commitment, verification=verification, project_id=project_id,
    )
    return _page(items, total, page)


@router.get("/applications/{application_id}", tags=[TAG_APPLICATIONS], summary="办件详情（时限、预警与全流程记录）", response_model=ApplicationOut)
async def get_application(application_id: ApplicationId, session: Session, ctx: Ctx, caller: Member) -> ApplicationOut:
    env = env_of(ctx)
    app = await queries.load_visible(session, caller, application_id)
    return await queries.application_detail(
        session, app, calendar=None, today=env.today, yellow_percent=env.settings.alert_yellow_percent
    )


@router.post(
    "/applications/{application_id}/documents", tags=[TAG_APPLICATIONS], summary="上传申请材料（PDF/OFD/JPG/PNG）",
    status_code=201, response_model=DocumentOut,
    responses={413: {"description": "文件过大"}, 415: {"description": "文件类型不被接受（按内容识别）"}},
)
async def upload_document(
    application_id: ApplicationId,
    session: Session,
    ctx: Ctx,
    caller: Member,
    request: Request,
    file: Annotated[UploadFile, File(description="材料文件")],
    material_code: Annotated[str | None, Form(pattern=MATERIAL_CODE, description="对应的材料编码")] = None,
) -> Any:
    env = env_of(ctx)
    content = await file.read(env.settings.upload_max_bytes + 1)
    idem = upload_idempotency(request, caller, content, file.filename, material_code)
    return await idem.run(
        session,
        lambda: uc.upload_document(
            session, caller, application_id, content=content, filename=file.filename, material_code=material_code, env=env
        ),
        status_code=201,
    )


@router.get("/applications/{application_id}/documents/{document_id}", tags=[TAG_APPLICATIONS], summary="下载申请材料", response_class=FileResponse,
    responses={200: {"description": "材料文件", "content": {t: {} for t in ("application/pdf", "application/ofd", "image/jpeg", "image/png")}}},
)
async def download_document(
    application_id: ApplicationId, document_id: Annotated[str, Path(max_length=36)], session: Session, ctx: Ctx, caller: Member
) -> FileResponse:
    doc, path = await uc.document_for_download(session, caller, application_id, document_id, env_of(ctx).settings)
    return FileResponse(path, media_type=doc.media_type, filename=doc.filename)


@router.get("/commitment-eligibility", tags=[TAG_APPLICATIONS], summary="告知承诺制适用性预检", response_model=EligibilityOut)
async def commitment_eligibility(
    session: Session,
    ctx: Ctx,
    caller: Member,
    zone_id: Annotated[str, Query(pattern=ZONE_ID)],
    item_codes: Annotated[list[str], Query(min_length=1, max_length=20, description="事项编码，可重复")],
    project_id: Annotated[str | None, Query(max_length=64)] = None,
    uscc: Annotated[str | None, Query(max_length=18)] = None,
) -> EligibilityOut:
    return await uc.check_eligibility(
        session, caller, zone_id=zone_id, item_codes=item_codes, project_id=project_id, uscc=uscc, today=_today(ctx)
    )


def _action_route(path: str, summary: str, description: str) -> Any:
    return router.post(
        f"/applications/{{application_id}}/{path}", tags=[TAG_APPLICATIONS], summary=summary, description=description,
        response_model=ApplicationOut, responses={409: {"description": "当前状态不允许该操作（问题详情列出当前状态和可执行操作）"}},
    )


@_action_route("accept", "受理", "待受理 → 已受理；必须材料齐全；次日起按工作日计时。")
async def accept(application_id: ApplicationId, session: Session, ctx: Ctx, caller: Member, body: ActionNote | None = None) -> ApplicationOut:
    return await uc.accept(session, caller, application_id, body or ActionNote(), env_of(ctx))


@_action_route("refuse", "不予受理", "待受理（或受理前的待补正）→ 不予受理，须说明理由。")
async def refuse(application_id: ApplicationId, body: ReasonIn, session: Session, ctx: Ctx, caller: Member) -> ApplicationOut:
    return await uc.refuse(session, caller, application_id, body, env_of(ctx))


@_action_route("request-correction", "一次性告知补正", "一次列明全部补正内容；受理后补正暂停计时；再次补正不得要求上次告知时已提交的材料。")
async def request_correction(
    application_id: ApplicationId, body: CorrectionRequest, session: Session, ctx: Ctx, caller: Member
) -> ApplicationOut:
    return await uc.request_correction(session, caller, application_id, body, env_of(ctx))


@_action_route("resubmit", "补正后重新提交", "申请企业（或窗口帮办）提交补正材料，恢复计时。")
async def resubmit(
    application_id: ApplicationId, session: Session, ctx: Ctx, caller: Member, body: ResubmitIn | None = None
) -> ApplicationOut:
    return await uc.resubmit(session, caller, application_id, body or ResubmitIn(), env_of(ctx))


@_action_route("approve", "准予许可", "审查中 → 准予许可（待办结发证）。")
async def approve(application_id: ApplicationId, session: Session, ctx: Ctx, caller: Member, body: ActionNote | None = None) -> ApplicationOut:
    return await uc.approve(session, caller, application_id, body or ActionNote(), env_of(ctx))


@_action_route("deny", "不予许可", "审查中 → 不予许可，须说明理由。")
async def deny(application_id: ApplicationId, body: ReasonIn, session: Session, ctx: Ctx, caller: Member) -> ApplicationOut:
    return await uc.deny(session, caller, application_id, body, env_of(ctx))


@_action_route("complete", "办结（发证）", "准予许可 → 已办结，登记证照编号，计算是否按时。")
async def complete(application_id: ApplicationId, body: CompleteIn, session: Session, ctx: Ctx, caller: Member) -> ApplicationOut:
    return await uc.complete(session, caller, application_id, body, env_of(ctx))


@_action_route("assign", "指派帮办代办员或首问负责人", "帮办代办、首问负责制。")
async def assign(application_id: ApplicationId, body: AssignIn, session: Session, ctx: Ctx, caller: Member) -> ApplicationOut:
    return await uc.assign(session, caller, application_id, body, env_of(ctx))


@_action_route("verify", "告知承诺核查", "核查属实（confirmed）或违诺撤销（revoked，发布 commitment_revoked 事件）。")
async def verify(application_id: ApplicationId, body: VerifyIn, session: Session, ctx: Ctx, caller: Member) -> ApplicationOut:
    return await uc.verify(session, caller, application_id, body, env_of(ctx))


@_action_route("evaluate", "好差评", "办结后由申请企业评价一次（1–5 分）；2 分及以下生成整改回访单。")
async def evaluate(application_id: ApplicationId, body: EvaluateIn, session: Session, ctx: Ctx, caller: Member) -> ApplicationOut:
    return await uc.evaluate(session, caller, application_id, body, env_of(ctx))


# --- follow-ups and summary ------------------------------------------------------------------------------------------


@router.get("/follow-ups", tags=[TAG_FOLLOW_UPS], summary="差评整改回访工作单", response_model=Page[FollowUpOut])
async def list_follow_ups(
    session: Session,
    ctx: Ctx,
    caller: Staff,
    page: Pagination,
    zone_id: Annotated[str | None, Query(pattern=ZONE_ID)] = None,
    status: Annotated[str | None, Query(pattern=r"^(open|closed)$")] = None,
    overdue: bool | None = None,
) -> dict[str, Any]:
    items, total = await queries.list_follow_ups(
        session, caller, page, today=_today(ctx), zone_id=zone_id, status=status, overdue=overdue
    )
    return _page(items, total, page)


@router.post("/follow-ups/{follow_up_id}/close", tags=[TAG_FOLLOW_UPS], summary="办结回访（登记回访记录）", response_model=FollowUpOut)
async def close_follow_up(
    body: FollowUpClose, session: Session, ctx: Ctx, caller: Staff, follow_up_id: Annotated[str, Path(max_length=36)]
) -> FollowUpOut:
    return await uc.close_follow_up(session, caller, follow_up_id, body, env_of(ctx))


# Declared before GET /summary and with no path parameter before it under /summary, so nothing shadows it.
@router.get("/summary/zones", tags=[TAG_SUMMARY], summary="多个功能区的审批汇总（市级工作台一次取全）", response_model=SummaryByZoneOut)
async def summary_by_zone(
    session: Session,
    ctx: Ctx,
    caller: Staff,
    zone_id: ZoneIds,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> SummaryByZoneOut:
    _check_zone_ids(zone_id)
    _check_range(date_from, date_to)
    return await queries.summary_by_zone(
        session, caller, today=_today(ctx), zone_ids=zone_id, date_from=date_from, date_to=date_to
    )


@router.get("/summary", tags=[TAG_SUMMARY], summary="审批汇总（状态、预警、按时办结率、平均用时）", response_model=SummaryOut)
async def summary(
    session: Session,
    ctx: Ctx,
    caller: Staff,
    zone_id: Annotated[str | None, Query(pattern=ZONE_ID)] = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> SummaryOut:
    _check_range(date_from, date_to)
    return await queries.summary(session, caller, today=_today(ctx), zone_id=zone_id, date_from=date_from, date_to=date_to)
