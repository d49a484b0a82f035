"""Logging helpers for settings.LOGGING: one line per event, a traceback only for a bug."""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    """Drops the traceback from a record about a request answered with a 4xx.

    Django logs a refused request (403 PermissionDenied on `django.request`, 400
    SuspiciousOperation on `django.security.*`) with the exception attached, as if it were a
    crash. It is the client's doing and the page says so: one plain line is enough. A 5xx
    (`status_code` >= 500) and any record without a status keep their traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.exc_info and isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
