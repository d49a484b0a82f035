"""The bulletin's text and documents (issue 6 points 2–3), read back as a reader would: the
summary paragraphs with the exact figures, the JSON, the HTML page, the workbook with its
chart and the Word 通报 on the red-header template.

The figures are those of the `documented` fixture (tests/reports/conftest.py) on 2021-11-12
at 18:00, worked out by hand from tests/progress_scenario.py: the town's quota 6, reached 6
(七营村 5 of 4, 新桥村 1 of 2), 28 of the 31 days of 走访整改 gone, so 七营村 should have
3.61, 新桥村 1.81 (lagging), the town 5.42; problems: new 1, open 2, overdue 1 (七营村),
closed 1, one criticized (汝集派出所, deadline 2021-11-01).
"""

import datetime as dt
import json
import re
from io import BytesIO

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import RGBColor
from openpyxl import load_workbook
from openpyxl.chart import BarChart

from pingan.reports.figures import bulletin_figures
from pingan.reports.render import (
    HEADER,
    NOTE,
    TEMPLATE,
    TITLE,
    render_docx,
    render_html,
    render_json,
    render_xlsx,
)
from pingan.reports.summary import bulletin_summary, chinese_date, chinese_moment
from tests.factories import make_campaign
from tests.reports.conftest import DOC_DAY, DOC_NOW

NUMBER = "汝集镇访平安通报〔2021〕第7期"

OVERVIEW = (
    "截至2021年11月12日18时，汝集镇2个村走访任务数共6户，已走访6户，完成率100.00%；"
    "走访整改阶段（10月16日至11月15日）共31天，已进行28天，按序时进度应走访5.42户。"
    "全镇在册在住10户，在册户走访覆盖率60.00%。"
    "当日新走访0户，累计完成问卷调查6份；各村累计领取宣传资料0份，已向6户发放宣传资料。"
    "问卷调查中，群众安全感率66.67%（共6个回答，其中肯定回答4个）；"
    "群众满意度100.00%（共6个回答，其中肯定回答6个）。"
)
BEST = (
    "走访进度排名靠前的村：第1名七营村（已走访5户，完成率125.00%）；"
    "第2名新桥村（已走访1户，完成率50.00%）。"
)
LAGGING = (
    "未达到序时进度的村共1个：新桥村已走访1户，按序时进度应走访1.81户，完成率50.00%。"
    "请以上村加快走访进度，确保“户户必到”。"
)
PROBLEMS = (
    "问题整改方面，当日新增问题1件；未办结问题2件，其中超过办理时限1件；累计已销号1件。"
    "超过办理时限未办结的问题：七营村1件。"
)
CRITICIZED = (
    "以下1件问题经督办后仍超期未办结，予以通报批评：341623101-2021-000001号问题"
    "（七营村，责任单位汝集派出所，办理时限2021年11月1日）。请汝集派出所立即办理，及时反馈办理结果。"
)
TALKS = "思想工作方面，暂无不满意群众。"  # no concern in the fixture
SUMMARY = [OVERVIEW, BEST, LAGGING, PROBLEMS, TALKS, CRITICIZED]

# The table rows as the documents show them, in HEADER's order.
QIYING_ROW = ["七营村", "4", "9", "5", "0", "125.00%", "3.61", "否", "1", "5", "60.00%",
              "100.00%", "0", "1", "1", "1", "0", "0", "0", "0", "5"]  # fmt: skip
XINQIAO_ROW = ["新桥村", "2", "2", "1", "0", "50.00%", "1.81", "是", "2", "1", "100.00%",
               "100.00%", "1", "1", "0", "0", "0", "0", "0", "0", "1"]  # fmt: skip
TOTAL_ROW = ["合计", "6", "11", "6", "0", "100.00%", "5.42", "否", "—", "6", "66.67%",
             "100.00%", "1", "2", "1", "1", "0", "0", "0", "0", "6"]  # fmt: skip


@pytest.fixture
def figures(world, documented) -> dict:
    return bulletin_figures(town=world.town, day=DOC_DAY, now=DOC_NOW)


def test_the_figures_are_the_hand_worked_ones(figures):
    total = figures["total"]
    assert (total["quota"], total["reached_households"], total["completion_pct"]) == (
        6, 6, "100.00",
    )  # fmt: skip
    assert total["expected_households"] == "5.42"
    assert [p["code"] for p in figures["criticized"]] == ["341623101-2021-000001"]


def test_the_summary_says_the_figures_exactly(figures):
    assert bulletin_summary(figures) == SUMMARY


def test_the_summary_without_a_campaign():
    figures = {"town": {"name": "汝集镇"}, "date": "2021-10-22",
               "until": "2021-10-22T09:30:00+08:00", "campaign": None, "total": None,
               "villages": [], "criticized": []}  # fmt: skip
    assert bulletin_summary(figures) == [
        "截至2021年10月22日9时30分，汝集镇尚未建立“千家万户访平安”活动，暂无走访数据。"
    ]


