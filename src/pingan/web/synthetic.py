"""Whether the site holds synthetic (demo) data: every page's layout shows the banner
"演示数据（合成）— 非真实群众信息" when it does.

Every page asks, so the database is not asked every time: the answer is kept in Django's
cache (the per-process local-memory cache unless `CACHES` says otherwise) for
`SYNTHETIC_TTL` seconds. Synthetic data comes from `pingan demo` and `pingan generate_data`,
commands that run in a process of their own, so a running server starts (or stops) showing
the banner within that time at most; a restarted one at once. The first page after a cache
miss pays one query that stops at the first synthetic row (`site_has_synthetic_data`).

The banner is never why a page fails: when the database cannot answer (not migrated yet, or
down), the page shows no banner, the failure is logged, and the next page asks again.

Tests start from an empty cache (tests/conftest.py clears it before each test), so a pinned
query count includes that one query exactly when the pinned request is the test's first page,
whatever ran before.
"""

import logging

from django.core.cache import cache
from django.db import DatabaseError

from pingan.regions.selectors import site_has_synthetic_data

logger = logging.getLogger(__name__)

CACHE_KEY = "pingan:site:synthetic"
SYNTHETIC_TTL = 60  # seconds


def site_is_synthetic() -> bool:
    """The answer, from the cache or (at most once per `SYNTHETIC_TTL`) the database."""
    answer = cache.get(CACHE_KEY)
    if answer is None:
        try:
            answer = site_has_synthetic_data()
        except DatabaseError as exc:
            logger.warning("cannot tell whether the site holds synthetic data: %s", exc)
            return False
        cache.set(CACHE_KEY, answer, SYNTHETIC_TTL)
    return bool(answer)


def site_is_synthetic_if_known() -> bool:
    """The cached answer only, never a query (False when unknown): for the 500 page, which
    must render even when the database is down."""
    return bool(cache.get(CACHE_KEY, False))
