"""Test settings for mutation runs (tools/mutation/mutate.py): the test settings with a fixed
SQLite test database, so each mutant's pytest process reuses it (`--reuse-db`) instead of
migrating a new one. SQLite only: mutate.py never passes `DATABASE_URL` on."""

import os
from pathlib import Path

from pingan.config.settings.test import *  # noqa: F403
from pingan.config.settings.test import DATABASES

_FOLDER = Path(
    os.environ.get("PINGAN_MUTATION_DB_DIR", Path(__file__).resolve().parents[2] / ".mutation/db")
)
DATABASES["default"]["NAME"] = str(_FOLDER / "main.sqlite3")
DATABASES["default"]["TEST"] = {"NAME": str(_FOLDER / "test.sqlite3")}
