"""`household_import`: a village roster file in, households created or updated, every row
accounted for.

Rules (issue 3):
- Required: 户主姓名 and 地址 (a household is found by them when it has no ID number).
  ID number and phone may be blank, but a value that is there must be valid.
- The village of a row: its 村 cell; else the `village` argument (the page's choice or
  `--village`); else the village the title rows name; else the actor's only village. A 村
  cell that names another village than the `village` argument is rejected, never moved.
- Inside the file, a second row with the same ID number, or the same village + head + address,
  is rejected and names the first row.
- Against the database: a row matches the household of the same village with the same ID
  number (keyed hash), else the same head + address. A match is not a duplicate: changed fields
  are updated (a blank cell never erases a value) and reported, masked; no change counts as
  unchanged. The same ID number on a household of another village, or a head + address match
  whose ID number differs, is rejected.
- Everything is planned first (reads only), then written in one transaction: bulk inserts
  and bulk updates in batches, and one ImportBatch row. A dry run stops after planning.
"""

import contextlib
import datetime as dt
import operator
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.db import connection, models, transaction

from pingan.accounts.models import User
from pingan.core import clock, crypto, pii
from pingan.regions.importing.cells import (
    CellError,
    Personal,
    clean,
    parse_coordinate,
    parse_group,
    parse_id_number,
    parse_phone,
    parse_size,
    parse_tags,
)
from pingan.regions.importing.headers import HOUSEHOLD_COLUMNS, Header, data_rows, find_header
from pingan.regions.importing.readers import Row, read_rows
from pingan.regions.importing.results import (
    CREATED,
    UNCHANGED,
    UPDATED,
    FieldChange,
    ImportDenied,
    ImportResult,
    RowOutcome,
)
from pingan.regions.importing.villages import VillageResolver, village_resolver
from pingan.regions.models import Household, ImportBatch, Region
from pingan.regions.services import HouseholdData, household_build

REQUIRED = ("head_name", "address")
BATCH_SIZE = 1000
LOOKUP_CHUNK = 500
_GROUP_IN_ADDRESS = re.compile(r"(第?[0-9一二三四五六七八九十两]{1,3})(?:村民小组|村民组|组)")
_HEAD_MAX = Household._meta.get_field("head_name").max_length or 64
_ADDRESS_MAX = Household._meta.get_field("address").max_length or 200


@dataclass(slots=True)
class _Candidate:
    """A row that passed the row checks, waiting to be matched against the database."""

    row: int
    cells: list[Any]
    village: Region
    head_name: str
    address: str
    group_no: int | None
    phone: Personal | None
    id_number: Personal | None
    size: int | None
    tags: list[str] | None
    lat: Decimal | None
    lng: Decimal | None

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.village.pk, self.head_name, self.address)

    @property
    def subject(self) -> str:
        return f"{pii.mask_name(self.head_name)} · {self.address}"


@dataclass(slots=True)
class _Existing:
    """A household already on the roster, as much as matching and comparing need (no
    ciphertext, nothing decrypted)."""

    pk: int
    village_id: int
    head_name: str
    address: str
    group_no: int | None
    size: int
    tags: list[str]
    lat: Decimal | None
    lng: Decimal | None
    phone_digest: str
    phone_masked: str
    id_number_digest: str
    id_number_masked: str


_EXISTING_FIELDS = (
    "pk", "village_id", "head_name", "address", "group_no", "size", "tags", "lat", "lng",
    "phone_digest", "phone_masked", "id_number_digest", "id_number_masked",
)  # fmt: skip


def household_import(
    *,
    actor: User | None,
    source: Path | IO[bytes] | bytes,
    filename: str,
    village: Region | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    synthetic: bool = False,
) -> ImportResult:
    """Import a household roster file. `actor=None` is the command line (any village);
    `synthetic=True` marks the created households as demo data (`pingan demo` only).

    Raises ImportDenied (role, or `village` outside the actor's scope) and ImportFileError
    (unreadable file, no header); every row-level problem is a rejected row in the result.
    """
    opened = import_open(
        actor=actor,
        source=source,
        filename=filename,
        village=village,
        dry_run=dry_run,
        kind=ImportBatch.Kind.HOUSEHOLDS,
        columns=HOUSEHOLD_COLUMNS,
        required=REQUIRED,
    )
    resolver, header, result = opened.resolver, opened.header, opened.result
    started = time.perf_counter()
    candidates = _check_rows(
        data_rows(header, opened.rows),
        header,
        resolver,
        village,
        opened.default,
        opened.default_error,
        result,
    )
    result.timings["read_check"] = time.perf_counter() - started
    if dry_run:
        plan = _plan(candidates, resolver, result)
        result.timings["plan"] = time.perf_counter() - started - result.timings["read_check"]
    else:
        with transaction.atomic():
            plan = _plan(candidates, resolver, result)
            result.timings["plan"] = time.perf_counter() - started - result.timings["read_check"]
            _write(
                plan,
                actor=actor,
                village=village,
                result=result,
                batch_size=batch_size,
                synthetic=synthetic,
            )
    result.outcomes.sort(key=lambda o: o.row)
    result.timings["total"] = time.perf_counter() - started
    return result


