from __future__ import annotations


class AzureError(Exception):
    """An Azure call failed. ``retryable`` is True for 429, 5xx and network errors."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        code: str = "",
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.code = code


class AzureNotFound(AzureError):
    def __init__(self, message: str, *, code: str = "ResourceNotFound") -> None:
        super().__init__(message, retryable=False, status=404, code=code)


class AzureThrottled(AzureError):
    def __init__(self, message: str, *, retry_after: int = 1, code: str = "") -> None:
        super().__init__(message, retryable=True, status=429, code=code)
        self.retry_after = retry_after
