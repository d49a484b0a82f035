"""Routes of the web app's intake pages, added to `web.urls` (same `web:` namespace): a
concern as recorded by 登记 (the form itself keeps `ledger/new/`, `web:problem_new`), and the
town center's categories and routing rules."""

from django.urls import URLPattern, path

from pingan.web import intake

urlpatterns: list[URLPattern] = [
    path("intake/<int:pk>/", intake.intake_concern, name="intake_concern"),
    path("settings/categories/", intake.categories, name="categories"),
    path("settings/routing-rules/", intake.routing_rules, name="routing_rules"),
]
