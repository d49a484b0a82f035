"""`cadre_import`: a list of cadres (党员干部) in, accounts with one-time passwords out.

Reads like the household import (same readers, header matching, village names, row rules
and result); columns 姓名, 手机号, 村 (the village they visit), 是否党员/政治面貌, 角色/职务,
and an optional 单位 (a town unit: the cadre is 包村 from it).

- Each new cadre gets a `Person` and a `User`: username = the normalized phone number, a random
  one-time password, `must_change_password=True`. 走访干部 (default) -> cadre; 村支部书记,
  村综治主任, 村管理员 -> village_admin (only the town center or the command line may create
  those). A village admin is a 党员干部 who visits too, so they get a `Person` as well.
- A person already registered with the same phone (keyed hash) is the same cadre: changed
  fields are updated and reported; the password is never reset.
- The new accounts' passwords go into one `InitialPasswordSheet` per village, encrypted with
  `pingan.core.crypto`; the importer and that village's admins download it as .xlsx (logged)
  and discard it when the passwords have been handed out.
"""

import io
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import transaction
from django.db.models import QuerySet
from openpyxl import Workbook

from pingan.accounts.hashers import initial_password_hash
from pingan.accounts.models import (
    InitialPasswordSheet,
    InitialPasswordSheetDownload,
    Person,
    Role,
    Unit,
    User,
)
from pingan.accounts.services import AccountError, person_build, user_create
from pingan.core import clock, crypto, pii
from pingan.regions.importing.cells import (
    CellError,
    Personal,
    clean,
    parse_party_member,
    parse_phone,
)
from pingan.regions.importing.headers import CADRE_COLUMNS, data_rows
from pingan.regions.importing.households import batch_region, import_open
from pingan.regions.importing.results import (
    CREATED,
    UNCHANGED,
    UPDATED,
    FieldChange,
    ImportDenied,
    ImportResult,
    RowOutcome,
)
from pingan.regions.models import ImportBatch, Region

REQUIRED = ("name", "phone")
ROLE_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("走访干部", "党员干部", "包村干部", "驻村干部", "村干部", "干部", "党员", "网格员"),
        Role.CADRE,
    ),
    **dict.fromkeys(
        ("村支部书记", "支部书记", "村书记", "村党支部书记", "村综治主任", "综治主任",
         "村管理员", "管理员"),
        Role.VILLAGE_ADMIN,
    ),
}  # fmt: skip
# Initial passwords: no 0/O/o, 1/l/I/i, so they can be read out and typed from paper.
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105
PASSWORD_GROUPS = 3
PASSWORD_GROUP_LENGTH = 4


def initial_password() -> str:
    """A random, readable one-time password: 3 groups of 4, e.g. "hK7m-Px3a-Q9tz"."""
    return "-".join(
        "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_GROUP_LENGTH))
        for _ in range(PASSWORD_GROUPS)
    )


@dataclass(slots=True)
class _Cadre:
    row: int
    cells: list[Any]
    name: str
    phone: Personal
    village: Region
    party_member: bool | None
    role: str
    unit: Unit | None

    @property
    def subject(self) -> str:
        return f"{pii.mask_name(self.name)} · {pii.mask_phone(self.phone.normalized)}"


def _units(resolver) -> dict[str, Unit]:
    towns = {v.parent_id for v in resolver.villages.values()}
    units = Unit.objects.filter(region__in=towns, active=True).order_by("sort_order", "name")
    return {clean(unit.name): unit for unit in units}


def _unit(units: dict[str, Unit], value: object) -> tuple[Unit | None, str]:
    name = clean(value)
    if not name:
        return None, ""
    if name in units:
        return units[name], ""
    found = [unit for key, unit in units.items() if name in key]
    if len(found) == 1:
        return found[0], ""
    return None, f"找不到单位“{name}”（须为本镇的责任单位）"


