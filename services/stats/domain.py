"""The statistics domain as plain Python: the indicator system's vocabulary, validation rules
(审核规则), the report lifecycle, pre-aggregation arithmetic, co-built splits (合作共建分成),
target progress, differentiated assessment (差异化考核) and what an enterprise still owes.

No FastAPI, SQL or Kafka here; the use cases in ``service.py`` / ``reports.py`` / ``summaries.py`` /
``assessments.py`` feed it rows and persist what it decides.

Numbers. Indicator values are exact decimals with at most four places. They are stored as integer
*units* of 1/10,000 (``value_units``) so sums built up over millions of contributions stay exact on
SQLite and PostgreSQL alike; responses round to the indicator's own ``decimals`` (money: 万元, 2 dp).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from typing import Any

from services.stats.periods import FORM_LABELS, Period, PeriodType

# --- vocabulary ---------------------------------------------------------------------------------


class Aggregation(StrEnum):
    """How an indicator's values combine across contributors and over time.

    - ``sum`` (当期值, flows: output, tax, signed investment): contributors add up; a quarter is the
      sum of its months.
    - ``latest`` (期末值 / 本年累计, stocks and year-to-date values: headcount, floor area, YTD
      fixed-asset investment): contributors add up within a period (each contributor's latest
      value counts); a quarter takes its latest month that has data.
    - ``average`` (rates and means: on-time rate, average working days, occupancy): the mean of all
      contributions in the period.
    """

    SUM = "sum"
    AVERAGE = "average"
    LATEST = "latest"


class Source(StrEnum):
    DIRECT_REPORT = "direct_report"  # 联网直报: enterprises file it
    ZONE_COLLECTED = "zone_collected"  # 功能区自行采集: zone staff enter it
    PLATFORM_EVENT = "platform_event"  # 平台事件派生: from the other services' events


class Dimension(StrEnum):
    """The three assessment dimensions of seed 000 (差异化考核评价体系)."""

    INDUSTRY_DEVELOPMENT = "industry_development"  # 产业发展：主导产业和企业培育
    SUPPORTING_FUNCTIONS = "supporting_functions"  # 功能配套：生活配套和设施保障
    POLICY_DELIVERY = "policy_delivery"  # 政策保障：政策导向和实际效率


class ZoneType(StrEnum):
    NEW_TOWN = "产业新城"
    STREET = "特色街区"
    TOWN = "特色小镇"


class RuleKind(StrEnum):
    REQUIRED = "required"
    RANGE = "range"
    COMPARISON = "comparison"
    CUMULATIVE = "cumulative"
    YOY_CHANGE = "yoy_change"


class ReportStatus(StrEnum):
    SUBMITTED = "submitted"  # 已报送，待审核
    ACCEPTED = "accepted"  # 审核通过
    RETURNED = "returned"  # 退回修改


AGGREGATION_LABELS = {Aggregation.SUM: "累加", Aggregation.AVERAGE: "平均", Aggregation.LATEST: "取最新"}
SOURCE_LABELS = {Source.DIRECT_REPORT: "联网直报", Source.ZONE_COLLECTED: "功能区采集", Source.PLATFORM_EVENT: "平台事件派生"}
DIMENSION_LABELS = {
    Dimension.INDUSTRY_DEVELOPMENT: "产业发展",
    Dimension.SUPPORTING_FUNCTIONS: "功能配套",
    Dimension.POLICY_DELIVERY: "政策保障",
}
RULE_KIND_LABELS = {
    RuleKind.REQUIRED: "必填",
    RuleKind.RANGE: "取值范围",
    RuleKind.COMPARISON: "指标间比较",
    RuleKind.CUMULATIVE: "累计值不得小于上期累计",
    RuleKind.YOY_CHANGE: "同比变动超阈值须说明",
}
STATUS_LABELS = {ReportStatus.SUBMITTED: "待审核", ReportStatus.ACCEPTED: "已通过", ReportStatus.RETURNED: "已退回"}
COMPARISON_OPERATORS = {"<=": "不大于", "<": "小于", ">=": "不小于", ">": "大于", "==": "等于"}


class DomainViolation(Exception):
    """A rule of the domain refused an action. ``kind`` says how the edge should answer:
    ``conflict`` (the state forbids it, 409), ``invalid`` (the input breaks a rule, 422),
    ``forbidden`` (403), ``not_found`` (404)."""

    def __init__(self, zh: str, en: str, *, field: str | None = None, code: str = "invalid", kind: str = "invalid") -> None:
        super().__init__(en)
        self.zh, self.en, self.field, self.code, self.kind = zh, en, field, code, kind


# --- exact values -------------------------------------------------------------------------------

SCALE = 10_000
MAX_DECIMALS = 4


def to_units(value: Decimal | int | float | str) -> int:
    """An exact decimal (≤ 4 places) as integer units of 1/10,000; ValueError otherwise."""
    try:
        dec = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError("应为数字 / not a number") from exc
    if not dec.is_finite():
        raise ValueError("应为有限数字 / must be finite")
    scaled = dec * SCALE
    if scaled != scaled.to_integral_value():
        raise ValueError(f"最多 {MAX_DECIMALS} 位小数 / at most {MAX_DECIMALS} decimal places")
    return int(scaled)


def from_units(units: int) -> Decimal:
    return Decimal(units) / SCALE


def round_to(value: Decimal | None, decimals: int) -> Decimal | None:
    if value is None:
        return None
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def percent_change(current: Decimal | None, base: Decimal | None) -> Decimal | None:
    """(current − base) / |base| × 100, one decimal; None without a non-zero base."""
    if current is None or base is None or base == 0:
        return None
    return round_to((current - base) / abs(base) * 100, 1)


# --- indicator system ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorDef:
    code: str
    name: str
    unit: str
    period_type: PeriodType
    aggregation: Aggregation
    source: Source
    cumulative: bool = False
    decimals: int = 2
    higher_is_better: bool = True
    dimension: Dimension | None = None

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code}）"


def check_indicator_definition(ind: IndicatorDef) -> None:
    """A cumulative (本年累计) value is a year-to-date stock: it must aggregate as ``latest``."""
    if ind.cumulative and ind.aggregation is not Aggregation.LATEST:
        raise DomainViolation(
            "本年累计指标的汇总方式必须为“取最新”",
            "A cumulative (year-to-date) indicator must aggregate as 'latest'",
            field="aggregation",
        )
    if not 0 <= ind.decimals <= MAX_DECIMALS:
        raise DomainViolation(f"小数位数应为 0 至 {MAX_DECIMALS}", "decimals out of range", field="decimals")


# --- validation rules (审核规则) ----------------------------------------------------------------


@dataclass(frozen=True)
class RuleDef:
    id: int
    indicator_code: str
    kind: RuleKind
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name or RULE_KIND_LABELS[self.kind]} #{self.id}"


def normalize_rule_params(
    kind: RuleKind,
    indicator: IndicatorDef,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    operator: str | None = None,
    other: IndicatorDef | None = None,
    other_code: str | None = None,
    factor: Decimal | None = None,
    threshold_percent: Decimal | None = None,
) -> dict[str, Any]:
    """Check a new rule's parameters for its kind and return them as stored (strings for decimals)."""

    def need(name: str, zh: str, en: str) -> DomainViolation:
        return DomainViolation(zh, en, field=name, code="required_for_kind")

    if kind is RuleKind.REQUIRED:
        return {}
    if kind is RuleKind.RANGE:
        if minimum is None and maximum is None:
            raise need("min", "取值范围规则至少需要最小值或最大值", "A range rule needs min or max")
        if minimum is not None and maximum is not None and minimum > maximum:
            raise DomainViolation("最小值不能大于最大值", "min must not exceed max", field="min")
        return {"min": None if minimum is None else str(minimum), "max": None if maximum is None else str(maximum)}
    if kind is RuleKind.COMPARISON:
        if operator is None:
            raise need("operator", "比较规则需要比较符", "A comparison rule needs an operator")
        if operator not in COMPARISON_OPERATORS:
            raise DomainViolation("比较符应为 <=、<、>=、>、== 之一", "operator must be one of <= < >= > ==", field="operator")
        if not other_code:
            raise need("other_indicator", "比较规则需要参照指标", "A comparison rule needs other_indicator")
        if other is None:
            raise DomainViolation(f"参照指标 {other_code} 不存在", f"indicator {other_code} not found", field="other_indicator")
        if other.code == indicator.code:
            raise DomainViolation("参照指标不能是本指标", "other_indicator must differ", field="other_indicator")
        if other.period_type is not indicator.period_type:
            raise DomainViolation(
                "参照指标必须与本指标同属一张报表（报告期类型相同）",
                "other_indicator must have the same period type",
                field="other_indicator",
            )
        if factor is not None and factor <= 0:
            raise DomainViolation("系数必须大于 0", "factor must be positive", field="factor")
        return {"operator": operator, "other_indicator": other.code, "factor": str(factor if factor is not None else 1)}
    if kind is RuleKind.CUMULATIVE:
        if not indicator.cumulative:
            raise DomainViolation(
                f"{indicator.label} 不是本年累计指标，不能设累计规则",
                f"{indicator.code} is not a cumulative indicator",
                field="indicator_code",
            )
        if indicator.period_type is PeriodType.YEAR:
            raise DomainViolation("年度指标没有“上期累计”", "a yearly indicator has no earlier period", field="indicator_code")
        return {}
    if kind is RuleKind.YOY_CHANGE:
        if threshold_percent is None:
            raise need("threshold_percent", "同比规则需要阈值（%）", "A year-on-year rule needs threshold_percent")
        if threshold_percent <= 0:
            raise DomainViolation("阈值必须大于 0", "threshold_percent must be positive", field="threshold_percent")
        return {"threshold_percent": str(threshold_percent)}
    raise DomainViolation("未知的规则类型", "unknown rule kind", field="kind")  # pragma: no cover


