"""Settings of the approval service (environment prefix ``APPROVALS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from chassis.settings import VAR_DIR, ServiceSettings


class ApprovalsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="APPROVALS_", extra="ignore")

    service_name: str = "approvals"
    port: int = 8002
    files_dir: str = Field(
        default_factory=lambda: str(VAR_DIR / "approvals-files"),
        description="上传材料的存放目录（按 SHA-256 内容寻址，原子写入）",
    )
    alert_yellow_percent: int = Field(
        80, ge=1, le=100, description="已用工作日达到承诺时限的该百分比时黄色预警"
    )
    follow_up_working_days: int = Field(15, ge=1, le=60, description="差评整改回访时限（工作日），四川规定 15 个工作日")
    reference_cache_ttl_s: float = Field(
        5.0, ge=0, description=(
            "事项清单、赋权清单、工作日历在进程内缓存的秒数（本实例的修改立即生效；"
            "多副本时其他副本的修改最迟在此时间后生效；0 为不缓存）"
        ),
    )
    alert_scan_batch: int = Field(500, ge=1, le=10_000, description="预警任务每批处理的办件数")
    alert_scan_max: int = Field(50_000, ge=1, description="预警任务每次最多处理的办件数")
