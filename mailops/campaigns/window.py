"""A campaign's send window: hours [start, end) in JST on chosen weekdays.

No hours means all day; no weekdays means every day. ``start > end`` is a window
across midnight (22 → 6).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def jst(moment: datetime) -> datetime:
    return moment.astimezone(JST)


def _hours(campaign: Any) -> tuple[int, int] | None:
    start, end = campaign.window_start_hour, campaign.window_end_hour
    if start is None or end is None or start == end:
        return None
    return int(start), int(end)


def is_open(campaign: Any, moment: datetime) -> bool:
    """Whether the campaign may send at ``moment``."""
    local = jst(moment)
    hours = _hours(campaign)
    weekdays = [int(d) for d in (campaign.window_weekdays or [])]
    if hours is None:
        return not weekdays or local.weekday() in weekdays
    start, end = hours
    if start < end:
        in_hours = start <= local.hour < end
        day = local.weekday()
    else:
        in_hours = local.hour >= start or local.hour < end
        # After midnight the window belongs to the day it opened.
        day = (
            (local - timedelta(days=1)).weekday()
            if local.hour < end
            else (local.weekday())
        )
    return in_hours and (not weekdays or day in weekdays)


def next_open(campaign: Any, moment: datetime) -> datetime | None:
    """``moment`` if the window is open, else the next full hour it opens
    (None when no hour in the next 8 days is open, e.g. no weekday chosen)."""
    if is_open(campaign, moment):
        return moment
    local = jst(moment).replace(minute=0, second=0, microsecond=0)
    for step in range(1, 8 * 24 + 1):
        candidate = local + timedelta(hours=step)
        if is_open(campaign, candidate):
            return candidate
    return None