@dataclass(frozen=True)
class Violation:
    """One rule a report breaks. ``field`` is where the fix goes: ``values.<code>`` or, for a
    year-on-year jump without a reason, ``explanations.<code>``."""

    indicator_code: str
    indicator_name: str
    rule_id: int
    rule_kind: RuleKind
    rule_label: str
    field: str
    zh: str
    en: str

    @property
    def code(self) -> str:
        return f"rule.{self.rule_kind.value}"


@dataclass(frozen=True)
class ReportContext:
    """What rules compare with: the same enterprise's earlier values, by indicator code."""

    previous_period: Mapping[str, Decimal] = field(default_factory=dict)  # same year, the period before
    last_year: Mapping[str, Decimal] = field(default_factory=dict)  # same period a year earlier


def _cmp(a: Decimal, op: str, b: Decimal) -> bool:
    return {"<=": a <= b, "<": a < b, ">=": a >= b, ">": a > b, "==": a == b}[op]


def validate_report(
    period: Period,
    values: Mapping[str, Decimal],
    explanations: Mapping[str, str],
    rules: Iterable[RuleDef],
    indicators: Mapping[str, IndicatorDef],
    context: ReportContext,
) -> list[Violation]:
    """Every rule the report's values break. Rules of indicators on other forms do not apply."""
    out: list[Violation] = []
    for rule in sorted(rules, key=lambda r: r.id):
        ind = indicators.get(rule.indicator_code)
        if ind is None or ind.period_type is not period.type:
            continue
        value = values.get(ind.code)
        field_name = f"values.{ind.code}"

        def violation(zh: str, en: str, *, where: str = field_name, _r: RuleDef = rule, _i: IndicatorDef = ind) -> Violation:
            return Violation(_i.code, _i.name, _r.id, _r.kind, _r.label, where, f"{_i.label}：{zh}［规则：{_r.label}］", f"{_i.code}: {en} [rule {_r.kind.value} #{_r.id}]")

        if rule.kind is RuleKind.REQUIRED:
            if value is None:
                out.append(violation("必须填报", "is required"))
            continue
        if value is None:
            continue
        if rule.kind is RuleKind.RANGE:
            lo = rule.params.get("min")
            hi = rule.params.get("max")
            if lo is not None and value < Decimal(lo):
                out.append(violation(f"不能小于 {lo}", f"must be at least {lo}"))
            if hi is not None and value > Decimal(hi):
                out.append(violation(f"不能大于 {hi}", f"must be at most {hi}"))
        elif rule.kind is RuleKind.COMPARISON:
            other_code = str(rule.params["other_indicator"])
            other_value = values.get(other_code)
            if other_value is None:
                continue
            op = str(rule.params["operator"])
            factor = Decimal(str(rule.params.get("factor", "1")))
            bound = other_value * factor
            if not _cmp(value, op, bound):
                other = indicators.get(other_code)
                other_label = other.label if other else other_code
                times = "" if factor == 1 else f" 的 {factor} 倍"
                out.append(
                    violation(
                        f"应{COMPARISON_OPERATORS[op]}{other_label}{times}（{value} 对 {bound}）",
                        f"must be {op} {factor} × {other_code} ({value} vs {bound})",
                    )
                )
        elif rule.kind is RuleKind.CUMULATIVE:
            earlier = context.previous_period.get(ind.code)
            if earlier is not None and value < earlier:
                out.append(
                    violation(
                        f"本年累计值 {value} 小于上期累计值 {earlier}",
                        f"cumulative value {value} is below the previous period's {earlier}",
                    )
                )
        elif rule.kind is RuleKind.YOY_CHANGE:
            base = context.last_year.get(ind.code)
            change = percent_change(value, base)
            threshold = Decimal(str(rule.params["threshold_percent"]))
            if change is not None and abs(change) > threshold and not (explanations.get(ind.code) or "").strip():
                out.append(
                    violation(
                        f"同比变动 {change}% 超过 ±{threshold}%，请填写情况说明",
                        f"year-on-year change {change}% exceeds ±{threshold}%: an explanation is required",
                        where=f"explanations.{ind.code}",
                    )
                )
    return out


def check_form_values(period: Period, values: Mapping[str, Any], indicators: Mapping[str, IndicatorDef], *, source: Source) -> None:
    """Every value must name a known indicator of this source whose period type is the period's."""
    for code in values:
        ind = indicators.get(code)
        if ind is None:
            raise DomainViolation(f"指标 {code} 不存在", f"unknown indicator {code}", field=f"values.{code}", code="unknown_indicator")
        if ind.source is not source:
            raise DomainViolation(
                f"{ind.label} 的来源为“{SOURCE_LABELS[ind.source]}”，不能在此填报",
                f"{code} has source {ind.source.value} and is not filed here",
                field=f"values.{code}",
                code="wrong_source",
            )
        if ind.period_type is not period.type:
            raise DomainViolation(
                f"{ind.label} 为{ind.period_type.label}指标，不能填入{period.type.label}{FORM_LABELS[period.type]}（{period}）",
                f"{code} is a {ind.period_type.value} indicator; period {period} is a {period.type.value}",
                field=f"values.{code}",
                code="wrong_period_type",
            )


# --- report lifecycle (报送 → 审核通过 / 退回 → 重报; 关账后更正) ------------------------------------


def check_can_accept(status: ReportStatus, period_closed: bool) -> None:
    if period_closed:
        raise DomainViolation("该报告期已关账，不能再审核", "The period is closed", field="period", code="period_closed", kind="conflict")
    if status is not ReportStatus.SUBMITTED:
        raise DomainViolation(
            f"报表当前状态为“{STATUS_LABELS[status]}”，只有待审核的报表可以通过或退回",
            f"Only a submitted report can be reviewed (it is {status.value})",
            field="status",
            code="invalid_state",
            kind="conflict",
        )


