"""Plain multi-row INSERTs for hot paths, where `QuerySet.bulk_create` spends most of its time
preparing every field of every object in Python."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def insert_rows(
    model: type[models.Model], attnames: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """INSERT `rows` into `model`'s table: COPY on PostgreSQL, multi-row INSERTs on SQLite.

    `attnames` name the fields as Django stores them (`visit_id`, not `visit`); each row holds
    values the database driver takes as they are (ints, strings, bools, None, Decimal, aware
    datetimes). Runs in the caller's transaction; returns no primary keys.
    """
    rows = list(rows)
    if not rows:
        return
    columns = {f.attname: f.column for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    head = "INSERT INTO {} ({}) VALUES ".format(  # noqa: S608 - names come from the model
        quote(model._meta.db_table), ", ".join(quote(columns[name]) for name in attnames)
    )
    if connection.vendor == "postgresql":
        # COPY: the rows stream in binary-free text format without client-side SQL quoting,
        # an order of magnitude faster than parameterized INSERTs for thousands of rows.
        copy_sql = "COPY {} ({}) FROM STDIN".format(
            quote(model._meta.db_table), ", ".join(quote(columns[name]) for name in attnames)
        )
        # The raw psycopg cursor: wrap its errors so a unique violation is Django's
        # IntegrityError, as it is for every other query.
        with (
            connection.cursor() as cursor,
            connection.wrap_database_errors,
            cursor.cursor.copy(copy_sql) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    one = "(" + ", ".join(["%s"] * len(attnames)) + ")"
    # Multi-row VALUES in chunks that stay under SQLite's and PostgreSQL's parameter limits.
    per_statement = max(1, 30_000 // len(attnames))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(head + ", ".join([one] * len(chunk)), [v for row in chunk for v in row])


def insert_objects(objects: Sequence[models.Model]) -> None:
    """Insert new model instances of one model and set their primary keys.

    PostgreSQL: the ids are drawn from the table's sequence in one query and the rows go in
    with COPY. Elsewhere: `bulk_create`, which returns the ids itself (SQLite ≥ 3.35).
    """
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objects)
        return
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objects)],
        )
        ids = [row[0] for row in cursor.fetchall()]
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    fields = meta.concrete_fields
    insert_rows(
        model,
        [f.attname for f in fields],
        ([f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
         for obj in objects),
    )  # fmt: skip
