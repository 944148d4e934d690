"""The rules of investment attraction (招商引资) as plain Python: no FastAPI, no SQL, no Kafka.

- the project lifecycle (线索 → 接洽 → 洽谈 → 签约 → 注册落地 → 供地 → 开工 → 投产/运营, or 终止) and what
  each stage requires of the project;
- the chain role a project plays (补链 / 强链 / 扩链), derived from the zone's status on its chain node;
- the admission check against the zone's catalog (项目准入目录, seed 002);
- coordination issues (调度, "开发区吹哨、部门报到", seed 003) and when they are overdue;
- the pipeline arithmetic (per-stage counts, conversion, median days per stage).

Money is in 万元 as :class:`~decimal.Decimal` with two decimals; areas in 亩; energy in 吨标准煤 (tce).
Dates users see are calendar days in Asia/Shanghai.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from chassis.validators import is_valid_uscc

SHANGHAI = ZoneInfo("Asia/Shanghai")
CENT = Decimal("0.01")


def local_date(moment: datetime) -> date:
    """The calendar day a moment falls on in Asia/Shanghai."""
    return moment.astimezone(SHANGHAI).date()


def start_of_local_day(day: date) -> datetime:
    """Midnight of a calendar day in Asia/Shanghai (used when a user backdates a stage)."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def round2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- lifecycle -----------------------------------------------------------------------------------


class Stage(StrEnum):
    LEAD = "lead"
    CONTACTING = "contacting"
    NEGOTIATING = "negotiating"
    SIGNED = "signed"
    REGISTERED = "registered"
    LAND_SECURED = "land_secured"
    UNDER_CONSTRUCTION = "under_construction"
    IN_OPERATION = "in_operation"
    DROPPED = "dropped"


#: The forward path; a project moves along it one step at a time.
LIFECYCLE: tuple[Stage, ...] = (
    Stage.LEAD,
    Stage.CONTACTING,
    Stage.NEGOTIATING,
    Stage.SIGNED,
    Stage.REGISTERED,
    Stage.LAND_SECURED,
    Stage.UNDER_CONSTRUCTION,
    Stage.IN_OPERATION,
)

STAGE_LABELS: dict[Stage, str] = {
    Stage.LEAD: "线索",
    Stage.CONTACTING: "接洽",
    Stage.NEGOTIATING: "洽谈",
    Stage.SIGNED: "签约",
    Stage.REGISTERED: "注册落地",
    Stage.LAND_SECURED: "供地",
    Stage.UNDER_CONSTRUCTION: "开工",
    Stage.IN_OPERATION: "投产/运营",
    Stage.DROPPED: "终止",
}

#: Fields a project must carry to enter a stage (and to stay in it or any later stage).
STAGE_REQUIREMENTS: dict[Stage, tuple[str, ...]] = {
    Stage.SIGNED: ("investor", "agreed_investment_wan", "funding_source"),
    Stage.REGISTERED: ("uscc",),
    Stage.LAND_SECURED: ("land_area_mu",),
}

FIELD_LABELS: dict[str, str] = {
    "investor": "投资方",
    "agreed_investment_wan": "协议投资额",
    "funding_source": "资金来源",
    "uscc": "统一社会信用代码",
    "land_area_mu": "用地面积",
}


def stage_index(stage: Stage) -> int:
    return LIFECYCLE.index(stage)


def allowed_next_stages(stage: Stage) -> list[Stage]:
    """One step forward, or 终止 from any stage before operation; nothing after operation or a drop."""
    if stage in (Stage.DROPPED, Stage.IN_OPERATION):
        return []
    return [LIFECYCLE[stage_index(stage) + 1], Stage.DROPPED]


class IllegalTransition(Exception):
    def __init__(self, current: Stage, target: Stage) -> None:
        super().__init__(f"cannot move from {current} to {target}")
        self.current = current
        self.target = target
        self.allowed = allowed_next_stages(current)


@dataclass(frozen=True)
class Shortfall:
    """A field that keeps a project from a stage: ``problem`` is ``missing`` or ``invalid``."""

    field: str
    problem: str

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)