def cadre_import(
    *,
    actor: User | None,
    source: Path | IO[bytes] | bytes,
    filename: str,
    village: Region | None = None,
    dry_run: bool = False,
    synthetic: bool = False,
) -> ImportResult:
    """Import a cadre list. `actor=None` is the command line; `synthetic=True` marks new
    people as demo data. Raises ImportDenied and ImportFileError like `household_import`;
    row problems are rejected rows."""
    may_create_admins = actor is None or actor.is_superuser or actor.role == Role.TOWN_ADMIN
    opened = import_open(
        actor=actor,
        source=source,
        filename=filename,
        village=village,
        dry_run=dry_run,
        kind=ImportBatch.Kind.CADRES,
        columns=CADRE_COLUMNS,
        required=REQUIRED,
    )
    resolver, rows, header, result = opened.resolver, opened.rows, opened.header, opened.result
    default, default_error = opened.default, opened.default_error
    units = _units(resolver)
    columns = header.columns
    cadres: list[_Cadre] = []
    first_row: dict[str, int] = {}
    for row in data_rows(header, rows):
        cells = row.cells

        def cell(key: str, cells: list[Any] = cells) -> Any:
            index = columns.get(key)
            return cells[index] if index is not None and index < len(cells) else ""

        errors: list[str] = []
        name = clean(cell("name"))
        if not name:
            errors.append("缺少姓名")
        phone: Personal | None = None
        try:
            phone = parse_phone(cell("phone"))
            if phone is None:
                errors.append("缺少手机号（手机号就是登录用户名）")
        except CellError as exc:
            errors.append(exc.message)
        row_village, reason = resolver.resolve(cell("village"))
        if reason:
            errors.append(reason)
        elif row_village is not None and village is not None and row_village != village:
            errors.append(f"本行的村“{row_village.name}”与所选的“{village.name}”不一致")
        elif row_village is None:
            row_village = default
            if row_village is None:
                errors.append(default_error.replace("所属村", "走访村"))
        party: bool | None = None
        try:
            party = parse_party_member(cell("party_member"))
        except CellError as exc:
            errors.append(exc.message)
        role_text = clean(cell("role"))
        role = ROLE_WORDS.get(role_text, "") if role_text else Role.CADRE
        if not role:
            errors.append(f"角色“{role_text}”无法识别（可写 走访干部、村支部书记、村综治主任）")
        elif role == Role.VILLAGE_ADMIN and not may_create_admins:
            errors.append("村管理员账号只能由镇综治中心导入")
        unit, reason = _unit(units, cell("unit"))
        if reason:
            errors.append(reason)
        elif (
            unit is not None and row_village is not None and unit.region_id != row_village.parent_id
        ):
            errors.append(f"单位“{unit.name}”不属于{row_village.name}所在的镇")
        subject = pii.mask_name(name) if name else ""
        if errors or phone is None or row_village is None:
            result.reject(row.number, cells, "；".join(errors), subject=subject)
            continue
        if phone.digest in first_row:
            result.reject(
                row.number,
                cells,
                f"与第 {first_row[phone.digest]} 行重复（手机号相同）",
                subject=subject,
            )
            continue
        first_row[phone.digest] = row.number
        cadres.append(_Cadre(row.number, cells, name, phone, row_village, party, role, unit))

    if dry_run:
        _plan_and_write(
            cadres, resolver, result, actor=actor, village=village, write=False, synthetic=synthetic
        )
    else:
        with transaction.atomic():
            _plan_and_write(
                cadres,
                resolver,
                result,
                actor=actor,
                village=village,
                write=True,
                synthetic=synthetic,
            )
    result.outcomes.sort(key=lambda o: o.row)
    return result


