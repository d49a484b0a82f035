"""Routes of the web app's files pages, added to `web.urls` (same `web:` namespace)."""

from django.urls import URLPattern, path

from pingan.web import attachments

urlpatterns: list[URLPattern] = [
    # Attachments (issue 12): one file, scoped; photos and files onto a concern.
    path("attachments/<int:pk>/", attachments.attachment, name="attachment"),
    path(
        "concerns/<int:concern_id>/attachments/",
        attachments.concern_attach,
        name="concern_attach",
    ),
]
