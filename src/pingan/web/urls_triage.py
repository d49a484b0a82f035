"""Routes of the web app's triage pages, added to `web.urls` (same `web:` namespace)."""

from django.urls import URLPattern, path

from pingan.web import triage

urlpatterns: list[URLPattern] = [
    # 梳理: the town center's queue of concerns waiting for triage, and its batch action.
    path("ledger/triage/", triage.triage, name="triage"),
]
