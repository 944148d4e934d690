"""The rules of position-based HR (岗位管理) as plain Python: no FastAPI, SQL or Kafka.

Everything here is a pure function of its arguments, so the rules read and test on their own:

- **Headcount quota (员额总控)**: department allocations may not add up to more than the zone's
  total; an allocation may not drop below the people serving in the department; a department's
  positions may not offer more posts than its allocation when a position is created or grown
  (a later quota cut may leave posts above the allocation: appointments are then refused at the
  department's limit until positions shrink).
- **Appointment capacity**: one more appointment must fit the position's posts, the department's
  allocation and the zone's total quota; a breach names every limit with its figures.
- **Identity (身份)**: civil servants and public-institution staff keep their locked identity and
  their original establishment (原编制单位) on record; market-hired staff (社会化聘用) need a contract
  term and are never appointed beyond it; seconded staff (派驻) name their sending unit and are not
  appointed beyond the secondment's end when one is set.
- **Competitive appointment (竞聘)**: component weights add up to 100 %; the total is the weighted
  mean of the component scores; ranking and its tie-breaking are in :func:`rank_candidates`.
- **Evaluation (绩效考核)**: the weighted KPI score with fault-tolerance exemptions (容错) removed and
  the remaining weights renormalized (:func:`weighted_score`); grades by thresholds; the bottom
  share of each department (末位, :func:`bottom_flags`); performance pay = base × zone coefficient ×
  department coefficient × individual coefficient (:func:`performance_pay`).
- **Pay (以岗定薪)** and the annual payroll cap (工资总控, seed 004): :func:`post_pay`,
  :func:`annual_cap`, :func:`check_payroll_cap`.
- **Term expiry (聘期届满)**: ``term_end`` is the last day served; the term has run out from the next
  day on (:func:`days_left_in_term` below 0), and the appointment then ends on ``term_end`` with reason
  ``term_end``.

Money is in 万元 as :class:`~decimal.Decimal`, rounded half-up to 2 decimals (0.01 万元 = 100 元)
once, at the end of each computation.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

HUNDRED = Decimal(100)
CENT = Decimal("0.01")


def wan(value: Decimal | int | float | str) -> Decimal:
    """An amount in 万元, rounded half-up to 2 decimals."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def two_dp(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# --- vocabulary ---------------------------------------------------------------------------------


class Category(StrEnum):
    """岗位类别."""

    MANAGEMENT = "management"
    PROFESSIONAL = "professional"
    SUPPORT = "support"


CATEGORY_LABELS = {
    Category.MANAGEMENT: "管理类",
    Category.PROFESSIONAL: "专业技术类",
    Category.SUPPORT: "综合辅助类",
}


class Identity(StrEnum):
    """人员身份: decides which rules apply to a person, whatever position they hold."""

    CIVIL_SERVANT = "civil_servant"
    INSTITUTION = "institution"
    CONTRACT = "contract"
    SECONDED = "seconded"


IDENTITY_LABELS = {
    Identity.CIVIL_SERVANT: "公务员（锁定身份）",
    Identity.INSTITUTION: "事业人员（锁定身份）",
    Identity.CONTRACT: "社会化聘用（合同管理）",
    Identity.SECONDED: "派驻",
}
LOCKED_IDENTITIES = frozenset({Identity.CIVIL_SERVANT, Identity.INSTITUTION})


class EndReason(StrEnum):
    """Why an appointment (聘任) ended."""

    TERM_END = "term_end"
    EVALUATION = "evaluation"
    TRANSFER = "transfer"
    RESIGNATION = "resignation"
    CONTRACT_END = "contract_end"
    SECONDMENT_END = "secondment_end"
    OTHER = "other"


END_REASON_LABELS = {
    EndReason.TERM_END: "任期届满",
    EndReason.EVALUATION: "考核不合格解聘",
    EndReason.TRANSFER: "调任",
    EndReason.RESIGNATION: "辞职",
    EndReason.CONTRACT_END: "合同期满",
    EndReason.SECONDMENT_END: "派驻期满",
    EndReason.OTHER: "其他",
}


