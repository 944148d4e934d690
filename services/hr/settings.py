"""HR service settings (prefix ``HR_``): the chassis's, plus the evaluation and payroll defaults.

The defaults are the zone agency's policy when a cycle or a payroll policy does not say otherwise:

- grade thresholds on the 0–100 weighted score (优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, else 不合格);
- the bottom share of each department flagged 末位 (10 %);
- the individual coefficient of each grade in performance pay (Wuhan's 个人考核系数, seed 001);
- where in its grade's pay band a person's monthly post pay sits, by their latest evaluation grade;
- the payroll cap (工资总控, seed 004): ``multiple × reference average annual pay × headcount quota``,
  with the multiple bounded by seed 004's "1.5—2 倍" of the district's average.

Dict settings are read from the environment as JSON (``HR_INDIVIDUAL_COEFFICIENTS='{"excellent": 1.3, …}'``).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chassis.settings import ServiceSettings


class HrSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HR_", extra="ignore")

    service_name: str = "hr"

    grade_threshold_excellent: Decimal = Field(Decimal("90"), description="优秀 的最低分")
    grade_threshold_good: Decimal = Field(Decimal("80"), description="良好 的最低分")
    grade_threshold_pass: Decimal = Field(Decimal("60"), description="合格 的最低分；更低为不合格")
    bottom_share: Decimal = Field(Decimal("0.10"), description="每个部门标记为末位的人数比例（向下取整）")
    individual_coefficients: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "excellent": Decimal("1.2"),
            "good": Decimal("1.0"),
            "pass": Decimal("0.8"),
            "fail": Decimal("0"),
        },
        description="各考核等次的个人考核系数",
    )
    band_positions: dict[str, Decimal] = Field(
        default_factory=lambda: {
            "excellent": Decimal("1"),
            "good": Decimal("0.75"),
            "pass": Decimal("0.5"),
            "fail": Decimal("0"),
            "none": Decimal("0.5"),
        },
        description="按最近一次考核等次确定岗位工资在职级薪酬带中的位置（0 = 下限，1 = 上限）",
    )

    payroll_reference_average_wan: Decimal = Field(
        Decimal("12.00"), description="参照的区机关事业单位人员年平均薪酬（万元），未设置年度政策时使用"
    )
    payroll_cap_multiple: Decimal = Field(Decimal("1.8"), description="工资总控倍数，未设置年度政策时使用")
    payroll_cap_multiple_min: Decimal = Field(Decimal("1.5"), description="工资总控倍数下限（seed 004）")
    payroll_cap_multiple_max: Decimal = Field(Decimal("2.0"), description="工资总控倍数上限（seed 004）")
