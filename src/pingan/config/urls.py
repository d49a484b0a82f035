"""Root URLs: the back office, the API under /api/v1/, the language switch, the favicon, and
the error pages (pingan.web.errors: Chinese, in the site's layout; JSON under /api/)."""

from django.urls import include, path

from pingan.api.api import api
from pingan.web.views import favicon

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("field/", include("pingan.field.urls")),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("pingan.web.urls")),
]

handler400 = "pingan.web.errors.bad_request"
handler403 = "pingan.web.errors.permission_denied"
handler404 = "pingan.web.errors.page_not_found"
handler500 = "pingan.web.errors.server_error"