class Grade(StrEnum):
    """考核等次."""

    EXCELLENT = "excellent"
    GOOD = "good"
    PASS = "pass"
    FAIL = "fail"


GRADE_LABELS = {Grade.EXCELLENT: "优秀", Grade.GOOD: "良好", Grade.PASS: "合格", Grade.FAIL: "不合格"}


class CycleKind(StrEnum):
    QUARTER = "quarter"
    YEAR = "year"


# --- broken rules -------------------------------------------------------------------------------


class RuleViolation(Exception):
    """A rule was broken. ``field`` names the input at fault; ``figures`` carry the numbers."""

    def __init__(
        self, zh: str, en: str, *, field: str | None = None, figures: Mapping[str, Any] | None = None, code: str = "invalid"
    ) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.field = field
        self.figures = dict(figures or {})
        self.code = code


class InvalidInput(RuleViolation):
    """The request contradicts itself or a rule that needs no stored state (HTTP 422)."""


class LimitExceeded(RuleViolation):
    """A limit would be exceeded: posts, allocation, quota, contract term, payroll cap (HTTP 409)."""

    def __init__(self, zh: str, en: str, *, breaches: list[Breach], figures: Mapping[str, Any] | None = None) -> None:
        super().__init__(zh, en, field=breaches[0].field if breaches else None, figures=figures, code="limit_exceeded")
        self.breaches = breaches


@dataclass(frozen=True)
class Breach:
    """One limit that would be exceeded, with its figures."""

    limit: str
    field: str
    zh: str
    en: str
    figures: dict[str, Any]


# --- headcount quota (员额总控) ------------------------------------------------------------------


def check_allocations(total: int, allocations: Mapping[str, int], *, names: Mapping[str, str] | None = None) -> None:
    """Department allocations may not add up to more than the zone's total headcount quota."""
    allocated = sum(allocations.values())
    if allocated > total:
        figures = {"total_quota": total, "allocated": allocated, "excess": allocated - total}
        raise LimitExceeded(
            f"各部门员额合计 {allocated} 超过员额总数 {total}",
            f"Department allocations add up to {allocated}, more than the total quota of {total}",
            breaches=[
                Breach(
                    "total_quota",
                    "allocations",
                    f"员额分配合计 {allocated} 超过总数 {total}（超出 {allocated - total}）",
                    f"allocations total {allocated} exceed the quota {total} by {allocated - total}",
                    figures,
                )
            ],
            figures=figures,
        )


def check_allocation_covers_filled(department: str, allocation: int, filled: int, *, field: str) -> Breach | None:
    """An allocation may not drop below the people serving in the department (nobody loses a post by a cut)."""
    if allocation >= filled:
        return None
    return Breach(
        "department_allocation",
        field,
        f"{department} 在聘 {filled} 人，员额不能低于 {filled}（拟设 {allocation}）",
        f"{department} has {filled} people serving; its allocation cannot be {allocation}",
        {"department": department, "allocation": allocation, "filled": filled},
    )


def check_department_posts(
    department: str, allocation: int, posts_elsewhere: int, requested_posts: int, *, field: str = "posts"
) -> None:
    """Creating or growing a position may not push the department's posts past its allocation."""
    would_be = posts_elsewhere + requested_posts
    if would_be <= allocation:
        return
    figures = {
        "department": department,
        "department_allocation": allocation,
        "posts_in_other_positions": posts_elsewhere,
        "requested_posts": requested_posts,
        "would_total": would_be,
        "excess": would_be - allocation,
    }
    raise LimitExceeded(
        f"{department} 员额为 {allocation}，其他岗位已设 {posts_elsewhere} 个职数，本岗位最多可设 "
        f"{max(allocation - posts_elsewhere, 0)} 个（申请 {requested_posts}）",
        f"{department} has an allocation of {allocation} with {posts_elsewhere} posts in other positions: "
        f"at most {max(allocation - posts_elsewhere, 0)} posts fit, {requested_posts} requested",
        breaches=[
            Breach(
                "department_allocation",
                field,
                f"岗位职数合计 {would_be} 将超过部门员额 {allocation}",
                f"posts would total {would_be}, over the department allocation of {allocation}",
                figures,
            )
        ],
        figures=figures,
    )


