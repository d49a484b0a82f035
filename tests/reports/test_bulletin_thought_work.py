"""思想工作 in the bulletin (issue 12 point 4): per village and for the town, the dissatisfied
households (不满意群众), those talked to (已做思想工作) and those whose view changed (看法转变),
against the hand-worked `talks` fixture (tests/reports/conftest.py), in the figures, the text
and every document."""

import datetime as dt
import re
from io import BytesIO

from docx import Document
from openpyxl import load_workbook

from pingan.reports.figures import bulletin_figures, village_bulletin_figures
from pingan.reports.render import HEADER, render_docx, render_html, render_xlsx
from pingan.reports.summary import bulletin_summary
from tests.progress_scenario import DAY1, DAY2, shanghai
from tests.reports.conftest import DAY3

KEYS = ("dissatisfied_households", "talked_households", "view_changed_households")
LABELS = ("不满意群众", "已做思想工作", "看法转变")
LATER = shanghai(dt.date(2021, 10, 25), 9)  # every day of the fixture is over
NUMBER = "汝集镇访平安通报〔2021〕第2期"


def talk_figures(row: dict) -> tuple:
    return tuple(row[key] for key in KEYS)


def by_village(figures: dict) -> dict[str, tuple]:
    return {row["name"]: talk_figures(row) for row in figures["villages"]}


def test_day_two_village_by_village_and_the_town(world, talks):
    figures = bulletin_figures(town=world.town, day=DAY2, now=LATER)
    # 七营村: y1 (two concerns, once), y2, y3 dissatisfied; y1 and y2 talked to (y3's talk is
    # recorded on day 3); y1's latest talk unchanged, y2's changed. 新桥村: x2.
    assert by_village(figures) == {"七营村": (3, 2, 1), "新桥村": (1, 1, 1)}
    assert talk_figures(figures["total"]) == (4, 3, 2)


def test_day_one_counts_what_stood_that_evening(world, talks):
    figures = bulletin_figures(town=world.town, day=DAY1, now=LATER)
    # y1's first talk (changed) is its latest on day 1; y2's talk comes on day 2
    assert by_village(figures) == {"七营村": (2, 1, 1), "新桥村": (0, 0, 0)}
    assert talk_figures(figures["total"]) == (2, 1, 1)


def test_day_three_adds_the_new_concern_and_the_late_talk(world, talks):
    figures = bulletin_figures(town=world.town, day=DAY3, now=shanghai(DAY3, 20))
    # + y5 (its talk not recorded yet), + y3 talked to and changed; y4's concern holds a
    # matter only, never a feeling
    assert by_village(figures) == {"七营村": (4, 3, 2), "新桥村": (1, 1, 1)}
    assert talk_figures(figures["total"]) == (5, 4, 3)


def test_todays_figures_count_up_to_now(world, talks):
    # At 16:30 on day 2: c2 (12:03) is in; y2's talk (10:00) and x2's (16:00) are recorded,
    # y1's second (17:00) is not yet, so y1's latest talk is still day 1's (changed).
    figures = bulletin_figures(town=world.town, day=DAY2, now=shanghai(DAY2, 16, 30))
    assert by_village(figures) == {"七营村": (3, 2, 2), "新桥村": (1, 1, 1)}


def test_a_village_page_has_its_own_row(world, talks):
    figures = village_bulletin_figures(village=world.qiying, day=DAY2, now=LATER)
    [row] = figures["villages"]
    assert talk_figures(row) == (3, 2, 1)


def test_another_towns_concerns_never_count(world, talks):
    assert set(by_village(bulletin_figures(town=world.town, day=DAY2, now=LATER))) == {
        "七营村", "新桥村",
    }  # fmt: skip
    far = bulletin_figures(town=world.other_town, day=DAY2, now=LATER)
    assert talk_figures(far["total"]) == (0, 0, 0)


def test_the_text_says_the_towns_figures(world, talks):
    paragraphs = bulletin_summary(bulletin_figures(town=world.town, day=DAY2, now=LATER))
    assert "思想工作方面，不满意群众4户，已一对一、面对面做思想工作3户，其中看法转变2户。" in (
        paragraphs
    )


def test_every_document_has_the_three_columns(world, talks):
    figures = bulletin_figures(town=world.town, day=DAY2, now=LATER)
    start = HEADER.index("不满意群众")
    assert HEADER[start : start + 3] == LABELS

    sheet = load_workbook(BytesIO(render_xlsx(figures, number=NUMBER)))["每日通报"]
    assert [c.value for c in sheet[3]][start : start + 3] == list(LABELS)
    rows = {row[0]: row[start : start + 3] for row in sheet.iter_rows(min_row=4, values_only=True)
            if row[0]}  # fmt: skip
    assert (rows["七营村"], rows["新桥村"], rows["合计"]) == ((3, 2, 1), (1, 1, 1), (4, 3, 2))

    [table] = Document(BytesIO(render_docx(figures, number=NUMBER))).tables
    cells = {row.cells[0].text: [c.text for c in row.cells][start : start + 3]
             for row in table.rows}  # fmt: skip
    assert cells["村"] == list(LABELS)
    assert (cells["七营村"], cells["新桥村"], cells["合计"]) == (
        ["3", "2", "1"], ["1", "1", "1"], ["4", "3", "2"],
    )  # fmt: skip

    html_cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", render_html(figures, number=NUMBER))
    for name, expected in (("村", list(LABELS)), ("七营村", ["3", "2", "1"]),
                           ("新桥村", ["1", "1", "1"]), ("合计", ["4", "3", "2"])):  # fmt: skip
        first = html_cells.index(name)
        assert html_cells[first + start : first + start + 3] == expected, name


def test_a_bulletin_published_before_these_figures_shows_dashes(world, talks):
    # A frozen bulletin of an earlier release has none of the three keys.
    figures = bulletin_figures(town=world.town, day=DAY2, now=LATER)
    for row in [*figures["villages"], figures["total"]]:
        for key in KEYS:
            del row[key]
    start = HEADER.index("不满意群众")
    [table] = Document(BytesIO(render_docx(figures, number=NUMBER, published=True))).tables
    assert [c.text for c in table.rows[1].cells][start : start + 3] == ["—", "—", "—"]
    assert not any("思想工作方面" in p for p in bulletin_summary(figures))


def test_a_concern_sent_to_thought_work_makes_its_household_dissatisfied(world, talks):
    # y4 raised a matter only (垃圾无人清运), no feeling; the town center sends it to 思想工作
    # on day 3: y4 is now among the dissatisfied residents the cadres talk with.
    from pingan.visits.models import Concern
    from tests.reports.conftest import _triage

    concern = Concern.objects.get(household=talks.households["y4"])
    _triage(world, concern.pk, "talk", shanghai(DAY3, 11))

    figures = bulletin_figures(town=world.town, day=DAY3, now=shanghai(DAY3, 20))
    assert by_village(figures) == {"七营村": (5, 3, 2), "新桥村": (1, 1, 1)}
    # …but not before it was sent there (day 2 stands as it was)
    assert by_village(bulletin_figures(town=world.town, day=DAY2, now=LATER))["七营村"] == (
        3, 2, 1)  # fmt: skip