@dataclass
class OpenedImport:
    """A file read and its header found, checked against the actor's scope: what every
    import (households, cadres) starts from."""

    resolver: VillageResolver
    rows: Iterator[Row]  # streamed: the rows after the header, read as they are used
    header: Header
    result: ImportResult
    default: Region | None  # the village of rows without a 村 cell
    default_error: str  # why there is none


def import_open(
    *,
    actor: User | None,
    source: Path | IO[bytes] | bytes,
    filename: str,
    village: Region | None,
    dry_run: bool,
    kind: str,
    columns: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
) -> OpenedImport:
    """Check `village` against the actor's scope, read the file, find its header and the
    default village (from `village`, the title, or the actor's only village). Raises
    ImportDenied and ImportFileError."""
    resolver = village_resolver(actor=actor)
    if village is not None and not resolver.contains(village):
        raise ImportDenied(f"“{village.name}”不在您的管辖范围内，不能导入")
    rows = read_rows(source, filename)
    header = find_header(rows, columns, required)
    result = ImportResult(
        kind=kind,
        file_name=filename,
        dry_run=dry_run,
        header_row=header.row,
        header_cells=header.cells,
        columns=header.labels,
    )
    title_village, title_error = resolver.in_title(header.title)
    result.title_village = title_village.name if title_village else ""
    default, default_error = default_village(resolver, village, title_village, title_error)
    return OpenedImport(resolver, rows, header, result, default, default_error)


def default_village(
    resolver: VillageResolver,
    village: Region | None,
    title_village: Region | None,
    title_error: str,
) -> tuple[Region | None, str]:
    """The village of rows without a 村 cell, or why there is none: the village chosen, else
    the title's, else (unless the title names a village outside the scope) the actor's only
    village."""
    if village is not None or title_village is not None:
        return village or title_village, ""
    if title_error:
        return None, title_error
    if len(resolver.villages) == 1:
        return next(iter(resolver.villages.values())), ""
    return None, "未写明所属村：请在表中加“村”列、在标题中写明村名，或导入时选择村"


# ---------------------------------------------------------------------------------------------
# Row checks: everything that needs no database