def check_posts_cover_filled(posts: int, filled: int) -> None:
    """A position cannot shrink below the people holding it."""
    if posts >= filled:
        return
    figures = {"posts": posts, "filled": filled}
    raise LimitExceeded(
        f"该岗位在聘 {filled} 人，职数不能少于 {filled}",
        f"{filled} people hold this position; it cannot have fewer than {filled} posts",
        breaches=[Breach("position_posts", "posts", f"职数不能少于在聘人数 {filled}", f"posts below {filled} filled", figures)],
        figures=figures,
    )


@dataclass(frozen=True)
class Capacity:
    """The counts an appointment is checked against, *excluding* any appointment it vacates."""

    position_title: str
    position_posts: int
    position_filled: int
    department_name: str
    department_allocation: int
    department_filled: int
    total_quota: int
    total_filled: int


def check_appointment_capacity(c: Capacity) -> None:
    """One more appointment must fit the position's posts, the department's allocation and the total quota."""
    breaches: list[Breach] = []
    if c.position_filled + 1 > c.position_posts:
        breaches.append(
            Breach(
                "position_posts",
                "position_id",
                f"岗位「{c.position_title}」职数 {c.position_posts}，已聘 {c.position_filled}",
                f"position '{c.position_title}' has {c.position_posts} posts, {c.position_filled} filled",
                {"posts": c.position_posts, "filled": c.position_filled},
            )
        )
    if c.department_filled + 1 > c.department_allocation:
        breaches.append(
            Breach(
                "department_allocation",
                "position_id",
                f"{c.department_name} 员额 {c.department_allocation}，已聘 {c.department_filled}",
                f"{c.department_name} has an allocation of {c.department_allocation}, {c.department_filled} filled",
                {"allocation": c.department_allocation, "filled": c.department_filled},
            )
        )
    if c.total_filled + 1 > c.total_quota:
        breaches.append(
            Breach(
                "total_quota",
                "position_id",
                f"员额总数 {c.total_quota}，已聘 {c.total_filled}",
                f"the total quota is {c.total_quota}, {c.total_filled} filled",
                {"total_quota": c.total_quota, "filled": c.total_filled},
            )
        )
    if breaches:
        raise LimitExceeded(
            "聘任将超出限额：" + "；".join(b.zh for b in breaches),
            "The appointment would exceed: " + "; ".join(b.en for b in breaches),
            breaches=breaches,
            figures={
                "position": {"title": c.position_title, "posts": c.position_posts, "filled": c.position_filled},
                "department": {
                    "name": c.department_name,
                    "allocation": c.department_allocation,
                    "filled": c.department_filled,
                },
                "zone": {"total_quota": c.total_quota, "filled": c.total_filled},
            },
        )


@dataclass(frozen=True)
class DepartmentCount:
    department_id: str
    code: str
    name: str
    allocation: int
    posts: int
    filled: int

    @property
    def vacancies(self) -> int:
        return self.allocation - self.filled


def headcount_summary(zone_id: str, total_quota: int, departments: Iterable[DepartmentCount]) -> dict[str, Any]:
    """The headcount shape the gateway and statistics read: quota, filled and vacancies, per department."""
    rows = list(departments)
    filled = sum(d.filled for d in rows)
    return {
        "zone_id": zone_id,
        "total_quota": total_quota,
        "total_filled": filled,
        "total_vacancies": total_quota - filled,
        "departments": [
            {
                "department_id": d.department_id,
                "code": d.code,
                "name": d.name,
                "allocation": d.allocation,
                "posts": d.posts,
                "filled": d.filled,
                "vacancies": d.vacancies,
            }
            for d in rows
        ],
    }


# --- identity (身份) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityRecord:
    identity: Identity
    original_establishment: str | None = None
    contract_start: date | None = None
    contract_end: date | None = None
    sending_unit: str | None = None
    secondment_end: date | None = None