def _changes(c: _Cadre, person: Person) -> tuple[dict[str, Any], list[FieldChange]]:
    """The Person fields `c` changes (blank cells change nothing), and the changes shown."""
    updates: dict[str, Any] = {}
    changes: list[FieldChange] = []
    if c.name != person.name:
        updates["name"] = c.name
        changes.append(FieldChange("姓名", pii.mask_name(person.name), pii.mask_name(c.name)))
    if c.village.pk != person.visit_village_id:
        updates["visit_village"] = c.village
        changes.append(FieldChange("走访村", person.visit_village.name, c.village.name))
    if c.party_member is not None and c.party_member != person.party_member:
        updates["party_member"] = c.party_member
        changes.append(
            FieldChange(
                "党员", "是" if person.party_member else "否", "是" if c.party_member else "否"
            )
        )
    if c.unit is not None and c.unit.pk != person.home_unit_id:
        updates["home_unit"] = c.unit
        updates["home_village"] = None
        old = person.home_unit.name if person.home_unit else ""
        changes.append(FieldChange("所在单位", old, c.unit.name))
    user = person.user
    if user is not None and (user.role != c.role or user.region_id != c.village.pk):
        changes.append(
            FieldChange(
                "账号",
                f"{Role(user.role).label if user.role else ''}·{user.region.name if user.region else ''}",
                f"{Role(c.role).label}·{c.village.name}",
            )
        )
    if not person.active:
        updates["active"] = True
        changes.append(FieldChange("在岗", "否", "是"))
    return updates, changes


