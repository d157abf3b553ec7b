"""The emulated clock: real UTC time plus an offset that the admin API can move."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall clock shifted by ``offset`` seconds (time travel for tests)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def time(self) -> float:
        """Emulated POSIX timestamp."""
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        self.offset = when.timestamp() - time.time()

    def reset(self) -> None:
        self.offset = 0.0


def iso(dt: datetime) -> str:
    """ISO 8601 with a ``Z`` suffix, as Azure writes timestamps."""
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    value = value.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    # Azure sends 7 fractional digits; fromisoformat in 3.11 accepts any count.
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt
