"""zonectl as the operator meets it, against a scripted HTTP transport (no platform running):
how it logs in, which URL it calls with what, how files become requests, and how failures read."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from chassis import cli
from chassis.launcher import APPS

TOKEN = "test-token"


class Platform:
    """A scripted platform: routes (method, path) to handlers and records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, url: str, handler: Callable[[httpx.Request], httpx.Response] | dict[str, Any] | int) -> None:
        if isinstance(handler, dict):
            body = handler
            self.routes[(method, url)] = lambda _r: httpx.Response(200, json=body)
        elif isinstance(handler, int):
            status = handler
            self.routes[(method, url)] = lambda _r: httpx.Response(status, json={})
        else:
            self.routes[(method, url)] = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        port = request.url.port or {"http": 80, "https": 443}[request.url.scheme]
        key = (request.method, f"{request.url.scheme}://{request.url.host}:{port}{request.url.path}")
        if key not in self.routes:
            return httpx.Response(404, json={"title": "未找到", "detail": f"no route {key}"})
        return self.routes[key](request)

    def sent(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Platform:
    scripted = Platform()
    monkeypatch.setattr(cli, "TRANSPORT", httpx.MockTransport(scripted))
    for var in ("ZONECTL_TOKEN", "ZONECTL_USERNAME", "ZONECTL_PASSWORD", "ZONECTL_CLIENT_ID", "ZONECTL_CLIENT_SECRET"):
        monkeypatch.delenv(var, raising=False)
    for spec in APPS:
        monkeypatch.delenv(f"{spec.env_prefix}PORT", raising=False)
        monkeypatch.delenv(f"ZONECTL_{spec.name.upper()}_URL", raising=False)
    return scripted


def problem(status: int, detail: str, errors: list[dict[str, str]] | None = None) -> httpx.Response:
    body: dict[str, Any] = {"type": "about:blank", "title": "请求有误", "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


def run(*argv: str) -> int:
    return cli.main(list(argv))


# --- the shape of the tool -----------------------------------------------------------------------


def test_default_urls_follow_the_launchers_apps_and_ports():
    assert {name: (module, port, prefix) for name, (module, port, prefix) in cli.APP_PORTS.items()} == {
        a.name: (a.module, a.default_port, a.env_prefix) for a in APPS
    }


def test_every_command_has_chinese_and_english_help():
    parser = cli.build_parser()
    commands = list(cli.iter_commands(parser))
    assert ("catalog", "import-items") in commands and ("dead-letters", "redrive") in commands
    assert {("migrate",), ("replay",), ("accounts", "create"), ("keys", "rotate"), ("export", "summary")} <= set(commands)
    for path in commands:
        sub = parser
        for name in path:
            action = next(a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction")
            sub = action.choices[name]
        text = sub.description or ""
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), f"{path}: no Chinese help"
        assert any(ch.isascii() and ch.isalpha() for ch in text), f"{path}: no English help"


def test_wrong_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        run("replay")
    assert exc.value.code == 2
    assert run("migrate", "no-such-service") == cli.EXIT_USAGE
    assert "未知服务" in capsys.readouterr().err


# --- logging in ---------------------------------------------------------------------------------


def test_a_password_login_gets_a_token_from_the_gateway_and_uses_it(platform, capsys):
    def token(request: httpx.Request) -> httpx.Response:
        form = dict(x.split("=") for x in request.content.decode().split("&"))
        assert form == {"grant_type": "password", "username": "ops", "password": "s3cret"}
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        return httpx.Response(200, json={"access_token": "from-gateway", "token_type": "Bearer"})

    platform.on("POST", "http://127.0.0.1:8000/auth/token", token)
    platform.on("POST", "http://127.0.0.1:8000/admin/keys/rotate", {"kid": "k2", "retired": ["k1"]})
    assert run("--username", "ops", "--password", "s3cret", "keys", "rotate") == 0
    assert platform.sent("POST", "/admin/keys/rotate")[0].headers["authorization"] == "Bearer from-gateway"
    assert "k2" in capsys.readouterr().out


def test_client_credentials_come_from_the_environment(platform, monkeypatch):
    monkeypatch.setenv("ZONECTL_CLIENT_ID", "ops-robot")
    monkeypatch.setenv("ZONECTL_CLIENT_SECRET", "xyz")
    platform.on("POST", "http://127.0.0.1:8000/auth/token", lambda r: httpx.Response(200, json={"access_token": "t"}))
    platform.on("POST", "http://127.0.0.1:8000/admin/keys/rotate", {"kid": "k2", "retired": []})
    assert run("keys", "rotate") == 0
    assert b"grant_type=client_credentials" in platform.sent("POST", "/auth/token")[0].content


def test_a_refused_login_is_one_line_with_the_gateways_reason_and_exit_3(platform, capsys):
    platform.on("POST", "http://127.0.0.1:8000/auth/token", lambda r: problem(400, "用户名或密码错误"))
    assert run("--username", "ops", "--password", "wrong", "keys", "rotate") == cli.EXIT_UNREACHABLE
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "用户名或密码错误" in err and "400" in err


def test_without_any_credentials_it_says_what_to_give(platform, capsys):
    assert run("keys", "rotate") == cli.EXIT_UNREACHABLE
    assert "--token" in capsys.readouterr().err
    assert platform.requests == []


def test_a_token_from_the_environment_is_used_as_is(platform, monkeypatch):
    monkeypatch.setenv("ZONECTL_TOKEN", TOKEN)
    platform.on("POST", "http://127.0.0.1:8000/admin/keys/rotate", {"kid": "k9", "retired": []})
    assert run("keys", "rotate") == 0
    assert not platform.sent("POST", "/auth/token")
    assert platform.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


# --- where requests go and how failures read ----------------------------------------------------


def test_service_urls_default_to_the_launchers_ports_and_are_overridable(platform, monkeypatch):
    page = {"items": [], "total": 0, "page": 1, "size": 50}
    platform.on("GET", "http://127.0.0.1:8004/admin/dead-letters", page)
    platform.on("GET", "http://127.0.0.1:9104/admin/dead-letters", page)
    platform.on("GET", "http://stats.internal:80/admin/dead-letters", page)
    platform.on("GET", "http://10.0.0.9:8004/admin/dead-letters", page)
    assert run("--token", TOKEN, "dead-letters", "list", "stats") == 0
    monkeypatch.setenv("STATS_PORT", "9104")
    assert run("--token", TOKEN, "dead-letters", "list", "stats") == 0
    monkeypatch.setenv("ZONECTL_STATS_URL", "http://stats.internal")
    assert run("--token", TOKEN, "dead-letters", "list", "stats") == 0
    assert run("--token", TOKEN, "--stats-url", "http://10.0.0.9:8004/", "dead-letters", "list", "stats") == 0
    hosts = [f"{r.url.host}:{r.url.port or 80}" for r in platform.requests]
    assert hosts == ["127.0.0.1:8004", "127.0.0.1:9104", "stats.internal:80", "10.0.0.9:8004"]


def test_a_problem_detail_is_printed_on_one_line_with_its_field_errors(platform, capsys):
    platform.on(
        "POST",
        "http://127.0.0.1:8002/admin/outbox/replay",
        lambda r: problem(422, "提交的内容未通过校验", [{"field": "topic", "message": "长度不能超过 200 个字符"}]),
    )
    assert run("--token", TOKEN, "replay", "approvals", "--since", "2026-11-01") == cli.EXIT_REFUSED
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "HTTP 422" in err and "提交的内容未通过校验" in err and "topic: 长度不能超过 200 个字符" in err


def test_an_unreachable_service_names_the_service_and_url_and_exits_3(monkeypatch, capsys):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(cli, "TRANSPORT", httpx.MockTransport(refuse))
    assert run("--token", TOKEN, "dead-letters", "list", "hr") == cli.EXIT_UNREACHABLE
    err = capsys.readouterr().err
    assert "无法连接 hr (http://127.0.0.1:8003)" in err


# --- replay, dead letters -------------------------------------------------------------------------


def test_replay_reads_a_time_without_offset_as_beijing_time_and_sends_types_and_topic(platform, capsys):
    platform.on("POST", "http://127.0.0.1:8001/admin/outbox/replay", {"replayed": 7})
    assert run(
        "--token", TOKEN, "replay", "investment", "--since", "2026-11-01T08:00", "--until", "2026-11-02T00:00:00Z",
        "--types", "zone.investment.project.signed.v1,zone.investment.funds.recorded.v1", "--types", "x.v1",
        "--topic", "zone.investment.replay",
    ) == 0
    body = json.loads(platform.sent("POST", "/admin/outbox/replay")[0].content)
    assert body == {
        "since": "2026-11-01T08:00:00+08:00",
        "until": "2026-11-02T00:00:00+00:00",
        "types": ["zone.investment.project.signed.v1", "zone.investment.funds.recorded.v1", "x.v1"],
        "topic": "zone.investment.replay",
    }
    assert "已重放 7 条" in capsys.readouterr().out


def test_replay_refuses_an_until_before_since_without_calling(platform):
    assert run("--token", TOKEN, "replay", "hr", "--since", "2026-11-02", "--until", "2026-11-01") == cli.EXIT_USAGE
    assert run("--token", TOKEN, "replay", "hr", "--since", "yesterday") == cli.EXIT_USAGE
    assert platform.requests == []


def test_dead_letters_are_listed_as_a_table_and_redriven_by_id(platform, capsys):
    letter = {
        "id": 12, "consumer": "stats.projections", "event_id": "e1", "type": "zone.hr.headcount.changed.v1",
        "topic": "zone.hr", "error": "ValueError: 岗位不存在\ntraceback…", "attempts": 4,
        "failed_at": "2026-11-20T10:00:00+08:00", "redriven_at": None,
    }
    platform.on("GET", "http://127.0.0.1:8004/admin/dead-letters", {"items": [letter], "total": 1, "page": 1, "size": 50})
    platform.on("POST", "http://127.0.0.1:8004/admin/dead-letters/12/redrive", {"id": 12, "redriven": True})
    assert run("--token", TOKEN, "dead-letters", "list", "stats", "--all") == 0
    out = capsys.readouterr().out
    assert "stats.projections" in out and "ValueError: 岗位不存在" in out and "traceback" not in out
    assert platform.requests[0].url.params["open_only"] == "false"
    assert run("--token", TOKEN, "dead-letters", "redrive", "stats", "12") == 0
    assert "已重新投递" in capsys.readouterr().out


# --- imports ----------------------------------------------------------------------------------------

ITEM_SCHEMA = {
    "paths": {"/items": {"post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemCreate"}}}}}}},
    "components": {
        "schemas": {
            "ItemCreate": {
                "type": "object",
                "required": ["code", "name", "statutory_days", "promised_days", "materials"],
                "properties": {
                    "code": {"type": "string", "description": "事项编码：实施机关编码 + 类型代码 + 顺序号"},
                    "name": {"type": "string", "description": "事项名称"},
                    "statutory_days": {"type": "integer", "description": "法定时限（工作日）"},
                    "promised_days": {"type": "integer", "description": "承诺时限（工作日）"},
                    "fee_yuan": {"anyOf": [{"type": "number"}, {"type": "string"}], "description": "收费标准（元）"},
                    "commitment_allowed": {"type": "boolean", "description": "是否可适用告知承诺制"},
                    "conditions": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "受理条件"},
                    "materials": {"type": "array", "items": {"$ref": "#/components/schemas/MaterialSpec"}},
                },
            },
            "MaterialSpec": {
                "type": "object",
                "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "mandatory": {"type": "boolean"}},
            },
        }
    },
}


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture
def items_api(platform: Platform) -> Platform:
    platform.on("GET", "http://127.0.0.1:8002/openapi.json", ITEM_SCHEMA)

    def create(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["code"] == "51011600ZJ-XK-0001":
            return problem(409, "事项编码已存在")
        if body["promised_days"] > body["statutory_days"]:
            return problem(422, "承诺时限不得超过法定时限")
        return httpx.Response(201, json=body)

    platform.on("POST", "http://127.0.0.1:8002/items", create)
    return platform


HEADER = ["事项编码", "事项名称", "法定时限（工作日）", "承诺时限（工作日）", "收费标准（元）", "告知承诺制", "申请材料", "受理条件"]


def test_item_rows_become_typed_requests_with_chinese_headers(items_api, tmp_path, capsys):
    file = write_csv(tmp_path / "items.csv", [
        HEADER,
        ["51011600JX-BA-0101", "技术改造投资项目备案", "3", "1", "0", "否", "application_form:申请表；site_plan：总平面图（选交）", ""],
        [],
        ["51011600ZJ-XK-0001", "建筑工程施工许可", "15", "5", "12.5", "是", "funds_proof:资金承诺书", "取得规划许可、项目已备案"],
    ])
    assert run("--token", TOKEN, "catalog", "import-items", str(file)) == 0
    first, second = (json.loads(r.content) for r in items_api.sent("POST", "/items"))
    assert first == {
        "code": "51011600JX-BA-0101", "name": "技术改造投资项目备案", "statutory_days": 3, "promised_days": 1,
        "fee_yuan": 0, "commitment_allowed": False,
        "materials": [{"code": "application_form", "name": "申请表"}, {"code": "site_plan", "name": "总平面图", "mandatory": False}],
    }
    assert second["fee_yuan"] == 12.5 and second["commitment_allowed"] is True
    assert second["conditions"] == "取得规划许可、项目已备案", "a text field keeps its commas"
    out = capsys.readouterr()
    assert "新增 1，已存在 1，失败 0" in out.out and "已存在，跳过" in out.err


def test_a_rerun_sends_the_same_idempotency_key_per_row(items_api, tmp_path):
    file = write_csv(tmp_path / "items.csv", [HEADER, ["51011600JX-BA-0101", "备案", "3", "1", "0", "否", "a_b:申请表", ""]])
    run("--token", TOKEN, "catalog", "import-items", str(file))
    run("--token", TOKEN, "catalog", "import-items", str(file))
    keys = [r.headers["idempotency-key"] for r in items_api.sent("POST", "/items")]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0].startswith("zonectl-")


