"""``zonectl``: the operator's command line for the zone platform (产业功能区平台运维命令行).

What operators really do, one subcommand each:

- ``migrate <service|all>``: apply a service's Alembic migrations to its database (the same
  :func:`chassis.migrations.upgrade` the embedded mode runs on start);
- ``catalog import-items`` / ``catalog import-admission``: load the approval item catalog (事项清单)
  and a zone's admission catalog (项目准入目录) from CSV or XLSX with Chinese headers;
- ``calendar set`` / ``calendar import`` / ``calendar template``: maintain the working-day calendar
  (工作日历) when the State Council publishes next year's holidays each November;
- ``dead-letters list`` / ``dead-letters redrive``: the events a consumer gave up on;
- ``replay``: republish outbox events from a point in time (a new subscriber, a lost embedded broker);
- ``accounts create`` and ``keys rotate`` on the gateway; ``export summary`` from stats;
- ``status``: readiness and outbox backlog of every app; ``serve`` and ``healthcheck`` for the
  container image.

Everything but ``migrate``, ``serve`` and ``calendar template`` is a client of the running
platform's HTTP APIs. It authenticates with a token: ``--token`` (or ``ZONECTL_TOKEN``), or one
obtained from the gateway's ``POST /auth/token`` with ``--username/--password``
(``ZONECTL_USERNAME``/``ZONECTL_PASSWORD``) or ``--client-id/--client-secret``
(``ZONECTL_CLIENT_ID``/``ZONECTL_CLIENT_SECRET``). Service URLs default to the launcher's ports on
loopback and are overridden with ``--<service>-url`` or ``ZONECTL_<SERVICE>_URL``.

Exit codes: 0 done; 1 the platform refused (problem details printed) or some import rows failed;
2 wrong usage; 3 cannot reach the platform or the database, or cannot log in.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import hashlib
import importlib
import importlib.util
import io
import json
import os
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import quote, urlsplit, urlunsplit

if TYPE_CHECKING:
    import httpx

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

#: The apps and their default ports (kept in step with chassis.launcher.APPS, which the tests check).
APP_PORTS: dict[str, tuple[str, int, str]] = {
    "gateway": ("gateway", 8000, "GATEWAY_"),
    "investment": ("services.investment", 8001, "INVESTMENT_"),
    "approvals": ("services.approvals", 8002, "APPROVALS_"),
    "hr": ("services.hr", 8003, "HR_"),
    "stats": ("services.stats", 8004, "STATS_"),
}
SERVICES = [name for name in APP_PORTS if name != "gateway"]

#: Where ``serve`` records the port it listens on, for ``healthcheck`` in the same container.
SERVE_STATE = Path(os.environ.get("TMPDIR", "/tmp")) / "zonectl-serve.json"

#: The HTTP transport (None: the network). Unit tests put an ``httpx.MockTransport`` here.
TRANSPORT: Any = None


class CliError(Exception):
    """A failure the operator can act on: one line, and the exit code."""

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = EXIT_REFUSED) -> NoReturn:
    raise CliError(message, code)


# --- output ---------------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def print_table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> None:
    """A plain aligned table (CJK characters count double)."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(v + " " * (widths[i] - _width(v)) for i, v in enumerate(row)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def mask_url(url: str) -> str:
    """A database URL with its password hidden, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# --- service definitions (migrate) -----------------------------------------------------------------


def load_definition(service: str) -> Any:
    """A service's ``DEFINITION``: by app name (``investment``) or module path (``pkg.definition``)."""
    if service in APP_PORTS:
        module_name = f"{APP_PORTS[service][0]}.definition"
    elif re.fullmatch(r"[A-Za-z_][\w.]*(:[A-Za-z_]\w*)?", service) and "." in service:
        module_name = service
    else:
        fail(
            f"未知服务 unknown service: {service!r}（可选 choose from: {', '.join(APP_PORTS)}, all）",
            EXIT_USAGE,
        )
    module_name, _, attr = module_name.partition(":")
    try:
        if importlib.util.find_spec(module_name) is None:
            raise ModuleNotFoundError(module_name)
    except ModuleNotFoundError:
        fail(f"服务 {service} 不在此安装中 / service {service!r} is not installed here ({module_name})", EXIT_USAGE)
    module = importlib.import_module(module_name)
    definition = getattr(module, attr or "DEFINITION", None)
    if definition is None:
        fail(f"{module_name} 没有 DEFINITION / {module_name} exports no DEFINITION", EXIT_USAGE)
    return definition


def installed_services() -> list[str]:
    """The apps whose ``definition`` module is in this installation, in launcher order."""
    names = []
    for name, (module, _port, _prefix) in APP_PORTS.items():
        try:
            if importlib.util.find_spec(f"{module}.definition") is not None:
                names.append(name)
        except ModuleNotFoundError:
            continue
    return names


def _retryable_db_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OSError | OperationalError | InterfaceError | TimeoutError)


def cmd_migrate(args: argparse.Namespace) -> int:
    from chassis.migrations import upgrade

    targets = installed_services() if args.service == "all" else [args.service]
    if args.service == "all" and not targets:
        fail("此安装中没有任何服务 / no service is installed here", EXIT_USAGE)
    if args.url and len(targets) > 1:
        fail("--url 只能用于单个服务（每个服务有自己的数据库）/ --url needs a single service: each has its own database", EXIT_USAGE)
    for name in targets:
        definition = load_definition(name)
        url = args.url or definition.settings_class().database_url
        deadline = time.monotonic() + max(0.0, args.wait)
        attempt = 0
        while True:
            attempt += 1
            try:
                asyncio.run(upgrade(definition.migrations_dir, url, definition.metadata, args.revision))
                break
            except Exception as exc:
                if _retryable_db_error(exc) and time.monotonic() < deadline:
                    print(f"{definition.name}: 数据库暂不可用，重试中 database not reachable yet (attempt {attempt}): {exc}", file=sys.stderr)
                    time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))
                    continue
                code = EXIT_UNREACHABLE if _retryable_db_error(exc) else EXIT_REFUSED
                fail(f"{definition.name}: 迁移失败 migration failed on {mask_url(url)}: {type(exc).__name__}: {exc}", code)
        print(f"{definition.name}: 已迁移到 {args.revision} / migrated to {args.revision} ({mask_url(url)})")
    return EXIT_OK


# --- HTTP client ------------------------------------------------------------------------------------


