"""The concerns endpoints (issue 12)."""

from ninja import Router

router = Router(tags=["concerns"])
