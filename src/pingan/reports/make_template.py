"""Make the Word template of the daily bulletin (templates/reports/bulletin_template.docx).

    python -m pingan.reports.make_template [OUTPUT]

The template is committed; run this again after changing the layout here. It has the look
of a town's 通报 (after GB/T 9704): the red header (红头) with the town's name, the number
(文号), the issuer and the date over a red rule, the title, the body, the 落款 and, on a
landscape page, the attachment (附件) with the table. `render.render_docx` fills the
placeholders:

| placeholder | filled with |
|---|---|
| {{heading}} | 汝集镇千家万户访平安活动 (the red header) |
| {{number}} | 汝集镇访平安通报〔2021〕第7期 |
| {{issuer}} | 汝集镇综治中心 (above the rule and in the 落款) |
| {{date}} | 2021年10月22日 |
| {{status}} | a later version or 未发布（实时数据…）; the paragraph is removed when empty |
| {{title}} | 关于千家万户访平安活动走访进度的通报 |
| {{body}} | one paragraph per summary paragraph, formatted like it |
| {{town}} | 汝集镇 |
| {{table_title}} | 汝集镇各村走访进度统计表 |
| {{table}} | the table (every village and 合计) |
| {{note}} | how the table's derived columns are computed (`render.NOTE`) |

Each placeholder is a run of its own, so the filled text keeps the run's font, size and
colour. Word or WPS may be used to restyle the template as long as the placeholders stay.
"""

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from pingan.reports.render import FONT_FANGSONG, FONT_SONG, RED, TEMPLATE, set_run_font

BODY_SIZE = 16  # 三号
HEADER_SIZE = 30  # the red header
TITLE_SIZE = 22  # 二号
NOTE_SIZE = 12  # 小四


# The elements that follow w:pBdr in a w:pPr (ECMA-376 order; Word refuses others).
_AFTER_PBDR = (
    "w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
    "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd",
    "w:snapToGrid", "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
    "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
    "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip


def _fixed_spacing(paragraph: Paragraph, points: float = 28) -> None:
    fmt = paragraph.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = Pt(points)
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)


def _red_rule(paragraph: Paragraph) -> None:
    """A red line under the paragraph (its bottom border), as under a 红头."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "18"), ("space", "4"), ("color", RED)):
        bottom.set(qn(f"w:{key}"), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PBDR)


def _page_number(paragraph: Paragraph) -> None:
    """— 1 — in the footer: a PAGE field between dashes."""
    set_run_font(paragraph.add_run("— "), east_asia=FONT_SONG, size=14)
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)
    set_run_font(paragraph.add_run(" —"), east_asia=FONT_SONG, size=14)


def make_template(path: Path = TEMPLATE) -> Path:
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(BODY_SIZE)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT_FANGSONG)

    section = document.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_number(footer)

    def paragraph(
        *runs: str,
        font: str = FONT_FANGSONG,
        size: float = BODY_SIZE,
        bold: bool = False,
        color: str | None = None,
        align: WD_ALIGN_PARAGRAPH | None = None,
    ) -> Paragraph:
        p = document.add_paragraph()
        _fixed_spacing(p)
        if align is not None:
            p.alignment = align
        for text in runs:
            set_run_font(p.add_run(text), east_asia=font, size=size, bold=bold, color=color)
        return p

    # 红头: the header in red, the number, the issuer and the date over a red rule
    heading = paragraph(
        "{{heading}}", font=FONT_SONG, size=HEADER_SIZE, bold=True, color=RED,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )  # fmt: skip
    _fixed_spacing(heading, 48)
    heading.paragraph_format.space_after = Pt(12)
    paragraph("{{number}}", align=WD_ALIGN_PARAGRAPH.CENTER)
    dateline = paragraph("{{issuer}}", "\t", "{{date}}")
    text_width = section.page_width - section.left_margin - section.right_margin
    dateline.paragraph_format.tab_stops.add_tab_stop(text_width, WD_TAB_ALIGNMENT.RIGHT)
    dateline.paragraph_format.space_after = Pt(4)
    _red_rule(dateline)
    status = paragraph("{{status}}", size=NOTE_SIZE, color=RED, align=WD_ALIGN_PARAGRAPH.RIGHT)
    status.paragraph_format.space_before = Pt(6)

    # the title and the body
    title = paragraph(
        "{{title}}", font=FONT_SONG, size=TITLE_SIZE, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    _fixed_spacing(title, 36)
    title.paragraph_format.space_before = Pt(18)
    title.paragraph_format.space_after = Pt(18)
    body = paragraph("{{body}}", align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    body.paragraph_format.first_line_indent = Pt(2 * BODY_SIZE)
    paragraph("")
    attachment = paragraph("附件：", "{{table_title}}")
    attachment.paragraph_format.first_line_indent = Pt(2 * BODY_SIZE)

    # 落款: the issuer and the date, right-aligned, four characters in from the margin
    paragraph("")
    paragraph("")
    for text in ("{{issuer}}", "{{date}}"):
        signature = paragraph(text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        signature.paragraph_format.right_indent = Pt(4 * BODY_SIZE)

    # 附件: the table on a landscape page
    landscape = document.add_section(WD_SECTION.NEW_PAGE)
    landscape.orientation = WD_ORIENT.LANDSCAPE
    landscape.page_width, landscape.page_height = Cm(29.7), Cm(21.0)
    landscape.top_margin, landscape.bottom_margin = Cm(2.5), Cm(2.5)
    landscape.left_margin, landscape.right_margin = Cm(2.0), Cm(2.0)
    paragraph("附件", font="黑体")
    table_title = paragraph(
        "{{table_title}}", font=FONT_SONG, size=18, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER
    )
    table_title.paragraph_format.space_after = Pt(6)
    paragraph("{{table}}")
    note = paragraph("{{note}}", size=10.5)
    _fixed_spacing(note, 18)
    note.paragraph_format.space_before = Pt(6)

    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE
    print(make_template(target))
