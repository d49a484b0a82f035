"""Routes of the web app's triage pages, added to `web.urls` (same `web:` namespace)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
