"""The published event contract of the approval service: topic ``zone.approvals``, key = application id.

Every event's data names the application, its zone, the applicant's USCC and the item codes, plus what
the event is about. Times are ISO 8601 with offset; dates (due dates) are Asia/Shanghai calendar dates.
This module imports only pydantic, the standard library and ``chassis.events`` (the gateway and the
AsyncAPI generator import it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from chassis.events import EventCatalog


class ApplicationEvent(BaseModel):
    application_id: str = Field(description="办件编号 / application id (the event key)")
    zone_id: str = Field(description="功能区 / zone the application was filed in")
    uscc: str = Field(description="申请企业统一社会信用代码 / applicant's USCC")
    item_codes: list[str] = Field(description="所申请事项编码（一件事可多项） / item codes (a bundle has several)")


class ApplicationSubmitted(ApplicationEvent):
    submitted_at: datetime = Field(description="提交时间 / when the application was filed")
    commitment: bool = Field(description="是否适用告知承诺制 / filed under notify-and-commit")
    project_id: str | None = Field(None, description="关联的招商项目 / investment project, if any")
    applicant_name: str = Field(description="申请企业名称 / applicant's name")


class Referral(BaseModel):
    item_code: str = Field(description="未赋权的事项 / item not delegated to the zone")
    authority: str = Field(description="应向其申请的赋权机关 / authority to apply to instead")
    reason: str = Field(description="转办原因 / why it was referred")


class ApplicationReferred(ApplicationEvent):
    referred_at: datetime = Field(description="转办时间 / when it was referred")
    referrals: list[Referral] = Field(description="每个未赋权事项及其机关 / each item without delegation and its authority")


class ApplicationAccepted(ApplicationEvent):
    accepted_at: datetime = Field(description="受理时间 / when it was accepted")
    promised_days: int = Field(description="承诺时限（工作日） / promised limit in working days")
    statutory_days: int = Field(description="法定时限（工作日） / statutory limit in working days")
    due_date: date | None = Field(description="承诺办结日期 / due date (Asia/Shanghai)")
    due_date_provisional: bool = Field(
        description="到期日涉及尚未公布节假日安排的年份，按周一至周五暂估 / due date rests on a provisional calendar"
    )


class ApplicationRefused(ApplicationEvent):
    refused_at: datetime = Field(description="不予受理时间 / when it was refused")
    reason: str = Field(description="不予受理理由 / reason")


class CorrectionItem(BaseModel):
    material_code: str = Field(description="需补正的材料编码 / material to correct")
    material_name: str = Field(description="材料名称 / material name")
    reason: str = Field(description="补正要求 / what is wrong or missing")


class ApplicationCorrectionRequested(ApplicationEvent):
    requested_at: datetime = Field(description="补正告知时间 / when the notice was issued")
    notice_no: int = Field(description="第几次补正告知 / notice number (1 = first)")
    items: list[CorrectionItem] = Field(description="一次性告知的全部补正内容 / everything to correct, at once")
    clock_paused: bool = Field(description="是否暂停计时（受理后补正） / whether the promised-time clock stopped")


class ApplicationResubmitted(ApplicationEvent):
    resubmitted_at: datetime = Field(description="补正提交时间 / when the corrections came in")
    notice_no: int = Field(description="对应的补正告知 / the notice answered")
    paused_working_days: int = Field(description="累计暂停计时的工作日 / working days the clock has been paused in total")
    due_date: date | None = Field(description="重新计算的承诺办结日期 / due date after resuming")


class ApplicationApproved(ApplicationEvent):
    approved_at: datetime = Field(description="准予许可时间 / when it was approved")
    commitment: bool = Field(description="告知承诺制当场决定 / decided at once under notify-and-commit")
    verification_due: date | None = Field(None, description="承诺核查期限 / commitment verification due date")
    working_days_used: int = Field(description="已用工作日 / working days used so far")


class ApplicationDenied(ApplicationEvent):
    denied_at: datetime = Field(description="不予许可时间 / when it was denied")
    reason: str = Field(description="不予许可理由 / reason")
    working_days_used: int = Field(description="已用工作日 / working days used")
    on_time: bool = Field(description="是否在承诺时限内作出决定 / decided within the promised limit")


class ApplicationCompleted(ApplicationEvent):
    completed_at: datetime = Field(description="办结时间 / when it was completed")
    accepted_at: datetime = Field(description="受理时间 / when it was accepted")
    promised_days: int = Field(description="承诺时限（工作日） / promised limit in working days")
    working_days_used: int = Field(description="实际用时（工作日，不含补正） / working days used, correction excluded")
    on_time: bool = Field(description="是否按时办结 / completed within the promised limit")
    certificate_no: str = Field(description="证照/批文编号 / certificate number")


class ApplicationAlertRaised(ApplicationEvent):
    level: Literal["yellow", "red"] = Field(description="预警级别：黄（临近）/红（超期） / alert level")
    previous_level: Literal["none", "yellow", "red"] = Field(description="此前级别 / previous level")
    raised_at: datetime = Field(description="预警时间 / when the alert was raised")
    due_date: date | None = Field(description="承诺办结日期 / due date")
    working_days_remaining: int | None = Field(description="剩余工作日（负数为超期） / working days left (negative: overdue)")
    status: str = Field(description="办件状态 / application status")


class CommitmentVerified(ApplicationEvent):
    verified_at: datetime = Field(description="核查时间 / when the commitment was verified")
    verification_due: date | None = Field(description="核查期限 / verification due date")
    within_window: bool = Field(description="是否在核查期限内完成 / verified within the window")
    note: str | None = Field(None, description="核查说明 / note")


class CommitmentRevoked(ApplicationEvent):
    reason: str = Field(description="违诺情形 / the broken commitment")
    revoked_at: datetime = Field(description="撤销时间 / when the decision was revoked")


class ApplicationEvaluated(ApplicationEvent):
    evaluated_at: datetime = Field(description="评价时间 / when it was rated")
    score: int = Field(ge=1, le=5, description="评分 1–5 / score")
    level: Literal["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"] = Field(
        description="国家五级评价 / national five-level rating"
    )
    level_label: str = Field(description="非常满意、满意、基本满意、不满意、非常不满意 / Chinese label")
    comment: str | None = Field(None, description="评价内容 / comment")
    follow_up_id: str | None = Field(None, description="差评整改回访单 / follow-up opened for a poor rating")
    follow_up_due: date | None = Field(None, description="整改回访期限 / follow-up due date")


EVENTS = EventCatalog("approvals")
_A = "application"

SUBMITTED = EVENTS.define(
    "zone.approvals.application.submitted.v1", ApplicationSubmitted, aggregate=_A,
    description="企业提交办件申请 / An application was filed",
)
REFERRED = EVENTS.define(
    "zone.approvals.application.referred.v1", ApplicationReferred, aggregate=_A,
    description="事项未赋权本功能区，转由赋权机关办理 / Items not delegated to the zone: referred to the authority",
)
ACCEPTED = EVENTS.define(
    "zone.approvals.application.accepted.v1", ApplicationAccepted, aggregate=_A,
    description="办件已受理，开始计时 / Accepted; the promised-time clock starts",
)
REFUSED = EVENTS.define(
    "zone.approvals.application.refused.v1", ApplicationRefused, aggregate=_A,
    description="不予受理 / Refused at intake",
)
CORRECTION_REQUESTED = EVENTS.define(
    "zone.approvals.application.correction_requested.v1", ApplicationCorrectionRequested, aggregate=_A,
    description="一次性告知补正 / One consolidated correction notice was issued",
)
RESUBMITTED = EVENTS.define(
    "zone.approvals.application.resubmitted.v1", ApplicationResubmitted, aggregate=_A,
    description="企业补正后重新提交 / The applicant resubmitted after a correction notice",
)
APPROVED = EVENTS.define(
    "zone.approvals.application.approved.v1", ApplicationApproved, aggregate=_A,
    description="准予许可 / Approved",
)
DENIED = EVENTS.define(
    "zone.approvals.application.denied.v1", ApplicationDenied, aggregate=_A,
    description="不予许可 / Denied",
)
COMPLETED = EVENTS.define(
    "zone.approvals.application.completed.v1", ApplicationCompleted, aggregate=_A,
    description="办结（发证） / Completed, certificate issued",
)
ALERT_RAISED = EVENTS.define(
    "zone.approvals.application.alert_raised.v1", ApplicationAlertRaised, aggregate=_A,
    description="超期预警级别升高 / The time-limit alert level rose",
)
COMMITMENT_VERIFIED = EVENTS.define(
    "zone.approvals.application.commitment_verified.v1", CommitmentVerified, aggregate=_A,
    description="告知承诺核查属实 / Commitment verified as kept",
)
COMMITMENT_REVOKED = EVENTS.define(
    "zone.approvals.application.commitment_revoked.v1", CommitmentRevoked, aggregate=_A,
    description="违诺撤销（信用平台订阅） / Commitment broken: decision revoked (the credit platform subscribes)",
)
EVALUATED = EVENTS.define(
    "zone.approvals.application.evaluated.v1", ApplicationEvaluated, aggregate=_A,
    description="企业好差评 / The applicant rated the service",
)