def test_the_summary_of_a_campaign_without_visits(world):
    # Given quotas and no visit yet, on the 5th day of 走访整改
    make_campaign(world.town, {world.qiying: 450, world.xinqiao: 577})
    figures = bulletin_figures(town=world.town, day=dt.date(2021, 10, 20),
                               now=dt.datetime(2021, 10, 21, 9, tzinfo=dt.UTC))  # fmt: skip
    overview, best, lagging, problems, talks = bulletin_summary(figures)
    # 1027 × 5 ÷ 31 = 165.645…; 450 × 5 ÷ 31 = 72.580…; 577 × 5 ÷ 31 = 93.064…
    assert overview.startswith(
        "截至2021年10月20日24时，汝集镇2个村走访任务数共1027户，已走访0户，完成率0.00%；"
        "走访整改阶段（10月16日至11月15日）共31天，已进行5天，按序时进度应走访165.65户。"
    )
    assert "全镇在册在住0户。当日新走访0户，累计完成问卷调查0份；" in overview
    assert "群众安全感率暂无问卷回答；群众满意度暂无问卷回答。" in overview
    assert best == "各村均尚无已走访户，暂不排名。"
    assert lagging.startswith(
        "未达到序时进度的村共2个：七营村已走访0户，按序时进度应走访72.58户，完成率0.00%；"
        "新桥村已走访0户，按序时进度应走访93.06户，完成率0.00%。"
    )
    assert problems == "问题整改方面，当日无新增问题，无未办结问题，暂无销号问题。"
    assert talks == "思想工作方面，暂无不满意群众。"


def test_the_summary_shares_a_rank_and_leaves_out_villages_without_quota():
    def row(name, reached, quota, pct, rank):
        return {"name": name, "reached_households": reached, "quota": quota,
                "completion_pct": pct, "rank": rank, "lagging": False,
                "expected_households": "0.00", "problems_overdue": 0}  # fmt: skip

    villages = [row("甲村", 5, 10, "50.00", 1), row("乙村", 3, 6, "50.00", 1),
                row("丙村", 1, 10, "10.00", 3), row("丁村", 0, 10, "0.00", 4),
                row("戊村", 7, 0, None, None)]  # fmt: skip
    from pingan.reports.summary import _best

    assert _best(villages) == (
        "走访进度排名靠前的村：并列第1名甲村、乙村（完成率均为50.00%，已走访甲村5户、乙村3户）；"
        "第3名丙村（已走访1户，完成率10.00%）。"
    )


def test_chinese_dates():
    assert chinese_date("2021-10-22") == "2021年10月22日"
    assert chinese_date(dt.date(2021, 1, 5)) == "2021年1月5日"
    assert chinese_moment("2021-10-23T00:00:00+08:00", "2021-10-22") == "2021年10月22日24时"
    assert chinese_moment("2021-10-22T18:00:00+08:00", "2021-10-22") == "2021年10月22日18时"
    assert chinese_moment("2021-10-22T08:05:00+08:00", "2021-10-22") == "2021年10月22日8时05分"


def test_json_is_the_figures_with_the_bulletin_named(figures):
    text = render_json(figures, number=NUMBER, version=2, published=True)
    assert "汝集镇" in text  # UTF-8, not \\u escapes
    assert text.startswith('{\n  "schema": "pingan.bulletin/1"')
    document = json.loads(text)
    assert document.pop("bulletin") == {"number": NUMBER, "version": 2, "published": True}
    assert document == figures


def test_html_is_a_standalone_page_with_the_figures(figures):
    html = render_html(figures, number=NUMBER, version=1, published=True)
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"<(link|script|img)\b", html)
    assert "http" not in html
    for text in ("汝集镇千家万户访平安活动", NUMBER, TITLE, "2021年11月12日", "汝集镇综治中心",
                 *SUMMARY, *HEADER):  # fmt: skip
        assert text in html
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", html)
    for row in (QIYING_ROW, XINQIAO_ROW, TOTAL_ROW):
        start = cells.index(row[0])
        assert cells[start : start + len(row)] == row
    assert "未发布" not in html


def test_html_of_live_figures_says_so(figures):
    html = render_html(figures, number=NUMBER, version=None, published=False)
    assert "未发布（实时数据，截至2021年11月12日18时）" in html