def _check_rows(
    rows: Iterable[Row],
    header: Header,
    resolver: VillageResolver,
    fixed: Region | None,
    default: Region | None,
    default_error: str,
    result: ImportResult,
) -> list[_Candidate]:
    columns = header.columns
    by_id: dict[str, int] = {}
    by_key: dict[tuple[int, str, str], int] = {}
    candidates: list[_Candidate] = []
    for row in rows:
        cells = row.cells
        width = len(cells)

        def cell(key: str, cells: list[Any] = cells, width: int = width) -> Any:
            index = columns.get(key)
            return cells[index] if index is not None and index < width else ""

        errors: list[str] = []
        head_name = clean(cell("head_name"))
        address = clean(cell("address"))
        if not head_name:
            errors.append("缺少户主姓名")
        elif len(head_name) > _HEAD_MAX:
            errors.append(f"户主姓名超过 {_HEAD_MAX} 个字")
        if not address:
            errors.append("缺少地址")
        elif len(address) > _ADDRESS_MAX:
            errors.append(f"地址超过 {_ADDRESS_MAX} 个字")

        village, reason = resolver.resolve(cell("village"))
        if reason:
            errors.append(reason)
        elif village is not None and fixed is not None and village != fixed:
            errors.append(f"本行的村“{village.name}”与所选的“{fixed.name}”不一致")
        elif village is None:
            village = default
            if village is None:
                errors.append(default_error)

        values: dict[str, Any] = {}
        for key, parse in (
            ("group_no", parse_group),
            ("phone", parse_phone),
            ("id_number", parse_id_number),
            ("size", parse_size),
            ("tags", parse_tags),
        ):
            try:
                values[key] = parse(cell(key))
            except CellError as exc:
                errors.append(exc.message)
        for key, label, limit in (("lat", "纬度", 90), ("lng", "经度", 180)):
            try:
                values[key] = parse_coordinate(cell(key), label=label, limit=limit)
            except CellError as exc:
                errors.append(exc.message)
        if "group_no" in values and values["group_no"] is None:
            # No 组 cell: "七营村三组12号" still says which group.
            match = _GROUP_IN_ADDRESS.search(address)
            if match:
                with contextlib.suppress(CellError):
                    values["group_no"] = parse_group(match.group(1))

        subject = f"{pii.mask_name(head_name)} · {address}" if head_name else address
        if errors or village is None:
            result.reject(row.number, cells, "；".join(errors), subject=subject)
            continue
        id_number: Personal | None = values["id_number"]
        if id_number is not None:
            first = by_id.get(id_number.digest)
            if first is not None:
                result.reject(
                    row.number, cells, f"与第 {first} 行重复（身份证号相同）", subject=subject
                )
                continue
        same = (village.pk, head_name, address)
        first = by_key.get(same)
        if first is not None:
            result.reject(
                row.number, cells, f"与第 {first} 行重复（户主和地址相同）", subject=subject
            )
            continue
        if id_number is not None:
            by_id[id_number.digest] = row.number
        by_key[same] = row.number
        candidates.append(
            _Candidate(
                row=row.number,
                cells=cells,
                village=village,
                head_name=head_name,
                address=address,
                group_no=values.get("group_no"),
                phone=values["phone"],
                id_number=id_number,
                size=values["size"],
                tags=values["tags"],
                lat=values["lat"],
                lng=values["lng"],
            )
        )
    return candidates


# ---------------------------------------------------------------------------------------------
# Matching against the database: a handful of queries, whatever the file's size


@dataclass
class _Plan:
    creates: list[_Candidate]
    updates: list[tuple[_Candidate, _Existing, tuple[str, ...]]]
    villages: set[int]


def _existing(village_ids: set[int]) -> Iterable[_Existing]:
    rows = (
        Household.objects.filter(village_id__in=village_ids)
        .exclude(status=Household.Status.MERGED)
        .order_by("pk")
        .values_list(*_EXISTING_FIELDS)
    )
    for values in rows.iterator(chunk_size=5000):
        yield _Existing(*values)


def _elsewhere(digests: list[str]) -> dict[str, int]:
    """ID digest -> village id, for households outside the file's villages holding them."""
    found: dict[str, int] = {}
    for start in range(0, len(digests), LOOKUP_CHUNK):
        chunk = digests[start : start + LOOKUP_CHUNK]
        found.update(
            Household.objects.filter(id_number_digest__in=chunk)
            .exclude(status=Household.Status.MERGED)
            .values_list("id_number_digest", "village_id")
        )
    return found


