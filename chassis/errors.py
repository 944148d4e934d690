"""RFC 9457 problem details for every error a service answers with, in Chinese or English.

Domain code raises a :class:`DomainError` subclass with a Chinese message (the users' language)
and an English one; :func:`install_error_handlers` turns it, request-validation errors, database
outages and anything unexpected into ``application/problem+json``. Field errors name the field.
:func:`document_problems` declares those answers in every operation's OpenAPI, so a client (and
schemathesis's conformance checks) knows each status an operation may answer with and its shape.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger("chassis.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://zone-platform.example.cn/problems/"


class FieldError(dict[str, Any]):
    """One field-level error: ``{"field": "applicant.uscc", "message": …, "code": …}``."""

    def __init__(self, field: str, zh: str, en: str | None = None, code: str = "invalid") -> None:
        super().__init__(field=field, code=code, zh=zh, en=en or zh)


class DomainError(Exception):
    """An error a user can act on. Subclasses fix the HTTP status and the problem type."""

    status: int = 400
    slug: str = "bad-request"
    title_zh: str = "请求有误"
    title_en: str = "Bad request"

    def __init__(
        self,
        zh: str,
        en: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(en or zh)
        self.zh = zh
        self.en = en or zh
        self.errors = errors or []
        self.headers = headers or {}
        self.extra = extra


class BadRequest(DomainError):
    pass


class Unauthorized(DomainError):
    status, slug, title_zh, title_en = 401, "unauthorized", "未登录或令牌无效", "Unauthorized"


class Forbidden(DomainError):
    status, slug, title_zh, title_en = 403, "forbidden", "无权执行此操作", "Forbidden"


class NotFound(DomainError):
    status, slug, title_zh, title_en = 404, "not-found", "资源不存在", "Not found"


class Conflict(DomainError):
    status, slug, title_zh, title_en = 409, "conflict", "与当前状态冲突", "Conflict"


class Unprocessable(DomainError):
    """The request was well-formed but breaks a rule (field errors say which)."""

    status, slug, title_zh, title_en = 422, "validation-error", "提交的内容未通过校验", "Validation failed"


class PayloadTooLarge(DomainError):
    status, slug, title_zh, title_en = 413, "payload-too-large", "提交的内容过大", "Payload too large"


class UnsupportedMediaType(DomainError):
    status, slug, title_zh, title_en = 415, "unsupported-media-type", "不支持的文件类型", "Unsupported media type"


class TooManyRequests(DomainError):
    status, slug, title_zh, title_en = 429, "rate-limited", "请求过于频繁", "Too many requests"


class ServiceUnavailable(DomainError):
    status, slug, title_zh, title_en = 503, "service-unavailable", "服务暂不可用", "Service unavailable"


def prefers_english(request: Request) -> bool:
    """zh-CN is the default; English only when Accept-Language ranks it above Chinese."""
    header = request.headers.get("accept-language", "")
    best_lang, best_q = "zh", 0.0
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        lang, _, params = piece.partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = lang.strip().lower()
        if q > best_q and (lang.startswith("en") or lang.startswith("zh")):
            best_lang, best_q = lang[:2], q
    return best_lang == "en"


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: tuple[str, str],
    detail: tuple[str, str],
    errors: Sequence[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    en = prefers_english(request)
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title[1] if en else title[0],
        "status": status,
        "detail": detail[1] if en else detail[0],
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = [
            {"field": e["field"], "code": e.get("code", "invalid"), "message": e["en"] if en else e["zh"]}
            for e in errors
        ]
    if extra:
        body.update(extra)
    return JSONResponse(
        body,
        status_code=status,
        headers={**(headers or {}), "Content-Language": "en" if en else "zh-CN"},
        media_type=PROBLEM_JSON,
    )


# Chinese wording for pydantic's error types; the English message is pydantic's own.
_ZH_MESSAGES: dict[str, str] = {
    "missing": "必填项缺失",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_type": "应为文本",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "decimal_max_digits": "数字位数过多",
    "decimal_max_places": "小数位数过多",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "greater_than": "必须大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "必须小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "literal_error": "取值必须是 {expected} 之一",
    "enum": "取值必须是 {expected} 之一",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "datetime_parsing": "时间格式应为 ISO 8601",
    "datetime_from_date_parsing": "时间格式应为 ISO 8601",
    "datetime_type": "时间格式应为 ISO 8601",
    "list_type": "应为列表",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "json_invalid": "不是合法的 JSON",
    "json_type": "不是合法的 JSON",
    "extra_forbidden": "不允许的字段",
    "uuid_parsing": "应为 UUID",
    "url_parsing": "应为合法的网址",
    "url_scheme": "网址协议不被允许",
    "value_error": "{error}",
    "assertion_error": "{error}",
    "finite_number": "应为有限数字",
    "multiple_of": "必须是 {multiple_of} 的倍数",
    "union_tag_invalid": "类型标记无效",
    "string_unicode": "文本编码无效",
}


def _zh_message(err: dict[str, Any]) -> str:
    template = _ZH_MESSAGES.get(err.get("type", ""))
    ctx = dict(err.get("ctx") or {})
    if "error" in ctx:
        # A ValueError raised by our own validators carries the Chinese text first ("中文 / English").
        ctx["error"] = str(ctx["error"]).split(" / ")[0]
    if template:
        try:
            return template.format(**ctx)
        except (KeyError, IndexError, ValueError):
            pass
    return f"格式不正确：{err.get('msg', '')}"


def _en_message(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "invalid"))
    if " / " in msg:
        return msg.split(" / ", 1)[1]
    return msg


def validation_field_errors(exc: RequestValidationError) -> list[FieldError]:
    out: list[FieldError] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        where = loc[0] if loc else "body"
        path = loc[1:] if where in {"body", "query", "path", "header", "cookie"} else loc
        field = ".".join(path) or where
        fe = FieldError(field, _zh_message(err), _en_message(err), code=str(err.get("type", "invalid")))
        fe["in"] = where
        out.append(fe)
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Every error a service answers with becomes problem details; none becomes a bare 500."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(
            request,
            status=exc.status,
            slug=exc.slug,
            title=(exc.title_zh, exc.title_en),
            detail=(exc.zh, exc.en),
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_field_errors(exc)
        fields = "、".join(e["field"] for e in errors[:5])
        return problem_response(
            request,
            status=422,
            slug="validation-error",
            title=("提交的内容未通过校验", "Validation failed"),
            detail=(f"请检查以下字段：{fields}", f"Check these fields: {fields}"),
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh = {404: "请求的路径不存在", 405: "不支持该请求方法", 401: "未登录或令牌无效", 403: "无权执行此操作"}
        detail_en = str(exc.detail) if exc.detail else "error"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(
            request,
            status=exc.status_code,
            slug={404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error"),
            title=(zh.get(exc.status_code, "请求有误"), detail_en),
            detail=(zh.get(exc.status_code, detail_en), detail_en),
            headers=headers or None,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc.orig)
        return problem_response(
            request,
            status=409,
            slug="conflict",
            title=("与已有数据冲突", "Conflict"),
            detail=("提交的数据与已有记录冲突（可能重复提交）", "The data conflicts with an existing record"),
        )

    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.error("database unavailable: %s", exc)
        return problem_response(
            request,
            status=503,
            slug="service-unavailable",
            title=("服务暂不可用", "Service unavailable"),
            detail=("数据库暂时无法访问，请稍后重试", "The database is unreachable; retry shortly"),
            headers={"Retry-After": "5"},
        )

    app.add_exception_handler(OperationalError, _unavailable)
    app.add_exception_handler(PoolTimeout, _unavailable)
    app.add_exception_handler(ConnectionError, _unavailable)
    app.add_exception_handler(OSError, _unavailable)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # e.g. a NUL character or an out-of-range number that PostgreSQL refuses to store or compare.
        log.info("data refused by the database: %s", exc.orig)
        return problem_response(
            request,
            status=422,
            slug="validation-error",
            title=("提交的内容未通过校验", "Validation failed"),
            detail=("提交的数据包含无法处理的字符或数值", "The request contains characters or numbers the database cannot accept"),
        )

    @app.exception_handler(DBAPIError)
    async def _dbapi(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _unavailable(request, exc)
        # asyncpg's errors arrive wrapped; SQLSTATE class 22 is "data exception" (a NUL byte, a
        # number out of range): the caller's input, not our fault.
        cause = getattr(exc.orig, "__cause__", None)
        sqlstate = getattr(cause, "sqlstate", None) or getattr(exc.orig, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("22"):
            return await _data(request, exc)  # type: ignore[arg-type]
        log.exception("database error", exc_info=exc)
        return problem_response(
            request,
            status=400 if "DataError" in type(exc.orig).__name__ else 500,
            slug="bad-request" if "DataError" in type(exc.orig).__name__ else "internal-error",
            title=("数据不被接受", "Data rejected"),
            detail=("数据库拒绝了提交的数据", "The database rejected the data"),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(
            request,
            status=500,
            slug="internal-error",
            title=("服务内部错误", "Internal error"),
            detail=("服务内部错误，已记录，请稍后重试", "An internal error was logged; retry later"),
        )


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path.

    Starlette's 405 names only the methods of the first route that matched the path, but FastAPI
    registers one route per method, so ``OPTIONS /items`` would answer ``Allow: GET`` for a path
    that also takes POST (RFC 9110 §15.5.6: Allow lists the target resource's methods).
    """
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


