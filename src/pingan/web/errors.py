"""The error pages (400, 403, 404, 500 and a refused CSRF check), in the site's own layout.

Django calls these instead of its own pages when DEBUG is off (config/urls.py: handler400 …,
settings: CSRF_FAILURE_VIEW). Each page says in Chinese what happened and what to do, links
back to the home page, and never shows Django's debug page or its list of URLs. Pages under
/field/ (the cadres' phones) use the field layout. A path under /api/ answers JSON in the API's
shape, `{"detail": ..., "errors": []}` (django-ninja answers the API's own routes itself; this
covers whatever fails before them).

The 404 page is the same whether the object does not exist or lies outside the user's scope,
so it never reveals which. The 500 page asks nothing of the database (it renders when the
database is down): no user, no session, only the banner's answer if it is already cached.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse

from pingan.api.errors import DETAIL_BY_STATUS
from pingan.web.synthetic import site_is_synthetic_if_known

WEB_LAYOUT = "web/base.html"
FIELD_LAYOUT = "field/base.html"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _layout(request: HttpRequest) -> str:
    return FIELD_LAYOUT if request.path.startswith(reverse("field:households")) else WEB_LAYOUT


def _api_error(status: int) -> JsonResponse:
    body = {"detail": DETAIL_BY_STATUS.get(status, DETAIL_BY_STATUS[400]), "errors": []}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def _page(request: HttpRequest, template: str, status: int, **context: object) -> HttpResponse:
    if _is_api(request):
        return _api_error(status)
    context = {"error_layout": _layout(request), **context}
    return render(request, template, context, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, "400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, "403.html", 403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent from a stale page (the login page left open overnight, say): a 403 that
    says to reload, not Django's English page."""
    return _page(request, "403_csrf.html", 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error(500)
    context = {
        "error_layout": _layout(request),
        "site_synthetic": site_is_synthetic_if_known(),
    }
    # A plain context: no context processors, so no user or session lookups.
    html = loader.get_template("500.html").render(context)
    return HttpResponse(html, status=500)