def _plan(candidates: list[_Candidate], resolver: VillageResolver, result: ImportResult) -> _Plan:
    village_ids = {c.village.pk for c in candidates}
    by_digest: dict[str, _Existing] = {}
    by_key: dict[tuple[int, str, str], list[_Existing]] = {}
    for existing in _existing(village_ids):
        if existing.id_number_digest:
            by_digest[existing.id_number_digest] = existing
        key = (existing.village_id, clean(existing.head_name), clean(existing.address))
        by_key.setdefault(key, []).append(existing)
    unknown = [
        c.id_number.digest
        for c in candidates
        if c.id_number is not None and c.id_number.digest not in by_digest
    ]
    elsewhere = _elsewhere(unknown) if unknown else {}
    village_names = dict(
        Region.objects.filter(pk__in=set(elsewhere.values())).values_list("pk", "name")
    )

    plan = _Plan(creates=[], updates=[], villages=village_ids)
    claimed: dict[int, int] = {}  # existing pk -> the row that matched it
    for c in candidates:
        match: _Existing | None = None
        reason = ""
        if c.id_number is not None and c.id_number.digest in by_digest:
            match = by_digest[c.id_number.digest]
            if match.village_id != c.village.pk:
                other = resolver.villages.get(match.village_id)
                reason = f"身份证号已登记在{other.name if other else '其他村'}的住户中"
                match = None
        elif c.id_number is not None and c.id_number.digest in elsewhere:
            other_id = elsewhere[c.id_number.digest]
            name = village_names.get(other_id, "") if other_id in resolver.villages else ""
            reason = f"身份证号已登记在{name or '其他村'}的住户中"
        if match is None and not reason:
            same = by_key.get(c.key, [])
            if len(same) > 1:
                reason = f"本村已有 {len(same)} 户同一户主和地址，无法确定对应哪一户"
            elif same:
                match = same[0]
                if (
                    c.id_number is not None
                    and match.id_number_digest
                    and match.id_number_digest != c.id_number.digest
                ):
                    reason = "本村已有同一户主和地址的住户，但身份证号不同"
                    match = None
        if not reason and match is not None and match.pk in claimed:
            reason = f"与第 {claimed[match.pk]} 行对应同一户已登记住户"
        if reason:
            result.reject(c.row, c.cells, reason, subject=c.subject)
            continue
        if match is None:
            plan.creates.append(c)
            result.outcomes.append(
                RowOutcome(c.row, CREATED, subject=c.subject, village=c.village.name)
            )
            continue
        claimed[match.pk] = c.row
        fields, changes = _compare(c, match)
        if not fields:
            result.outcomes.append(
                RowOutcome(c.row, UNCHANGED, subject=c.subject, village=c.village.name)
            )
            continue
        plan.updates.append((c, match, fields))
        result.outcomes.append(
            RowOutcome(c.row, UPDATED, subject=c.subject, village=c.village.name, changes=changes)
        )
    return plan


def _group_label(group_no: int | None) -> str:
    return f"{group_no}组" if group_no else ""


def _compare(c: _Candidate, e: _Existing) -> tuple[tuple[str, ...], tuple[FieldChange, ...]]:
    """The fields of `e` that `c` changes, and the changes as shown (PII masked). A blank
    cell (None) never erases a value."""
    fields: list[str] = []
    changes: list[FieldChange] = []
    if c.head_name != clean(e.head_name):
        fields.append("head_name")
        changes.append(
            FieldChange("户主姓名", pii.mask_name(e.head_name), pii.mask_name(c.head_name))
        )
    if c.address != clean(e.address):
        fields.append("address")
        changes.append(FieldChange("地址", e.address, c.address))
    if c.group_no is not None and c.group_no != e.group_no:
        fields.append("group_no")
        changes.append(FieldChange("村民小组", _group_label(e.group_no), _group_label(c.group_no)))
    if c.phone is not None and c.phone.digest != e.phone_digest:
        fields.append("phone")
        changes.append(FieldChange("手机号", e.phone_masked, pii.mask_phone(c.phone.normalized)))
    if c.id_number is not None and c.id_number.digest != e.id_number_digest:
        fields.append("id_number")
        changes.append(
            FieldChange("身份证号", e.id_number_masked, pii.mask_id_number(c.id_number.normalized))
        )
    if c.size is not None and c.size != e.size:
        fields.append("size")
        changes.append(FieldChange("家庭人口", str(e.size), str(c.size)))
    if c.tags is not None and c.tags != list(e.tags or []):
        fields.append("tags")
        changes.append(FieldChange("标签", "、".join(e.tags or []), "、".join(c.tags)))
    for key, label in (("lat", "纬度"), ("lng", "经度")):
        new, old = getattr(c, key), getattr(e, key)
        if new is not None and (old is None or Decimal(old) != new):
            fields.append(key)
            changes.append(FieldChange(label, "" if old is None else str(old), str(new)))
    return tuple(fields), tuple(changes)


# ---------------------------------------------------------------------------------------------
# Writing: all or nothing


def _seal(value: Personal | None, mask) -> pii.Sealed | None:
    if value is None:
        return None
    return pii.Sealed(
        ciphertext=crypto.encrypt(value.normalized),
        digest=value.digest,
        masked=mask(value.normalized),
        normalized=value.normalized,
    )


def _build(c: _Candidate, synthetic: bool = False) -> Household:
    """The household a row creates, through the same builder as every other household."""
    return household_build(
        HouseholdData(
            village=c.village,
            head_name=c.head_name,
            address=c.address,
            group_no=c.group_no,
            size=c.size or 1,
            synthetic=synthetic,
            tags=c.tags or [],
            lat=c.lat,  # type: ignore[arg-type]
            lng=c.lng,  # type: ignore[arg-type]
        ),
        sealed_phone=_seal(c.phone, pii.mask_phone),
        sealed_id_number=_seal(c.id_number, pii.mask_id_number),
    )