@dataclass
class Api:
    """The platform's HTTP APIs as seen from the operator's shell: URLs, the token, error handling."""

    args: argparse.Namespace
    _client: httpx.Client | None = None
    _token: str | None = None
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            import httpx

            lang = "en, zh-CN;q=0.5" if self.args.lang == "en" else "zh-CN, en;q=0.5"
            self._client = httpx.Client(
                timeout=self.args.timeout,
                headers={"Accept-Language": lang, "User-Agent": "zonectl"},
                transport=TRANSPORT,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def url(self, app: str) -> str:
        """An app's base URL: ``--<app>-url``, ``--service-url``, ``ZONECTL_<APP>_URL``, else the launcher's port."""
        explicit = getattr(self.args, f"{app}_url", None) or (
            getattr(self.args, "service_url", None) if app == getattr(self.args, "service", None) else None
        )
        env = os.environ.get(f"ZONECTL_{app.upper().replace('-', '_')}_URL")
        if explicit or env:
            return str(explicit or env).rstrip("/")
        if app not in APP_PORTS:
            fail(f"未知服务 {app!r}：请用 --service-url 或 ZONECTL_{app.upper()}_URL 指定地址 / unknown service, give its URL", EXIT_USAGE)
        _module, port, prefix = APP_PORTS[app]
        return f"http://127.0.0.1:{os.environ.get(f'{prefix}PORT', port)}"

    # -- authentication --

    def token(self) -> str:
        if self._token:
            return self._token
        given = self.args.token or os.environ.get("ZONECTL_TOKEN")
        if given:
            self._token = given.strip()
            return self._token
        username = self.args.username or os.environ.get("ZONECTL_USERNAME")
        client_id = self.args.client_id or os.environ.get("ZONECTL_CLIENT_ID")
        if username:
            password = self.args.password or os.environ.get("ZONECTL_PASSWORD")
            if not password:
                if not sys.stdin.isatty():
                    fail("缺少密码：请设置 ZONECTL_PASSWORD / no password: set ZONECTL_PASSWORD", EXIT_UNREACHABLE)
                password = getpass.getpass(f"{username} 的密码 password: ")
            form = {"grant_type": "password", "username": username, "password": password}
        elif client_id:
            secret = self.args.client_secret or os.environ.get("ZONECTL_CLIENT_SECRET") or ""
            form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        else:
            fail(
                "需要登录：--token、--username/--password 或 --client-id/--client-secret（或对应的 ZONECTL_* 环境变量）"
                " / credentials needed: --token, --username/--password or --client-id/--client-secret",
                EXIT_UNREACHABLE,
            )
        response = self._send("gateway", "POST", "/auth/token", data=form, auth=False)
        if not response.is_success:
            self._refused(response, "登录 login", code=EXIT_UNREACHABLE)
        token = response.json().get("access_token")
        if not token:
            fail("网关未返回 access_token / the gateway returned no access_token", EXIT_UNREACHABLE)
        self._token = str(token)
        return self._token

    # -- requests --

    def _send(self, app: str, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> httpx.Response:
        import httpx

        base = self.url(app)
        headers = dict(kwargs.pop("headers", None) or {})
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        try:
            return self.client.request(method, f"{base}{path}", headers=headers, **kwargs)
        except httpx.TimeoutException:
            fail(f"{app} ({base}) 超时未响应 / timed out after {self.args.timeout}s", EXIT_UNREACHABLE)
        except httpx.TransportError as exc:
            fail(f"无法连接 {app} ({base}) / cannot reach {app}: {type(exc).__name__}: {exc}", EXIT_UNREACHABLE)

    def _refused(self, response: httpx.Response, what: str, code: int = EXIT_REFUSED) -> NoReturn:
        raise CliError(f"{what}: {problem_summary(response)}", code)

    def request(self, app: str, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        response = self._send(app, method, path, **kwargs)
        if not response.is_success:
            self._refused(response, what)
        return response


def problem_summary(response: httpx.Response) -> str:
    """``HTTP 422 提交的内容未通过校验: detail; field: message`` from problem details (or the raw body)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("detail" in body or "title" in body):
        detail = body.get("detail")
        if not isinstance(detail, str):  # FastAPI's own {"detail": [...]} shape, just in case
            detail = json.dumps(detail, ensure_ascii=False) if detail is not None else ""
        text = f"HTTP {response.status_code} {body.get('title', '')}: {detail}".replace(": ", ": ", 1)
        errors = body.get("errors") or []
        if errors:
            text += " (" + "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors if isinstance(e, dict)) + ")"
        return text
    snippet = response.text.strip().replace("\n", " ")[:300]
    return f"HTTP {response.status_code}: {snippet or response.reason_phrase}"


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


# --- tabular files (CSV / XLSX) --------------------------------------------------------------------


def read_rows(path: Path, sheet: str | None = None) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a CSV (UTF-8 with or without BOM, or GB18030 as Excel saves it) or XLSX file.

    Returns (line or row number, {header: value}); blank rows are skipped.
    """
    if not path.exists():
        fail(f"文件不存在 / no such file: {path}", EXIT_USAGE)
    suffix = path.suffix.lower()
    rows: list[tuple[int, dict[str, Any]]] = []
    if suffix in {".xlsx", ".xlsm"}:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            fail(f"无法读取 Excel 文件 / cannot read {path}: {exc}", EXIT_USAGE)
        ws = workbook[sheet] if sheet else workbook.worksheets[0]
        values = ws.iter_rows(values_only=True)
        header_row = next(values, None)
        if header_row is None:
            return []
        headers = [str(h).strip() if h is not None else "" for h in header_row]
        for n, row in enumerate(values, start=2):
            record = {h: v for h, v in zip(headers, row, strict=False) if h and v is not None and str(v).strip() != ""}
            if record:
                rows.append((n, record))
        workbook.close()
        return rows
    if suffix not in {".csv", ".txt"}:
        fail(f"只支持 .csv 或 .xlsx 文件 / only .csv and .xlsx are supported: {path}", EXIT_USAGE)
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        fail(f"无法识别文件编码（请另存为 UTF-8）/ unknown encoding, save as UTF-8: {path}", EXIT_USAGE)
    reader = csv.DictReader(io.StringIO(text))
    for record in reader:
        cleaned = {
            (k or "").strip(): v.strip()
            for k, v in record.items()
            if k and isinstance(v, str) and v.strip() != ""
        }
        if cleaned:
            rows.append((reader.line_num, cleaned))
    return rows


#: Chinese column headers of the import files → request fields (documented in deploy/samples/README.md).
ITEM_HEADERS: dict[str, str] = {
    "事项编码": "code",
    "编码": "code",
    "事项名称": "name",
    "名称": "name",
    "事项类型": "category",
    "类型": "category",
    "主管部门": "competent_department",
    "实施机关": "implementing_body",
    "赋权机关": "delegating_authority",
    "委托机关": "delegating_authority",
    "设定依据": "legal_basis",
    "法律依据": "legal_basis",
    "受理条件": "conditions",
    "法定时限": "statutory_days",
    "法定时限（工作日）": "statutory_days",
    "承诺时限": "promised_days",
    "承诺时限（工作日）": "promised_days",
    "到现场次数": "on_site_visits",
    "收费标准": "fee_yuan",
    "收费标准（元）": "fee_yuan",
    "收费（元）": "fee_yuan",
    "收费说明": "fee_note",
    "告知承诺制": "commitment_allowed",
    "可告知承诺": "commitment_allowed",
    "是否适用告知承诺制": "commitment_allowed",
    "核查期限": "verification_window_days",
    "核查期限（工作日）": "verification_window_days",
    "申请材料": "materials",
    "生效日期": "effective_from",
}

ADMISSION_HEADERS: dict[str, str] = {
    "功能区": "zone_id",
    "功能区编码": "zone_id",
    "细分行业代码": "sector_code",
    "行业代码": "sector_code",
    "细分行业": "sector_name",
    "细分行业名称": "sector_name",
    "细分领域": "sector_name",
    "产业链": "chain_code",
    "产业链代码": "chain_code",
    "最低协议投资额": "min_total_investment_wan",
    "最低协议投资额（万元）": "min_total_investment_wan",
    "最低投资强度": "min_investment_intensity_wan_per_mu",
    "最低投资强度（万元/亩）": "min_investment_intensity_wan_per_mu",
    "最低亩均产值": "min_output_per_mu_wan",
    "最低亩均产值（万元/亩）": "min_output_per_mu_wan",
    "最低亩均税收": "min_tax_per_mu_wan",
    "最低亩均税收（万元/亩）": "min_tax_per_mu_wan",
    "最高单位产值能耗": "max_energy_per_output_tce_per_wan",
    "最高单位产值能耗（吨标准煤/万元）": "max_energy_per_output_tce_per_wan",
    "说明": "note",
    "备注": "note",
}

CALENDAR_HEADERS: dict[str, str] = {
    "日期": "date",
    "类型": "kind",
    "日期类型": "kind",
    "说明": "note",
    "备注": "note",
    "名称": "note",
}

_TRUE = {"true", "1", "yes", "y", "是", "允许", "可以", "√", "✓", "t"}
_FALSE = {"false", "0", "no", "n", "否", "不允许", "不可以", "×", "✗", "f"}
_LIST_SPLIT = re.compile(r"\s*[;；、,，|\n]\s*")
_RECORD_SPLIT = re.compile(r"\s*[;；|\n]\s*")  # list items that are records ("code:名称、说明") keep their commas


def _chinese_label(text: str) -> str:
    """The label at the start of a field description: ``事项名称 / Item name`` → ``事项名称``."""
    return re.split(r"\s*(?:/|（|\(|，|,|：|:|。)\s*", text.strip(), maxsplit=1)[0]


@dataclass
class RequestSchema:
    """The JSON body a route accepts, from the service's OpenAPI document (when it serves one)."""

    properties: dict[str, dict[str, Any]] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)

    @property
    def known(self) -> bool:
        return bool(self.properties)

    def field_for(self, header: str, aliases: dict[str, str]) -> str | None:
        h = header.strip()
        if not self.known:
            return aliases.get(h) or (h if re.fullmatch(r"[a-z][a-z0-9_]*", h) else None)
        if h in self.properties:
            return h
        alias = aliases.get(h)
        if alias in self.properties:
            return alias
        for name, prop in self.properties.items():
            if h in {str(prop.get("title", "")), _chinese_label(str(prop.get("description", "")))}:
                return name
        return None

    def type_of(self, name: str) -> tuple[str, dict[str, Any]]:
        prop = self.properties.get(name, {})
        for variant in prop.get("anyOf", [prop]):
            kind = variant.get("type")
            if kind and kind != "null":
                return str(kind), variant
            if "$ref" in variant or "enum" in variant:
                return "string", variant
        return "auto", prop


def load_request_schema(api: Api, app: str, method: str, path: str) -> RequestSchema:
    import httpx

    try:
        response = api.client.get(f"{api.url(app)}/openapi.json")
        spec = response.json() if response.is_success else {}
    except (httpx.HTTPError, ValueError):
        spec = {}
    operation = (spec.get("paths", {}).get(path) or {}).get(method.lower()) or {}
    content = (operation.get("requestBody") or {}).get("content", {}).get("application/json", {})
    schema = _resolve(spec, content.get("schema") or {})
    if schema.get("type") == "array":  # a route that takes a list takes one row per element
        schema = _resolve(spec, schema.get("items") or {})
    props = {k: _resolve(spec, v) for k, v in (schema.get("properties") or {}).items()}
    return RequestSchema(props, set(schema.get("required") or ()))


def _resolve(spec: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """The schema with its ``$ref``s (and those of its list items and properties) replaced."""
    if depth > 8 or not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        node: Any = spec
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        return _resolve(spec, {**node, **{k: v for k, v in schema.items() if k != "$ref"}}, depth + 1)
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(spec, {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}, depth + 1)
    out = dict(schema)
    if "anyOf" in out:
        out["anyOf"] = [_resolve(spec, s, depth + 1) for s in out["anyOf"]]
    if isinstance(out.get("items"), dict):
        out["items"] = _resolve(spec, out["items"], depth + 1)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _resolve(spec, v, depth + 1) for k, v in out["properties"].items()}
    return out


def convert(value: Any, kind: str, schema: dict[str, Any]) -> Any:
    """A cell's value as the JSON type the field wants (raises ValueError with a Chinese message)."""
    if isinstance(value, datetime):
        value = value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    elif isinstance(value, date):
        value = value.isoformat()
    text = value.strip() if isinstance(value, str) else value
    if kind == "integer":
        try:
            number = float(text)
        except (TypeError, ValueError):
            raise ValueError(f"应为整数 expected an integer: {value!r}") from None
        if not number.is_integer():
            raise ValueError(f"应为整数 expected an integer: {value!r}")
        return int(number)
    if kind == "number":
        try:
            number = float(text)
        except (TypeError, ValueError):
            raise ValueError(f"应为数字 expected a number: {value!r}") from None
        return int(number) if number.is_integer() and "." not in str(text) else number
    if kind == "boolean":
        if isinstance(text, bool):
            return text
        word = str(text).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueError(f"应为 是/否 expected yes/no: {value!r}")
    if kind == "array":
        item_kind, item_schema = RequestSchema({"_": schema.get("items") or {}}).type_of("_")
        splitter = _RECORD_SPLIT if item_kind == "object" else _LIST_SPLIT
        parts = [p.strip() for p in splitter.split(str(text)) if p.strip()]
        return [convert(p, item_kind, item_schema) for p in parts]
    if kind == "object" and {"code", "name"} <= set(schema.get("properties") or {}):
        return _code_name(str(text), schema)
    if kind == "object":
        try:
            return json.loads(str(text))
        except ValueError:
            raise ValueError(f"应为 JSON 对象 expected a JSON object: {value!r}") from None
    if kind == "string":
        if isinstance(text, float) and text.is_integer():
            return str(int(text))  # Excel turned a code such as 0101 into a number
        return str(text)
    # unknown schema: booleans and numbers as the cell holds them, everything else as text
    if isinstance(text, bool | int | float):
        return text
    return str(text)


_OPTIONAL_MARKS = ("（选交）", "(选交)", "（非必须）", "(optional)", "?", "？")


def _code_name(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """``business_licence:营业执照`` → {"code", "name"}; a trailing （选交） or ? makes it optional."""
    if text.lstrip().startswith("{"):
        return json.loads(text)  # type: ignore[no-any-return]
    match = re.fullmatch(r"\s*([^:：]+?)\s*[:：]\s*(.+?)\s*", text)
    if match is None:
        raise ValueError(f"应写成 编码:名称 expected code:name: {text!r}")
    item: dict[str, Any] = {"code": match[1], "name": match[2]}
    for mark in _OPTIONAL_MARKS:
        if item["name"].endswith(mark):
            item["name"] = item["name"][: -len(mark)].strip()
            if "mandatory" in (schema.get("properties") or {}):
                item["mandatory"] = False
    return item


def build_body(
    record: dict[str, Any], schema: RequestSchema, aliases: dict[str, str], fixed: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """The request body of one row, and the problems found (unknown columns, bad values)."""
    body: dict[str, Any] = {}
    problems: list[str] = []
    for header, value in record.items():
        name = schema.field_for(header, aliases)
        if name is None:
            problems.append(f"未知列 unknown column {header!r}")
            continue
        kind, prop = schema.type_of(name) if schema.known else ("auto", {})
        try:
            body[name] = convert(value, kind, prop)
        except ValueError as exc:
            problems.append(f"{header}: {exc}")
    for name, value in fixed.items():
        body.setdefault(name, value)
    missing = sorted(schema.required - body.keys())
    if missing:
        problems.append(f"缺少必填列 missing required fields: {', '.join(missing)}")
    return body, problems


def idempotency_key(path: str, body: dict[str, Any]) -> str:
    """Same row, same key: re-running an import never creates a duplicate."""
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "zonectl-" + hashlib.sha256(f"{path}\n{canonical}".encode()).hexdigest()[:48]


def parse_assignments(pairs: Sequence[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--set 应为 字段=值 / --set expects FIELD=VALUE: {pair!r}", EXIT_USAGE)
        out[key.strip()] = value
    return out


@dataclass
class ImportReport:
    created: int = 0
    existing: int = 0
    failed: int = 0

    def line(self) -> str:
        return (
            f"导入完成：新增 {self.created}，已存在 {self.existing}，失败 {self.failed} / "
            f"imported: {self.created} created, {self.existing} already present, {self.failed} failed"
        )


def import_rows(
    api: Api,
    args: argparse.Namespace,
    *,
    app: str,
    path: str,
    aliases: dict[str, str],
    fixed: dict[str, Any],
) -> int:
    rows = read_rows(Path(args.file), args.sheet)
    if not rows:
        fail(f"文件中没有数据行 / no data rows in {args.file}", EXIT_USAGE)
    schema = load_request_schema(api, app, "POST", path)
    if not schema.known:
        print(f"提示：{app} 未提供 OpenAPI 文档，按列名原样提交 / no OpenAPI from {app}: columns sent as named", file=sys.stderr)
    report = ImportReport()
    for line, record in rows:
        body, problems = build_body(record, schema, aliases, fixed)
        if problems:
            report.failed += 1
            print(f"第 {line} 行 row {line}: " + "；".join(problems), file=sys.stderr)
            if args.stop_on_error:
                break
            continue
        if args.dry_run:
            print(json.dumps(body, ensure_ascii=False, sort_keys=True))
            report.created += 1
            continue
        response = api._send(app, "POST", path, json=body, headers={"Idempotency-Key": idempotency_key(path, body)})
        if response.is_success and response.headers.get("idempotent-replayed") == "true":
            report.existing += 1  # this very row was imported before: the service answered from its key
        elif response.is_success:
            report.created += 1
        elif response.status_code == 409:
            report.existing += 1
            print(f"第 {line} 行 row {line}: 已存在，跳过 already present, skipped ({problem_summary(response)})", file=sys.stderr)
        else:
            report.failed += 1
            print(f"第 {line} 行 row {line}: {problem_summary(response)}", file=sys.stderr)
            if args.stop_on_error:
                break
    print(("（试运行，未提交 dry run, nothing sent）" if args.dry_run else "") + report.line())
    return EXIT_REFUSED if report.failed else EXIT_OK


def cmd_import_items(api: Api, args: argparse.Namespace) -> int:
    return import_rows(api, args, app="approvals", path="/items", aliases=ITEM_HEADERS, fixed=parse_assignments(args.set))


def cmd_import_admission(api: Api, args: argparse.Namespace) -> int:
    fixed = parse_assignments(args.set)
    if args.zone:
        fixed.setdefault("zone_id", args.zone)
    return import_rows(api, args, app="investment", path="/catalog", aliases=ADMISSION_HEADERS, fixed=fixed)


# --- working-day calendar --------------------------------------------------------------------------

_KINDS = {
    "workday": "workday",
    "工作日": "workday",
    "上班": "workday",
    "调休上班": "workday",
    "补班": "workday",
    "holiday": "holiday",
    "节假日": "holiday",
    "假日": "holiday",
    "休息日": "holiday",
    "放假": "holiday",
    "休息": "holiday",
}


def parse_day(text: Any) -> date:
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    value = str(text).strip().replace("/", "-").replace(".", "-")
    match = re.fullmatch(r"(\d{4})\s*[-年]\s*(\d{1,2})\s*[-月]\s*(\d{1,2})\s*日?", value)
    if not match:
        raise ValueError(f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {text!r}")
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(f"日期不存在 / no such date: {text!r}") from None


def parse_kind(text: Any) -> str:
    kind = _KINDS.get(str(text).strip().lower())
    if kind is None:
        raise ValueError(f"类型应为 工作日/节假日 (workday/holiday): {text!r}")
    return kind


def put_calendar_day(api: Api, day: date, kind: str, note: str | None) -> httpx.Response:
    return api._send("approvals", "PUT", f"/calendar/{day.isoformat()}", json={"kind": kind, "note": note})


def cmd_calendar_set(api: Api, args: argparse.Namespace) -> int:
    try:
        day, kind = parse_day(args.date), parse_kind(args.kind)
    except ValueError as exc:
        fail(str(exc), EXIT_USAGE)
    response = put_calendar_day(api, day, kind, args.note)
    if not response.is_success:
        fail(f"设置 {day} 失败 / setting {day} failed: {problem_summary(response)}")
    label = "工作日" if kind == "workday" else "节假日"
    print(f"{day.isoformat()} 已设为{label} / set to {kind}" + (f"（{args.note}）" if args.note else ""))
    return EXIT_OK


def cmd_calendar_import(api: Api, args: argparse.Namespace) -> int:
    rows = read_rows(Path(args.file), args.sheet)
    if not rows:
        fail(f"文件中没有数据行 / no data rows in {args.file}", EXIT_USAGE)
    report = ImportReport()
    for line, record in rows:
        fields = {CALENDAR_HEADERS.get(k.strip(), k.strip().lower()): v for k, v in record.items()}
        try:
            day = parse_day(fields.get("date", ""))
            kind = parse_kind(fields.get("kind", ""))
        except ValueError as exc:
            report.failed += 1
            print(f"第 {line} 行 row {line}: {exc}", file=sys.stderr)
            continue
        note = str(fields["note"]) if fields.get("note") is not None else None
        response = put_calendar_day(api, day, kind, note)
        if response.is_success:
            report.created += 1
        else:
            report.failed += 1
            print(f"第 {line} 行 row {line} ({day}): {problem_summary(response)}", file=sys.stderr)
    print(report.line().replace("新增", "写入").replace("created", "written"))
    return EXIT_REFUSED if report.failed else EXIT_OK


_HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def calendar_exceptions(year: int) -> list[tuple[date, str, str]] | None:
    """The days of ``year`` that differ from Monday–Friday work, as the chinesecalendar package
    knows them (holidays on weekdays, 调休 working weekends); None when it does not know the year."""
    import chinese_calendar

    holidays: dict[date, str] = {d: n for d, n in chinese_calendar.holidays.items() if d.year == year}
    workdays: dict[date, str] = {d: n for d, n in chinese_calendar.workdays.items() if d.year == year}
    if not any(name for name in holidays.values()):
        return None
    out: list[tuple[date, str, str]] = []
    for day, name in holidays.items():
        if day.weekday() < 5 or name:
            out.append((day, "holiday", _HOLIDAY_NAMES_ZH.get(str(name), str(name or "休息日"))))
    for day, name in workdays.items():
        if day.weekday() >= 5:
            out.append((day, "workday", f"{_HOLIDAY_NAMES_ZH.get(str(name), str(name or ''))}调休上班"))
    return sorted(out)


def cmd_calendar_template(args: argparse.Namespace) -> int:
    rows = calendar_exceptions(args.year)
    target = Path(args.output or f"calendar-{args.year}.csv")
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["日期", "类型", "说明"])
        for day, kind, note in rows or ():
            writer.writerow([day.isoformat(), "节假日" if kind == "holiday" else "工作日", note])
    if rows is None:
        print(
            f"{target}: 仅有表头——本机的 chinesecalendar 尚不含 {args.year} 年安排，请按国务院办公厅"
            f"《关于{args.year}年部分节假日安排的通知》逐日填写后用 calendar import 导入 / header only: "
            f"the installed chinesecalendar does not know {args.year}; fill it in from the State Council notice"
        )
    else:
        print(f"{target}: {len(rows)} 天（节假日与调休上班）/ {len(rows)} days written; 核对后用 calendar import 导入")
    return EXIT_OK


# --- dead letters, replay, status ------------------------------------------------------------------


def cmd_dead_letters_list(api: Api, args: argparse.Namespace) -> int:
    params = {"open_only": "false" if args.all else "true", "page": args.page, "size": args.size}
    page = api.request(args.service, "GET", "/admin/dead-letters", f"{args.service} 死信列表 dead letters", params=params).json()
    if args.json:
        print_json(page)
        return EXIT_OK
    items = page.get("items", [])
    print_table(
        [
            (
                d["id"], d["consumer"], d["type"], d["attempts"], str(d["failed_at"])[:19],
                str(d["redriven_at"] or "")[:19], d["error"].splitlines()[0][:80] if d.get("error") else "",
            )
            for d in items
        ],
        ["ID", "消费者 consumer", "事件类型 type", "次数", "失败时间 failed_at", "已重投 redriven", "错误 error"],
    )
    print(f"共 {page.get('total', len(items))} 条 / {page.get('total', len(items))} in total (page {page.get('page')})")
    return EXIT_OK


def cmd_dead_letters_redrive(api: Api, args: argparse.Namespace) -> int:
    result = api.request(
        args.service, "POST", f"/admin/dead-letters/{args.id}/redrive", f"{args.service} 重投死信 {args.id} redrive"
    ).json()
    if result.get("redriven"):
        print(f"死信 {args.id} 已重新投递 / dead letter {args.id} redriven")
        return EXIT_OK
    print(f"死信 {args.id} 此前已重投，未再处理 / dead letter {args.id} was already redriven; nothing done")
    return EXIT_OK


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is Beijing time (Asia/Shanghai)."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"时间格式应为 ISO 8601（如 2026-11-01T08:00+08:00）/ not an ISO 8601 time: {text!r}", EXIT_USAGE)
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def cmd_replay(api: Api, args: argparse.Namespace) -> int:
    since = parse_moment(args.since)
    until = parse_moment(args.until) if args.until else None
    if until is not None and until <= since:
        fail("--until 必须晚于 --since / --until must be after --since", EXIT_USAGE)
    types = [t for chunk in args.types or () for t in chunk.split(",") if t.strip()] or None
    body = {"since": since.isoformat(), "until": until.isoformat() if until else None, "types": types, "topic": args.topic}
    result = api.request(args.service, "POST", "/admin/outbox/replay", f"{args.service} 重放 replay", json=body).json()
    target = args.topic or f"zone.{args.service}"
    print(
        f"{args.service}: 已重放 {result.get('replayed', 0)} 条事件到 {target}（自 {since.isoformat()}"
        + (f" 至 {until.isoformat()}" if until else "")
        + f"）/ replayed {result.get('replayed', 0)} events"
    )
    return EXIT_OK


def cmd_status(api: Api, args: argparse.Namespace) -> int:
    import httpx

    names = args.apps or list(APP_PORTS)
    unknown = [n for n in names if n not in APP_PORTS]
    if unknown:
        fail(f"未知应用 unknown app: {', '.join(unknown)}", EXIT_USAGE)
    with_backlog = bool(args.token or os.environ.get("ZONECTL_TOKEN") or args.username or os.environ.get("ZONECTL_USERNAME"))
    rows = []
    worst = EXIT_OK
    for name in names:
        base = api.url(name)
        try:
            ready = api.client.get(f"{base}/readyz")
            body = ready.json() if ready.headers.get("content-type", "").startswith("application/json") else {}
            state = body.get("status", f"HTTP {ready.status_code}")
            checks = ", ".join(f"{k}={v}" for k, v in (body.get("checks") or {}).items())
            if ready.status_code != 200:
                worst = EXIT_REFUSED
        except httpx.HTTPError as exc:
            state, checks, worst = "unreachable", type(exc).__name__, EXIT_UNREACHABLE
        backlog = ""
        if with_backlog and state != "unreachable":
            response = api._send(name, "GET", "/admin/outbox")
            backlog = str(response.json().get("backlog")) if response.is_success else f"HTTP {response.status_code}"
        rows.append((name, base, state, checks, backlog))
    print_table(rows, ["应用 app", "地址 url", "状态 status", "检查 checks", "发件箱积压 outbox backlog"])
    return worst


# --- gateway administration, exports ----------------------------------------------------------------


def _initial_password(args: argparse.Namespace) -> tuple[str, bool]:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n"), False
    if args.initial_password:
        return str(args.initial_password), False
    from chassis.crypto import generate_secret  # lazily, like the other heavy imports here

    return generate_secret(12), True


def cmd_accounts_create(api: Api, args: argparse.Namespace) -> int:
    password, generated = _initial_password(args)
    roles = sorted({r.strip() for chunk in args.roles or () for r in chunk.split(",") if r.strip()})
    body: dict[str, Any] = {
        "username": args.new_username, "password": password, "kind": args.kind, "name": args.name, "roles": roles,
    }
    for key, value in (("zone_id", args.zone), ("department", args.dept), ("uscc", args.uscc)):
        if value:
            body[key] = value
    created = api.request(
        "gateway", "POST", "/admin/accounts", f"创建账户 {args.new_username} create account", json=body,
        headers={"Idempotency-Key": idempotency_key("/admin/accounts", body)},
    ).json()
    if args.json:
        print_json(created)
    else:
        print(
            f"已创建账户 account created: {created.get('username', args.new_username)} ({args.kind}"
            + (f", {','.join(roles)}" if roles else "")
            + (f", {args.zone}" if args.zone else "")
            + ")"
        )
    if generated:
        print(f"初始密码（仅显示一次，请安全转交）/ initial password, shown once: {password}")
    return EXIT_OK


def cmd_clients_create(api: Api, args: argparse.Namespace) -> int:
    event_types = sorted({t.strip() for chunk in args.event_types or () for t in chunk.split(",") if t.strip()})
    body = {"client_id": args.client_id_new, "name": args.name, "event_types": event_types}
    created = api.request(
        "gateway", "POST", "/admin/clients", f"登记外部系统 {args.client_id_new} register client", json=body,
        headers={"Idempotency-Key": idempotency_key("/admin/clients", body)},
    ).json()
    if args.json:
        print_json(created)
        return EXIT_OK
    print(f"已登记外部系统 client registered: {created.get('client_id')} ({created.get('name')}), 事件类型 {len(event_types)} 种")
    print(f"客户端密钥（仅显示一次）/ client secret, shown once: {created.get('client_secret')}")
    return EXIT_OK


def cmd_keys_rotate(api: Api, args: argparse.Namespace) -> int:
    result = api.request("gateway", "POST", "/admin/keys/rotate", "轮换签名密钥 rotate signing keys").json()
    if args.json:
        print_json(result)
        return EXIT_OK
    retired = ", ".join(result.get("retired") or []) or "-"
    print(f"签名密钥已轮换 / signing key rotated: 当前 current {result.get('kid')}，退役 retired {retired}")
    print("旧公钥仍保留在 JWKS 中，已签发的令牌到期前继续有效 / old public keys stay in the JWKS until issued tokens expire")
    return EXIT_OK


def _attachment_name(response: httpx.Response) -> str | None:
    """The file name the service proposes (RFC 6266 ``filename*=UTF-8''…`` first), without any path."""
    from urllib.parse import unquote

    header = response.headers.get("content-disposition", "")
    match = re.search(r"filename\*=UTF-8''([^;]+)", header, re.I) or re.search(r'filename="?([^";]+)"?', header, re.I)
    if not match:
        return None
    name = Path(unquote(match[1].strip())).name
    return name or None


def cmd_export_summary(api: Api, args: argparse.Namespace) -> int:
    response = api.request(
        "stats",
        "GET",
        f"/zones/{quote(args.zone, safe='')}/summary/export",
        f"导出 {args.zone} {args.period} 汇总 export",
        params={"period": args.period, "format": args.format},
    )
    target = Path(args.output or _attachment_name(response) or f"summary-{args.zone}-{args.period}.{args.format}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(response.content)
    print(f"已导出 exported: {target} ({len(response.content)} 字节 bytes)")
    return EXIT_OK


# --- container entry points --------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    """Run one app with uvicorn: host and port from ``<PREFIX>HOST``/``<PREFIX>PORT``."""
    import uvicorn

    module, default_port, prefix = APP_PORTS[args.app]
    if importlib.util.find_spec(module) is None or importlib.util.find_spec(f"{module}.app") is None:
        fail(f"{args.app} 不在此镜像中 / {args.app} is not installed in this image ({module}.app)", EXIT_USAGE)
    host = os.environ.get(f"{prefix}HOST", "0.0.0.0")
    port = int(os.environ.get(f"{prefix}PORT", default_port))
    try:
        SERVE_STATE.write_text(json.dumps({"app": args.app, "port": port}), encoding="utf-8")
    except OSError:
        pass  # a read-only /tmp only costs the image's own HEALTHCHECK its port hint
    uvicorn.run(
        f"{module}.app:create_app",
        factory=True,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "*"),
        access_log=False,
        timeout_graceful_shutdown=int(os.environ.get("ZONE_GRACEFUL_SHUTDOWN_S", "20")),
        log_level=os.environ.get(f"{prefix}LOG_LEVEL", "info").lower(),
    )
    return EXIT_OK


def cmd_healthcheck(args: argparse.Namespace) -> int:
    """GET /healthz of the app this container serves (or ``--url``); exit 0 when it answers 200."""
    import urllib.error
    import urllib.request

    url = args.url
    if not url:
        try:
            state = json.loads(SERVE_STATE.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return EXIT_OK  # a one-shot container (migrate, zonectl …) serves nothing to check
        url = f"http://127.0.0.1:{state['port']}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            return EXIT_OK if response.status == 200 else EXIT_REFUSED
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return EXIT_REFUSED


# --- argument parsing ---------------------------------------------------------------------------------


def _connection_options(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Login and URL options, accepted before or after the subcommand."""
    d: Callable[[Any], Any] = (lambda _v: argparse.SUPPRESS) if suppress else (lambda v: v)
    g = parser.add_argument_group("连接与登录 connection and login")
    g.add_argument("--gateway-url", default=d(None), help="网关地址 gateway URL (env ZONECTL_GATEWAY_URL; default http://127.0.0.1:8000)")
    for name in SERVICES:
        g.add_argument(f"--{name}-url", default=d(None), help=f"{name} 服务地址 URL (env ZONECTL_{name.upper()}_URL)")
    g.add_argument("--token", default=d(None), help="直接使用的访问令牌 bearer token to use (env ZONECTL_TOKEN)")
    g.add_argument("--username", default=d(None), help="登录用户名 login username (env ZONECTL_USERNAME)")
    g.add_argument("--password", default=d(None), help="登录密码 login password (env ZONECTL_PASSWORD; prompted if omitted)")
    g.add_argument("--client-id", default=d(None), help="系统客户端 ID, client credentials (env ZONECTL_CLIENT_ID)")
    g.add_argument("--client-secret", default=d(None), help="系统客户端密钥 client secret (env ZONECTL_CLIENT_SECRET)")
    g.add_argument("--timeout", type=float, default=d(30.0), help="请求超时秒数 request timeout in seconds (default 30)")
    g.add_argument("--lang", choices=["zh", "en"], default=d("zh"), help="错误信息语言 language of the platform's messages")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zonectl",
        description="产业功能区平台运维命令行 / operator command line of the zone platform",
        epilog="退出码 exit codes: 0 成功 done, 1 平台拒绝或部分失败 refused, 2 用法错误 usage, 3 无法连接或登录 unreachable",
    )
    _connection_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(subparsers: Any, name: str, help_text: str, *, remote: bool = True) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text, description=help_text)
        if remote:
            _connection_options(p, suppress=True)
        return p

    p = command(sub, "migrate", "执行数据库迁移 apply database migrations", remote=False)
    p.add_argument("service", help="服务名或 all / service name (investment, approvals, hr, stats, gateway) or all")
    p.add_argument("--url", help="数据库地址（默认读取服务的 <PREFIX>DATABASE_URL）/ database URL (default: the service's settings)")
    p.add_argument("--revision", default="head", help="目标版本 target revision (default head)")
    p.add_argument("--wait", type=float, default=0.0, help="数据库未就绪时最多等待秒数 wait this long for the database")
    p.set_defaults(func=cmd_migrate, remote=False)

    catalog = command(sub, "catalog", "导入目录 import catalogs", remote=False)
    csub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    for name, help_text, func in (
        ("import-items", "从 CSV/XLSX 导入审批事项清单 import the approval item catalog (approvals POST /items)", cmd_import_items),
        ("import-admission", "从 CSV/XLSX 导入项目准入目录 import an admission catalog (investment POST /catalog)", cmd_import_admission),
    ):
        p = command(csub, name, help_text)
        p.add_argument("file", help="CSV（UTF-8 或 GB18030）或 XLSX 文件 / CSV or XLSX file with Chinese headers")
        p.add_argument("--sheet", help="XLSX 工作表名（默认第一张）/ worksheet name")
        p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="每行都加上的字段 field added to every row")
        p.add_argument("--dry-run", action="store_true", help="只检查并打印，不提交 check and print, send nothing")
        p.add_argument("--stop-on-error", action="store_true", help="遇到第一条失败即停止 stop at the first failed row")
        if name == "import-admission":
            p.add_argument("--zone", help="功能区 ID（文件中无“功能区”列时）/ zone id for rows without one")
        p.set_defaults(func=func, remote=True)

    cal = command(sub, "calendar", "维护工作日历 maintain the working-day calendar", remote=False)
    calsub = cal.add_subparsers(dest="calendar_command", required=True, metavar="ACTION")
    p = command(calsub, "set", "设置某日为工作日或节假日 set one day (approvals PUT /calendar/{date})")
    p.add_argument("date", help="日期 YYYY-MM-DD")
    p.add_argument("kind", help="workday（工作日、调休上班）或 holiday（节假日、休息日）")
    p.add_argument("--note", help="说明，如“春节”“国庆调休” / note")
    p.set_defaults(func=cmd_calendar_set, remote=True)
    p = command(calsub, "import", "从文件导入日历（列：日期、类型、说明）import days from CSV/XLSX")
    p.add_argument("file")
    p.add_argument("--sheet")
    p.set_defaults(func=cmd_calendar_import, remote=True)
    p = command(calsub, "template", "生成某年的日历文件（本机已知的节假日与调休）write a year's calendar file", remote=False)
    p.add_argument("year", type=int)
    p.add_argument("-o", "--output", help="输出文件 output file (default calendar-<year>.csv)")
    p.set_defaults(func=cmd_calendar_template, remote=False)

    dl = command(sub, "dead-letters", "死信：列出与重投 list and redrive dead letters", remote=False)
    dlsub = dl.add_subparsers(dest="dl_command", required=True, metavar="ACTION")
    p = command(dlsub, "list", "列出服务的死信 list a service's dead letters")
    p.add_argument("service")
    p.add_argument("--service-url", help="该服务地址 the service's URL")
    p.add_argument("--all", action="store_true", help="包括已重投的 include redriven ones")
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--size", type=int, default=50)
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.set_defaults(func=cmd_dead_letters_list, remote=True)
    p = command(dlsub, "redrive", "重新投递一条死信 run the handler again for one dead letter")
    p.add_argument("service")
    p.add_argument("id", type=int)
    p.add_argument("--service-url", help="该服务地址 the service's URL")
    p.set_defaults(func=cmd_dead_letters_redrive, remote=True)

    p = command(sub, "replay", "从发件箱重放事件 republish outbox events from a point in time")
    p.add_argument("service")
    p.add_argument("--since", required=True, help="起始时间（含），ISO 8601；无时区时按北京时间 / from (inclusive)")
    p.add_argument("--until", help="截止时间（不含）/ until (exclusive)")
    p.add_argument("--types", action="append", help="只重放这些事件类型（逗号分隔）/ only these event types")
    p.add_argument("--topic", help="改发到此主题（默认原主题）/ publish to this topic instead")
    p.add_argument("--service-url", help="该服务地址 the service's URL")
    p.set_defaults(func=cmd_replay, remote=True)

    p = command(sub, "status", "各应用就绪状态与发件箱积压 readiness and outbox backlog of every app")
    p.add_argument("apps", nargs="*", metavar="APP", help=f"应用（默认全部）/ apps, default all: {', '.join(APP_PORTS)}")
    p.set_defaults(func=cmd_status, remote=True)

    acc = command(sub, "accounts", "账户管理 accounts (gateway)", remote=False)
    accsub = acc.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    p = command(accsub, "create", "创建账户 create an account (gateway POST /admin/accounts)")
    p.add_argument("new_username", metavar="USERNAME", help="新账户的登录名 the new account's username")
    p.add_argument("--kind", required=True, choices=["staff", "enterprise", "admin"], help="账户类型 account kind")
    p.add_argument("--name", required=True, help="姓名或企业名称 display name")
    p.add_argument("--roles", action="append", help="角色（逗号分隔），如 approvals,approvals-admin / roles")
    p.add_argument("--zone", help="所属功能区（市级人员不填）/ zone id (none for city level)")
    p.add_argument("--dept", help="部门代码 department code")
    p.add_argument("--uscc", help="企业统一社会信用代码 the enterprise's USCC")
    p.add_argument("--initial-password", help="初始密码（默认随机生成并显示一次）/ initial password (default: generated)")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取初始密码 read it from stdin")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accounts_create, remote=True)

    cl = command(sub, "clients", "外部系统客户端 system clients of other government systems (gateway)", remote=False)
    clsub = cl.add_subparsers(dest="clients_command", required=True, metavar="ACTION")
    p = command(clsub, "create", "登记外部系统客户端 register a client (gateway POST /admin/clients)")
    p.add_argument("client_id_new", metavar="CLIENT_ID", help="客户端标识，如 credit-platform")
    p.add_argument("--name", required=True, help="系统名称，如 信用平台")
    p.add_argument("--event-types", action="append", help="允许接收的事件类型（逗号分隔）/ event types it may receive")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_clients_create, remote=True)

    keys = command(sub, "keys", "签名密钥 signing keys (gateway)", remote=False)
    keysub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    p = command(keysub, "rotate", "轮换令牌签名密钥 rotate the token signing key (gateway POST /admin/keys/rotate)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_keys_rotate, remote=True)

    exp = command(sub, "export", "导出 exports", remote=False)
    expsub = exp.add_subparsers(dest="export_command", required=True, metavar="WHAT")
    p = command(expsub, "summary", "导出功能区汇总表 export a zone summary (stats)")
    p.add_argument("--zone", required=True, help="功能区 ID zone id")
    p.add_argument("--period", required=True, help="期别，如 2026-10、2026-Q3、2026 / period")
    p.add_argument("--format", choices=["csv", "xlsx"], default="xlsx")
    p.add_argument("-o", "--output", help="输出文件（默认用服务给出的文件名）/ output file (default: the name the service proposes)")
    p.set_defaults(func=cmd_export_summary, remote=True)

    p = command(sub, "serve", "运行一个应用（容器入口）run one app with uvicorn (container entry)", remote=False)
    p.add_argument("app", choices=list(APP_PORTS))
    p.set_defaults(func=cmd_serve, remote=False)

    p = command(sub, "healthcheck", "容器健康检查 container health check (GET /healthz)", remote=False)
    p.add_argument("--url", help="检查的地址（默认本容器 serve 的应用）/ URL to check")
    p.add_argument("--timeout", type=float, default=3.0)
    p.set_defaults(func=cmd_healthcheck, remote=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    api = Api(args) if args.remote else None
    try:
        if api is not None:
            result: int = args.func(api, args)
        else:
            result = args.func(args)
        return result
    except CliError as exc:
        print(f"zonectl: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("zonectl: 已中断 interrupted", file=sys.stderr)
        return 130
    finally:
        if api is not None:
            api.close()


def iter_commands(parser: argparse.ArgumentParser | None = None) -> Iterator[tuple[str, ...]]:
    """Every command path (``("catalog", "import-items")`` …), for documentation and tests."""
    parser = parser or build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                nested = list(iter_commands(child))
                if nested:
                    yield from ((name, *rest) for rest in nested)
                else:
                    yield (name,)


if __name__ == "__main__":
    sys.exit(main())