check_can_return = check_can_accept


def check_can_resubmit(status: ReportStatus, period_closed: bool) -> None:
    """An open period accepts a fresh version of any report; a closed one only takes revisions."""
    if period_closed:
        raise DomainViolation(
            "该报告期已关账，不能直接重报；如需更正，请由统计人员办理数据修订",
            "The period is closed: a plain resubmission is refused; a correction is a revision",
            field="period",
            code="period_closed",
            kind="conflict",
        )
    del status  # every state may be replaced while the period is open


def check_can_revise(status: ReportStatus) -> None:
    if status is not ReportStatus.ACCEPTED:
        raise DomainViolation(
            "只能修订已审核通过的报表；未通过的报表请退回后由企业重报",
            "Only an accepted report can be revised",
            field="status",
            code="invalid_state",
            kind="conflict",
        )


# --- pre-aggregation ----------------------------------------------------------------------------


def contribution_change(old_units: int | None, new_units: int | None) -> tuple[int, int]:
    """How one contributor's value changing from ``old`` to ``new`` moves a period's aggregate:
    (Δ sum, Δ count). None means "no value". The same arithmetic serves every aggregation."""
    delta_sum = (new_units or 0) - (old_units or 0)
    delta_count = (new_units is not None) - (old_units is not None)
    return delta_sum, int(delta_count)