def _plan_and_write(
    cadres: list[_Cadre],
    resolver,
    result: ImportResult,
    *,
    actor: User | None,
    village: Region | None,
    write: bool,
    synthetic: bool = False,
) -> None:
    digests = [c.phone.digest for c in cadres]
    people: dict[str, list[Person]] = {}
    for known in Person.objects.filter(phone_digest__in=digests).select_related(
        "user", "user__region", "visit_village", "home_unit"
    ):
        people.setdefault(known.phone_digest, []).append(known)
    usernames = {
        u.username: u
        for u in User.objects.filter(username__in=[c.phone.normalized for c in cadres])
    }
    creates: list[_Cadre] = []
    updates: list[tuple[_Cadre, Person, dict[str, Any]]] = []
    for c in cadres:
        found = people.get(c.phone.digest, [])
        person = found[0] if len(found) == 1 else None
        taken = usernames.get(c.phone.normalized)
        reason = ""
        if len(found) > 1:
            reason = "该手机号已登记在多名干部名下，请先在系统中核对"
        elif person is not None and not resolver.contains(person.visit_village):
            reason = "该手机号已登记为其他村的干部（不在您的管辖范围内）"
        elif taken is not None and (person is None or person.user_id != taken.pk):
            reason = "该手机号已是其他账号的用户名"
        elif (
            person is not None
            and person.user is not None
            and person.user.role
            not in (
                Role.CADRE,
                Role.VILLAGE_ADMIN,
            )
        ):
            reason = "该手机号的账号不是干部账号，不能用干部名单修改"
        if reason:
            result.reject(c.row, c.cells, reason, subject=c.subject)
            continue
        if person is None:
            creates.append(c)
            result.outcomes.append(
                RowOutcome(c.row, CREATED, subject=c.subject, village=c.village.name)
            )
            continue
        fields, changes = _changes(c, person)
        if person.user is None:
            changes.append(FieldChange("账号", "", f"新建（{Role(c.role).label}）"))
        if not changes:
            result.outcomes.append(
                RowOutcome(c.row, UNCHANGED, subject=c.subject, village=c.village.name)
            )
            continue
        updates.append((c, person, fields))
        result.outcomes.append(
            RowOutcome(
                c.row, UPDATED, subject=c.subject, village=c.village.name, changes=tuple(changes)
            )
        )
    if not write:
        return

    credentials: dict[int, list[tuple[str, str, str]]] = {}
    hashed: list[User] = []

    def account(c: _Cadre) -> User:
        password = initial_password()
        try:
            user = user_create(
                username=c.phone.normalized,
                role=c.role,
                region=c.village,
                password=None,
                full_name=c.name,
                must_change_password=True,
            )
        except AccountError as exc:  # checked above; a race with another import
            raise ImportDenied(exc.message) from exc
        user.password = initial_password_hash(password)
        hashed.append(user)
        credentials.setdefault(c.village.pk, []).append((c.name, user.username, password))
        return user

    for c in creates:
        person = person_build(
            name=c.name,
            visit_village=c.village,
            phone=c.phone.normalized,
            party_member=True if c.party_member is None else c.party_member,
            home_village=None if c.unit else c.village,
            home_unit=c.unit,
            user=account(c),
            synthetic=synthetic,
        )
        person.save()
    now = clock.now()
    for c, person, fields in updates:
        for key, value in fields.items():
            setattr(person, key, value)
        if person.user is None:
            person.user = account(c)
            fields["user"] = person.user
        else:
            user = person.user
            if user.role != c.role or user.region_id != c.village.pk or user.full_name != c.name:
                user.role, user.region, user.full_name = c.role, c.village, c.name
                user.save(update_fields=["role", "region", "full_name"])
        person.updated_at = now
        person.save(update_fields=[*fields, "updated_at"])
    User.objects.bulk_update(hashed, ["password"])

    batch = ImportBatch.objects.create(
        kind=ImportBatch.Kind.CADRES,
        actor=actor,
        region=batch_region(
            actor=actor, village=village, village_ids={c.village.pk for c in cadres}
        ),
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
    result.credentials = credentials
    for village_id, rows in credentials.items():
        sheet = InitialPasswordSheet.objects.create(
            batch=batch,
            village_id=village_id,
            account_count=len(rows),
            payload_ciphertext=crypto.encrypt(json.dumps(rows, ensure_ascii=False)),
        )
        result.password_sheet_ids[village_id] = sheet.pk


# ---------------------------------------------------------------------------------------------
# Initial password sheets


class PasswordSheetGone(ValueError):
    """The sheet was discarded; its passwords no longer exist anywhere."""


def password_sheet_list(*, user: User) -> QuerySet[InitialPasswordSheet]:
    """Sheets `user` may download: those of imports they ran, and, for a village admin,
    those of their village. Everyone else: none (the pages answer 404)."""
    if not user.is_authenticated or not user.is_active:
        return InitialPasswordSheet.objects.none()
    mine = InitialPasswordSheet.objects.filter(batch__actor=user)
    if user.role == Role.VILLAGE_ADMIN and user.region_id is not None:
        mine = mine | InitialPasswordSheet.objects.filter(village_id=user.region_id)
    return mine.select_related("village", "batch").order_by("-created_at", "-id")


def password_sheet_rows(sheet: InitialPasswordSheet) -> list[tuple[str, str, str]]:
    if sheet.discarded_at is not None or not sheet.payload_ciphertext:
        raise PasswordSheetGone("初始密码表已销毁")
    rows = json.loads(crypto.decrypt(sheet.payload_ciphertext))
    return [(str(name), str(username), str(password)) for name, username, password in rows]


def password_sheet_workbook(rows: list[tuple[str, str, str]], village: Region) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("初始密码")
    sheet.append([f"{village.name} 走访干部账号初始密码（首次登录须修改密码；发放后请销毁本表）"])
    sheet.append(["村", "姓名", "用户名（手机号）", "初始密码"])
    for name, username, password in rows:
        sheet.append([village.name, name, username, password])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@transaction.atomic
def password_sheet_download(
    *, actor: User, sheet: InitialPasswordSheet, ip_address: str | None
) -> bytes:
    """The sheet as .xlsx, logged. Callers fetch `sheet` through `password_sheet_list`."""
    rows = password_sheet_rows(sheet)
    InitialPasswordSheetDownload.objects.create(sheet=sheet, actor=actor, ip_address=ip_address)
    return password_sheet_workbook(rows, sheet.village)


@transaction.atomic
def password_sheet_discard(*, actor: User, sheet: InitialPasswordSheet) -> None:
    """Erase the passwords for good (idempotent)."""
    if sheet.discarded_at is not None:
        return
    sheet.payload_ciphertext = ""
    sheet.discarded_at = clock.now()
    sheet.discarded_by = actor
    sheet.save(update_fields=["payload_ciphertext", "discarded_at", "discarded_by", "updated_at"])
