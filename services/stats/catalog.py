"""The indicator system the seeds name (指标体系), and the validation rules it starts with.

Sources of the list: seed 001 (生物城: 固定资产投资、规上(限上)企业产值、税收 are 统计联网直报指标;
新签约引进重大项目、实际到位市外内资、实际利用外资 are collected by the zone itself), seed 002 (标准厂房
建设面积, 专业楼宇面积 and 存量楼宇入驻率, 人才统计体系 / 人才信息库), seed 004 (芯谷: 全口径税收, 新增市场
主体, 固定资产投资, 新引进产业项目与协议总投资, 181 项审批事项下沉, 员额总控). The event-derived ones
come from the platform's own services (investment, approvals, hr).

Consumers fall back on these definitions when the table lacks an event-derived indicator, so
events count even before an operator seeds the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.stats.domain import Aggregation, Dimension, IndicatorDef, RuleKind, Source
from services.stats.periods import PeriodType

M, Q = PeriodType.MONTH, PeriodType.QUARTER
SUM, AVG, LATEST = Aggregation.SUM, Aggregation.AVERAGE, Aggregation.LATEST
DIRECT, ZONE, EVENT = Source.DIRECT_REPORT, Source.ZONE_COLLECTED, Source.PLATFORM_EVENT
IND, SUP, POL = Dimension.INDUSTRY_DEVELOPMENT, Dimension.SUPPORTING_FUNCTIONS, Dimension.POLICY_DELIVERY


@dataclass(frozen=True)
class Seeded:
    definition: IndicatorDef
    description: str


def _i(
    code: str,
    name: str,
    unit: str,
    period_type: PeriodType,
    aggregation: Aggregation,
    source: Source,
    dimension: Dimension | None,
    description: str,
    *,
    cumulative: bool = False,
    decimals: int = 2,
    higher_is_better: bool = True,
) -> Seeded:
    return Seeded(
        IndicatorDef(code, name, unit, period_type, aggregation, source, cumulative, decimals, higher_is_better, dimension),
        description,
    )


INDICATORS: list[Seeded] = [
    # 联网直报 (enterprises file them; seed 001)
    _i("fixed_asset_investment", "固定资产投资（本年累计）", "万元", M, LATEST, DIRECT, IND,
       "计划总投资 500 万元及以上项目完成投资，本年累计值（seed 001、004）", cumulative=True),
    _i("industrial_output_above_scale", "规上工业总产值", "万元", M, SUM, DIRECT, IND,
       "规模以上工业企业当月工业总产值（主营业务收入 2000 万元及以上，seed 001）"),
    _i("main_business_revenue", "主营业务收入", "万元", M, SUM, DIRECT, None,
       "企业当月主营业务收入，用于判定规上/限上与审核税收"),
    _i("total_tax", "全口径税收", "万元", M, SUM, DIRECT, IND, "企业当月缴纳的全口径税收（seed 001、004）"),
    _i("employees", "从业人员期末人数", "人", M, LATEST, DIRECT, None, "企业月末从业人员数", decimals=0),
    _i("talent_count", "产业人才总数", "人", Q, LATEST, DIRECT, IND, "人才统计体系：季末在岗产业人才（seed 002）", decimals=0),
    _i("high_level_talent_count", "高层次人才数", "人", Q, LATEST, DIRECT, IND,
       "其中高层次人才（含团队成员，seed 001、002）", decimals=0),
    # 功能区采集 (zone staff enter them; seed 002, 004)
    _i("new_market_entities", "新增市场主体", "户", M, SUM, ZONE, IND, "当月新登记市场主体（seed 004）", decimals=0),
    _i("standard_factory_area", "标准厂房建设面积（本年累计）", "万平方米", Q, LATEST, ZONE, SUP,
       "本年累计建成标准厂房面积（seed 002）", cumulative=True),
    _i("professional_building_area", "专业楼宇建设面积（本年累计）", "万平方米", Q, LATEST, ZONE, SUP,
       "本年累计建成专业楼宇面积（seed 002）", cumulative=True),
    _i("building_occupancy_rate", "存量楼宇平均入驻率", "%", Q, AVG, ZONE, SUP, "存量楼宇平均入驻率，不低于 70%（seed 002）", decimals=1),
    # 平台事件派生 (from the investment, approvals and hr services' events)
    _i("signed_projects", "新签约项目数", "个", M, SUM, EVENT, IND, "当月签约的招商项目（投资服务事件）", decimals=0),
    _i("major_projects_signed", "新签约引进重大项目", "个", M, SUM, EVENT, IND,
       "其中重点项目（seed 001：非联网直报，由管委会收集）", decimals=0),
    _i("agreed_investment", "新签约项目协议投资额", "万元", M, SUM, EVENT, IND, "当月签约项目的协议投资额（seed 004）"),
    _i("funds_domestic_outside_city", "实际到位市外内资", "万元", M, SUM, EVENT, IND, "当月实际到位市外内资（seed 001）"),
    _i("foreign_capital_utilized", "实际利用外资", "万元", M, SUM, EVENT, IND, "当月实际利用外资（seed 001）"),
    _i("approvals_completed", "审批办结件数", "件", M, SUM, EVENT, POL, "当月办结的审批办件（seed 004：181 项事项下沉）", decimals=0),
    _i("approvals_on_time_rate", "审批按时办结率", "%", M, AVG, EVENT, POL, "当月办结件中在承诺时限内办结的比例", decimals=1),
    _i("approvals_avg_working_days", "审批平均办理时长", "工作日", M, AVG, EVENT, POL,
       "当月办结件平均用时（工作日，越短越好）", decimals=1, higher_is_better=False),
    _i("headcount_filled", "员额在岗人数", "人", M, LATEST, EVENT, None, "员额总控下的在岗人数（seed 000、004）", decimals=0),
    _i("headcount_vacancies", "员额空缺数", "个", M, LATEST, EVENT, None, "员额总控下的空缺岗位数", decimals=0),
]

BUILT_IN: dict[str, IndicatorDef] = {s.definition.code: s.definition for s in INDICATORS}


@dataclass(frozen=True)
class SeedRule:
    indicator_code: str
    kind: RuleKind
    name: str
    params: dict[str, Any]


RULES: list[SeedRule] = [
    SeedRule("industrial_output_above_scale", RuleKind.REQUIRED, "规上工业总产值必填", {}),
    SeedRule("main_business_revenue", RuleKind.REQUIRED, "主营业务收入必填", {}),
    SeedRule("total_tax", RuleKind.REQUIRED, "税收必填", {}),
    SeedRule("industrial_output_above_scale", RuleKind.RANGE, "产值取值范围", {"min": "0", "max": "10000000"}),
    SeedRule("main_business_revenue", RuleKind.RANGE, "收入不能为负", {"min": "0", "max": None}),
    SeedRule("total_tax", RuleKind.RANGE, "税收不能为负", {"min": "0", "max": None}),
    SeedRule("employees", RuleKind.RANGE, "从业人数范围", {"min": "0", "max": "200000"}),
    SeedRule("total_tax", RuleKind.COMPARISON, "税收不大于主营业务收入", {"operator": "<=", "other_indicator": "main_business_revenue", "factor": "1"}),
    SeedRule("high_level_talent_count", RuleKind.COMPARISON, "高层次人才不多于人才总数", {"operator": "<=", "other_indicator": "talent_count", "factor": "1"}),
    SeedRule("fixed_asset_investment", RuleKind.CUMULATIVE, "累计投资不得回落", {}),
    SeedRule("industrial_output_above_scale", RuleKind.YOY_CHANGE, "产值同比大幅变动须说明", {"threshold_percent": "50"}),
    SeedRule("total_tax", RuleKind.YOY_CHANGE, "税收同比大幅变动须说明", {"threshold_percent": "50"}),
]