def test_xlsx_has_the_table_with_numbers_and_a_bar_chart(figures):
    workbook = load_workbook(BytesIO(render_xlsx(figures, number=NUMBER, version=1,
                                                 published=True)))  # fmt: skip
    sheet = workbook["每日通报"]
    assert sheet["A1"].value == "汝集镇千家万户访平安活动各村走访进度通报（2021年11月12日）"
    assert sheet["A2"].value.startswith(NUMBER)
    assert [cell.value for cell in sheet[3]] == list(HEADER)
    rows = {row[0]: row for row in sheet.iter_rows(min_row=4, max_row=6, values_only=True)}
    assert rows["七营村"] == ("七营村", 4, 9, 5, 0, 1.25, 3.61, "否", 1, 5, 0.6, 1.0,
                            0, 1, 1, 1, 0, 0, 0, 0, 5)  # fmt: skip
    assert rows["新桥村"] == ("新桥村", 2, 2, 1, 0, 0.5, 1.81, "是", 2, 1, 1.0, 1.0,
                            1, 1, 0, 0, 0, 0, 0, 0, 1)  # fmt: skip
    assert rows["合计"] == ("合计", 6, 11, 6, 0, 1.0, 5.42, "否", None, 6, 0.6667, 1.0,
                          1, 2, 1, 1, 0, 0, 0, 0, 6)  # fmt: skip
    assert sheet["F4"].number_format == "0.00%"
    assert sheet["K6"].number_format == "0.00%"
    assert sheet["G5"].number_format == "0.00"
    assert sheet.cell(row=4, column=2).data_type == "n"

    [chart] = sheet._charts
    assert isinstance(chart, BarChart)
    assert chart.type == "col"
    [series] = chart.series
    assert series.val.numRef.f == "'每日通报'!$F$4:$F$5"  # 完成率 of the two villages
    assert series.cat.numRef.f == "'每日通报'!$A$4:$A$5"  # the villages

    criticized = workbook["通报批评"]
    assert [c.value for c in criticized[2]][:3] == ["341623101-2021-000001", "七营村", "汝集派出所"]
    assert criticized["D2"].value.date() == dt.date(2021, 11, 1)


def paragraphs(document) -> list[str]:
    return [p.text for p in document.paragraphs]


def test_docx_is_the_red_header_bulletin_with_summary_and_table(figures):
    document = Document(BytesIO(render_docx(figures, number=NUMBER, version=1, published=True)))
    texts = paragraphs(document)
    # the red header, the number, the issuer and date over the red rule, the title
    assert texts[:4] == [
        "汝集镇千家万户访平安活动",
        NUMBER,
        "汝集镇综治中心\t2021年11月12日",
        TITLE,
    ]
    heading = document.paragraphs[0].runs[0]
    assert heading.font.color.rgb == RGBColor(0xFF, 0x00, 0x00)
    assert heading._element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    rule = document.paragraphs[2]._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert rule.get(qn("w:color")) == "FF0000"
    # the summary, each paragraph once, in the body font
    start = texts.index(OVERVIEW)
    assert texts[start : start + len(SUMMARY)] == SUMMARY
    body = document.paragraphs[start].runs[0]
    assert body._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋"
    # the 落款 after the attachment note
    assert "附件：汝集镇各村走访进度统计表" in texts
    assert NOTE in texts  # under the table, how its columns are computed
    signature = [t for t in texts if t in ("汝集镇综治中心", "2021年11月12日")]
    assert signature == ["汝集镇综治中心", "2021年11月12日"]
    assert not any("{{" in text for text in texts)
    assert not any("未发布" in text for text in texts)

    # the table on a landscape page
    assert document.sections[-1].orientation == WD_ORIENT.LANDSCAPE
    [table] = document.tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows == [list(HEADER), QIYING_ROW, XINQIAO_ROW, TOTAL_ROW]
    cell_run = table.rows[1].cells[0].paragraphs[0].runs[0]
    assert cell_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "宋体"
    assert document.core_properties.title == f"{TITLE}（{NUMBER}）"


def test_docx_of_live_figures_or_a_later_version_says_so(figures):
    live = Document(BytesIO(render_docx(figures, number=NUMBER, published=False)))
    assert "未发布（实时数据，截至2021年11月12日18时）" in paragraphs(live)
    second = Document(BytesIO(render_docx(figures, number=NUMBER, version=2, published=True)))
    assert "第2版（更新发布）" in paragraphs(second)


def test_documents_without_a_campaign(world):
    figures = bulletin_figures(town=world.town, day=dt.date(2021, 10, 20),
                               now=dt.datetime(2021, 10, 21, 1, tzinfo=dt.UTC))  # fmt: skip
    [sentence] = bulletin_summary(figures)
    document = Document(BytesIO(render_docx(figures, number=NUMBER, published=False)))
    assert sentence in paragraphs(document)
    assert [[c.text for c in row.cells] for row in document.tables[0].rows] == [list(HEADER)]
    workbook = load_workbook(BytesIO(render_xlsx(figures, number=NUMBER)))
    assert workbook["每日通报"]._charts == []
    assert sentence in render_html(figures, number=NUMBER)


def test_the_template_is_committed_with_its_placeholders():
    texts = " ".join(paragraphs(Document(str(TEMPLATE))))
    for placeholder in ("heading", "number", "issuer", "date", "status", "title", "body",
                        "table_title", "table", "note"):  # fmt: skip
        assert "{{" + placeholder + "}}" in texts


def test_the_docx_table_fits_the_landscape_page(figures):
    document = Document(BytesIO(render_docx(figures, number=NUMBER, published=True)))
    page = document.sections[-1]
    text_width = page.page_width - page.left_margin - page.right_margin
    [table] = document.tables
    widths = [cell.width for cell in table.rows[0].cells]
    assert len(widths) == len(HEADER)
    assert sum(widths) <= text_width
    margins = table._tbl.tblPr.find(qn("w:tblCellMar"))
    assert [m.get(qn("w:w")) for m in margins] == ["28", "28"]  # narrow, so 125.00% fits