class StageRequirementsUnmet(Exception):
    def __init__(self, stage: Stage, shortfalls: list[Shortfall]) -> None:
        super().__init__(f"{stage} requires {', '.join(s.field for s in shortfalls)}")
        self.stage = stage
        self.shortfalls = shortfalls


@dataclass(frozen=True)
class ProjectFacts:
    """What the stage rules look at."""

    investor: str | None = None
    agreed_investment_wan: Decimal | None = None
    funding_source: str | None = None
    uscc: str | None = None
    land_area_mu: Decimal | None = None


def _shortfall(name: str, facts: ProjectFacts) -> Shortfall | None:
    value = getattr(facts, name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return Shortfall(name, "missing")
    if isinstance(value, Decimal) and value <= 0:
        return Shortfall(name, "invalid")
    if name == "uscc" and not is_valid_uscc(value):
        return Shortfall(name, "invalid")
    return None


def shortfalls_for(stage: Stage, facts: ProjectFacts) -> list[Shortfall]:
    """Everything a project in (or entering) ``stage`` must have and lacks, cumulatively.

    Signing needs the investor, the agreed investment and where the money comes from (the signed
    event reports it); registration needs a valid USCC (GB 32100-2015); land needs the area in 亩.
    A dropped project owes nothing.
    """
    if stage == Stage.DROPPED:
        return []
    out: list[Shortfall] = []
    for reached in LIFECYCLE[: stage_index(stage) + 1]:
        for name in STAGE_REQUIREMENTS.get(reached, ()):
            gap = _shortfall(name, facts)
            if gap is not None:
                out.append(gap)
    return out


def check_transition(current: Stage, target: Stage, facts: ProjectFacts) -> None:
    """Raise :class:`IllegalTransition` or :class:`StageRequirementsUnmet`; return if the move is legal."""
    if target not in allowed_next_stages(current):
        raise IllegalTransition(current, target)
    gaps = shortfalls_for(target, facts)
    if gaps:
        raise StageRequirementsUnmet(target, gaps)


def furthest_stage(stage: Stage, dropped_from: Stage | None) -> Stage:
    """The furthest lifecycle stage a project reached (a dropped project: the stage it left)."""
    if stage == Stage.DROPPED:
        return dropped_from or Stage.LEAD
    return stage


def days_in_stage(entered_at: datetime, left_at: datetime) -> int:
    """Whole calendar days (Asia/Shanghai) between entering and leaving a stage."""
    return (local_date(left_at) - local_date(entered_at)).days


# --- chain role ---------------------------------------------------------------------------------


class NodePosition(StrEnum):
    UPSTREAM = "upstream"
    MIDSTREAM = "midstream"
    DOWNSTREAM = "downstream"


POSITION_LABELS = {NodePosition.UPSTREAM: "上游", NodePosition.MIDSTREAM: "中游", NodePosition.DOWNSTREAM: "下游"}


class NodeStatus(StrEnum):
    PRESENT = "present"
    WEAK = "weak"
    MISSING = "missing"


NODE_STATUS_LABELS = {NodeStatus.PRESENT: "已有", NodeStatus.WEAK: "薄弱", NodeStatus.MISSING: "缺失"}


class ChainRole(StrEnum):
    FILL = "补链"
    STRENGTHEN = "强链"
    EXTEND = "扩链"


def derive_chain_role(status: NodeStatus | None) -> ChainRole | None:
    """The role a project plays on its chain, read from the zone's status on the project's node.

    Seed 002 asks zones to "瞄准行业龙头骨干企业及产业链、价值链上下游企业、关联配套企业，进一步细化产业
    招商目录，推动开展补链招商、强链招商、扩链招商", and seed 000 to "聚焦产业功能区重点产业补链、强链、扩链":
    three kinds of chain-based attraction, each answering what the zone's chain panorama (三图一表,
    seed 000) shows at a node:

    - a **missing** node is a gap in the chain: a project there fills it — 补链;
    - a **weak** node exists but is thin: a project there strengthens it — 强链;
    - a **present** node is already in place: a project there adds capacity and reach around an
      existing link, extending the chain — 扩链.

    A node the zone has not assessed gives no role (``None``) rather than a guess; staff may always
    state the role themselves.
    """
    if status is None:
        return None
    return {
        NodeStatus.MISSING: ChainRole.FILL,
        NodeStatus.WEAK: ChainRole.STRENGTHEN,
        NodeStatus.PRESENT: ChainRole.EXTEND,
    }[status]


# --- admission check (项目准入) ----------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """One catalog entry's thresholds; ``None`` means the zone does not apply that criterion."""

    min_total_investment_wan: Decimal | None = None
    min_investment_intensity_wan_per_mu: Decimal | None = None
    min_output_per_mu_wan: Decimal | None = None
    min_tax_per_mu_wan: Decimal | None = None
    max_energy_per_output_tce_per_wan: Decimal | None = None

    def any_set(self) -> bool:
        return any(v is not None for v in vars(self).values())


@dataclass(frozen=True)
class AdmissionFacts:
    agreed_investment_wan: Decimal | None = None
    land_area_mu: Decimal | None = None
    expected_annual_output_wan: Decimal | None = None
    expected_annual_tax_wan: Decimal | None = None
    expected_annual_energy_tce: Decimal | None = None


@dataclass(frozen=True)
class CriterionResult:
    criterion: str
    label: str
    unit: str
    comparison: str  # "min" (actual ≥ required) | "max" (actual ≤ required) | "listed"
    required: Decimal | None
    actual: Decimal | None
    passed: bool
    reason: str | None


@dataclass(frozen=True)
class AdmissionResult:
    passed: bool
    criteria: list[CriterionResult]


_MISSING_REASON = {
    "agreed_investment_wan": "未填写协议投资额",
    "land_area_mu": "未填写用地面积",
    "expected_annual_output_wan": "未填写预计年产值",
    "expected_annual_tax_wan": "未填写预计年税收",
    "expected_annual_energy_tce": "未填写预计年综合能耗",
}


@dataclass(frozen=True)
class _Criterion:
    code: str
    label: str
    unit: str
    comparison: str
    threshold: str
    numerator: str
    denominator: str | None
    places: Decimal = CENT


_CRITERIA: tuple[_Criterion, ...] = (
    _Criterion("total_investment", "协议投资额", "万元", "min", "min_total_investment_wan", "agreed_investment_wan", None),
    _Criterion(
        "investment_intensity", "投资强度", "万元/亩", "min",
        "min_investment_intensity_wan_per_mu", "agreed_investment_wan", "land_area_mu",
    ),
    _Criterion(
        "output_per_mu", "亩均产值", "万元/亩·年", "min", "min_output_per_mu_wan", "expected_annual_output_wan", "land_area_mu"
    ),
    _Criterion("tax_per_mu", "亩均税收", "万元/亩·年", "min", "min_tax_per_mu_wan", "expected_annual_tax_wan", "land_area_mu"),
    _Criterion(
        "energy_per_output", "单位产值能耗", "吨标准煤/万元", "max",
        "max_energy_per_output_tce_per_wan", "expected_annual_energy_tce", "expected_annual_output_wan",
        Decimal("0.0001"),
    ),
)


def evaluate_admission(thresholds: Thresholds | None, facts: AdmissionFacts, *, sector_code: str) -> AdmissionResult:
    """Every criterion the zone set for the sector, with required value, actual value and verdict.

    A figure the project lacks fails its criterion, with the reason saying what is missing; a sector
    the zone's catalog does not list fails as a whole (the project cannot qualify for 备案承诺制).
    Actual values are rounded (2 decimals; energy 4) before comparison, so the verdict matches
    what the user reads.
    """
    if thresholds is None:
        return AdmissionResult(
            passed=False,
            criteria=[
                CriterionResult(
                    criterion="sector_listed",
                    label="行业列入准入目录",
                    unit="",
                    comparison="listed",
                    required=None,
                    actual=None,
                    passed=False,
                    reason=f"本功能区项目准入目录未收录行业 {sector_code}",
                )
            ],
        )
    results: list[CriterionResult] = []
    for c in _CRITERIA:
        required = getattr(thresholds, c.threshold)
        if required is None:
            continue
        names = [c.numerator] + ([c.denominator] if c.denominator else [])
        missing = [n for n in names if getattr(facts, n) is None]
        if missing:
            results.append(
                CriterionResult(
                    c.code, c.label, c.unit, c.comparison, required, None, False,
                    "；".join(_MISSING_REASON[n] for n in missing),
                )
            )
            continue
        value: Decimal = getattr(facts, c.numerator)
        if c.denominator is not None:
            value = value / getattr(facts, c.denominator)
        actual = value.quantize(c.places, rounding=ROUND_HALF_UP)
        passed = actual >= required if c.comparison == "min" else actual <= required
        results.append(CriterionResult(c.code, c.label, c.unit, c.comparison, required, actual, passed, None))
    return AdmissionResult(passed=bool(results) and all(r.passed for r in results), criteria=results)


# --- funds in place (实际到位资金) ---------------------------------------------------------------


class FundsSource(StrEnum):
    DOMESTIC_OUTSIDE_CITY = "domestic_outside_city"
    FOREIGN = "foreign"


class FundingSource(StrEnum):
    DOMESTIC_OUTSIDE_CITY = "domestic_outside_city"
    FOREIGN = "foreign"
    LOCAL = "local"


FUNDING_SOURCE_LABELS = {"domestic_outside_city": "市外内资", "foreign": "外资", "local": "本地"}


def parse_period(period: str) -> tuple[int, int]:
    """``"2026-03"`` → ``(2026, 3)``; raises ValueError for anything else."""
    if len(period) != 7 or period[4] != "-" or not (period[:4].isdigit() and period[5:].isdigit()):
        raise ValueError("统计期应为 YYYY-MM 格式 / period must be YYYY-MM")
    year, month = int(period[:4]), int(period[5:])
    if not 1 <= month <= 12 or year < 2000:
        raise ValueError("统计期月份应在 01–12 之间且不早于 2000 年 / period month must be 01-12, year from 2000")
    return year, month


def period_is_future(period: str, today: date) -> bool:
    return parse_period(period) > (today.year, today.month)


def funds_accepted_in(stage: Stage) -> bool:
    """Money arrives after the agreement is signed; a dropped project takes no new records."""
    return stage not in (Stage.DROPPED,) and stage_index(stage) >= stage_index(Stage.SIGNED)


# --- coordination issues (调度 / 吹哨报到) ------------------------------------------------------


class IssueStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


ISSUE_STATUS_LABELS = {
    IssueStatus.OPEN: "待报到",
    IssueStatus.ACKNOWLEDGED: "已报到",
    IssueStatus.ESCALATED: "已升级",
    IssueStatus.RESOLVED: "已解决",
}


class IssueAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    ESCALATE = "escalate"


_ISSUE_MOVES: dict[IssueStatus, dict[IssueAction, IssueStatus]] = {
    IssueStatus.OPEN: {
        IssueAction.ACKNOWLEDGE: IssueStatus.ACKNOWLEDGED,
        IssueAction.RESOLVE: IssueStatus.RESOLVED,
        IssueAction.ESCALATE: IssueStatus.ESCALATED,
    },
    IssueStatus.ACKNOWLEDGED: {IssueAction.RESOLVE: IssueStatus.RESOLVED, IssueAction.ESCALATE: IssueStatus.ESCALATED},
    # An escalated issue is acknowledged again by whoever it went up to, resolved, or pushed higher.
    IssueStatus.ESCALATED: {
        IssueAction.ACKNOWLEDGE: IssueStatus.ACKNOWLEDGED,
        IssueAction.RESOLVE: IssueStatus.RESOLVED,
        IssueAction.ESCALATE: IssueStatus.ESCALATED,
    },
    IssueStatus.RESOLVED: {},
}


class IllegalIssueAction(Exception):
    def __init__(self, status: IssueStatus, action: IssueAction, reason: str = "") -> None:
        super().__init__(f"cannot {action} an issue that is {status}")
        self.status = status
        self.action = action
        self.reason = reason
        self.allowed = allowed_issue_actions(status)


def allowed_issue_actions(status: IssueStatus) -> list[IssueAction]:
    return list(_ISSUE_MOVES[status])


def issue_after(status: IssueStatus, action: IssueAction, *, escalation_level: int = 0, max_level: int = 3) -> IssueStatus:
    moves = _ISSUE_MOVES[status]
    if action not in moves:
        raise IllegalIssueAction(status, action)
    if action == IssueAction.ESCALATE and escalation_level >= max_level:
        raise IllegalIssueAction(status, action, reason="max_level")
    return moves[action]


def is_overdue(status: IssueStatus, due_date: date, today: date) -> bool:
    return status != IssueStatus.RESOLVED and due_date < today


def days_overdue(status: IssueStatus, due_date: date, today: date) -> int:
    return (today - due_date).days if is_overdue(status, due_date, today) else 0


# --- pipeline summary ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineProject:
    stage: Stage
    dropped_from: Stage | None
    agreed_investment_wan: Decimal | None
    chain_code: str | None
    chain_role: ChainRole | None


@dataclass(frozen=True)
class StageStay:
    """A finished stay in a stage (from the stage history): how many days it lasted."""

    stage: Stage
    days: int


@dataclass
class StageFigures:
    stage: Stage
    count: int = 0
    agreed_investment_wan: Decimal = Decimal("0.00")
    reached: int = 0
    median_days: float | None = None
    finished_stays: int = 0


@dataclass
class Conversion:
    from_stage: Stage
    to_stage: Stage
    reached_from: int
    reached_to: int
    rate: float | None


@dataclass
class GroupFigures:
    key: str | None
    count: int = 0
    agreed_investment_wan: Decimal = Decimal("0.00")
    by_stage: dict[str, int] = field(default_factory=dict)


@dataclass
class PipelineFigures:
    total_projects: int
    total_agreed_investment_wan: Decimal
    active_projects: int
    active_agreed_investment_wan: Decimal
    stages: list[StageFigures]
    conversions: list[Conversion]
    by_chain: list[GroupFigures]
    by_chain_role: list[GroupFigures]


def _median(values: Sequence[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def summarize_pipeline(projects: Iterable[PipelineProject], stays: Iterable[StageStay]) -> PipelineFigures:
    """Projects and agreed investment per stage (where they are now), conversion between
    consecutive stages (of the projects that reached a stage, the share that reached the next one;
    a dropped project reached the stage it was dropped from), median days of finished stays per
    stage, and the same counts by chain and by chain role."""
    projects = list(projects)
    figures = {s: StageFigures(s) for s in (*LIFECYCLE, Stage.DROPPED)}
    by_chain: dict[str | None, GroupFigures] = {}
    by_role: dict[str | None, GroupFigures] = {}
    total = Decimal("0.00")
    for p in projects:
        amount = p.agreed_investment_wan or Decimal("0")
        total += amount
        f = figures[p.stage]
        f.count += 1
        f.agreed_investment_wan += amount
        furthest = stage_index(furthest_stage(p.stage, p.dropped_from))
        for s in LIFECYCLE[: furthest + 1]:
            figures[s].reached += 1
        if p.stage == Stage.DROPPED:
            figures[Stage.DROPPED].reached += 1
        for groups, key in ((by_chain, p.chain_code), (by_role, p.chain_role.value if p.chain_role else None)):
            g = groups.setdefault(key, GroupFigures(key))
            g.count += 1
            g.agreed_investment_wan += amount
            g.by_stage[p.stage.value] = g.by_stage.get(p.stage.value, 0) + 1
    days: dict[Stage, list[int]] = {}
    for stay in stays:
        days.setdefault(stay.stage, []).append(stay.days)
    for s, values in days.items():
        figures[s].median_days = _median(values)
        figures[s].finished_stays = len(values)
    conversions = []
    for a, b in zip(LIFECYCLE, LIFECYCLE[1:], strict=False):
        ra, rb = figures[a].reached, figures[b].reached
        conversions.append(Conversion(a, b, ra, rb, round(rb / ra, 4) if ra else None))

    def ordered(groups: dict[str | None, GroupFigures]) -> list[GroupFigures]:
        return sorted(groups.values(), key=lambda g: (g.key is None, g.key or ""))

    dropped = figures[Stage.DROPPED]
    return PipelineFigures(
        total_projects=len(projects),
        total_agreed_investment_wan=round2(total),
        active_projects=len(projects) - dropped.count,
        active_agreed_investment_wan=round2(total - dropped.agreed_investment_wan),
        stages=list(figures.values()),
        conversions=conversions,
        by_chain=ordered(by_chain),
        by_chain_role=ordered(by_role),
    )
