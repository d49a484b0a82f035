"""Plain multi-row INSERTs for hot paths, where `QuerySet.bulk_create` spends most of its time
preparing every field of every object in Python."""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models


def insert_rows(
    model: type[models.Model], attnames: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """INSERT `rows` into `model`'s table with one `executemany`.

    `attnames` name the fields as Django stores them (`visit_id`, not `visit`); each row holds
    values the database driver takes as they are (ints, strings, bools, None, Decimal, aware
    datetimes). Runs in the caller's transaction; returns no primary keys.
    """
    rows = list(rows)
    if not rows:
        return
    columns = {f.attname: f.column for f in model._meta.concrete_fields}
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names come from the model
        quote(model._meta.db_table),
        ", ".join(quote(columns[name]) for name in attnames),
        ", ".join(["%s"] * len(attnames)),
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