def identity_errors(r: IdentityRecord) -> list[tuple[str, str, str]]:
    """What an identity requires, as (field, 中文, English) for each problem; empty when complete."""
    errors: list[tuple[str, str, str]] = []
    locked = r.identity in LOCKED_IDENTITIES
    if locked and not r.original_establishment:
        errors.append(
            ("original_establishment", "锁定身份人员须登记原编制单位", "locked-identity staff need their original establishment")
        )
    if r.identity is Identity.CONTRACT:
        if r.contract_start is None:
            errors.append(("contract_start", "社会化聘用人员须登记合同起始日期", "contract staff need a contract start"))
        if r.contract_end is None:
            errors.append(("contract_end", "社会化聘用人员须登记合同截止日期", "contract staff need a contract end"))
        if r.contract_start and r.contract_end and r.contract_end <= r.contract_start:
            errors.append(("contract_end", "合同截止日期须晚于起始日期", "the contract must end after it starts"))
    else:
        for name, value in (("contract_start", r.contract_start), ("contract_end", r.contract_end)):
            if value is not None:
                errors.append((name, "只有社会化聘用人员登记合同期限", "only contract staff have a contract term"))
    if r.identity is Identity.SECONDED:
        if not r.sending_unit:
            errors.append(("sending_unit", "派驻人员须登记派出单位", "seconded staff need their sending unit"))
    else:
        if r.sending_unit:
            errors.append(("sending_unit", "只有派驻人员登记派出单位", "only seconded staff have a sending unit"))
        if r.secondment_end is not None:
            errors.append(("secondment_end", "只有派驻人员登记派驻期限", "only seconded staff have a secondment end"))
    if not locked and r.original_establishment:
        errors.append(
            ("original_establishment", "只有锁定身份人员登记原编制单位", "only locked-identity staff keep an establishment")
        )
    return errors


def check_term_fits_identity(r: IdentityRecord, term_start: date, term_end: date) -> None:
    """Contract staff are never appointed beyond their contract, seconded staff beyond their secondment."""
    if term_end < term_start:
        raise InvalidInput("聘期截止日期不能早于起始日期", "The term must end after it starts", field="term_end")
    if r.identity is Identity.CONTRACT and r.contract_start and r.contract_end:
        if term_start < r.contract_start or term_end > r.contract_end:
            figures = {
                "term_start": term_start.isoformat(),
                "term_end": term_end.isoformat(),
                "contract_start": r.contract_start.isoformat(),
                "contract_end": r.contract_end.isoformat(),
            }
            raise LimitExceeded(
                f"聘期 {term_start}—{term_end} 超出劳动合同期限 {r.contract_start}—{r.contract_end}，请先续签合同",
                f"The term {term_start}–{term_end} falls outside the contract {r.contract_start}–{r.contract_end}",
                breaches=[Breach("contract_term", "term_end", "聘期超出合同期限", "term outside the contract", figures)],
                figures=figures,
            )
    if r.identity is Identity.SECONDED and r.secondment_end and term_end > r.secondment_end:
        figures = {"term_end": term_end.isoformat(), "secondment_end": r.secondment_end.isoformat()}
        raise LimitExceeded(
            f"聘期截止 {term_end} 晚于派驻期满日 {r.secondment_end}",
            f"The term ends {term_end}, after the secondment ends on {r.secondment_end}",
            breaches=[Breach("secondment_term", "term_end", "聘期超出派驻期限", "term beyond the secondment", figures)],
            figures=figures,
        )


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def term_end_for(start: date, months: int) -> date:
    """A term of ``months`` starting on ``start`` ends the day before the same date ``months`` later."""
    return add_months(start, months) - timedelta(days=1)


# --- term expiry (聘期届满) ---------------------------------------------------------------------------

#: How far ahead the expiring-soon list may look (days).
EXPIRY_WINDOW_DEFAULT_DAYS = 30
EXPIRY_WINDOW_MAX_DAYS = 365

#: The note an appointment ended by the term-end job carries (the reason says the rest).
TERM_END_NOTE = "聘期届满，系统自动结束聘任"


def days_left_in_term(term_end: date, today: date) -> int:
    """Days from ``today`` to the term's last day: 0 on the last day, negative once it has run out."""
    return (term_end - today).days


