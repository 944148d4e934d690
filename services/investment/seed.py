"""Demo data: two chains with their nodes, the chain panorama of 成都芯谷 (IC) and 天府国际生物城
(biomedicine), both zones' admission catalogs and target companies, fifteen projects across every
stage (with backdated stage dates so times per stage are meaningful), admission checks, funds in
place for 2026 and two coordination issues, one of them overdue.

It goes through the same use cases as the API (so events and audit entries are written too) and
does nothing when the database already has chains. Companies and people are fictional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chassis.auth import Principal
from chassis.validators import uscc_with_check_digit
from services.investment import chains, issues, projects
from services.investment.access import today
from services.investment.domain import IssueAction, Stage
from services.investment.models import Chain, CoordinationIssue
from services.investment.schemas import (
    CatalogEntryIn,
    ChainIn,
    FundsIn,
    IssueAcknowledgeIn,
    IssueIn,
    NodeIn,
    NodeStatusIn,
    ProjectIn,
    TargetIn,
    TransitionIn,
)

XINGU, BIOTOWN = "cd-xingu", "tf-biotown"

# Demo enterprises registered in the zones (the gateway seeds their accounts).
USCC_XINGU_DESIGN = "91510100MA6DGXQ125"  # 成都芯谷集成电路设计有限公司
USCC_RONGXIN_PACKAGING = "91510100MA6C8U4P5L"  # 蓉芯封装测试有限公司
USCC_TIANFU_BIOMED = "91510116MA68N7WB32"  # 天府生物医药科技有限公司
USCC_SHUANGLIU_PRECISION = "91510122MA6ABCD116"  # 双流精密制造有限公司
USCC_HUATE_MATERIALS = uscc_with_check_digit("91510116MA7F3K2X5")  # 成都华特电子材料有限公司 (demo)

ADMIN = Principal(subject="admin", kind="admin", roles=frozenset({"admin"}), name="系统管理员")
STAFF = {
    XINGU: Principal(
        subject="xingu.investment", kind="staff", roles=frozenset({"investment"}), zone_id=XINGU, name="芯谷招商局"
    ),
    BIOTOWN: Principal(
        subject="biotown.investment", kind="staff", roles=frozenset({"investment"}), zone_id=BIOTOWN, name="生物城投资促进局"
    ),
}

IC_NODES = [
    ("ic.eda_ip", "EDA工具与IP核", "upstream", "电子设计自动化软件、半导体知识产权核"),
    ("ic.equipment_materials", "装备与材料", "upstream", "半导体设备、电子特气、湿化学品、靶材、硅片"),
    ("ic.design", "集成电路设计", "midstream", "芯片设计（含功率半导体、射频、存储控制）"),
    ("ic.wafer", "晶圆制造", "midstream", "8/12 英寸晶圆代工与特色工艺"),
    ("ic.packaging_testing", "封装测试", "midstream", "先进封装、系统级封装与测试"),
    ("ic.terminal", "终端应用", "downstream", "智能终端、汽车电子、工业控制"),
]
BIOMED_NODES = [
    ("biomed.innovative_drugs", "创新药研发", "upstream", "小分子、大分子创新药及改良型新药"),
    ("biomed.cro_cdmo", "CRO/CDMO", "midstream", "合同研究与合同研发生产外包"),
    ("biomed.biological_products", "生物制品", "midstream", "疫苗、抗体、细胞与基因治疗产品"),
    ("biomed.medical_devices", "医疗器械", "midstream", "高端医学影像、体外诊断、植介入器械"),
    ("biomed.medical_services", "医疗服务", "downstream", "医学中心、第三方检测、互联网医院"),
]
PANORAMA = {
    XINGU: {
        "ic.eda_ip": ("missing", "区内尚无 EDA/IP 企业，设计企业依赖外购"),
        "ic.equipment_materials": ("weak", "仅有少量材料配套企业"),
        "ic.design": ("present", "集聚设计企业 60 余家"),
        "ic.wafer": ("missing", "无晶圆制造产线"),
        "ic.packaging_testing": ("weak", "已有蓉芯封装测试，产能不足"),
        "ic.terminal": ("present", "终端整机企业配套较完整"),
    },
    BIOTOWN: {
        "biomed.innovative_drugs": ("present", "创新药企业集聚，在研品种 200 余个"),
        "biomed.cro_cdmo": ("weak", "CDMO 产能不足，大分子外包需出省"),
        "biomed.biological_products": ("present", "疫苗与抗体企业已成规模"),
        "biomed.medical_devices": ("missing", "高端医疗器械制造缺位"),
        "biomed.medical_services": ("weak", "医学中心在建，第三方检测不足"),
    },
}

D = Decimal


def _catalog() -> list[CatalogEntryIn]:
    return [
        CatalogEntryIn(
            zone_id=XINGU, sector_code="ic_design", sector_name="集成电路设计", chain_code="ic",
            min_total_investment_wan=D("3000"), max_energy_per_output_tce_per_wan=D("0.0200"),
            note="设计企业多租用楼宇，不设亩均指标",
        ),
        CatalogEntryIn(
            zone_id=XINGU, sector_code="ic_packaging", sector_name="集成电路封装测试", chain_code="ic",
            min_total_investment_wan=D("20000"), min_investment_intensity_wan_per_mu=D("500"),
            min_output_per_mu_wan=D("800"), min_tax_per_mu_wan=D("50"), max_energy_per_output_tce_per_wan=D("0.0800"),
        ),
        CatalogEntryIn(
            zone_id=XINGU, sector_code="ic_wafer", sector_name="晶圆制造", chain_code="ic",
            min_total_investment_wan=D("100000"), min_investment_intensity_wan_per_mu=D("800"),
            min_output_per_mu_wan=D("1000"), min_tax_per_mu_wan=D("60"), max_energy_per_output_tce_per_wan=D("0.1500"),
        ),
        CatalogEntryIn(
            zone_id=XINGU, sector_code="ic_materials", sector_name="半导体材料", chain_code="ic",
            min_investment_intensity_wan_per_mu=D("400"), min_output_per_mu_wan=D("600"),
            min_tax_per_mu_wan=D("40"), max_energy_per_output_tce_per_wan=D("0.2000"),
        ),
        CatalogEntryIn(
            zone_id=BIOTOWN, sector_code="biomed_drugs", sector_name="创新药", chain_code="biomed",
            min_investment_intensity_wan_per_mu=D("400"), min_output_per_mu_wan=D("600"),
            min_tax_per_mu_wan=D("40"), max_energy_per_output_tce_per_wan=D("0.0600"),
        ),
        CatalogEntryIn(
            zone_id=BIOTOWN, sector_code="biomed_cdmo", sector_name="CRO/CDMO", chain_code="biomed",
            min_investment_intensity_wan_per_mu=D("350"), min_output_per_mu_wan=D("500"),
            min_tax_per_mu_wan=D("35"), max_energy_per_output_tce_per_wan=D("0.0800"),
        ),
        CatalogEntryIn(
            zone_id=BIOTOWN, sector_code="biomed_devices", sector_name="医疗器械", chain_code="biomed",
            min_investment_intensity_wan_per_mu=D("300"), min_output_per_mu_wan=D("500"),
            min_tax_per_mu_wan=D("30"), max_energy_per_output_tce_per_wan=D("0.0500"),
        ),
        CatalogEntryIn(
            zone_id=BIOTOWN, sector_code="biomed_biologics", sector_name="生物制品", chain_code="biomed",
            min_investment_intensity_wan_per_mu=D("450"), min_output_per_mu_wan=D("700"),
            min_tax_per_mu_wan=D("45"), max_energy_per_output_tce_per_wan=D("0.1000"),
        ),
    ]


TARGETS = [
    (XINGU, "ic.eda_ip", "华大九章软件（北京）有限公司", "key", "北京", "国产 EDA 全流程工具，拟设西南研发中心"),
    (XINGU, "ic.wafer", "晶微半导体（新加坡）私人有限公司", "key", "新加坡", "12 英寸特色工艺，已进入洽谈"),
    (XINGU, "ic.equipment_materials", "浙江华特新材料股份有限公司", "supporting", "杭州", "电子特气供应商"),
    (BIOTOWN, "biomed.medical_devices", "深圳康迈医疗器械股份有限公司", "key", "深圳", "医学影像与监护设备"),
    (BIOTOWN, "biomed.cro_cdmo", "博瑞生物制药公司（BioRay Pharma Inc.）", "key", "美国波士顿", "大分子 CDMO"),
]


@dataclass
class DemoProject:
    zone: str
    body: dict[str, Any]
    node: str | None
    lead_on: date
    steps: list[tuple[Stage, date]] = field(default_factory=list)
    transition_data: dict[Stage, dict[str, Any]] = field(default_factory=dict)
    drop: tuple[date, str] | None = None
    funds: list[tuple[str, str, str]] = field(default_factory=list)
    check: bool = False


def _path(until: Stage, dates: list[str]) -> list[tuple[Stage, date]]:
    stages = [Stage.CONTACTING, Stage.NEGOTIATING, Stage.SIGNED, Stage.REGISTERED, Stage.LAND_SECURED,
              Stage.UNDER_CONSTRUCTION, Stage.IN_OPERATION]
    upto = stages[: stages.index(until) + 1] if until != Stage.LEAD else []
    assert len(upto) == len(dates), (until, dates)
    return [(s, date.fromisoformat(d)) for s, d in zip(upto, dates, strict=True)]


def _projects() -> list[DemoProject]:
    team_x = ["李明（芯谷招商局）", "陈静（芯谷企业服务局）", "赵磊（芯谷规划建设局）"]
    team_b = ["刘洋（生物城投资促进局）", "周婷（生物城企业服务局）"]
    return [
        DemoProject(
            XINGU,
            dict(name="成都芯谷集成电路设计研发中心项目", investor="华芯微电子（深圳）股份有限公司",
                 sector_code="ic_design", agreed_investment_wan=D("12000"), funding_source="domestic_outside_city",
                 expected_annual_output_wan=D("60000"), expected_annual_tax_wan=D("3600"),
                 expected_annual_energy_tce=D("600"), key_project=True, leader="王建国（芯谷管委会副主任）",
                 task_team=team_x, policy_measures=["研发楼宇前三年租金全免", "流片费用按 30% 补助，最高 1000 万元"]),
            "ic.design", date(2025, 3, 10),
            _path(Stage.IN_OPERATION, ["2025-04-02", "2025-05-20", "2025-07-08", "2025-08-01", "2025-08-01",
                                       "2025-10-15", "2026-05-18"]),
            {Stage.REGISTERED: {"uscc": USCC_XINGU_DESIGN}, Stage.LAND_SECURED: {"land_area_mu": D("20")}},
            funds=[("2026-02", "3000", "domestic_outside_city"), ("2026-06", "2500", "domestic_outside_city")],
            check=True,
        ),
        DemoProject(
            XINGU,
            dict(name="蓉芯先进封装测试基地项目", investor="江苏长芯封测科技集团有限公司", sector_code="ic_packaging",
                 agreed_investment_wan=D("85000"), funding_source="domestic_outside_city",
                 expected_annual_output_wan=D("150000"), expected_annual_tax_wan=D("9000"),
                 expected_annual_energy_tce=D("9000"), key_project=True, leader="王建国（芯谷管委会副主任）",
                 task_team=team_x, policy_measures=["标准厂房代建", "设备投资按 10% 补助", "用电用气价格优惠"]),
            "ic.packaging_testing", date(2025, 6, 3),
            _path(Stage.UNDER_CONSTRUCTION, ["2025-06-20", "2025-08-12", "2025-11-26", "2026-01-09", "2026-03-30",
                                             "2026-06-16"]),
            {Stage.REGISTERED: {"uscc": USCC_RONGXIN_PACKAGING}, Stage.LAND_SECURED: {"land_area_mu": D("150")}},
            funds=[("2026-01", "8000", "domestic_outside_city"), ("2026-03", "12000", "domestic_outside_city"),
                   ("2026-06", "15000", "domestic_outside_city"), ("2026-09", "10000", "domestic_outside_city")],
            check=True,
        ),
        DemoProject(
            XINGU,
            dict(name="12英寸特色工艺晶圆制造项目", investor="晶微半导体（新加坡）私人有限公司", sector_code="ic_wafer",
                 agreed_investment_wan=D("320000"), funding_source="foreign", key_project=True,
                 leader="张卫东（芯谷管委会主任）", task_team=team_x, agency="成都芯联产业招商咨询有限公司"),
            "ic.wafer", date(2026, 2, 14),
            _path(Stage.NEGOTIATING, ["2026-03-05", "2026-06-22"]),
        ),
        DemoProject(
            XINGU,
            dict(name="EDA工具研发及IP核设计平台项目", investor="华大九章软件（北京）有限公司", sector_code="ic_design",
                 leader="王建国（芯谷管委会副主任）", task_team=team_x[:1]),
            "ic.eda_ip", date(2026, 8, 18),
            _path(Stage.CONTACTING, ["2026-09-10"]),
        ),
        DemoProject(
            XINGU,
            dict(name="智能终端显示模组项目", investor="重庆京渝光电科技有限公司", agreed_investment_wan=D("45000"),
                 funding_source="domestic_outside_city", leader="王建国（芯谷管委会副主任）", task_team=team_x[:2]),
            "ic.terminal", date(2026, 1, 12),
            _path(Stage.SIGNED, ["2026-02-03", "2026-04-15", "2026-09-28"]),
            funds=[("2026-10", "4500", "domestic_outside_city")],
        ),
        DemoProject(
            XINGU,
            dict(name="半导体电子特气及湿化学品项目", investor="浙江华特新材料股份有限公司", sector_code="ic_materials",
                 agreed_investment_wan=D("26000"), funding_source="domestic_outside_city",
                 expected_annual_output_wan=D("36000"), expected_annual_tax_wan=D("2400"),
                 expected_annual_energy_tce=D("5400"), leader="王建国（芯谷管委会副主任）", task_team=team_x),
            "ic.equipment_materials", date(2025, 9, 1),
            _path(Stage.LAND_SECURED, ["2025-09-25", "2025-11-10", "2026-01-20", "2026-04-08", "2026-08-26"]),
            {Stage.REGISTERED: {"uscc": USCC_HUATE_MATERIALS}, Stage.LAND_SECURED: {"land_area_mu": D("60")}},
            funds=[("2026-07", "5000", "domestic_outside_city")],
            check=True,
        ),
        DemoProject(
            XINGU,
            dict(name="集成电路设计人才实训基地项目", investor="成都电子信息产业研究院有限公司", sector_code="ic_design",
                 funding_source="local"),
            "ic.design", date(2026, 11, 2),
        ),
        DemoProject(
            XINGU,
            dict(name="8英寸MEMS传感器产线项目", investor="苏州敏芯微系统有限公司", agreed_investment_wan=D("60000"),
                 funding_source="domestic_outside_city", leader="张卫东（芯谷管委会主任）"),
            "ic.wafer", date(2025, 5, 6),
            _path(Stage.NEGOTIATING, ["2025-06-01", "2025-07-15"]),
            drop=(date(2025, 12, 5), "投资方战略调整，产线改投长三角地区"),
        ),
        DemoProject(
            BIOTOWN,
            dict(name="天府生物创新药研发及产业化基地项目", investor="上海君拓生物医药科技有限公司",
                 sector_code="biomed_drugs", agreed_investment_wan=D("60000"), funding_source="domestic_outside_city",
                 expected_annual_output_wan=D("90000"), expected_annual_tax_wan=D("6000"),
                 expected_annual_energy_tce=D("3600"), key_project=True, leader="孙海涛（生物城管委会副主任）",
                 task_team=team_b, policy_measures=["临床试验费用按阶段补助", "GMP 厂房定制代建"]),
            "biomed.innovative_drugs", date(2025, 10, 9),
            _path(Stage.REGISTERED, ["2025-10-30", "2026-01-16", "2026-04-21", "2026-07-02"]),
            {Stage.REGISTERED: {"uscc": USCC_TIANFU_BIOMED}},
            funds=[("2026-04", "6000", "domestic_outside_city"), ("2026-08", "9000", "domestic_outside_city")],
        ),
        DemoProject(
            BIOTOWN,
            dict(name="高端医疗器械精密制造项目", investor="深圳康迈医疗器械股份有限公司", sector_code="biomed_devices",
                 agreed_investment_wan=D("30000"), funding_source="domestic_outside_city",
                 expected_annual_output_wan=D("48000"), expected_annual_tax_wan=D("3200"),
                 expected_annual_energy_tce=D("1440"), key_project=True, leader="孙海涛（生物城管委会副主任）",
                 task_team=team_b, policy_measures=["首台（套）医疗器械奖励", "注册证办理全程代办"]),
            "biomed.medical_devices", date(2024, 11, 4),
            _path(Stage.IN_OPERATION, ["2024-11-20", "2025-01-08", "2025-03-18", "2025-04-10", "2025-06-05",
                                       "2025-08-20", "2026-06-30"]),
            {Stage.REGISTERED: {"uscc": USCC_SHUANGLIU_PRECISION}, Stage.LAND_SECURED: {"land_area_mu": D("80")}},
            funds=[("2026-01", "2500", "domestic_outside_city"), ("2026-05", "4000", "domestic_outside_city")],
            check=True,
        ),
        DemoProject(
            BIOTOWN,
            dict(name="生物药CDMO一体化平台项目", investor="博瑞生物制药公司（BioRay Pharma Inc.）",
                 sector_code="biomed_cdmo", agreed_investment_wan=D("150000"), funding_source="foreign",
                 key_project=True, leader="孙海涛（生物城管委会副主任）", task_team=team_b),
            "biomed.cro_cdmo", date(2025, 12, 1),
            _path(Stage.SIGNED, ["2026-01-05", "2026-03-18", "2026-08-08"]),
            funds=[("2026-10", "20000", "foreign")],
            check=True,
        ),
        DemoProject(
            BIOTOWN,
            dict(name="智慧医疗与互联网医院项目", investor="北京健联科技有限公司", leader="孙海涛（生物城管委会副主任）"),
            "biomed.medical_services", date(2026, 10, 20),
        ),
        DemoProject(
            BIOTOWN,
            dict(name="mRNA疫苗研发生产项目", investor="苏州瑞博生物科技有限公司", sector_code="biomed_biologics",
                 agreed_investment_wan=D("80000"), funding_source="domestic_outside_city", key_project=True,
                 leader="孙海涛（生物城管委会副主任）", task_team=team_b),
            "biomed.biological_products", date(2026, 4, 7),
            _path(Stage.NEGOTIATING, ["2026-05-12", "2026-08-30"]),
        ),
        DemoProject(
            BIOTOWN,
            dict(name="细胞治疗产品研发中心项目", investor="杭州启元细胞科技有限公司", sector_code="biomed_biologics"),
            "biomed.biological_products", date(2026, 9, 3),
            _path(Stage.CONTACTING, ["2026-10-08"]),
        ),
        DemoProject(
            BIOTOWN,
            dict(name="中药配方颗粒生产项目", investor="云南滇本药业有限公司", funding_source="domestic_outside_city"),
            None, date(2025, 7, 14),
            _path(Stage.CONTACTING, ["2025-08-05"]),
            drop=(date(2025, 9, 19), "不属于生物城主导产业细分领域，未列入项目准入目录"),
        ),
    ]


def _clamp(day: date) -> date:
    return min(day, today())


async def seed(session: AsyncSession, ctx: Any) -> None:
    if (await session.execute(select(func.count()).select_from(Chain))).scalar_one():
        return
    node_ids: dict[str, str] = {}
    for code, name, description, node_specs in (
        ("ic", "电子信息（集成电路）", "成都芯谷主导产业：集成电路设计、封装测试及终端应用", IC_NODES),
        ("biomed", "生物医药", "天府国际生物城主导产业：创新药、生物制品、医疗器械与医疗服务", BIOMED_NODES),
    ):
        chain = await chains.create_chain(
            session, ADMIN,
            ChainIn(
                code=code, name=name, description=description,
                nodes=[NodeIn(code=c, name=n, position=p, description=d, sort_order=i)  # type: ignore[arg-type]
                       for i, (c, n, p, d) in enumerate(node_specs)],
            ),
        )
        for node in chain.nodes:
            node_ids[node.code] = node.id
    chain_ids = {c.code: c.id for c in (await session.execute(select(Chain))).scalars()}
    for zone, statuses in PANORAMA.items():
        for node_code, (status, note) in statuses.items():
            await chains.set_node_status(
                session, STAFF[zone], chain_ids[node_code.split(".")[0]], node_ids[node_code],
                NodeStatusIn(status=status, note=note),  # type: ignore[arg-type]
            )
    for entry in _catalog():
        await chains.create_catalog_entry(session, STAFF[entry.zone_id or XINGU], entry)
    for zone, node_code, company, kind, hq, note in TARGETS:
        await chains.create_target(
            session, STAFF[zone],
            TargetIn(node_id=node_ids[node_code], company_name=company, kind=kind, headquarters=hq, note=note),  # type: ignore[arg-type]
        )

    created: list[str] = []
    for demo in _projects():
        staff = STAFF[demo.zone]
        out = await projects.create_project(
            session, staff,
            ProjectIn(**demo.body, node_id=node_ids[demo.node] if demo.node else None, lead_on=_clamp(demo.lead_on)),
        )
        created.append(out.id)
        for stage, on in demo.steps:
            await projects.transition(
                session, staff, out.id,
                TransitionIn(to_stage=stage, effective_on=_clamp(on), **demo.transition_data.get(stage, {})),
            )
        if demo.drop is not None:
            on, reason = demo.drop
            await projects.transition(
                session, staff, out.id, TransitionIn(to_stage=Stage.DROPPED, effective_on=_clamp(on), reason=reason)
            )
        if demo.check:
            await projects.check_admission(session, staff, out.id)
        for period, amount, source in demo.funds:
            await projects.record_funds(
                session, staff, out.id,
                FundsIn(period=period, amount_wan=D(amount), source=source),  # type: ignore[arg-type]
            )

    # Two coordination issues: one acknowledged and in time, one left open past its due date.
    # 芯谷's is addressed to its planning department by HR's code (the demo account xingu.planning
    # acts on it); 生物城生态环境和城市管理局 is not one of the zone's HR departments, so that issue
    # carries no code and biotown's investment staff acknowledge it themselves.
    packaging, biomed = created[1], created[8]
    late = await issues.raise_issue(
        session, STAFF[XINGU], packaging,
        IssueIn(title="施工临时用电接入滞后", department="芯谷规划建设局", department_code="planning",
                description="厂房主体施工需 10kV 临时用电，供电方案尚未批复，影响设备进场节点",
                due_date=today()),
    )
    row = await session.get(CoordinationIssue, late.id)
    assert row is not None
    row.due_date = today() - timedelta(days=6)  # raised earlier and left open: shows up as overdue
    row.raised_at = row.raised_at - timedelta(days=16)
    session.add(row)
    on_time = await issues.raise_issue(
        session, STAFF[BIOTOWN], biomed,
        IssueIn(title="GMP 厂房环评批复前置材料补充", department="生物城生态环境和城市管理局",
                description="环评报告需补充危废处置协议，请部门提前指导", due_date=today() + timedelta(days=10)),
    )
    await issues.act_on_issue(
        session, STAFF[BIOTOWN], on_time.id, IssueAction.ACKNOWLEDGE, IssueAcknowledgeIn(note="已安排专人对接"),
        max_escalation_level=3,
    )
    await session.flush()
