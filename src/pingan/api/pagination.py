"""Limit/offset pagination for every list: 100 items by default, at most 500."""

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class LimitOffset(LimitOffsetPagination):
    """`?limit=&offset=`; a limit above the maximum is invalid input (422), not silently cut."""

    class Input(Schema):
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="每页条数")
        offset: int = Field(0, ge=0, description="跳过的条数")

    def __init__(self, **kwargs) -> None:
        super().__init__(max_limit=MAX_LIMIT, **kwargs)
