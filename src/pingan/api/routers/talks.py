"""The talks endpoints (issue 12)."""

from ninja import Router

router = Router(tags=["talks"])
