"""zonectl against the platform's real services and gateway, each a uvicorn process with a database
zonectl itself migrated: catalog and calendar imports (approvals, investment), the summary export
(stats), and the gateway's accounts, clients and key rotation. A service not yet in the checkout is
skipped with the reason."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chassis.cli import APP_PORTS
from tests.integration.cli.cli_support import (
    ROOT,
    AppProcess,
    EmptyDatabases,
    app_env,
    launch_app,
    stop_all,
    wait_ready,
    zonectl,
)

SAMPLES = ROOT / "deploy" / "samples"


def missing_part(app: str) -> str | None:
    module = APP_PORTS[app][0]
    for part in (module, f"{module}.app", f"{module}.definition"):
        if importlib.util.find_spec(part) is None:
            return f"{part} is not in this checkout yet"
    return None


ADMIN_PASSWORD = "Ops-Admin@2026!"

#: The apps these tests use and the settings each is started with.
APPS: dict[str, dict[str, str]] = {
    "approvals": {},
    "investment": {"seed_demo_data": "true"},  # the demo industry chains ic and biomed
    "stats": {"seed_demo_data": "true"},  # the demo zones and indicators
    "gateway": {
        "admin_username": "ops-admin", "admin_password": ADMIN_PASSWORD,
        # cheap password hashing: these tests log in many times
        "argon2_time_cost": "1", "argon2_memory_kib": "8192", "argon2_parallelism": "1",
        "token_rate_limit_per_s": "100", "token_rate_limit_burst": "100",
    },
}


@pytest.fixture(scope="module")
def platform_apps(kafka, issuer, tmp_path_factory) -> Iterator[dict[str, AppProcess]]:
    """Every app of APPS that is in the checkout: a fresh database migrated by zonectl, then all of
    them started side by side as uvicorn processes."""
    from chassis import cli

    tmp = tmp_path_factory.mktemp("apps")
    dbs = EmptyDatabases(tmp)
    topic_prefix = f"t{uuid.uuid4().hex[:8]}."
    started: dict[str, AppProcess] = {}
    try:
        for app, settings in APPS.items():
            if missing_part(app):
                continue
            url = dbs.new(app)
            assert cli.main(["migrate", app, "--url", url]) == 0
            own_keys = app == "gateway"  # the gateway signs and verifies with its own keys
            env = app_env(APP_PORTS[app][2], database_url=url, bootstrap=kafka.bootstrap, topic_prefix=topic_prefix,
                          jwks_json=None if own_keys else issuer.jwks_json, **settings)
            env["ZONE_VAR_DIR"] = str(tmp / app)
            started[app] = launch_app(f"{APP_PORTS[app][0]}.app:create_app", env, tmp / f"{app}.log")
        wait_ready(list(started.values()))
        yield started
    finally:
        stop_all(list(started.values()))
        dbs.drop_all()


@pytest.fixture
def app_url(platform_apps) -> Callable[[str], AppProcess]:
    def get_app(app: str) -> AppProcess:
        reason = missing_part(app)
        if reason:
            pytest.skip(reason)
        return platform_apps[app]

    return get_app


@pytest.fixture(scope="module")
def admin_token(issuer) -> str:
    return str(issuer.token("ops", "admin", roles=("admin",)))


def as_admin(capsys: pytest.CaptureFixture[str], token: str, app: str, url: str, *argv: str) -> tuple[int, str, str]:
    return zonectl(capsys, "--token", token, f"--{app}-url", url, *argv)


def get(url: str, token: str, **params: Any) -> Any:
    response = httpx.get(url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


# --- approvals --------------------------------------------------------------------------------------


def test_the_sample_item_catalog_imports_and_a_rerun_creates_nothing_twice(app_url, admin_token, capsys):
    approvals = app_url("approvals")
    code, out, err = as_admin(capsys, admin_token, "approvals", approvals.url,
                              "catalog", "import-items", str(SAMPLES / "approval-items.csv"))
    assert code == 0, err
    assert "新增 3，已存在 0，失败 0" in out
    items = get(f"{approvals.url}/items", admin_token, q="51011600YJ-XK-0102")["items"]
    assert len(items) == 1
    item = items[0]
    assert item["name"] == "危险化学品经营许可（不带储存设施）"
    assert item["promised_days"] == 10 and item["statutory_days"] == 30 and item["commitment_allowed"] is True
    materials = {m["code"]: m for m in item["materials"]}
    assert materials["premises_layout"]["mandatory"] is False and materials["business_licence"]["mandatory"] is True

    code, out, err = as_admin(capsys, admin_token, "approvals", approvals.url,
                              "catalog", "import-items", str(SAMPLES / "approval-items.csv"))
    assert code == 0, err
    assert "新增 0，已存在 3，失败 0" in out


def test_an_item_row_the_service_rejects_is_reported_with_the_services_reason(app_url, admin_token, capsys, tmp_path):
    approvals = app_url("approvals")
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["事项编码", "事项名称", "主管部门", "实施机关", "设定依据", "法定时限（工作日）", "承诺时限（工作日）", "申请材料"])
        writer.writerow(["51011600JX-BA-0901", "承诺长于法定的事项", "经信局", "发展服务局", "某条例", "5", "9", "a_form:申请表"])
    code, out, err = as_admin(capsys, admin_token, "approvals", approvals.url, "catalog", "import-items", str(bad))
    assert code == 1
    assert "第 2 行" in err and "HTTP 422" in err and "承诺时限不得超过法定时限" in err
    assert "失败 1" in out


def test_next_years_calendar_is_maintained_day_by_day_and_from_a_file(app_url, admin_token, capsys):
    approvals = app_url("approvals")
    code, out, err = as_admin(capsys, admin_token, "approvals", approvals.url,
                              "calendar", "set", "2027-02-07", "调休上班", "--note", "2027年春节调休上班")
    assert code == 0, err
    days = {d["date"]: d for d in get(f"{approvals.url}/calendar/2027", admin_token)["exceptions"]}
    assert days["2027-02-07"]["kind"] == "workday" and days["2027-02-07"]["source"] == "override"

    code, out, err = as_admin(capsys, admin_token, "approvals", approvals.url,
                              "calendar", "import", str(SAMPLES / "calendar-2026.csv"))
    assert code == 0, err
    assert "写入 39" in out


# --- investment ---------------------------------------------------------------------------------------


def test_the_sample_admission_catalog_imports_into_each_rows_zone(app_url, admin_token, capsys):
    investment = app_url("investment")
    code, out, err = as_admin(capsys, admin_token, "investment", investment.url,
                              "catalog", "import-admission", str(SAMPLES / "admission-catalog.csv"))
    assert code == 0, err
    assert "新增 3" in out
    xingu = get(f"{investment.url}/catalog", admin_token, zone_id="cd-xingu")["items"]
    assert {"ic_eda", "ic_equipment"} <= {e["sector_code"] for e in xingu}
    assert "biomed_api" not in {e["sector_code"] for e in xingu}
    equipment = next(e for e in xingu if e["sector_code"] == "ic_equipment")
    assert float(equipment["min_investment_intensity_wan_per_mu"]) == 600
    assert float(equipment["max_energy_per_output_tce_per_wan"]) == 0.15


# --- stats ----------------------------------------------------------------------------------------------


def test_a_zone_summary_exports_to_the_file_name_the_service_proposes(app_url, admin_token, capsys, tmp_path, monkeypatch):
    stats = app_url("stats")
    monkeypatch.chdir(tmp_path)
    code, out, err = as_admin(capsys, admin_token, "stats", stats.url,
                              "export", "summary", "--zone", "cd-xingu", "--period", "2026-10", "--format", "csv")
    assert code == 0, err
    written = [p for p in tmp_path.iterdir() if p.suffix == ".csv"]
    assert len(written) == 1 and "cd-xingu" in written[0].name
    text = written[0].read_bytes().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text)))
    code, out, err = as_admin(capsys, admin_token, "stats", stats.url,
                              "export", "summary", "--zone", "cd-xingu", "--period", "2026-13", "-o", "x.xlsx")
    assert code == 1 and "HTTP 4" in err
    assert not Path("x.xlsx").exists()


# --- gateway ----------------------------------------------------------------------------------------------

@pytest.fixture
def gateway(app_url) -> AppProcess:
    return app_url("gateway")


def as_gateway_admin(capsys: pytest.CaptureFixture[str], gateway: AppProcess, *argv: str) -> tuple[int, str, str]:
    return zonectl(capsys, "--gateway-url", gateway.url, "--username", "ops-admin", "--password", ADMIN_PASSWORD, *argv)


def gateway_token(gateway: AppProcess, **form: str) -> str:
    response = httpx.post(f"{gateway.url}/auth/token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_an_operator_creates_an_account_that_can_then_log_in(gateway, capsys):
    code, out, err = as_gateway_admin(capsys, gateway, "accounts", "create", "city.ops", "--kind", "staff",
                                      "--name", "市级运维", "--roles", "auditor,leader")
    assert code == 0, err
    password = out.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    token = gateway_token(gateway, grant_type="password", username="city.ops", password=password)
    assert token.count(".") == 2, "the new account logs in with the password zonectl generated"

    code, out, err = as_gateway_admin(capsys, gateway, "accounts", "create", "city.ops", "--kind", "staff",
                                      "--name", "重名", "--initial-password", "Another@2026")
    assert code == 1 and "HTTP 409" in err


def test_a_wrong_admin_password_fails_at_login(gateway, capsys):
    code, _out, err = zonectl(capsys, "--gateway-url", gateway.url, "--username", "ops-admin", "--password", "nope",
                              "keys", "rotate")
    assert code == 3 and "登录" in err and "HTTP 4" in err


def test_a_registered_system_client_logs_in_with_client_credentials(gateway, capsys):
    code, out, err = as_gateway_admin(capsys, gateway, "clients", "create", "credit-test", "--name", "信用平台（测试）",
                                      "--event-types", "zone.approvals.application.commitment_revoked.v1")
    assert code == 0, err
    secret = out.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    code, _out, err = zonectl(capsys, "--gateway-url", gateway.url, "--client-id", "credit-test", f"--client-secret={secret}",
                              "keys", "rotate")
    assert code == 1 and "HTTP 403" in err, "a system client logs in but may not rotate keys"


def test_key_rotation_publishes_the_new_key_and_keeps_the_old_one(gateway, capsys):
    before = {k["kid"] for k in httpx.get(f"{gateway.url}/.well-known/jwks.json").json()["keys"]}
    code, out, err = as_gateway_admin(capsys, gateway, "keys", "rotate", "--json")
    assert code == 0, err
    rotation = json.loads(out)
    after = {k["kid"] for k in httpx.get(f"{gateway.url}/.well-known/jwks.json").json()["keys"]}
    assert rotation["kid"] in after and rotation["kid"] not in before
    assert before <= after, "tokens signed with the old key stay valid until they expire"


# --- status ---------------------------------------------------------------------------------------------


def test_status_shows_each_apps_readiness_and_outbox_backlog(app_url, admin_token, capsys):
    approvals, investment = app_url("approvals"), app_url("investment")
    code, out, err = zonectl(capsys, "--token", admin_token, "--approvals-url", approvals.url,
                             "--investment-url", investment.url, "status", "approvals", "investment")
    assert code == 0, err
    rows = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert set(rows) == {"approvals", "investment"}
    for app, process in (("approvals", approvals), ("investment", investment)):
        assert process.url in rows[app] and "database=ok" in rows[app] and "broker=ok" in rows[app]
        assert rows[app].split()[-1].isdigit(), "the outbox backlog is a count"
    code, _out, _err = zonectl(capsys, "--hr-url", "http://127.0.0.1:1", "status", "hr")
    assert code == 3