@dataclass(frozen=True)
class Cell:
    """One stored aggregate: a zone's indicator for one period of the indicator's own type."""

    period: Period
    sum_units: int
    count: int


def combine(aggregation: Aggregation, cells: Iterable[Cell]) -> Decimal | None:
    """The value of a span of periods from its cells (None when no contribution at all)."""
    present = sorted((c for c in cells if c.count > 0), key=lambda c: c.period.ordinal)
    if not present:
        return None
    if aggregation is Aggregation.SUM:
        return from_units(sum(c.sum_units for c in present))
    if aggregation is Aggregation.AVERAGE:
        return from_units(sum(c.sum_units for c in present)) / sum(c.count for c in present)
    return from_units(present[-1].sum_units)


def value_over(ind: IndicatorDef, span: Period, cells: Mapping[Period, Cell]) -> Decimal | None:
    """The indicator's value for ``span`` (its own period type or coarser)."""
    return combine(ind.aggregation, (cells[p] for p in span.sub_periods(ind.period_type) if p in cells))


def year_to_date(ind: IndicatorDef, through: Period, cells: Mapping[Period, Cell]) -> Decimal | None:
    return combine(ind.aggregation, (cells[p] for p in through.year_to_date(ind.period_type) if p in cells))


def target_progress(ind: IndicatorDef, ytd: Decimal | None, target: Decimal | None) -> Decimal | None:
    """Percent of the year's target reached (for lower-is-better indicators, target ÷ actual)."""
    if ytd is None or target is None or target == 0:
        return None
    if ind.higher_is_better:
        return round_to(ytd / target * 100, 1)
    if ytd <= 0:
        return None
    return round_to(target / ytd * 100, 1)


# --- co-built zones: crediting partners (合作共建分成) ------------------------------------------


def split_largest_remainder(total: int, shares: Sequence[Decimal | int | float | str]) -> list[int]:
    """Split an integer amount by percentage shares so the parts add up to exactly ``total``.

    Each part gets the floor of its exact quota; the units still missing go one each to the parts
    with the largest remainders (ties: the larger share, then the earlier partner). Shares are
    normalised by their own sum, so 70/30 and 7/3 split alike. A negative total splits its
    magnitude and keeps the sign.
    """
    if not shares:
        return []
    fractions = [Fraction(str(s)) for s in shares]
    if any(f < 0 for f in fractions):
        raise ValueError("shares must not be negative")
    weight = sum(fractions)
    if weight == 0:
        raise ValueError("shares must not all be zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    quotas = [magnitude * f / weight for f in fractions]
    parts = [q.numerator // q.denominator for q in quotas]
    missing = magnitude - sum(parts)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - parts[i]), -fractions[i], i))
    for i in order[:missing]:
        parts[i] += 1
    return [sign * p for p in parts]


def split_value(value: Decimal, decimals: int, shares: Sequence[Decimal | int | float | str]) -> list[Decimal]:
    """Split a value at the indicator's precision (e.g. 0.01 万元) by largest remainder."""
    step = Decimal(1).scaleb(-decimals)
    rounded = round_to(value, decimals)
    assert rounded is not None
    units = int(rounded / step)
    return [Decimal(p) * step for p in split_largest_remainder(units, shares)]


