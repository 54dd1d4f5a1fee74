"""Import errors with stable codes, for the API and the web pages."""

from __future__ import annotations

from lavka.core.errors import DomainError


class ImportFileUnreadable(DomainError):
    """The uploaded file cannot be read; the message says why."""

    code = "import_file_unreadable"
