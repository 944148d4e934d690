"""HR service settings (prefix ``HR_``): the chassis's, plus the evaluation and payroll defaults.

The defaults are the zone agency's policy when a cycle or a payroll policy does not say otherwise:

- grade thresholds on the 0–100 weighted score (优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, else 不合格);
- the bottom share of each department flagged 末位 (10 %);
- the individual coefficient of each grade in performance pay (Wuhan's 个人考核系数, seed 001);
- where in its grade's pay band a person's monthly post pay sits, by their latest evaluation grade;
- the payroll cap (工资总控, seed 004): ``multiple × reference average annual pay × headcount quota``,
  with the multiple bounded by seed 004's "1.5—2 倍" of the district's average.

Dict settings are read from the environment as JSON (``HR_INDIVIDUAL_COEFFICIENTS='{"excellent": 1.3, …}'``).

The term-end job (``services/hr/term_expiry.py``) ends every active appointment whose term (聘期) has
run out: ``HR_TERM_END_SCAN_INTERVAL_S`` is how often each replica scans (default hourly; 0 turns the
job off — then HR ends appointments by hand, and the expiring-soon list shows the ones past their
term), ``HR_TERM_END_SCAN_BATCH`` how many appointments one transaction ends, and
``HR_TERM_END_SCAN_MAX`` how many one run ends at most (the rest wait for the next run).

``HR_PERSONAL_DATA_KEY`` encrypts national ID numbers at rest and keys their blind index
(``services/hr/personal_data.py``). Outside development and test the service refuses to start
without it; in development a key is generated once into ``$ZONE_VAR_DIR/hr-personal-data-key``.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from chassis.crypto import MIN_KEY_CHARS
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

    term_end_scan_interval_s: float = Field(
        3600.0,
        ge=0,
        description=(
            "每隔多少秒扫描一次聘期已届满的在聘记录并自动结束（原因 term_end）；0 表示关闭。"
            "任务每分钟检查一次是否到期，因此小于 60 的值按每分钟执行"
        ),
    )
    term_end_scan_batch: int = Field(200, ge=1, le=5000, description="自动结束聘任时每个事务最多处理的聘任数")
    term_end_scan_max: int = Field(10_000, ge=1, description="自动结束聘任每次运行最多处理的聘任数（其余留待下次）")

    personal_data_key: SecretStr | None = Field(
        None,
        description=(
            "加密存储身份证号码并计算其盲索引的密钥（至少 32 个随机字符）；开发模式下缺省时在 $ZONE_VAR_DIR 生成一个"
            " 0600 权限的文件，其他环境必须设置"
        ),
    )
    personal_data_previous_keys: SecretStr | None = Field(
        None,
        description="轮换密钥时仍可解密的旧密钥，逗号分隔；启动时用当前密钥重新加密后即可移除",
    )

    @model_validator(mode="after")
    def _production_needs_a_personal_data_key(self) -> HrSettings:
        if self.personal_data_key is None and not self.is_development:
            raise ValueError(
                "HR_PERSONAL_DATA_KEY must be set outside development and test: it encrypts national ID numbers"
                ' (generate one with python -c "import secrets; print(secrets.token_urlsafe(32))")'
            )
        if self.personal_data_key is not None and len(self.personal_data_key.get_secret_value().strip()) < MIN_KEY_CHARS:
            raise ValueError(f"HR_PERSONAL_DATA_KEY must hold at least {MIN_KEY_CHARS} characters of random material")
        return self

    @property
    def personal_data_previous_key_list(self) -> list[str]:
        raw = self.personal_data_previous_keys.get_secret_value() if self.personal_data_previous_keys else ""
        return [k.strip() for k in raw.split(",") if k.strip()]