def expiry_horizon(today: date, within_days: int) -> date:
    """The last ``term_end`` the expiring-soon list includes: terms ending today up to ``within_days`` ahead."""
    if not 1 <= within_days <= EXPIRY_WINDOW_MAX_DAYS:
        raise InvalidInput(
            f"天数须在 1 到 {EXPIRY_WINDOW_MAX_DAYS} 之间", f"days must be between 1 and {EXPIRY_WINDOW_MAX_DAYS}", field="days"
        )
    return today + timedelta(days=within_days)


def term_expiry_label(days_left: int) -> str:
    """How the expiring-soon list words a term's remaining days for zone staff."""
    if days_left < 0:
        return f"聘期已届满 {-days_left} 天，待结束聘任"
    if days_left == 0:
        return "今天是聘期最后一天"
    return f"聘期还剩 {days_left} 天"


# --- weights and scores ---------------------------------------------------------------------------


def check_weights(weights: Mapping[str, Decimal], *, field: str) -> None:
    """Component or KPI weights (in %) are positive and add up to exactly 100."""
    if not weights:
        raise InvalidInput("至少需要一个权重项", "At least one weighted item is required", field=field)
    for name, weight in weights.items():
        if weight <= 0 or weight > HUNDRED:
            raise InvalidInput(
                f"权重「{name}」应大于 0 且不超过 100", f"weight of {name!r} must be in (0, 100]", field=f"{field}.{name}"
            )
    total = sum(weights.values(), Decimal(0))
    if total != HUNDRED:
        raise InvalidInput(
            f"权重之和应为 100%，当前为 {total}%",
            f"Weights must add up to 100%, they add up to {total}%",
            field=field,
            figures={"sum": str(total)},
        )


def check_scores(scores: Mapping[str, Decimal], allowed: Collection[str], *, field: str = "scores") -> None:
    for name, value in scores.items():
        if name not in allowed:
            raise InvalidInput(
                f"「{name}」不是本次评分的项目（可选：{'、'.join(allowed)}）",
                f"{name!r} is not a scored item (one of: {', '.join(allowed)})",
                field=f"{field}.{name}",
            )
        if value < 0 or value > HUNDRED:
            raise InvalidInput("得分应在 0 到 100 之间", "scores are between 0 and 100", field=f"{field}.{name}")


def weighted_score(
    scores: Mapping[str, Decimal], weights: Mapping[str, Decimal], exempt: Collection[str] = ()
) -> Decimal:
    """The weighted mean of the scores (0–100), 2 decimals.

    Fault tolerance (容错, seed 001): an exempted item is removed from the score — it counts neither
    for nor against the person — and the remaining items' weights are renormalized to 100 %:
    ``score = Σ(sᵢ·wᵢ) / Σwᵢ`` over the items that are not exempt. With items A 60 % and B 40 %,
    scores 90 and 50, the score is 74; with B exempt it is 90. At least one item must remain.
    """
    counted = [name for name in weights if name not in exempt]
    if not counted:
        raise InvalidInput(
            "所有考核项都已容错豁免，无法计算得分", "Every item is exempt: no score can be computed", field="kpi_code"
        )
    missing = [name for name in counted if name not in scores]
    if missing:
        raise InvalidInput(
            f"缺少以下项目的得分：{'、'.join(missing)}", f"Missing scores for: {', '.join(missing)}", field="scores"
        )
    weight_total = sum((weights[name] for name in counted), Decimal(0))
    return two_dp(sum((scores[name] * weights[name] for name in counted), Decimal(0)) / weight_total)


# --- competitive appointment (竞聘) -----------------------------------------------------------------


@dataclass(frozen=True)
class CandidateScores:
    candidate_id: str
    applied_at: datetime
    scores: Mapping[str, Decimal]


@dataclass(frozen=True)
class RankedCandidate:
    candidate_id: str
    rank: int
    total: Decimal
    tied_on_total: bool
    decided_by: str | None = None


def tie_break_components(weights: Mapping[str, Decimal]) -> list[str]:
    """Components in the order they break ties: heavier weight first, equal weights by name."""
    return sorted(weights, key=lambda name: (-weights[name], name))


