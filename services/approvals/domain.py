"""The rules of one-stop approval as plain Python: item codes and types, the application state machine,
bundles (一件事), the one-time correction notice (一次性告知), notify-and-commit eligibility (告知承诺制) and
evaluation levels (好差评). No FastAPI, SQL or Kafka here; the use cases call these and turn the typed
problems they return into HTTP errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# --- the catalog ------------------------------------------------------------------------------

#: National practice: implementing-body code (division code + body abbreviation) + type code + sequence,
#: e.g. ``51011600ZJ-XK-0001`` (双流区住建局, first licensing item). An optional ``-NN`` names a handling item.
ITEM_CODE_PATTERN = r"^(?P<body>[0-9]{8}[A-Z]{2,4})-(?P<type>XK|QR|BA|JF|JL|CJ|QT|GG)-(?P<seq>[0-9]{4})(-[0-9]{2})?$"
ITEM_CODE_RE = re.compile(ITEM_CODE_PATTERN)

ITEM_TYPES: dict[str, str] = {
    "XK": "行政许可",
    "QR": "行政确认",
    "BA": "行政备案",
    "JF": "行政给付",
    "JL": "行政奖励",
    "CJ": "行政裁决",
    "QT": "其他行政权力",
    "GG": "公共服务",
}

HANDLING_KINDS = {"immediate": "即办件", "promised": "承诺件"}


def item_type_code(code: str) -> str | None:
    match = ITEM_CODE_RE.match(code)
    return match.group("type") if match else None


@dataclass(frozen=True)
class ItemTerms:
    """What the rules need to know about one item version."""

    code: str
    name: str
    statutory_days: int
    promised_days: int
    commitment_allowed: bool
    verification_window_days: int | None
    materials: tuple[tuple[str, str, bool], ...] = ()  # (code, name, mandatory)


def limits_problem(statutory_days: int, promised_days: int) -> str | None:
    if promised_days > statutory_days:
        return "承诺时限不得超过法定时限 / promised days may not exceed the statutory limit"
    return None


@dataclass(frozen=True)
class Bundle:
    """The items filed together as one application (一件事): handled in parallel (并联审批)."""

    promised_days: int
    statutory_days: int
    materials: dict[str, tuple[str, bool]]  # code -> (name, mandatory in any item)
    verification_window_days: int | None


def combine(items: Sequence[ItemTerms]) -> Bundle:
    """Parallel handling: the bundle's limits are the longest of its items'; materials are submitted once
    and are mandatory when any item requires them; the verification window is the shortest one."""
    if not items:
        raise ValueError("a bundle needs at least one item")
    materials: dict[str, tuple[str, bool]] = {}
    for item in items:
        for code, name, mandatory in item.materials:
            known = materials.get(code)
            materials[code] = (known[0] if known else name, mandatory or (known[1] if known else False))
    windows = [i.verification_window_days for i in items if i.verification_window_days is not None]
    return Bundle(
        promised_days=max(i.promised_days for i in items),
        statutory_days=max(i.statutory_days for i in items),
        materials=materials,
        verification_window_days=min(windows) if windows else None,
    )


# --- the state machine ------------------------------------------------------------------------


class Status(StrEnum):
    SUBMITTED = "submitted"
    REFERRED = "referred"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    CORRECTION_REQUESTED = "correction_requested"
    APPROVED = "approved"
    DENIED = "denied"
    COMPLETED = "completed"
    REVOKED = "revoked"


STATUS_LABELS: dict[Status, str] = {
    Status.SUBMITTED: "待受理",
    Status.REFERRED: "已转办（未赋权）",
    Status.ACCEPTED: "已受理（审查中）",
    Status.REFUSED: "不予受理",
    Status.CORRECTION_REQUESTED: "待补正",
    Status.APPROVED: "准予许可（待办结）",
    Status.DENIED: "不予许可",
    Status.COMPLETED: "已办结",
    Status.REVOKED: "已撤销（违诺）",
}

#: Still in the zone's hands: the backlog.
OPEN_STATUSES = frozenset({Status.SUBMITTED, Status.ACCEPTED, Status.CORRECTION_REQUESTED, Status.APPROVED})
#: The clock runs (or is paused) in these.
CLOCK_STATUSES = frozenset({Status.ACCEPTED, Status.CORRECTION_REQUESTED, Status.APPROVED})


class Action(StrEnum):
    ACCEPT = "accept"
    REFUSE = "refuse"
    REQUEST_CORRECTION = "request-correction"
    RESUBMIT = "resubmit"
    APPROVE = "approve"
    DENY = "deny"
    COMPLETE = "complete"
    ASSIGN = "assign"
    VERIFY = "verify"
    EVALUATE = "evaluate"


ACTION_LABELS: dict[Action, str] = {
    Action.ACCEPT: "受理",
    Action.REFUSE: "不予受理",
    Action.REQUEST_CORRECTION: "一次性告知补正",
    Action.RESUBMIT: "补正提交",
    Action.APPROVE: "准予许可",
    Action.DENY: "不予许可",
    Action.COMPLETE: "办结",
    Action.ASSIGN: "指派帮办代办/首问负责人",
    Action.VERIFY: "承诺核查",
    Action.EVALUATE: "好差评",
}

#: Who may take an action: zone approval staff, or the applicant (an approval clerk may also resubmit at
#: the window on the applicant's behalf).
STAFF_ACTIONS = frozenset(
    {Action.ACCEPT, Action.REFUSE, Action.REQUEST_CORRECTION, Action.APPROVE, Action.DENY, Action.COMPLETE,
     Action.ASSIGN, Action.VERIFY, Action.RESUBMIT}
)
APPLICANT_ACTIONS = frozenset({Action.RESUBMIT, Action.EVALUATE})


class CorrectionPhase(StrEnum):
    INTAKE = "intake"  # before acceptance: the clock has not started
    REVIEW = "review"  # after acceptance: the clock stops


class VerificationOutcome(StrEnum):
    CONFIRMED = "confirmed"
    REVOKED = "revoked"


@dataclass(frozen=True)
class ApplicationFacts:
    status: Status
    correction_phase: CorrectionPhase | None = None
    commitment_pending: bool = False  # a commitment decision awaiting its verification
    evaluated: bool = False


class IllegalTransition(Exception):
    def __init__(self, status: Status, action: Action, allowed: list[Action]) -> None:
        super().__init__(f"{action} is not allowed in {status}")
        self.status = status
        self.action = action
        self.allowed = allowed


def allowed_actions(facts: ApplicationFacts) -> list[Action]:
    s = facts.status
    out: list[Action] = []
    if s is Status.SUBMITTED:
        out = [Action.ACCEPT, Action.REFUSE, Action.REQUEST_CORRECTION, Action.ASSIGN]
    elif s is Status.CORRECTION_REQUESTED:
        closing = Action.DENY if facts.correction_phase is CorrectionPhase.REVIEW else Action.REFUSE
        out = [Action.RESUBMIT, closing, Action.ASSIGN]
    elif s is Status.ACCEPTED:
        out = [Action.APPROVE, Action.DENY, Action.REQUEST_CORRECTION, Action.ASSIGN]
    elif s is Status.APPROVED:
        out = [Action.COMPLETE, Action.ASSIGN]
    elif s is Status.COMPLETED and not facts.evaluated:
        out = [Action.EVALUATE]
    if facts.commitment_pending and s in {Status.APPROVED, Status.COMPLETED}:
        out.append(Action.VERIFY)
    return out


def next_status(
    facts: ApplicationFacts, action: Action, *, outcome: VerificationOutcome | None = None
) -> Status:
    """The status after ``action``, or :class:`IllegalTransition` naming what is allowed instead."""
    allowed = allowed_actions(facts)
    if action not in allowed:
        raise IllegalTransition(facts.status, action, allowed)
    s = facts.status
    if action is Action.ACCEPT:
        return Status.ACCEPTED
    if action is Action.REFUSE:
        return Status.REFUSED
    if action is Action.REQUEST_CORRECTION:
        return Status.CORRECTION_REQUESTED
    if action is Action.RESUBMIT:
        return Status.ACCEPTED if facts.correction_phase is CorrectionPhase.REVIEW else Status.SUBMITTED
    if action is Action.APPROVE:
        return Status.APPROVED
    if action is Action.DENY:
        return Status.DENIED
    if action is Action.COMPLETE:
        return Status.COMPLETED
    if action is Action.VERIFY and outcome is VerificationOutcome.REVOKED:
        return Status.REVOKED
    return s  # assign, confirmed verification, evaluate


def correction_phase_for(status: Status) -> CorrectionPhase:
    return CorrectionPhase.REVIEW if status is Status.ACCEPTED else CorrectionPhase.INTAKE


# --- materials and the one-time correction notice (一次性告知) --------------------------------------


@dataclass(frozen=True)
class MaterialState:
    code: str
    name: str
    mandatory: bool
    provided_at: datetime | None  # when last provided (declared or uploaded); None: never


@dataclass(frozen=True)
class PreviousNotice:
    requested_at: datetime
    codes: frozenset[str]


@dataclass(frozen=True)
class CorrectionProblem:
    index: int
    code: str
    kind: str  # unknown_material | duplicate | already_present
    zh: str
    en: str


def missing_mandatory(materials: Iterable[MaterialState]) -> list[MaterialState]:
    return [m for m in materials if m.mandatory and m.provided_at is None]


def check_correction(
    requested_codes: Sequence[str],
    materials: Mapping[str, MaterialState],
    previous: PreviousNotice | None,
) -> list[CorrectionProblem]:
    """Problems with a correction notice. Everything missing must be told at once (一次性告知): a later
    notice may name only what was named before (still deficient) or what was (re)submitted since; a
    material that was already present when the previous notice went out cannot be asked for again."""
    problems: list[CorrectionProblem] = []
    seen: set[str] = set()
    for i, code in enumerate(requested_codes):
        if code in seen:
            problems.append(CorrectionProblem(i, code, "duplicate", f"材料 {code} 重复列出", f"material {code} listed twice"))
            continue
        seen.add(code)
        material = materials.get(code)
        if material is None:
            problems.append(
                CorrectionProblem(
                    i, code, "unknown_material", f"材料 {code} 不属于所申请事项的申请材料",
                    f"material {code} is not required by the items applied for",
                )
            )
            continue
        if previous is None or code in previous.codes:
            continue
        if material.provided_at is not None and material.provided_at <= previous.requested_at:
            problems.append(
                CorrectionProblem(
                    i, code, "already_present",
                    f"一次性告知：材料「{material.name}」在上次补正告知时已提交且未被要求补正，不得再次要求补正",
                    f"one-time notice: material {code} was already present when the previous notice was issued",
                )
            )
    return problems


def not_resubmitted(notice_codes: Iterable[str], materials: Mapping[str, MaterialState], notice_at: datetime) -> list[str]:
    """Materials a notice asked for that have not been provided since it was issued."""
    out = []
    for code in notice_codes:
        m = materials.get(code)
        if m is None or m.provided_at is None or m.provided_at <= notice_at:
            out.append(code)
    return out


# --- notify-and-commit (告知承诺制) ------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectAdmission:
    """What the investment service's events told us about a project."""

    project_id: str
    zone_id: str | None
    uscc: str | None
    name: str | None
    passed: bool | None  # None: no admission check seen yet
    failed_criteria: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reason:
    code: str
    field: str
    zh: str
    en: str


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: list[Reason] = field(default_factory=list)