def test_bad_rows_are_reported_by_line_and_the_rest_still_imported(items_api, tmp_path, capsys):
    file = write_csv(tmp_path / "items.csv", [
        [*HEADER, "负责人"],
        ["51011600JX-BA-0102", "备案一", "三", "1", "0", "否", "a_b:申请表", "", "张三"],
        ["51011600JX-BA-0103", "备案二", "3", "5", "0", "否", "a_b:申请表", "", ""],
        ["51011600JX-BA-0104", "备案三", "3", "1", "0", "否", "a_b:申请表", "", ""],
    ])
    assert run("--token", TOKEN, "catalog", "import-items", str(file)) == cli.EXIT_REFUSED
    err = capsys.readouterr().err
    assert "第 2 行" in err and "未知列" in err and "负责人" in err and "应为整数" in err
    assert "第 3 行" in err and "承诺时限不得超过法定时限" in err
    assert [json.loads(r.content)["code"] for r in items_api.sent("POST", "/items")] == [
        "51011600JX-BA-0103", "51011600JX-BA-0104",
    ]


def test_dry_run_prints_the_bodies_and_sends_nothing(items_api, tmp_path, capsys):
    file = write_csv(tmp_path / "items.csv", [HEADER, ["51011600JX-BA-0101", "备案", "3", "1", "0", "否", "a_b:申请表", ""]])
    assert run("--token", TOKEN, "catalog", "import-items", str(file), "--dry-run") == 0
    assert not items_api.sent("POST", "/items")
    assert json.loads(capsys.readouterr().out.splitlines()[0])["statutory_days"] == 3


