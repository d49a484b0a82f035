"""Root URLs: the back office, the API under /api/v1/, and the language switch."""

from django.urls import include, path

from pingan.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("field/", include("pingan.field.urls")),
    path("", include("pingan.web.urls")),
]