def _bulk_create(households: list[Household]) -> None:
    """One INSERT of many rows (the seam the atomicity test breaks).

    `QuerySet.bulk_create` spends most of a 100,000-row import preparing each of the 20
    fields of every object in Python. The rows here are plain households built by
    `household_build` with no pk yet, so they go in with one `executemany`; each value is
    prepared by its own field's `get_db_prep_save` where that does anything (JSON, decimals,
    datetimes), and values that repeat (the timestamps, empty tag lists) are prepared once.
    """
    if not households:
        return
    fields = [f for f in Household._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names from the model
        quote(Household._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    prepared: dict[tuple[str, str], Any] = {}

    def prep(field: Any, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, list | dt.datetime):
            return field.get_db_prep_save(value, connection)
        key = (field.name, repr(value))
        if key not in prepared:
            prepared[key] = field.get_db_prep_save(value, connection)
        return prepared[key]

    # Plain text, integer and boolean columns go in as they are; the others through prep().
    special = [
        (i, f)
        for i, f in enumerate(fields)
        if isinstance(f, models.JSONField | models.DecimalField | models.DateTimeField)
    ]
    values = operator.attrgetter(*(f.attname for f in fields))
    rows = []
    for household in households:
        row = list(values(household))
        for i, field in special:
            row[i] = prep(field, row[i])
        rows.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _bulk_update(households: list[Household], fields: list[str]) -> None:
    Household.objects.bulk_update(households, fields)


_DB_FIELDS = {
    "phone": ["phone_ciphertext", "phone_digest", "phone_masked"],
    "id_number": ["id_number_ciphertext", "id_number_digest", "id_number_masked"],
}


def _write(
    plan: _Plan,
    *,
    actor: User | None,
    village: Region | None,
    result: ImportResult,
    batch_size: int,
    synthetic: bool = False,
) -> None:
    for start in range(0, len(plan.creates), batch_size):
        _bulk_create([_build(c, synthetic) for c in plan.creates[start : start + batch_size]])

    # Updates grouped by the fields they change, so each UPDATE sets only those fields.
    groups: dict[tuple[str, ...], list[Household]] = {}
    now = clock.now()
    for c, _e, fields in plan.updates:
        household = Household(pk=_e.pk, updated_at=now)
        household.head_name = c.head_name
        household.address = c.address
        household.group_no = c.group_no
        household.size = c.size or 1
        household.tags = c.tags or []
        household.lat = c.lat
        household.lng = c.lng
        if "phone" in fields:
            household.set_phone(_seal(c.phone, pii.mask_phone))
        if "id_number" in fields:
            household.set_id_number(_seal(c.id_number, pii.mask_id_number))
        groups.setdefault(fields, []).append(household)
    for fields, households in groups.items():
        columns = [db for f in fields for db in _DB_FIELDS.get(f, [f])] + ["updated_at"]
        for start in range(0, len(households), batch_size):
            _bulk_update(households[start : start + batch_size], columns)

    batch = ImportBatch.objects.create(
        kind=ImportBatch.Kind.HOUSEHOLDS,
        actor=actor,
        region=batch_region(actor=actor, village=village, village_ids=plan.villages),
        file_name=result.file_name[:255],
        total_rows=result.data_rows,
        created_count=result.created,
        updated_count=result.updated,
        unchanged_count=result.unchanged,
        rejected_count=result.rejected,
        summary=result.summary(),
        error_workbook=result.errors_workbook(),
    )
    result.batch_id = batch.pk


def batch_region(
    *, actor: User | None, village: Region | None, village_ids: set[int]
) -> Region | None:
    """Whose scope an import belongs to: the actor's region; from the command line, the
    village given, else the narrowest region holding every village the file touched."""
    if actor is not None and actor.region_id is not None:
        return actor.region
    if village is not None:
        return village
    paths = list(Region.objects.filter(pk__in=village_ids).values_list("path", flat=True))
    if not paths:
        return None
    common = paths[0]
    for path in paths[1:]:
        while not path.startswith(common):
            common = common[: common.rstrip("/").rfind("/") + 1]
    return Region.objects.filter(path=common).first()
