"""What every page's layout needs, whatever view rendered it."""

from django.http import HttpRequest

from pingan.core import clock


def site(request: HttpRequest) -> dict[str, object]:
    """`demo_clock_offset_ms`: the demo clock's lead over the real one (0 outside the demo);
    the field page dates visits with it (see `clock.demo_offset`)."""
    return {"demo_clock_offset_ms": int(clock.demo_offset().total_seconds() * 1000)}