def check_partner_shares(partners: Sequence[Mapping[str, Any]]) -> None:
    if not partners:
        return
    total = sum(Decimal(str(p["share_percent"])) for p in partners)
    if total != 100:
        raise DomainViolation(
            f"共建各方分成比例之和应为 100（当前 {total}）", f"partner shares must add up to 100 (got {total})", field="partners"
        )


# --- differentiated assessment (差异化考核, seed 000) ---------------------------------------------

#: Default weights per zone type. Seed 000 asks for "差异化考核评价体系": 产业发展考核突出主导产业和企业培育,
#: 功能配套考核突出生活配套和设施保障, 政策保障考核突出政策导向和实际效率 — but gives no numbers. The defaults
#: lean each type towards what it is for: an industrial new town (产业新城) on industry, a street
#: (特色街区, consumption and living scenes) on supporting functions, a town (特色小镇) balanced.
DEFAULT_WEIGHTS: dict[str, dict[str, Decimal]] = {
    ZoneType.NEW_TOWN.value: {"industry_development": Decimal("0.6"), "supporting_functions": Decimal("0.2"), "policy_delivery": Decimal("0.2")},
    ZoneType.STREET.value: {"industry_development": Decimal("0.3"), "supporting_functions": Decimal("0.45"), "policy_delivery": Decimal("0.25")},
    ZoneType.TOWN.value: {"industry_development": Decimal("0.35"), "supporting_functions": Decimal("0.35"), "policy_delivery": Decimal("0.3")},
}


@dataclass(frozen=True)
class ZoneInput:
    zone_id: str
    zone_type: str
    values: Mapping[str, Decimal | None]  # the year's value per indicator code
    targets: Mapping[str, Decimal]


@dataclass(frozen=True)
class IndicatorScore:
    code: str
    value: Decimal | None
    target: Decimal | None
    basis: str  # "target" | "best_zone" | "no_data"
    score: Decimal


@dataclass(frozen=True)
class ZoneScore:
    zone_id: str
    zone_type: str
    score: Decimal
    rank: int
    zones_ranked: int
    coefficient: Decimal
    dimensions: dict[str, Decimal]
    weights: dict[str, Decimal]
    indicators: list[IndicatorScore]


def check_weights(weights: Mapping[str, Mapping[str, Decimal]]) -> None:
    for zone_type, dims in weights.items():
        if set(dims) != {d.value for d in Dimension}:
            raise ValueError(f"weights for {zone_type} must name exactly {[d.value for d in Dimension]}")
        if any(Decimal(str(w)) < 0 for w in dims.values()):
            raise ValueError(f"weights for {zone_type} must not be negative")
        if sum(Decimal(str(w)) for w in dims.values()) != 1:
            raise ValueError(f"weights for {zone_type} must add up to 1")


def _indicator_score(ind: IndicatorDef, value: Decimal | None, target: Decimal | None, best: Decimal | None) -> IndicatorScore:
    hundred = Decimal(100)
    if value is None:
        return IndicatorScore(ind.code, None, target, "no_data", Decimal(0))
    if target is not None and target > 0:
        if ind.higher_is_better:
            ratio = value / target
        else:
            ratio = Decimal(1) if value <= target else target / value
        return IndicatorScore(ind.code, value, target, "target", max(Decimal(0), min(ratio, Decimal(1))) * hundred)
    if best is None or best <= 0 or (not ind.higher_is_better and value <= 0):
        return IndicatorScore(ind.code, value, target, "best_zone", hundred if best is not None and value == best else Decimal(0))
    ratio = value / best if ind.higher_is_better else best / value
    return IndicatorScore(ind.code, value, target, "best_zone", max(Decimal(0), min(ratio, Decimal(1))) * hundred)


