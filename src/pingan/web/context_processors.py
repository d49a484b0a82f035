"""What every page's layout needs, whatever view rendered it."""

from django.http import HttpRequest

from pingan.core import clock
from pingan.web.synthetic import site_is_synthetic
from pingan.web.todo import HeaderCounts


def site(request: HttpRequest) -> dict[str, object]:
    """`demo_clock_offset_ms`: the demo clock's lead over the real one (0 outside the demo);
    the field page dates visits with it (see `clock.demo_offset`).

    `site_synthetic`: whether the site holds synthetic data, for the banner of both layouts
    (web and field). Passed as the function, which the template calls when it reads it, so a
    fragment rendered without the layout asks nothing (see `pingan.web.synthetic`).

    `header_counts`: the signed-in user's 待办 and unread counts beside the header's links,
    asked (in one query) only when the header reads them (`pingan.web.todo.HeaderCounts`)."""
    return {
        "demo_clock_offset_ms": int(clock.demo_offset().total_seconds() * 1000),
        "site_synthetic": site_is_synthetic,
        "header_counts": HeaderCounts(request),
    }
