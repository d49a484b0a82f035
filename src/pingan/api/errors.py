"""Every API error in docs/operations.md's shape: `{"detail": "<Chinese>", "errors": [...]}`.

401 not signed in, 403 the role may not, 404 unknown or outside the caller's scope (the same
answer for both, so existence is not revealed), 409 conflict, 422 invalid input. A 5xx is
always a bug: it is logged with its traceback and answered with a fixed message.
"""

import logging
import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from pingan.ledger.lifecycle import LedgerError

if TYPE_CHECKING:
    from ninja import NinjaAPI

logger = logging.getLogger(__name__)

NOT_SIGNED_IN = "未登录或登录已失效"
NOT_FOUND = "请求的对象不存在或不在您的管辖范围内"
FORBIDDEN = "您的角色无权执行此操作"
INVALID_INPUT = "请求数据有误"
SERVER_ERROR = "服务器内部错误"

# The detail for an error whose own message is not written for a Chinese reader
# (django-ninja's built-in messages are English).
DETAIL_BY_STATUS: dict[int, str] = {
    400: "请求有误",
    401: NOT_SIGNED_IN,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: "不支持该请求方法",
    409: "数据已被他人修改，请刷新后重试",
    422: INVALID_INPUT,
    429: "请求过于频繁，请稍后再试",
    500: SERVER_ERROR,
}

_CJK = re.compile(r"[\u4e00-\u9fff]")

# pydantic's error types, in Chinese; `{name}` placeholders come from the error's ctx.
_MESSAGES: dict[str, str] = {
    "missing": "缺少必填字段",
    "extra_forbidden": "不允许的字段",
    "string_type": "应为字符串",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_pattern_mismatch": "格式不正确",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "decimal_parsing": "应为数字",
    "bool_type": "应为布尔值（true 或 false）",
    "bool_parsing": "应为布尔值（true 或 false）",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多允许 {max_length} 项",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_type": "应为日期时间（ISO 8601）",
    "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_from_date_parsing": "应为日期时间（ISO 8601）",
    "timezone_aware": "日期时间须带时区",
    "uuid_type": "应为 UUID",
    "uuid_parsing": "应为 UUID",
    "enum": "取值无效，可选值：{expected}",
    "literal_error": "取值无效，可选值：{expected}",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "none_required": "应为空",
    "value_error": "取值无效",
    "assertion_error": "取值无效",
}


def translate_error(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic/ninja error as `{"loc", "msg", "type"}` with a Chinese `msg`."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    msg = _MESSAGES.get(kind, "取值无效")
    if kind in {"value_error", "assertion_error"}:
        # A validator of ours raised with a message of its own: keep it if it is Chinese.
        own = (
            str(error.get("msg", ""))
            .removeprefix("Value error, ")
            .removeprefix("Assertion failed, ")
        )
        if _CJK.search(own):
            msg = own
    try:
        msg = msg.format(**{key: value for key, value in ctx.items() if isinstance(key, str)})
    except (KeyError, IndexError, ValueError):
        msg = _MESSAGES.get(kind, "取值无效").split("{")[0].rstrip("：:，, ")
    return {"loc": list(error.get("loc", ())), "msg": msg, "type": kind}


def error_response(
    api: "NinjaAPI",
    request: HttpRequest,
    status: int,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    body = {"detail": detail or DETAIL_BY_STATUS.get(status, "请求有误"), "errors": errors or []}
    return api.create_response(request, body, status=status)


def _chinese_or_default(message: str, status: int) -> str:
    return message if _CJK.search(message or "") else DETAIL_BY_STATUS.get(status, "请求有误")


def _on_validation_error(
    request: HttpRequest, exc: ValidationError, api: "NinjaAPI"
) -> HttpResponse:
    return error_response(
        api, request, 422, INVALID_INPUT, [translate_error(e) for e in exc.errors]
    )


def _on_authentication_error(
    request: HttpRequest, exc: AuthenticationError, api: "NinjaAPI"
) -> HttpResponse:
    response = error_response(api, request, 401, _chinese_or_default(exc.message, 401))
    response["WWW-Authenticate"] = 'Bearer realm="pingan"'
    return response


def _on_http_error(request: HttpRequest, exc: HttpError, api: "NinjaAPI") -> HttpResponse:
    if exc.status_code == 400 and str(exc.message).startswith("Cannot parse request body"):
        # A body that is not JSON is invalid input like any other (docs/operations.md: 422).
        error = {"loc": ["body"], "msg": "不是有效的 JSON", "type": "json_invalid"}
        return error_response(api, request, 422, INVALID_INPUT, [error])
    response = error_response(
        api, request, exc.status_code, _chinese_or_default(exc.message, exc.status_code)
    )
    wait = getattr(exc, "wait", None)
    if exc.status_code == 429 and wait:
        response["Retry-After"] = str(int(wait) + 1)
    return response


def _on_not_found(request: HttpRequest, exc: Exception, api: "NinjaAPI") -> HttpResponse:
    return error_response(api, request, 404, NOT_FOUND)


def _on_permission_denied(request: HttpRequest, exc: Exception, api: "NinjaAPI") -> HttpResponse:
    message = str(exc)
    return error_response(api, request, 403, message if _CJK.search(message) else FORBIDDEN)


def _on_ledger_error(request: HttpRequest, exc: LedgerError, api: "NinjaAPI") -> HttpResponse:
    """A refused ledger action (403 role, 409 stale version, 422 state or input) with the
    service's own Chinese message; the field it concerns, when there is one, in `errors`."""
    kind = re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
    errors = [{"loc": ["body", exc.field], "msg": exc.message, "type": kind}] if exc.field else []
    return error_response(api, request, exc.status, exc.message, errors)


def _on_unexpected(request: HttpRequest, exc: Exception, api: "NinjaAPI") -> HttpResponse:
    logger.exception("API %s %s failed", request.method, request.path, exc_info=exc)
    return error_response(api, request, 500, SERVER_ERROR)


def install_exception_handlers(api: "NinjaAPI") -> None:
    """Replace django-ninja's handlers (English, varying shapes) with docs/operations.md's."""
    handlers: dict[type[Exception], Callable[..., HttpResponse]] = {
        ValidationError: _on_validation_error,
        AuthenticationError: _on_authentication_error,
        HttpError: _on_http_error,
        Http404: _on_not_found,
        PermissionDenied: _on_permission_denied,
        # Found before PermissionDenied for ActionForbidden (a subclass of both): handlers are
        # looked up along the exception's MRO, where LedgerError comes first.
        LedgerError: _on_ledger_error,
        Exception: _on_unexpected,
    }
    for exc_class, handler in handlers.items():
        api.add_exception_handler(exc_class, partial(handler, api=api))