def rank_candidates(
    candidates: Iterable[CandidateScores], weights: Mapping[str, Decimal]
) -> tuple[list[RankedCandidate], list[str]]:
    """Rank the fully scored candidates; return (ranking, ids of candidates still missing scores).

    Order, deterministic and documented:
      1. the weighted total, higher first;
      2. on equal totals, the score of the heaviest-weighted component, higher first, then the next
         heaviest, and so on (equal weights: by component name);
      3. then the earlier application (``applied_at``);
      4. finally the candidate id, so two identical records still rank the same way every time.
    ``decided_by`` names the criterion that put a candidate ahead of the next one with the same total.
    """
    order = tie_break_components(weights)
    complete: list[tuple[tuple[Any, ...], CandidateScores, Decimal]] = []
    incomplete: list[str] = []
    for c in candidates:
        if any(name not in c.scores for name in weights):
            incomplete.append(c.candidate_id)
            continue
        total = weighted_score(c.scores, weights)
        key = (-total, *(-c.scores[name] for name in order), c.applied_at, c.candidate_id)
        complete.append((key, c, total))
    complete.sort(key=lambda item: item[0])
    criteria = [f"component:{name}" for name in order] + ["applied_at", "candidate_id"]
    ranked: list[RankedCandidate] = []
    for i, (key, c, total) in enumerate(complete):
        same_before = i > 0 and complete[i - 1][2] == total
        same_after = i + 1 < len(complete) and complete[i + 1][2] == total
        decided_by = None
        if same_after:
            next_key = complete[i + 1][0]
            decided_by = next(
                (criteria[j - 1] for j in range(1, len(key)) if key[j] != next_key[j]), "candidate_id"
            )
        ranked.append(RankedCandidate(c.candidate_id, i + 1, total, same_before or same_after, decided_by))
    return ranked, incomplete


# --- evaluation (绩效考核) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GradeThresholds:
    """Lowest weighted score of each grade; below ``pass_`` is 不合格."""

    excellent: Decimal
    good: Decimal
    pass_: Decimal

    def check(self) -> None:
        if not (Decimal(0) <= self.pass_ < self.good < self.excellent <= HUNDRED):
            raise InvalidInput(
                "等次分数线应满足 0 ≤ 合格 < 良好 < 优秀 ≤ 100",
                "Thresholds must satisfy 0 ≤ pass < good < excellent ≤ 100",
                field="thresholds",
            )

    def grade_for(self, score: Decimal) -> Grade:
        if score >= self.excellent:
            return Grade.EXCELLENT
        if score >= self.good:
            return Grade.GOOD
        if score >= self.pass_:
            return Grade.PASS
        return Grade.FAIL


def bottom_flags(scores: Mapping[str, Decimal], share: Decimal) -> set[str]:
    """The people flagged 末位 in one department.

    ``floor(headcount × share)`` people from the bottom (a department smaller than ``1 / share``
    flags nobody); everyone whose score equals the last flagged score is flagged too, so equal
    scores are never treated differently.
    """
    count = math.floor(Decimal(len(scores)) * share)
    if count <= 0:
        return set()
    ordered = sorted(scores.values())
    cutoff = ordered[count - 1]
    return {person for person, score in scores.items() if score <= cutoff}


def cycle_base_pay(annual_base_wan: Decimal, kind: CycleKind) -> Decimal:
    """A cycle's base performance pay: the grade's annual base, a quarter of it for a quarter."""
    return annual_base_wan / 4 if kind is CycleKind.QUARTER else annual_base_wan


def performance_pay(base: Decimal, zone: Decimal, department: Decimal, individual: Decimal) -> Decimal:
    """Performance pay = base × zone coefficient × department coefficient × individual coefficient (seed 001)."""
    return wan(base * zone * department * individual)


@dataclass(frozen=True)
class ZoneCoefficient:
    value: Decimal
    source: str


DEFAULT_ZONE_COEFFICIENT = ZoneCoefficient(Decimal("1.0"), "default")


def pick_zone_coefficient(year: int, published: Mapping[int, Decimal], zone_id: str) -> ZoneCoefficient:
    """The zone's assessment coefficient for a cycle of ``year``: that year's if published, else
    the latest earlier year's (the assessment of a year is only published after it ends), else 1.0."""
    years = [y for y in published if y <= year]
    if not years:
        return DEFAULT_ZONE_COEFFICIENT
    chosen = max(years)
    return ZoneCoefficient(published[chosen], f"assessment:{zone_id}:{chosen}")