def coefficient_for_rank(rank: int, zones_ranked: int, low: Decimal, high: Decimal) -> Decimal:
    """The zone coefficient for pay (园区考核系数, seed 001's Wuhan model): linear by rank from
    ``high`` for the first to ``low`` for the last; a single zone gets the midpoint."""
    if zones_ranked <= 1:
        return ((low + high) / 2).quantize(Decimal("0.001"))
    step = (high - low) / (zones_ranked - 1)
    return (high - step * (rank - 1)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def score_zones(
    zones: Sequence[ZoneInput],
    indicators: Sequence[IndicatorDef],
    weights: Mapping[str, Mapping[str, Decimal]],
    *,
    coefficient_low: Decimal = Decimal("0.8"),
    coefficient_high: Decimal = Decimal("1.2"),
) -> list[ZoneScore]:
    """Score every zone 0–100 on its type's weighted dimensions, rank, and derive coefficients.

    Per indicator: attainment of the zone's target for the year when it has one (capped at 100),
    otherwise the zone's value relative to the best zone's (比学赶超); no data scores 0. A
    dimension's score is the mean over its indicators that any zone has data or a target for.
    Ranks are competition ranks (equal scores share a rank), so equal zones get equal coefficients.
    """
    scored = [i for i in indicators if i.dimension is not None]
    relevant = [
        i for i in scored if any(z.values.get(i.code) is not None or i.code in z.targets for z in zones)
    ]
    best: dict[str, Decimal | None] = {}
    for ind in relevant:
        present = [v for z in zones if (v := z.values.get(ind.code)) is not None]
        best[ind.code] = (max(present) if ind.higher_is_better else min(present)) if present else None

    interim: list[tuple[ZoneInput, Decimal, dict[str, Decimal], dict[str, Decimal], list[IndicatorScore]]] = []
    for zone in zones:
        zone_weights = {k: Decimal(str(v)) for k, v in (weights.get(zone.zone_type) or weights[ZoneType.NEW_TOWN.value]).items()}
        per_dim: dict[str, list[Decimal]] = defaultdict(list)
        details: list[IndicatorScore] = []
        for ind in relevant:
            s = _indicator_score(ind, zone.values.get(ind.code), zone.targets.get(ind.code), best[ind.code])
            details.append(s)
            assert ind.dimension is not None
            per_dim[ind.dimension.value].append(s.score)
        dims = {
            d.value: (sum(per_dim[d.value], Decimal(0)) / len(per_dim[d.value])).quantize(Decimal("0.01")) if per_dim[d.value] else Decimal("0.00")
            for d in Dimension
        }
        total = sum((zone_weights[d] * dims[d] for d in dims), Decimal(0)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        interim.append((zone, total, dims, zone_weights, details))

    interim.sort(key=lambda t: (-t[1], t[0].zone_id))
    n = len(interim)
    out: list[ZoneScore] = []
    for position, (zone, total, dims, zone_weights, details) in enumerate(interim, start=1):
        rank = out[-1].rank if out and out[-1].score == total else position
        out.append(
            ZoneScore(
                zone_id=zone.zone_id,
                zone_type=zone.zone_type,
                score=total,
                rank=rank,
                zones_ranked=n,
                coefficient=coefficient_for_rank(rank, n, coefficient_low, coefficient_high),
                dimensions=dims,
                weights=zone_weights,
                indicators=details,
            )
        )
    return out


# --- what an enterprise still owes (应报未报 / 退回待改) ------------------------------------------------


@dataclass(frozen=True)
class Obligation:
    """An enterprise owes the forms of these indicators in this zone from ``from_period`` (a month)."""

    zone_id: str
    uscc: str
    indicator_codes: frozenset[str]
    from_period: Period


@dataclass(frozen=True)
class FiledReport:
    report_id: str
    zone_id: str
    uscc: str
    period: Period
    status: ReportStatus
    return_reasons: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class DueItem:
    zone_id: str
    uscc: str
    period: Period
    form: PeriodType
    indicator_codes: tuple[str, ...]
    status: str  # "missing" | "returned"
    due_date: date
    overdue: bool
    period_closed: bool
    report_id: str | None = None
    return_reasons: Sequence[Mapping[str, Any]] = ()


def due_date_for(period: Period, due_day: int) -> date:
    """Reports are due on ``due_day`` of the month after the period ends."""
    end = period.end
    year, month = (end.year + 1, 1) if end.month == 12 else (end.year, end.month + 1)
    return date(year, month, min(due_day, 28))


def implied_obligations(filed: Iterable[FiledReport], filed_codes: Mapping[str, Iterable[str]]) -> list[Obligation]:
    """An enterprise that has filed a form in a zone owes it from its first filed period on."""
    first: dict[tuple[str, str], Period] = {}
    codes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in filed:
        key = (r.zone_id, r.uscc)
        month = Period.month(r.period.year, r.period.first_month)
        if key not in first or month.ordinal < first[key].ordinal:
            first[key] = month
        codes[key].update(filed_codes.get(r.report_id, ()))
    return [Obligation(z, u, frozenset(codes[(z, u)]), p) for (z, u), p in first.items()]


def due_items(
    obligations: Iterable[Obligation],
    filed: Iterable[FiledReport],
    indicators: Mapping[str, IndicatorDef],
    closed: set[tuple[str, str]],
    *,
    as_of: date,
    due_day: int = 10,
    horizon: Mapping[PeriodType, int] | None = None,
) -> list[DueItem]:
    """The forms each obligated enterprise has not filed for finished periods, and returned ones.

    Obligations of the same enterprise and zone merge. Only periods that ended before ``as_of`` are
    owed, looking back at most ``horizon`` periods per form (12 months, 4 quarters, 2 years).
    """
    horizon = horizon or {PeriodType.MONTH: 12, PeriodType.QUARTER: 4, PeriodType.YEAR: 2}
    by_key: dict[tuple[str, str, str], FiledReport] = {(r.zone_id, r.uscc, str(r.period)): r for r in filed}
    merged: dict[tuple[str, str], tuple[set[str], Period]] = {}
    for ob in obligations:
        key = (ob.zone_id, ob.uscc)
        codes, start = merged.get(key, (set(), ob.from_period))
        codes |= set(ob.indicator_codes)
        merged[key] = (codes, start if start.ordinal <= ob.from_period.ordinal else ob.from_period)

    out: list[DueItem] = []
    seen: set[tuple[str, str, str]] = set()
    for (zone_id, uscc), (codes, start) in sorted(merged.items()):
        forms: dict[PeriodType, list[str]] = defaultdict(list)
        for code in sorted(codes):
            ind = indicators.get(code)
            if ind is not None and ind.source is Source.DIRECT_REPORT:
                forms[ind.period_type].append(code)
        for form, form_codes in forms.items():
            last_done = Period.of_date(as_of, form).previous()
            first = start.enclosing(form)
            first = first if first.ordinal >= last_done.ordinal - horizon[form] + 1 else last_done.shift(1 - horizon[form])
            for i in range(max(0, last_done.ordinal - first.ordinal + 1)):
                period = first.shift(i)
                report = by_key.get((zone_id, uscc, str(period)))
                if report is not None and report.status is not ReportStatus.RETURNED:
                    continue
                due = due_date_for(period, due_day)
                seen.add((zone_id, uscc, str(period)))
                out.append(
                    DueItem(
                        zone_id=zone_id,
                        uscc=uscc,
                        period=period,
                        form=form,
                        indicator_codes=tuple(form_codes),
                        status="returned" if report is not None else "missing",
                        due_date=due,
                        overdue=as_of > due,
                        period_closed=(zone_id, str(period)) in closed,
                        report_id=report.report_id if report else None,
                        return_reasons=report.return_reasons if report else (),
                    )
                )
    # A returned report is owed whatever the obligations say.
    for r in filed:
        if r.status is ReportStatus.RETURNED and (r.zone_id, r.uscc, str(r.period)) not in seen:
            due = due_date_for(r.period, due_day)
            out.append(
                DueItem(
                    zone_id=r.zone_id,
                    uscc=r.uscc,
                    period=r.period,
                    form=r.period.type,
                    indicator_codes=(),
                    status="returned",
                    due_date=due,
                    overdue=as_of > due,
                    period_closed=(r.zone_id, str(r.period)) in closed,
                    report_id=r.report_id,
                    return_reasons=r.return_reasons,
                )
            )
    out.sort(key=lambda d: (d.zone_id, d.uscc, d.due_date, d.form.rank, str(d.period)))
    return out
