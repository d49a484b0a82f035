"""`pingan bulletin`: every format to a file or stdout, --publish makes a version, the
published version is what is printed afterwards, and mistakes get Chinese errors."""

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
import time_machine
from django.core.management import CommandError, call_command
from docx import Document
from openpyxl import load_workbook

from pingan.reports.models import Bulletin
from pingan.reports.render import HEADER, TITLE
from tests.factories import make_campaign
from tests.progress_scenario import DAY1, DAY2, shanghai

TOWN = "341623101"  # 汝集镇 (the scenario also has a campaign in 义门镇)
MORNING_AFTER = shanghai(DAY2 + dt.timedelta(days=1), 8)


def run(*args: str, at: dt.datetime = MORNING_AFTER) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with time_machine.travel(at, tick=False):
        call_command("bulletin", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def test_json_to_stdout_is_live_until_published(world, scenario):
    out, err = run("--town", TOWN, "--date", "2021-10-19")
    document = json.loads(out)
    assert document["schema"] == "pingan.bulletin/1"
    assert document["date"] == "2021-10-19"
    assert document["total"]["reached_households"] == 6
    assert document["bulletin"] == {
        "number": "汝集镇访平安通报〔2021〕第1期", "version": None, "published": False,
    }  # fmt: skip
    assert "2021-10-19 的通报尚未发布，输出实时数据" in err
    assert not Bulletin.objects.exists()


def test_publish_makes_a_version_and_later_runs_print_it(world, scenario):
    out, err = run("--town", TOWN, "--date", "2021-10-19", "--publish")
    assert "已发布：汝集镇访平安通报〔2021〕第1期（2021-10-19，第1版）" in err
    assert json.loads(out)["bulletin"]["published"] is True
    run("--town", TOWN, "--date", "2021-10-19", "--publish")
    assert list(Bulletin.objects.values_list("date", "version")) == [(DAY2, 2), (DAY2, 1)]

    out, err = run("--town", TOWN, "--date", "2021-10-19", at=MORNING_AFTER + dt.timedelta(hours=2))
    assert (
        "输出已发布的通报：汝集镇访平安通报〔2021〕第1期（2021-10-19，第2版，发布于 2021-10-20 08:00）"
        in err
    )
    document = json.loads(out)
    assert document["bulletin"] == {
        "number": "汝集镇访平安通报〔2021〕第1期", "version": 2, "published": True,
    }  # fmt: skip
    assert document["generated_at"] == "2021-10-20T08:00:00+08:00"


def test_every_format_to_a_file(world, scenario, tmp_path: Path):
    for fmt in ("json", "html", "xlsx", "docx"):
        target = tmp_path / f"通报.{fmt}"
        out, err = run("--town", TOWN, "--date", "2021-10-19", "--format", fmt,
                       "--output", str(target))  # fmt: skip
        assert out == ""
        assert f"已写出：{target}" in err
    assert json.loads((tmp_path / "通报.json").read_text("utf-8"))["total"]["quota"] == 6
    html = (tmp_path / "通报.html").read_text("utf-8")
    assert TITLE in html
    assert "125.00%" in html
    sheet = load_workbook(tmp_path / "通报.xlsx")["每日通报"]
    assert [cell.value for cell in sheet[3]] == list(HEADER)
    assert [cell.value for cell in sheet[4]][:4] == ["七营村", 4, 9, 5]
    assert len(sheet._charts) == 1
    document = Document(str(tmp_path / "通报.docx"))
    assert TITLE in [p.text for p in document.paragraphs]
    assert [c.text for c in document.tables[0].rows[-1].cells][:4] == ["合计", "6", "11", "6"]


def test_html_may_go_to_stdout(world, scenario):
    out, _ = run("--town", TOWN, "--date", "2021-10-18", "--format", "html")
    assert out.startswith("<!DOCTYPE html>")
    assert "汝集镇访平安通报〔2021〕第1期" in out


def test_the_date_defaults_to_today_and_the_town_to_the_only_one(world):
    make_campaign(world.town, {world.qiying: 4})
    out, _ = run("--publish", at=shanghai(DAY1, 17))
    assert json.loads(out)["date"] == "2021-10-18"
    assert Bulletin.objects.get().date == DAY1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2021-10-32"], "--date 格式不对：2021-10-32"),
        (["--date", "2021-10-21"], "晚于今天（2021-10-20）"),
        (["--town", "999"], "没有区划代码为 999 的镇"),
        (["--town", "341623101202"], "没有区划代码为 341623101202 的镇"),  # a village
        (["--format", "pdf"], "不支持的格式：pdf"),
        (["--format", "xlsx"], "xlsx 格式需要用 --output 指定输出文件"),
        (["--format", "docx"], "docx 格式需要用 --output 指定输出文件"),
        (["--output", "/nonexistent/dir/b.json"], "输出文件夹不存在"),
        (
            [],
            "有 2 个镇建立了走访活动，请用 --town 指定其一：341621102（义门镇）、341623101（汝集镇）",
        ),
    ],
)
def test_mistakes_get_chinese_errors(world, scenario, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        run(*args)
    assert not Bulletin.objects.exists()


def test_no_campaign_anywhere(world):
    with pytest.raises(CommandError, match="还没有任何镇建立走访活动"):
        run()