def test_excel_and_gbk_files_are_read_too(items_api, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(["51011600JX-BA-0105", "备案（Excel）", 3, 1, 0, "否", "a_b:申请表", None])
    workbook.save(tmp_path / "items.xlsx")
    gbk = write_csv(tmp_path / "gbk.csv", [HEADER, ["51011600JX-BA-0106", "备案（GBK）", "3", "1", "0", "否", "a_b:申请表", ""]], "gb18030")
    assert run("--token", TOKEN, "catalog", "import-items", str(tmp_path / "items.xlsx")) == 0
    assert run("--token", TOKEN, "catalog", "import-items", str(gbk)) == 0
    names = [json.loads(r.content)["name"] for r in items_api.sent("POST", "/items")]
    assert names == ["备案（Excel）", "备案（GBK）"]


def test_admission_rows_take_the_zone_from_the_option_when_the_file_has_none(platform, tmp_path):
    platform.on("GET", "http://127.0.0.1:8001/openapi.json", 404)
    platform.on("POST", "http://127.0.0.1:8001/catalog", lambda r: httpx.Response(201, json={}))
    file = write_csv(tmp_path / "catalog.csv", [
        ["细分行业代码", "细分行业名称", "最低投资强度（万元/亩）", "功能区"],
        ["ic_design", "集成电路设计", "600", ""],
        ["ic_packaging", "封装测试", "800", "tf-biotown"],
    ])
    assert run("--token", TOKEN, "catalog", "import-admission", str(file), "--zone", "cd-xingu") == 0
    bodies = [json.loads(r.content) for r in platform.sent("POST", "/catalog")]
    assert bodies[0] == {"sector_code": "ic_design", "sector_name": "集成电路设计",
                         "min_investment_intensity_wan_per_mu": "600", "zone_id": "cd-xingu"}
    assert bodies[1]["zone_id"] == "tf-biotown"


def test_the_shipped_samples_map_onto_known_fields_only():
    for sample, aliases in (("approval-items.csv", cli.ITEM_HEADERS), ("admission-catalog.csv", cli.ADMISSION_HEADERS)):
        rows = cli.read_rows(Path(__file__).resolve().parents[3] / "deploy" / "samples" / sample)
        assert rows
        for _line, record in rows:
            assert all(h in aliases for h in record), f"{sample}: {set(record) - set(aliases)}"


# --- calendar -----------------------------------------------------------------------------------


def test_calendar_set_accepts_chinese_kinds_and_refuses_a_bad_date(platform, capsys):
    platform.on("PUT", "http://127.0.0.1:8002/calendar/2027-02-07", {"date": "2027-02-07", "kind": "workday"})
    assert run("--token", TOKEN, "calendar", "set", "2027年2月7日", "调休上班", "--note", "春节调休上班") == 0
    assert json.loads(platform.requests[0].content) == {"kind": "workday", "note": "春节调休上班"}
    assert run("--token", TOKEN, "calendar", "set", "2027-02-30", "holiday") == cli.EXIT_USAGE
    assert run("--token", TOKEN, "calendar", "set", "2027-02-08", "半天") == cli.EXIT_USAGE
    assert "日期不存在" in capsys.readouterr().err


def test_calendar_import_writes_every_row_of_the_sample(platform):
    sample = Path(__file__).resolve().parents[3] / "deploy" / "samples" / "calendar-2026.csv"
    seen: list[tuple[str, dict[str, Any]]] = []

    def put(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path.rsplit("/", 1)[-1], json.loads(request.content)))
        return httpx.Response(200, json={})

    for _line, record in cli.read_rows(sample):
        platform.on("PUT", f"http://127.0.0.1:8002/calendar/{record['日期']}", put)
    assert run("--token", TOKEN, "calendar", "import", str(sample)) == 0
    assert ("2026-02-17", {"kind": "holiday", "note": "春节"}) in seen
    assert ("2026-02-28", {"kind": "workday", "note": "春节调休上班"}) in seen


