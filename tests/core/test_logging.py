"""The logs: one line per event; a refused request (403, 404, 400) is one plain line with no
traceback; a real 500 logs its traceback once. Checked against settings.LOGGING itself, applied
the way Django applies it (its own defaults first), with the handler writing to a buffer."""

import copy
import io
import logging
import logging.config

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.log import DEFAULT_LOGGING

from pingan.accounts.models import Role


class Output:
    """Everything logged: our console's buffer, and whatever any other handler (Django's own
    console, say) wrote to stderr."""

    def __init__(self, stream: io.StringIO, capsys: pytest.CaptureFixture[str]) -> None:
        self.stream, self.capsys = stream, capsys

    def text(self) -> str:
        return self.stream.getvalue() + self.capsys.readouterr().err

    def lines(self) -> list[str]:
        return self.text().splitlines()


@pytest.fixture
def log_output(capsys):
    """settings.LOGGING in force, its console writing to a buffer; every logger is put back as
    it was afterwards."""
    existing = [logging.root]
    existing += [
        v for v in logging.Logger.manager.loggerDict.values() if isinstance(v, logging.Logger)
    ]
    saved = [(lg, lg.handlers[:], lg.level, lg.propagate, lg.disabled) for lg in existing]
    stream = io.StringIO()
    config = copy.deepcopy(settings.LOGGING)
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(DEFAULT_LOGGING)  # as django.utils.log.configure_logging does
    logging.config.dictConfig(config)
    yield Output(stream, capsys)
    for lg, handlers, level, propagate, disabled in saved:
        lg.handlers, lg.level, lg.propagate, lg.disabled = handlers, level, propagate, disabled


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.mark.parametrize("debug", [False, True])
def test_a_warning_of_pingan_is_logged_once(log_output, settings, debug):
    settings.DEBUG = debug  # Django's own console handler logs only with DEBUG on
    logging.getLogger("pingan.ledger.supervision").warning("督办通知发送失败")
    logging.getLogger("django.request").warning("Not Found: /nope/")
    lines = log_output.lines()
    assert len(lines) == 2, lines
    assert lines[0].endswith("WARNING pingan.ledger.supervision 督办通知发送失败")
    assert lines[1].endswith("WARNING django.request Not Found: /nope/")


def test_the_task_workers_logger_has_ours_so_huey_adds_none(log_output):
    """`run_huey` gives the `huey` logger a handler of its own unless it has one already."""
    huey = logging.getLogger("huey")
    assert huey.handlers
    huey.warning("worker stopped")
    assert len(log_output.lines()) == 1


def test_a_403_is_one_line_without_traceback(world, login, log_output):
    response = login(world.users[Role.LEADER]).get(
        reverse("web:allocation", args=[world.qiying.pk])
    )
    assert response.status_code == 403
    lines = log_output.lines()
    assert len(lines) == 1, lines
    assert "WARNING django.request Forbidden (Permission denied): /villages/" in lines[0]
    assert "Traceback" not in "\n".join(lines)


def test_a_404_is_one_line_without_traceback(world, login, log_output):
    response = login(world.users[Role.VILLAGE_ADMIN]).get(
        reverse("web:village", args=[world.xinqiao.pk])
    )
    assert response.status_code == 404
    lines = log_output.lines()
    assert len(lines) == 1, lines
    assert "WARNING django.request Not Found: /villages/" in lines[0]


def test_a_400_is_one_line_without_traceback(db, client, log_output):
    assert client.get("/login/", headers={"host": "evil.example"}).status_code == 400
    lines = log_output.lines()
    assert len(lines) == 1, lines
    assert "django.security.DisallowedHost" in lines[0]
    assert "Traceback" not in "\n".join(lines)


def test_a_500_logs_its_traceback_once(world, login, log_output, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("pingan.web.views.campaign_current", broken)
    client = login(world.users[Role.TOWN_ADMIN])
    client.raise_request_exception = False
    assert client.get(reverse("web:town", args=[world.town.pk])).status_code == 500
    output = log_output.text()
    assert output.count("ERROR django.request Internal Server Error: /towns/") == 1
    assert output.count("Traceback (most recent call last)") == 1
    assert output.count("RuntimeError: boom") == 1