# --- the OpenAPI side: every operation declares the problem details it may answer with ----------


class ProblemFieldError(BaseModel):
    field: str = Field(description="出错的字段（点分路径），如 applicant.uscc")
    code: str = Field(description="错误代码，如 missing、string_too_long")
    message: str = Field(description="中文（或按 Accept-Language 为英文）说明")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error of the platform is answered."""

    # Some problems carry members of their own (e.g. an application's current state and the
    # actions allowed in it), as RFC 9457 §3.2 allows.
    model_config = ConfigDict(extra="allow", title="ProblemDetails")

    type: str = Field(description="问题类型 URI")
    title: str = Field(description="问题类型的简短说明")
    status: int = Field(description="HTTP 状态码")
    detail: str = Field(description="本次问题的说明")
    instance: str = Field(description="出问题的请求路径")
    errors: list[ProblemFieldError] = Field(default_factory=list, description="字段级错误")


#: What every operation may answer besides its success, and why (zh / en).
PROBLEM_STATUSES: dict[int, str] = {
    400: "请求有误，如请求体无法解析 / bad request, e.g. an unparseable body",
    401: "未登录或令牌无效 / not signed in, or the token is invalid",
    403: "无权执行此操作 / not allowed",
    404: "资源不存在，或不属于调用者 / no such resource, or not the caller's",
    409: "与当前状态或已有数据冲突，或同一幂等键的请求仍在处理 / conflicts with the current state or existing data",
    422: "提交的内容未通过校验（字段级错误） / validation failed (field errors named)",
    429: "请求过于频繁（网关限流） / too many requests (the gateway's rate limit)",
    503: "服务暂不可用（如数据库中断），稍后按 Retry-After 重试 / unavailable (e.g. the database is down); retry after Retry-After",
}
#: Only operations that take a request body can be refused for it.
BODY_PROBLEM_STATUSES: dict[int, str] = {
    413: "提交的内容过大 / payload too large",
}
_PROBLEM_REF = "#/components/schemas/ProblemDetails"
_HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def add_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Declare the problem-details answers in every operation of an OpenAPI document (in place).

    A status the route declares itself keeps its description; one declared without a body gets the
    problem-details body; one declared with a body of its own (``/readyz``'s 503) is left alone.
    FastAPI's default 422 schema (HTTPValidationError) is not what the platform answers, so it is replaced.
    """
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for model in (ProblemFieldError, ProblemDetails):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    problem = {PROBLEM_JSON: {"schema": {"$ref": _PROBLEM_REF}}}
    for item in (document.get("paths") or {}).values():
        for method, operation in item.items():
            if method not in _HTTP_METHODS or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            statuses = dict(PROBLEM_STATUSES)
            if "requestBody" in operation:
                statuses |= BODY_PROBLEM_STATUSES
            for code, description in sorted(statuses.items()):
                declared = responses.setdefault(str(code), {"description": description})
                content = declared.get("content")
                if not content or _is_fastapi_validation_error(content):
                    declared["content"] = dict(problem)
            for code, declared in responses.items():  # route-specific errors (409, 413, 415…) too
                if code[:1] in {"4", "5"} and not declared.get("content"):
                    declared["content"] = dict(problem)
    return document


def _is_fastapi_validation_error(content: dict[str, Any]) -> bool:
    schema = (content.get("application/json") or {}).get("schema") or {}
    return str(schema.get("$ref", "")).endswith("/HTTPValidationError")


def document_problems(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the problem-details answers (built once, then cached)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_problem_responses(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
