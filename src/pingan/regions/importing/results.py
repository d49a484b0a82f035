"""What an import gives back: one outcome per data row, the counts, and the error workbook.

Invariant: `imported (created + updated + unchanged) + rejected == data rows`, where data
rows are the non-blank rows below the header. Personal data in outcomes is masked.
"""

import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
REJECTED = "rejected"
STATUS_LABELS = {CREATED: "新增", UPDATED: "更新", UNCHANGED: "未变", REJECTED: "拒绝"}

# How much of a big import's detail a batch keeps for its page (the counts are always exact).
SUMMARY_MAX_CHANGES = 1000
SUMMARY_MAX_REJECTIONS = 5000


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (unreadable, no header…); `message` is Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ImportDenied(PermissionError):
    """The actor may not import (their role), or not into the village asked for."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One changed field of an existing record: label and old/new values (PII masked)."""

    label: str
    old: str
    new: str

    def as_text(self) -> str:
        return f"{self.label}：{self.old or '（空）'} → {self.new or '（空）'}"


@dataclass(slots=True)
class RowOutcome:
    """What happened to one data row. `subject` names the record, masked (张* · 七营村3组12号)."""

    row: int
    status: str
    subject: str = ""
    reason: str = ""
    changes: tuple[FieldChange, ...] = ()
    village: str = ""


@dataclass(slots=True)
class RejectedRow:
    """A rejected row as it was in the file, for the error workbook."""

    row: int
    cells: list[Any]
    reason: str


@dataclass
class ImportResult:
    """The outcome of one import (or dry run): per-row outcomes, counts, rejected rows."""

    kind: str
    file_name: str
    dry_run: bool
    header_row: int = 0
    header_cells: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field -> header as written
    title_village: str = ""
    outcomes: list[RowOutcome] = field(default_factory=list)
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    batch_id: int | None = None
    # Cadre import only: new accounts' initial passwords, per village (never persisted as is).
    credentials: dict[int, list[tuple[str, str, str]]] = field(default_factory=dict)
    password_sheet_ids: dict[int, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase, for bench/

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def counts(self) -> dict[str, int]:
        tally = dict.fromkeys(STATUS_LABELS, 0)
        for outcome in self.outcomes:
            tally[outcome.status] += 1
        return tally

    @property
    def created(self) -> int:
        return self.count(CREATED)

    @property
    def updated(self) -> int:
        return self.count(UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(UNCHANGED)

    @property
    def rejected(self) -> int:
        return self.count(REJECTED)

    @property
    def imported(self) -> int:
        return len(self.outcomes) - self.rejected

    @property
    def data_rows(self) -> int:
        return len(self.outcomes)

    def changed(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.status == UPDATED]

    def rejections(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.status == REJECTED]

    def reject(self, row: int, cells: list[Any], reason: str, subject: str = "") -> None:
        self.outcomes.append(RowOutcome(row, REJECTED, subject=subject, reason=reason))
        self.rejected_rows.append(RejectedRow(row, cells, reason))

    def summary_lines(self) -> list[str]:
        """The counts as one Chinese line, for the command line and messages."""
        counts = self.counts
        prefix = "预检（未写入）" if self.dry_run else "导入完成"
        return [
            f"{prefix}：数据行 {self.data_rows}，新增 {counts[CREATED]}，更新 {counts[UPDATED]}，"
            f"未变 {counts[UNCHANGED]}，拒绝 {counts[REJECTED]}。"
        ]

    def summary(self) -> dict[str, Any]:
        """What an ImportBatch keeps for its page: masked changes and rejection reasons."""
        changed = self.changed()
        rejections = self.rejections()
        return {
            "header_row": self.header_row,
            "columns": self.columns,
            "title_village": self.title_village,
            "changes": [
                {
                    "row": o.row,
                    "subject": o.subject,
                    "village": o.village,
                    "changes": [c.as_text() for c in o.changes],
                }
                for o in changed[:SUMMARY_MAX_CHANGES]
            ],
            "rejections": [[o.row, o.reason] for o in rejections[:SUMMARY_MAX_REJECTIONS]],
            "truncated": len(changed) > SUMMARY_MAX_CHANGES
            or len(rejections) > SUMMARY_MAX_REJECTIONS,
        }

    def errors_workbook(self) -> bytes | None:
        """The rejected rows as .xlsx: 行号, the original cells under the original header, and
        错误原因. None when nothing was rejected."""
        if not self.rejected_rows:
            return None
        return errors_workbook(self.header_cells, self.rejected_rows)


def errors_workbook(header: list[str], rows: list[RejectedRow]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误行")
    width = max([len(header), *(len(r.cells) for r in rows)])
    labels = [*header, *[""] * (width - len(header))]
    sheet.append(["行号", *labels, "错误原因"])
    for rejected in rows:
        cells = [_plain(sheet, c) for c in rejected.cells]
        sheet.append([rejected.row, *cells, *[None] * (width - len(cells)), rejected.reason])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _plain(sheet: Any, value: Any) -> Any:
    """A cell as openpyxl can write it. ID numbers that Excel made numbers stay numbers, as
    the user had them (the reason column says what went wrong); text that looks like a
    formula stays text, so an uploaded "=..." never runs when the workbook is opened."""
    if value is None or isinstance(value, int | float | bool):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    if text.startswith("="):
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"
        return cell
    return text