def commitment_eligibility(
    items: Sequence[ItemTerms],
    *,
    project_id: str | None,
    project: ProjectAdmission | None,
    applicant_uscc: str | None,
    zone_id: str | None,
) -> Eligibility:
    """Commitment mode needs every item to allow it and, when a project is named, a project that passed
    the investment service's admission check (项目准入目录, seeds 000 and 002)."""
    reasons: list[Reason] = []
    for i, item in enumerate(items):
        if not item.commitment_allowed:
            reasons.append(
                Reason("item_not_allowed", f"item_codes.{i}", f"事项「{item.name}」不适用告知承诺制",
                       f"item {item.code} does not allow notify-and-commit")
            )
    if project_id is not None:
        if project is None:
            reasons.append(
                Reason("project_unknown", "project_id", f"未查到项目 {project_id} 的信息，无法确认其通过准入审查",
                       f"project {project_id} is unknown: its admission check cannot be confirmed")
            )
        else:
            if project.passed is None:
                reasons.append(
                    Reason("admission_not_checked", "project_id", "该项目尚无准入审查结果",
                           "the project has no admission check result yet")
                )
            elif not project.passed:
                detail = "；".join(project.failed_criteria) if project.failed_criteria else "未达到准入标准"
                reasons.append(
                    Reason("admission_failed", "project_id", f"该项目未通过准入审查：{detail}",
                           "the project failed the admission check")
                )
            if project.uscc and applicant_uscc and project.uscc != applicant_uscc:
                reasons.append(
                    Reason("project_of_other_enterprise", "project_id", "该项目不属于申请企业",
                           "the project belongs to another enterprise")
                )
            if project.zone_id and zone_id and project.zone_id != zone_id:
                reasons.append(
                    Reason("project_in_other_zone", "project_id", "该项目不在本功能区",
                           "the project is in another zone")
                )
    return Eligibility(eligible=not reasons, reasons=reasons)


# --- evaluation (好差评) -------------------------------------------------------------------------------

#: The national five levels (政务服务“好差评”), score 5 to 1.
EVALUATION_LEVELS: dict[int, tuple[str, str]] = {
    5: ("very_satisfied", "非常满意"),
    4: ("satisfied", "满意"),
    3: ("basically_satisfied", "基本满意"),
    2: ("dissatisfied", "不满意"),
    1: ("very_dissatisfied", "非常不满意"),
}


def evaluation_level(score: int) -> tuple[str, str]:
    if score not in EVALUATION_LEVELS:
        raise ValueError("score must be 1..5")
    return EVALUATION_LEVELS[score]


def needs_follow_up(score: int) -> bool:
    """不满意 and 非常不满意 must be rectified and every such rater called back (Sichuan's rules)."""
    return score <= 2
