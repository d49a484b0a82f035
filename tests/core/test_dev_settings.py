"""The demo's settings behave like production: DEBUG off unless PINGAN_DEBUG=1, static files
still served (WhiteNoise), the local host names allowed."""

import json
import os
import subprocess
import sys

# Runs in a fresh interpreter with the dev settings: DEBUG, the allowed hosts, and what the
# WSGI application answers for a static file and an unknown page.
SCRIPT = """
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "pingan.config.settings.dev"
import django
django.setup()
from django.conf import settings
from django.http.request import validate_host
from django.test import Client
client = Client()
css = client.get("/static/web/pingan.css", headers={"host": "127.0.0.1:8010"})
print(json.dumps({
    "debug": settings.DEBUG,
    "hosts": [h for h in ("127.0.0.1", "localhost", "[::1]", "evil.example")
              if validate_host(h, settings.ALLOWED_HOSTS)],
    "css": [css.status_code, css["Content-Type"], b"--brand" in b"".join(css.streaming_content)],
}))
"""


def _dev(tmp_path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PINGAN_", "DJANGO_"))}
    clean.pop("DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**clean, "PINGAN_HOME": str(tmp_path), "PINGAN_DEV_KEY_WARNED": "1", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_debug_is_off_by_default_and_static_files_are_still_served(tmp_path):
    answer = _dev(tmp_path)
    assert answer["debug"] is False
    status, content_type, is_ours = answer["css"]
    assert (status, content_type.split(";")[0], is_ours) == (200, "text/css", True)
    assert answer["hosts"] == ["127.0.0.1", "localhost", "[::1]"]


def test_pingan_debug_1_turns_debug_on(tmp_path):
    assert _dev(tmp_path, PINGAN_DEBUG="1")["debug"] is True
    assert _dev(tmp_path, PINGAN_DEBUG="0")["debug"] is False
