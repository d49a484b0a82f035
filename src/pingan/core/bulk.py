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
        with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
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
