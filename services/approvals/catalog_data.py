"""The seeded city-wide catalog: enterprise-related items a Chengdu zone really handles (seed 004: 181
district items sunk into 成都芯谷; seed 001: planning, land, construction, environment, investment and
enterprise-service powers delegated to 天府国际生物城).

Codes follow the national pattern implementing-body code + type code + sequence: ``510116`` is 双流区's
division code, ``00`` the level, then the body (FG 发改, GZ 规划和自然资源, ZJ 住建, HB 生态环境, SJ 市场监管,
WJ 卫健, SW 水务, CG 城管, RS 人社, JX 经信, YJ 应急, KJ 科技). Time limits are working days, typical of
Sichuan's handling guides (法定时限 from the governing law; 承诺时限 the shorter local promise).
Materials are shared codes so that a bundle (一件事) asks for each document once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

MATERIALS: dict[str, str] = {
    "application_form": "申请表（加盖公章）",
    "business_licence": "营业执照（可电子证照免提交）",
    "legal_rep_id": "法定代表人身份证明",
    "authorization_letter": "授权委托书及受托人身份证明",
    "project_description": "项目基本情况说明",
    "project_filing_certificate": "企业投资项目备案证明",
    "project_application_report": "项目申请报告",
    "energy_report": "节能报告",
    "land_preapproval": "建设项目用地预审与选址意见书",
    "land_title": "国有土地使用权出让合同或不动产权证书",
    "site_plan": "建设工程设计方案总平面图",
    "design_scheme": "建设工程设计方案（含效果图）",
    "topographic_map": "1:500 地形图",
    "land_planning_permit": "建设用地规划许可证",
    "works_planning_permit": "建设工程规划许可证",
    "construction_drawing_review": "施工图设计文件审查合格书",
    "construction_contract": "施工合同及中标通知书",
    "supervision_contract": "监理合同",
    "safety_measures": "保证工程质量和安全的具体措施",
    "funds_proof": "建设资金已落实承诺书",
    "fire_design_docs": "消防设计文件",
    "fire_acceptance_form": "消防验收申请表",
    "completion_report": "工程竣工验收报告",
    "fire_test_report": "消防设施检测报告",
    "eia_report_form": "环境影响报告表",
    "eia_report_book": "环境影响报告书",
    "eia_expert_opinion": "技术评估或专家评审意见",
    "public_participation": "公众参与说明",
    "discharge_application": "排污许可证申请表",
    "monitoring_plan": "自行监测方案",
    "pollution_facilities": "污染防治设施说明",
    "food_safety_rules": "食品安全管理制度",
    "premises_layout": "经营场所平面布局图",
    "equipment_process": "设备布局和工艺流程说明",
    "food_safety_staff": "食品安全管理人员及专业技术人员名单",
    "health_certificates": "从业人员健康证明",
    "hygiene_test_report": "卫生检测（评价）报告",
    "drainage_plan": "排水设计方案及排水许可申请表",
    "water_quality_report": "排水水质检测报告",
    "waste_disposal_plan": "建筑垃圾处置方案",
    "transport_contract": "建筑垃圾运输合同",
    "ad_design": "户外广告设施设计图及效果图",
    "structural_safety_report": "结构安全检测报告",
    "road_works_plan": "占用挖掘道路施工方案",
    "traffic_plan": "交通组织方案",
    "talent_certificate": "人才认定证明或学历学位证书",
    "labour_contract": "劳动合同",
    "social_insurance_record": "社会保险缴纳证明",
    "no_housing_statement": "本人及配偶在本区无自有住房承诺书",
    "achievements_proof": "业绩成果证明材料",
    "internship_agreement": "就业见习协议",
    "subsidy_payroll": "见习人员生活补助发放记录",
    "tech_upgrade_plan": "技术改造项目说明书",
    "safety_assessment_report": "安全评价报告",
    "emergency_plan": "生产安全事故应急预案文本",
    "emergency_plan_review": "应急预案评审意见",
    "rd_expense_report": "研发费用专项审计报告",
    "archive_list": "建设工程档案移交清单",
}


@dataclass(frozen=True)
class SeedItem:
    code: str
    name: str
    competent_department: str
    implementing_body: str
    legal_basis: str
    statutory_days: int
    promised_days: int
    materials: tuple[tuple[str, bool], ...]  # (material code, mandatory)
    commitment_allowed: bool = False
    verification_window_days: int | None = None
    on_site_visits: int = 0
    fee_yuan: Decimal = Decimal("0.00")
    fee_note: str | None = "不收费"
    conditions: str | None = None

    @property
    def handling_kind(self) -> str:
        return "immediate" if self.promised_days == 0 else "promised"


FG = ("双流区发展和改革局", "成都市双流区发展和改革局")
GZ = ("成都市规划和自然资源局", "成都市规划和自然资源局双流分局")
ZJ = ("双流区住房和城乡建设局", "成都市双流区住房和城乡建设局")
HB = ("成都市生态环境局", "成都市双流生态环境局")
SJ = ("双流区市场监督管理局", "成都市双流区市场监督管理局")
WJ = ("双流区卫生健康局", "成都市双流区卫生健康局")
SW = ("双流区水务局", "成都市双流区水务局")
CG = ("双流区城市管理局", "成都市双流区城市管理局")
RS = ("双流区人力资源和社会保障局", "成都市双流区人力资源和社会保障局")
JX = ("双流区经济和信息化局", "成都市双流区经济和信息化局")
YJ = ("双流区应急管理局", "成都市双流区应急管理局")
KJ = ("双流区新经济和科技局", "成都市双流区新经济和科技局")

BASE = (("application_form", True), ("business_licence", False), ("authorization_letter", False))

CATALOG_EFFECTIVE_FROM = date(2024, 1, 1)

SEED_ITEMS: tuple[SeedItem, ...] = (
    SeedItem("51011600FG-BA-0001", "企业投资项目备案（内资）", *FG,
             "《企业投资项目核准和备案管理条例》第十三条", 3, 0,
             (*BASE, ("project_description", True)),
             conditions="不涉及国家安全、全国重大生产力布局、战略性资源开发和重大公共利益的企业投资项目"),
    SeedItem("51011600FG-XK-0001", "企业投资项目核准", *FG,
             "《企业投资项目核准和备案管理条例》第三条、第九条", 20, 10,
             (*BASE, ("project_application_report", True), ("land_preapproval", True))),
    SeedItem("51011600FG-XK-0002", "固定资产投资项目节能审查", *FG,
             "《固定资产投资项目节能审查办法》第五条", 20, 10,
             (*BASE, ("energy_report", True), ("project_filing_certificate", True)),
             commitment_allowed=True, verification_window_days=20),
    SeedItem("51011600GZ-XK-0001", "建设项目用地预审与选址意见书核发", *GZ,
             "《中华人民共和国土地管理法》第五十二条；《中华人民共和国城乡规划法》第三十六条", 20, 10,
             (*BASE, ("project_description", True), ("topographic_map", True)), on_site_visits=1),
    SeedItem("51011600GZ-XK-0002", "建设用地规划许可证核发", *GZ,
             "《中华人民共和国城乡规划法》第三十七条、第三十八条", 20, 5,
             (*BASE, ("land_title", True), ("project_filing_certificate", True), ("topographic_map", True)),
             commitment_allowed=True, verification_window_days=30),
    SeedItem("51011600GZ-XK-0003", "建设工程规划许可证核发", *GZ,
             "《中华人民共和国城乡规划法》第四十条", 20, 7,
             (*BASE, ("land_planning_permit", True), ("site_plan", True), ("design_scheme", True)),
             commitment_allowed=True, verification_window_days=30),
    SeedItem("51011600ZJ-XK-0001", "建筑工程施工许可证核发", *ZJ,
             "《中华人民共和国建筑法》第七条、第八条；《建筑工程施工许可管理办法》", 7, 3,
             (*BASE, ("works_planning_permit", True), ("construction_drawing_review", False),
              ("construction_contract", True), ("supervision_contract", False), ("safety_measures", True),
              ("funds_proof", True)),
             commitment_allowed=True, verification_window_days=20),
    SeedItem("51011600ZJ-XK-0002", "特殊建设工程消防设计审查", *ZJ,
             "《中华人民共和国消防法》第十一条；《建设工程消防设计审查验收管理暂行规定》", 15, 10,
             (*BASE, ("fire_design_docs", True), ("works_planning_permit", False))),
    SeedItem("51011600ZJ-XK-0003", "特殊建设工程消防验收", *ZJ,
             "《中华人民共和国消防法》第十三条；《建设工程消防设计审查验收管理暂行规定》", 15, 10,
             (*BASE, ("fire_acceptance_form", True), ("completion_report", True), ("fire_test_report", True)),
             on_site_visits=1),
    SeedItem("51011600ZJ-BA-0001", "其他建设工程消防验收备案", *ZJ,
             "《中华人民共和国消防法》第十三条", 5, 1,
             (*BASE, ("fire_acceptance_form", True), ("completion_report", True))),
    SeedItem("51011600ZJ-BA-0002", "房屋建筑和市政基础设施工程竣工验收备案", *ZJ,
             "《建设工程质量管理条例》第四十九条", 15, 5,
             (*BASE, ("completion_report", True), ("fire_test_report", False))),
    SeedItem("51011600ZJ-GG-0001", "人才公寓租住申请", *ZJ,
             "《成都市人才安居工程实施办法》；双流区人才公寓管理办法", 20, 10,
             (("application_form", True), ("talent_certificate", True), ("labour_contract", True),
              ("social_insurance_record", True), ("no_housing_statement", True))),
    SeedItem("51011600ZJ-QT-0001", "建设工程档案验收（城建档案）", *ZJ,
             "《城市建设档案管理规定》第八条", 10, 5,
             (*BASE, ("archive_list", True), ("completion_report", True))),
    SeedItem("51011600HB-XK-0001", "建设项目环境影响报告表审批", *HB,
             "《中华人民共和国环境影响评价法》第二十二条", 30, 15,
             (*BASE, ("eia_report_form", True), ("eia_expert_opinion", False)),
             commitment_allowed=True, verification_window_days=30),
    SeedItem("51011600HB-XK-0002", "建设项目环境影响报告书审批", *HB,
             "《中华人民共和国环境影响评价法》第二十二条", 60, 30,
             (*BASE, ("eia_report_book", True), ("eia_expert_opinion", True), ("public_participation", True))),
    SeedItem("51011600HB-XK-0003", "排污许可证核发", *HB,
             "《排污许可管理条例》第二条、第十三条", 20, 10,
             (*BASE, ("discharge_application", True), ("monitoring_plan", True), ("pollution_facilities", True)),
             on_site_visits=1),
    SeedItem("51011600SJ-XK-0001", "食品经营许可", *SJ,
             "《中华人民共和国食品安全法》第三十五条；《食品经营许可和备案管理办法》", 10, 5,
             (*BASE, ("food_safety_rules", True), ("premises_layout", True), ("food_safety_staff", True)),
             commitment_allowed=True, verification_window_days=20, on_site_visits=1),
    SeedItem("51011600SJ-XK-0002", "食品生产许可", *SJ,
             "《中华人民共和国食品安全法》第三十五条；《食品生产许可管理办法》", 20, 10,
             (*BASE, ("food_safety_rules", True), ("premises_layout", True), ("equipment_process", True),
              ("food_safety_staff", True)),
             on_site_visits=1),
    SeedItem("51011600WJ-XK-0001", "公共场所卫生许可", *WJ,
             "《公共场所卫生管理条例》第八条", 20, 5,
             (*BASE, ("premises_layout", True), ("hygiene_test_report", True), ("health_certificates", True)),
             commitment_allowed=True, verification_window_days=20),
    SeedItem("51011600SW-XK-0001", "城镇污水排入排水管网许可", *SW,
             "《城镇排水与污水处理条例》第二十一条", 20, 7,
             (*BASE, ("drainage_plan", True), ("water_quality_report", True)),
             commitment_allowed=True, verification_window_days=20),
    SeedItem("51011600CG-XK-0001", "城市建筑垃圾处置核准", *CG,
             "《国务院对确需保留的行政审批项目设定行政许可的决定》第101项；《城市建筑垃圾管理规定》", 20, 5,
             (*BASE, ("waste_disposal_plan", True), ("transport_contract", True))),
    SeedItem("51011600CG-XK-0002", "户外广告设施设置审批", *CG,
             "《成都市户外广告和招牌设置管理条例》", 20, 5,
             (*BASE, ("ad_design", True), ("structural_safety_report", True)), on_site_visits=1),
    SeedItem("51011600CG-XK-0003", "占用、挖掘城市道路审批", *CG,
             "《城市道路管理条例》第二十九条、第三十一条", 20, 5,
             (*BASE, ("road_works_plan", True), ("traffic_plan", True))),
    SeedItem("51011600RS-QR-0001", "高层次人才认定", *RS,
             "《成都市高层次人才认定办法》", 20, 10,
             (("application_form", True), ("talent_certificate", True), ("achievements_proof", True),
              ("labour_contract", True))),
    SeedItem("51011600RS-JF-0001", "就业见习补贴申领", *RS,
             "《四川省就业见习管理办法》", 20, 15,
             (*BASE, ("internship_agreement", True), ("subsidy_payroll", True))),
    SeedItem("51011600JX-BA-0001", "工业企业技术改造投资项目备案", *JX,
             "《四川省企业投资项目核准和备案管理办法》", 3, 0,
             (*BASE, ("tech_upgrade_plan", True))),
    SeedItem("51011600YJ-XK-0001", "危险化学品建设项目安全条件审查", *YJ,
             "《危险化学品安全管理条例》第十二条；《危险化学品建设项目安全监督管理办法》", 45, 20,
             (*BASE, ("safety_assessment_report", True), ("project_filing_certificate", True)),
             on_site_visits=1),
    SeedItem("51011600YJ-BA-0001", "生产经营单位生产安全事故应急预案备案", *YJ,
             "《生产安全事故应急条例》第七条；《生产安全事故应急预案管理办法》第二十六条", 20, 0,
             (*BASE, ("emergency_plan", True), ("emergency_plan_review", True))),
    SeedItem("51011600KJ-JL-0001", "企业研发投入后补助（科技创新奖励）", *KJ,
             "《成都市双流区支持科技创新发展若干政策》", 20, 15,
             (*BASE, ("rd_expense_report", True))),
)

#: Items not delegated to each demo zone (the rest are): filing one of these is referred to its authority.
NOT_DELEGATED: dict[str, set[str]] = {
    "cd-xingu": {"51011600YJ-XK-0001", "51011600SJ-XK-0002"},
    "tf-biotown": {"51011600HB-XK-0002", "51011600CG-XK-0002"},
}

#: The delegating documents of the demo zones' lists (seeds 001 and 004).
DELEGATION_DOCUMENTS: dict[str, tuple[str, date]] = {
    "cd-xingu": ("双流区人民政府关于向成都芯谷发展服务局下放区级涉企审批服务事项的决定（双府发〔2021〕3号）", date(2021, 1, 20)),
    "tf-biotown": ("高新区、双流区关于向天府国际生物城管委会授权的赋权清单（成高管发〔2020〕12号）", date(2020, 7, 1)),
}
