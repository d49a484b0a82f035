"""The JSON API under /api/v1/ (docs/operations.md): OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Handlers are thin: a schema validates the input, one selector or service does the work, and
`pingan.api.errors` turns every failure into `{"detail": ..., "errors": [...]}`.
"""

from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, re_path
from ninja import NinjaAPI, Swagger
from ninja.renderers import JSONRenderer

from pingan.api.errors import error_response, install_exception_handlers
from pingan.api.routers import (
    assignments,
    attachments,
    auth,
    bulletins,
    concerns,
    me,
    notifications,
    problems,
    talks,
    villages,
    visits,
)
from pingan.api.security import bearer, session


class ChineseJSONRenderer(JSONRenderer):
    """JSON with Chinese text as UTF-8 rather than \\u escapes, readable in any log or curl."""

    json_dumps_params = {"ensure_ascii": False}


class PinganAPI(NinjaAPI):
    """NinjaAPI whose answers outside any operation are JSON in the same shape too:
    an unknown URL under /api/v1/ is a 404, a known URL with the wrong method a 405."""

    @property
    def urls(self) -> tuple[list[Any], str, str]:
        patterns, app_name, namespace = super().urls
        wrapped: list[Any] = []
        for pattern in patterns:
            if isinstance(pattern, URLPattern) and pattern.name == "api-root":
                pattern = URLPattern(pattern.pattern, self._not_found, name=pattern.name)
            elif isinstance(pattern, URLPattern):
                pattern = URLPattern(
                    pattern.pattern,
                    self._json_method_not_allowed(pattern.callback),
                    pattern.default_args,
                    pattern.name,
                )
            wrapped.append(pattern)
        wrapped.append(re_path(r"^.*$", self._not_found, name="not-found"))
        return wrapped, app_name, namespace

    def _not_found(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return error_response(self, request, 404)

    def _json_method_not_allowed(self, view: Any) -> Any:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if isinstance(response, HttpResponseNotAllowed):
                allowed = response["Allow"]
                response = error_response(self, request, 405)
                response["Allow"] = allowed
            return response

        return wrapper


api = PinganAPI(
    title="pingan API",
    version="1",
    description="千家万户访平安 — 走访、台账与进度的接口。错误统一返回 "
    '`{"detail": "中文说明", "errors": [...]}`。',
    urls_namespace="api",
    auth=[bearer, session],
    renderer=ChineseJSONRenderer(),
    # Swagger UI from django-ninja's own static files (no CDN), without the outside validator.
    docs=Swagger(settings={"validatorUrl": None}),
)
install_exception_handlers(api)

api.add_router("/auth", auth.router)
api.add_router("/me", me.router)
api.add_router("/villages", villages.router)
api.add_router("/visits", visits.router)
api.add_router("/assignments", assignments.router)
api.add_router("/problems", problems.router)
api.add_router("/notifications", notifications.router)
api.add_router("/towns", bulletins.router)
api.add_router("/concerns", concerns.router)
api.add_router("/talks", talks.router)
api.add_router("/attachments", attachments.router)