# --- periods ------------------------------------------------------------------------------------

MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(period: str) -> tuple[int, int]:
    match = MONTH_RE.match(period)
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise InvalidInput("月份格式应为 YYYY-MM（2000—2100 年）", "A period is YYYY-MM (2000–2100)", field="period")
    return int(match.group(1)), int(match.group(2))


def month_bounds(period: str) -> tuple[date, date]:
    year, month = parse_month(period)
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def cycle_bounds(kind: CycleKind, year: int, quarter: int | None) -> tuple[date, date, str]:
    """First day, last day and label (``2025Q1`` / ``2025``) of an evaluation cycle."""
    if kind is CycleKind.YEAR:
        if quarter is not None:
            raise InvalidInput("年度考核不填季度", "A year cycle has no quarter", field="quarter")
        return date(year, 1, 1), date(year, 12, 31), str(year)
    if quarter is None or not 1 <= quarter <= 4:
        raise InvalidInput("季度考核须填季度 1–4", "A quarter cycle needs quarter 1–4", field="quarter")
    first_month = 3 * (quarter - 1) + 1
    last_month = first_month + 2
    return (
        date(year, first_month, 1),
        date(year, last_month, calendar.monthrange(year, last_month)[1]),
        f"{year}Q{quarter}",
    )


def next_month(day: date) -> str:
    following = add_months(date(day.year, day.month, 1), 1)
    return f"{following.year:04d}-{following.month:02d}"


# --- pay (以岗定薪) and the payroll cap (工资总控) ----------------------------------------------------


def post_pay(
    band_min: Decimal, band_max: Decimal, position_in_band: Decimal, days_served: int = 1, days_in_month: int = 1
) -> Decimal:
    """Post pay (岗位工资, 以岗定薪) for a month: ``min + (max − min) × position`` of the grade's monthly
    band (0 = the band's floor, 1 = its ceiling), prorated by the days served in the month."""
    position_in_band = min(max(position_in_band, Decimal(0)), Decimal(1))
    monthly = band_min + (band_max - band_min) * position_in_band
    return wan(monthly * days_served / days_in_month)


def annual_cap(multiple: Decimal, reference_average_wan: Decimal, headcount: int) -> Decimal:
    """工资总控 (seed 004): the year's payroll may not exceed multiple × reference average × headcount quota."""
    return wan(multiple * reference_average_wan * headcount)


@dataclass
class CapCheck:
    cap: Decimal
    multiple: Decimal
    reference_average_wan: Decimal
    headcount: int
    paid_before: Decimal
    this_run: Decimal
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def year_to_date(self) -> Decimal:
        return wan(self.paid_before + self.this_run)

    def figures(self) -> dict[str, Any]:
        return {
            "annual_cap_wan": float(self.cap),
            "cap_multiple": float(self.multiple),
            "reference_average_wan": float(self.reference_average_wan),
            "cap_headcount": self.headcount,
            "paid_earlier_this_year_wan": float(self.paid_before),
            "this_run_wan": float(self.this_run),
            "year_to_date_wan": float(self.year_to_date),
            "excess_wan": float(wan(max(self.year_to_date - self.cap, Decimal(0)))),
            **self.extra,
        }


def check_payroll_cap(check: CapCheck) -> None:
    """The year's payroll so far plus this run may not exceed the annual cap."""
    if check.year_to_date <= check.cap:
        return
    figures = check.figures()
    raise LimitExceeded(
        f"本年度工资累计将达 {check.year_to_date} 万元，超过工资总控额度 {check.cap} 万元"
        f"（{check.multiple} 倍 × 参照年均 {check.reference_average_wan} 万元 × 员额 {check.headcount}），"
        f"超出 {figures['excess_wan']} 万元",
        f"The year's payroll would reach {check.year_to_date} (10k CNY), over the cap of {check.cap}",
        breaches=[
            Breach("payroll_cap", "period", "超过工资总控额度", "over the annual payroll cap", figures),
        ],
        figures=figures,
    )