def test_a_calendar_template_lists_holidays_and_swapped_workdays(tmp_path, capsys):
    assert run("calendar", "template", "2026", "-o", str(tmp_path / "c.csv")) == 0
    rows = list(csv.reader((tmp_path / "c.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0] == ["日期", "类型", "说明"]
    assert ["2026-10-01", "节假日", "国庆节"] in rows and ["2026-10-10", "工作日", "国庆节调休上班"] in rows
    assert not any(r[0] == "2026-03-07" for r in rows[1:]), "ordinary weekends are not listed"
    assert run("calendar", "template", "2199", "-o", str(tmp_path / "far.csv")) == 0
    assert (tmp_path / "far.csv").read_text(encoding="utf-8-sig").strip() == "日期,类型,说明"
    assert "仅有表头" in capsys.readouterr().out


# --- gateway administration and exports ------------------------------------------------------------


def test_accounts_create_generates_a_password_and_shows_it_once(platform, capsys):
    platform.on("POST", "http://127.0.0.1:8000/admin/accounts", lambda r: httpx.Response(201, json={"username": "xingu.hr2"}))
    assert run(
        "--token", TOKEN, "accounts", "create", "xingu.hr2", "--kind", "staff", "--name", "王五",
        "--roles", "hr-admin", "--zone", "cd-xingu", "--dept", "hr",
    ) == 0
    body = json.loads(platform.requests[0].content)
    assert {k: v for k, v in body.items() if k != "password"} == {
        "username": "xingu.hr2", "kind": "staff", "name": "王五", "roles": ["hr-admin"], "zone_id": "cd-xingu",
        "department": "hr",
    }
    assert len(body["password"]) >= 12
    assert body["password"] in capsys.readouterr().out


def test_export_summary_writes_the_file_the_stats_service_returns(platform, tmp_path, capsys):
    platform.on(
        "GET", "http://127.0.0.1:8004/zones/cd-xingu/summary/export",
        lambda r: httpx.Response(200, content=b"PK\x03\x04xlsx-bytes"),
    )
    target = tmp_path / "out" / "xingu.xlsx"
    assert run("--token", TOKEN, "export", "summary", "--zone", "cd-xingu", "--period", "2026-10", "-o", str(target)) == 0
    assert target.read_bytes() == b"PK\x03\x04xlsx-bytes"
    assert dict(platform.requests[0].url.params) == {"period": "2026-10", "format": "xlsx"}
    assert str(target) in capsys.readouterr().out


def test_an_export_the_service_refuses_writes_no_file(platform, tmp_path):
    platform.on("GET", "http://127.0.0.1:8004/zones/nowhere/summary/export", lambda r: problem(404, "功能区不存在"))
    target = tmp_path / "x.csv"
    assert run("--token", TOKEN, "export", "summary", "--zone", "nowhere", "--period", "2026", "--format", "csv",
               "-o", str(target)) == cli.EXIT_REFUSED
    assert not target.exists()


# --- container entry points -----------------------------------------------------------------------


def test_serve_runs_uvicorn_on_the_apps_factory_host_and_port(monkeypatch, tmp_path):
    import uvicorn

    calls: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    monkeypatch.setattr(cli, "SERVE_STATE", tmp_path / "serve.json")
    monkeypatch.setattr(cli.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setenv("HR_PORT", "9003")
    monkeypatch.delenv("HR_HOST", raising=False)
    assert run("serve", "hr") == 0
    target, options = calls[0]
    assert target == "services.hr.app:create_app"
    assert options["factory"] is True and options["host"] == "0.0.0.0" and options["port"] == 9003
    assert json.loads((tmp_path / "serve.json").read_text()) == {"app": "hr", "port": 9003}


def test_healthcheck_passes_in_one_shot_containers_and_fails_on_a_dead_app(monkeypatch, tmp_path):
    from chassis.broker import free_port

    monkeypatch.setattr(cli, "SERVE_STATE", tmp_path / "none.json")
    assert run("healthcheck") == 0
    (tmp_path / "none.json").write_text(json.dumps({"app": "hr", "port": free_port()}))
    assert run("healthcheck", "--timeout", "1") == cli.EXIT_REFUSED


def test_database_passwords_never_reach_the_output():
    assert cli.mask_url("postgresql+asyncpg://hr:s3cret@db:5432/hr") == "postgresql+asyncpg://hr:***@db:5432/hr"
    assert cli.mask_url("sqlite+aiosqlite:///var/hr.db") == "sqlite+aiosqlite:///var/hr.db"
