"""Reading rendered pages in tests: their text, one section, the rows of a table."""

import re


def text(html: str) -> str:
    """The page's words, tags removed and whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def section(html: str, section_id: str) -> str:
    """The inside of `<section id="section_id">`."""
    return html.split(f'<section id="{section_id}">', 1)[1].split("</section>", 1)[0]


def rows(html: str, part: str = "tbody") -> list[str]:
    """The text of each row of the first `<part>` (tbody, thead, tfoot)."""
    body = html.split(f"<{part}>", 1)[1].split(f"</{part}>", 1)[0]
    return [text(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)]
