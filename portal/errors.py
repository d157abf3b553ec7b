from __future__ import annotations


class ServiceError(Exception):
    """A business rule refused the request. ``message`` is shown to the user as is
    (already translated), so raise it with ``gettext`` strings."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
