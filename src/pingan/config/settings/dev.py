"""The embedded default: SQLite, a development data key generated on first use.

DEBUG is off, as in production, so the demo shows what users will see (the site's own error
pages, never Django's debug page); `PINGAN_DEBUG=1` turns it on for development. Static files
are served by WhiteNoise either way (WHITENOISE_USE_FINDERS, `pingan serve` collects them).
"""

import os
import sys

from pingan.core.devkey import development_data_key

from .base import *  # noqa: F403
from .base import PINGAN_DATA_KEY, PINGAN_HOME

DEBUG = os.environ.get("PINGAN_DEBUG", "") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver", *ALLOWED_HOSTS]  # noqa: F405
SECRET_KEY = SECRET_KEY or "pingan-development-only-not-secret"  # noqa: F405

if not PINGAN_DATA_KEY:
    PINGAN_DATA_KEY = development_data_key(PINGAN_HOME, warn=sys.stderr)

# `pingan demo` shows the 2021 campaign in progress: it writes the moment its synthetic data
# stops (an evening in the visiting phase) here, and the demo server's clock starts there.
_demo_clock = PINGAN_HOME / "demo-clock"
PINGAN_DEMO_NOW = os.environ.get("PINGAN_DEMO_NOW") or (
    _demo_clock.read_text().strip() if _demo_clock.exists() else ""
)
