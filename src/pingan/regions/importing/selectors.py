"""Reads of import batches, scoped: a batch is seen by import roles whose scope holds its
region, and by the user who ran it."""

from django.db.models import Q, QuerySet

from pingan.accounts.models import User
from pingan.accounts.selectors import user_scope_path
from pingan.regions.importing.villages import user_can_import
from pingan.regions.models import ImportBatch


def import_batch_list(*, user: User) -> QuerySet[ImportBatch]:
    """Batches the user may open, newest first, without the heavy columns."""
    path = user_scope_path(user)
    if path is None or not user_can_import(user):
        return ImportBatch.objects.none()
    return (
        ImportBatch.objects.filter(Q(region__path__startswith=path) | Q(actor=user))
        .select_related("actor", "region")
        .defer("error_workbook", "summary")
        .order_by("-created_at", "-id")
    )


def import_batch_get(*, user: User, pk: int) -> ImportBatch | None:
    """One batch with its summary (the error workbook is loaded only for download)."""
    return import_batch_list(user=user).defer(None).defer("error_workbook").filter(pk=pk).first()


def import_batch_errors(*, user: User, pk: int) -> tuple[str, bytes] | None:
    """(file name, error workbook) of a batch the user may open, or None."""
    row = (
        import_batch_list(user=user)
        .filter(pk=pk, error_workbook__isnull=False)
        .values_list("file_name", "error_workbook")
        .first()
    )
    if row is None or row[1] is None:
        return None
    return row[0], bytes(row[1])
