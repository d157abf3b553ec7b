"""Ingestion of ACS Email logs (Log Analytics) into the current tenant schema.

``ingest_tenant()`` pulls the three ACS Email tables for the tenant's
Communication Service, incrementally and idempotently:

* one watermark per table; each run queries ``[watermark - overlap, now - lag]`` so
  rows that reach Log Analytics late are still picked up;
* the window is planned from an hourly ``count()`` and cut into query windows of
  at most ``ROW_BUDGET`` rows; a result that still comes back partial (truncated by
  the service's limits) is split in halves recursively; 429/5xx are retried with
  bounded backoff;
* rows are streamed window by window into a temporary table with ``COPY`` and
  merged with set-based ``INSERT ... ON CONFLICT DO UPDATE`` on the natural keys
  (a status only moves forward in time), so re-runs and overlaps never double count;
  a window of rows that are all new takes one insert-only statement instead
  (``_merge_fresh``), and each window is split by message id over side-by-side
  database connections (``merge_streams``);
* hour/day aggregates and the public billing ledger (``billing.UsageDay``) are
  recomputed from the detail rows for the affected buckets only.

Event Grid events go through the same merge (``merge_status_rows``), so the
webhook and the log pull converge on the same rows whichever comes first.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from mailops.models import (
    AcsFootprint,
    AnalyticsSettings,
    DeliveryAggregate,
    EngagementEvent,
    IngestWatermark,
    MessageRecord,
    ProcessedEvent,
    RecipientDomainClass,
    RecipientEvent,
)
from portal.integrations.azure import client as azure
from portal.integrations.azure.errors import AzureError

logger = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")

SEND_MAIL = "ACSEmailSendMailOperational"
STATUS_UPDATE = "ACSEmailStatusUpdateOperational"
USER_ENGAGEMENT = "ACSEmailUserEngagementOperational"
# SendMail first: the status merge then finds the message's record and its size.
TABLES = (SEND_MAIL, STATUS_UPDATE, USER_ENGAGEMENT)

# Rows per window, all three tables together. Log Analytics truncates a query at
# 500,000 rows / 64 MB; the budget is set by the ingesting process's memory: one
# table's decoded JSON (about 1 kB per row) exists only while it is turned into
# COPY text (about 150 bytes per row), and at most three windows of COPY text are
# in flight (one fetched, one queued, one merging).
ROW_BUDGET = 120_000
# The first span planned on its own (``_plan_spans``).
FIRST_PLAN_SPAN = timedelta(hours=1)
# A window this short that still comes back partial cannot be split usefully.
MIN_WINDOW = timedelta(seconds=1)
MAX_ATTEMPTS = 5  # per query: the first try and four retries
# Metrics cross-check: closed hours older than the overlap, this far back; counts
# may differ by a few rows (an Event Grid status timed differently from its log
# row) before it is a finding.
CROSS_CHECK_SPAN = timedelta(hours=24)
CROSS_CHECK_MIN_DIFF = 5
CROSS_CHECK_RATIO = 0.01


class IngestError(Exception):
    """Ingestion cannot continue (terminal Azure error, unsplittable window)."""


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def overlap() -> timedelta:
    """How far each run re-reads before the watermark (late-arriving rows)."""
    return timedelta(minutes=int(_setting("ANALYTICS_INGEST_OVERLAP_MINUTES", 30)))


def lag() -> timedelta:
    """How far behind "now" a run stops (rows still being ingested by Azure)."""
    return timedelta(seconds=int(_setting("ANALYTICS_INGEST_LAG_SECONDS", 60)))


def row_budget() -> int:
    return int(_setting("ANALYTICS_INGEST_ROW_BUDGET", ROW_BUDGET))


def merge_streams() -> int:
    """How many database connections merge a run's windows side by side.

    Each window's rows are split by message id, so all rows of one message (of
    every table, in every window) go through the same connection, in order: no
    two connections ever write the same message, recipient or engagement row,
    and a message's outcome is derived where its recipients were just written.
    One connection inside an enclosing transaction (a caller's ``atomic`` block,
    the test suite's): other connections could not see its uncommitted rows.
    """
    streams = max(1, int(_setting("ANALYTICS_INGEST_MERGE_STREAMS", 2)))
    return 1 if connection.in_atomic_block else streams


# --- recipient domain classes -----------------------------------------------------------

# Exact domains and suffixes ("*.x" means any subdomain of x) per class. The SQL
# CASE used by the bulk merge is generated from the same table, so the Python and
# SQL classifications cannot drift apart.
DOMAIN_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (RecipientDomainClass.DOCOMO, ("docomo.ne.jp",)),
    (RecipientDomainClass.AU, ("ezweb.ne.jp", "au.com", "*.ezweb.ne.jp")),
    (
        RecipientDomainClass.SOFTBANK,
        ("softbank.ne.jp", "i.softbank.jp", "*.vodafone.ne.jp"),
    ),
    (RecipientDomainClass.GMAIL, ("gmail.com", "googlemail.com")),
    (
        RecipientDomainClass.OUTLOOK,
        ("outlook.com", "outlook.jp", "hotmail.*", "live.*", "msn.com"),
    ),
    (RecipientDomainClass.YAHOO_JP, ("yahoo.co.jp", "ymail.ne.jp")),
)


def _matches(domain: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return domain.endswith(pattern[1:])
    if pattern.endswith(".*"):
        return domain.startswith(pattern[:-1])
    return domain == pattern


def classify_domain(domain: str) -> str:
    """The recipient domain class of ``domain`` (``RecipientDomainClass`` value)."""
    domain = domain.strip().lower().rstrip(".")
    for klass, patterns in DOMAIN_RULES:
        if any(_matches(domain, p) for p in patterns):
            return str(klass)
    return str(RecipientDomainClass.OTHER)


def _domain_class_sql(column: str) -> str:
    # Patterns are constants of this module (no user input), so inlining is safe.
    whens = []
    for klass, patterns in DOMAIN_RULES:
        conds = []
        for p in patterns:
            # right()/left() rather than LIKE: no "%" to escape for the driver.
            if p.startswith("*."):
                conds.append(f"right({column}, {len(p) - 1}) = '{p[1:]}'")
            elif p.endswith(".*"):
                conds.append(f"left({column}, {len(p) - 1}) = '{p[:-1]}'")
            else:
                conds.append(f"{column} = '{p}'")
        whens.append(f"WHEN {' OR '.join(conds)} THEN '{klass}'")
    return f"(CASE {' '.join(whens)} ELSE '{RecipientDomainClass.OTHER}' END)"


# --- reports ----------------------------------------------------------------------------


@dataclass
class TableReport:
    table: str
    start: datetime | None = None
    end: datetime | None = None
    rows: int = 0
    queries: int = 0
    windows: int = 0
    splits: int = 0
    retries: int = 0


@dataclass(frozen=True)
class CrossCheck:
    """Recipient statuses ingested vs Azure Monitor's DeliveryStatusUpdate metric
    over the same closed hours (``[start, end)``)."""

    start: datetime
    end: datetime
    ingested: int
    metric: int

    @property
    def tolerance(self) -> int:
        return max(CROSS_CHECK_MIN_DIFF, math.ceil(self.metric * CROSS_CHECK_RATIO))

    @property
    def mismatch(self) -> bool:
        return abs(self.metric - self.ingested) > self.tolerance


@dataclass
class IngestReport:
    schema: str = ""
    skipped: str = ""  # why nothing ran (no resource yet, another run holds the lock)
    tables: dict[str, TableReport] = field(default_factory=dict)
    hour_buckets: int = 0
    usage_days: int = 0
    seconds: float = 0.0
    cross_check: CrossCheck | None = None

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())


@dataclass
class _Affected:
    """Time ranges whose aggregates (events) and usage days (messages) changed."""

    event_lo: datetime | None = None
    event_hi: datetime | None = None
    message_lo: datetime | None = None
    message_hi: datetime | None = None

    def events(self, *values: datetime | None) -> None:
        for v in values:
            if v is not None:
                self.event_lo = v if self.event_lo is None else min(self.event_lo, v)
                self.event_hi = v if self.event_hi is None else max(self.event_hi, v)

    def messages(self, *values: datetime | None) -> None:
        for v in values:
            if v is not None:
                self.message_lo = (
                    v if self.message_lo is None else min(self.message_lo, v)
                )
                self.message_hi = (
                    v if self.message_hi is None else max(self.message_hi, v)
                )


# --- queries ----------------------------------------------------------------------------


def _kql_dt(value: datetime) -> str:
    return "datetime(" + value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") + ")"


def _kql_str(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# Every cell is projected as a string: PostgreSQL parses datetimes and numbers
# during COPY and the merge, far cheaper than turning each cell into a Python
# object, and all-string rows become COPY text with one join (``_copy_text``).
# ``tostring()`` of an empty cell is "" (staged as text, cast with nullif).
PROJECTIONS = {
    SEND_MAIL: (
        "t = tostring(TimeGenerated), m = CorrelationId, size = tostring(Size), "
        "to_n = tostring(ToRecipientsCount), cc_n = tostring(CcRecipientsCount), "
        "bcc_n = tostring(BccRecipientsCount), "
        "uniq = tostring(UniqueRecipientsCount), "
        "att = tostring(AttachmentsCount), src = TrafficSource"
    ),
    STATUS_UPDATE: (
        "t = tostring(TimeGenerated), m = CorrelationId, r = RecipientId, "
        "s = DeliveryStatus, smtp = SmtpStatusCode, enh = EnhancedSmtpStatusCode, "
        "reason = FailureReason, msg = FailureMessage, sd = SenderDomain, "
        "su = SenderUsername, hard = IsHardBounce"
    ),
    USER_ENGAGEMENT: (
        "t = tostring(TimeGenerated), m = CorrelationId, r = RecipientId, "
        "k = EngagementType, ctx = EngagementContext, ua = UserAgent"
    ),
}


def _base_query(table: str, resource_id: str, start: datetime, end: datetime) -> str:
    """The table's rows in ``[start, end]``. No filter on ``_ResourceId``: every
    query goes to the resource-centric endpoint (``POST /v1/{resourceId}/query``),
    which only ever sees that resource's rows, and a string comparison per row
    would be paid again by every planning and fetching query."""
    return f"{table} | where TimeGenerated between ({_kql_dt(start)} .. {_kql_dt(end)})"


def _with_retries(
    call: Callable[[], azure.LogsResult],
    report: TableReport,
    sleep: Callable[[float], None],
) -> azure.LogsResult:
    base = float(_setting("ANALYTICS_INGEST_RETRY_SECONDS", 1.0))
    for attempt in range(MAX_ATTEMPTS):
        report.queries += 1
        try:
            return call()
        except AzureError as exc:
            if not exc.retryable or attempt == MAX_ATTEMPTS - 1:
                raise
            report.retries += 1
            # Honour Retry-After on 429; otherwise exponential backoff.
            delay = max(float(getattr(exc, "retry_after", 0) or 0), base * (2**attempt))
            logger.info("logs query retry %s after %.1fs: %s", attempt + 1, delay, exc)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _plan_windows(
    tables: Sequence[str],
    resource_id: str,
    start: datetime,
    end: datetime,
    report: TableReport,
    sleep: Callable[[float], None],
) -> list[tuple[datetime, datetime]]:
    """Cut ``[start, end]`` into windows of at most ``row_budget()`` rows each,
    counting the rows of all ``tables`` together (they are fetched and merged
    window by window, so a message's SendMail and StatusUpdate rows usually land
    in the same transaction and its record is written once).

    One cheap ``summarize count() by bin(TimeGenerated, 1h)`` per table tells where
    the rows are, so no query is wasted on a window that would be truncated. Rows
    arriving after this plan can make a window larger; the partial check still
    catches it.
    """
    per_hour: dict[datetime, int] = {}
    for table in tables:
        query = (
            _base_query(table, resource_id, start, end)
            + " | summarize n = count() by h = bin(TimeGenerated, 1h)"
        )
        result = _with_retries(
            lambda query=query: azure.logs_query(
                resource_id=resource_id, query=query, start=start, end=end
            ),
            report,
            sleep,
        )
        if result.partial:
            # Too many hours to list (the service limit is far lower than usual):
            # fall back to one window and let _fetch split it where needed.
            return [(start, end)]
        for h, n in result.rows:
            if isinstance(h, str):
                h = datetime.fromisoformat(h.replace("Z", "+00:00"))
            per_hour[h] = per_hour.get(h, 0) + int(n)
    budget = row_budget()
    windows: list[tuple[datetime, datetime]] = []
    cur_start: datetime | None = None
    cur_end: datetime | None = None
    cur_rows = 0

    def flush() -> None:
        nonlocal cur_start, cur_end, cur_rows
        if cur_start is not None and cur_end is not None:
            windows.append((cur_start, cur_end))
        cur_start, cur_end, cur_rows = None, None, 0

    for hour, n in sorted(per_hour.items()):
        h_start = max(hour, start)
        h_end = min(hour + timedelta(hours=1), end)
        if n > budget:
            flush()
            parts = math.ceil(n / budget)
            step = (h_end - h_start) / parts
            for i in range(parts):
                windows.append((h_start + step * i, h_start + step * (i + 1)))
            continue
        if cur_rows + n > budget:
            flush()
        if cur_start is None:
            cur_start = h_start
        cur_end = h_end
        cur_rows += n
    flush()
    return windows


def _fetch(
    table: str,
    resource_id: str,
    start: datetime,
    end: datetime,
    report: TableReport,
    sleep: Callable[[float], None],
) -> Iterable[tuple[datetime, datetime, list[tuple[Any, ...]]]]:
    """Yield ``(start, end, rows)`` for the window, splitting it while truncated."""
    query = _base_query(table, resource_id, start, end) + (
        f" | project {PROJECTIONS[table]}"
    )
    result = _with_retries(
        lambda: azure.logs_query(
            resource_id=resource_id, query=query, start=start, end=end
        ),
        report,
        sleep,
    )
    if result.partial or len(result.rows) > 4 * row_budget():
        if end - start <= MIN_WINDOW:
            raise IngestError(
                f"{table}: {start.isoformat()} .. {end.isoformat()} is still "
                f"truncated ({result.partial_message})"
            )
        del result  # free the truncated rows before asking again
        report.splits += 1
        mid = start + (end - start) / 2
        yield from _fetch(table, resource_id, start, mid, report, sleep)
        yield from _fetch(table, resource_id, mid, end, report, sleep)
        return
    yield start, end, result.rows


def _copy_text(rows: Sequence[Sequence[Any]]) -> bytes:
    """``rows`` in PostgreSQL's COPY text format.

    Log rows are nearly always plain strings without tabs, newlines or
    backslashes: one join builds the whole block, and counting the separators
    proves no cell contained one. Anything else (NULL, numbers, characters that
    need escaping) goes through the per-cell path.
    """
    if not rows:
        return b""
    width = len(rows[0])
    try:
        text = "\n".join(["\t".join(row) for row in rows])
    except TypeError:  # a None or a number
        text = ""
    if not (
        text
        and "\\" not in text
        and "\r" not in text
        and text.count("\t") == len(rows) * (width - 1)
        and text.count("\n") == len(rows) - 1
    ):
        text = "\n".join(["\t".join(map(_copy_cell, row)) for row in rows])
    return text.encode() + b"\n"


def _copy_cell(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    return (
        str(value)
        .replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


@dataclass
class _Window:
    """One time window of every table, as COPY text ready to stage."""

    start: datetime
    end: datetime
    copy: dict[str, list[bytes]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a window is decoded.

    Decoding a 50,000-row answer allocates a list per row; every 700 of them a
    collection runs, and the older generations it reaches are full of the rows
    still being decoded: 60% of the fetch thread's CPU went there. The rows form
    no reference cycles (reference counting frees them), so nothing is lost by
    pausing; the previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _fetch_window(
    tables: Sequence[str],
    resource_id: str,
    start: datetime,
    end: datetime,
    report: IngestReport,
    sleep: Callable[[float], None],
    streams: int = 1,
) -> list[_Window]:
    with _gc_paused():
        return _fetch_window_rows(
            tables, resource_id, start, end, report, sleep, streams
        )


def _split(rows: list[Any], streams: int) -> list[list[Any]]:
    """``rows`` dealt to ``streams`` parts by message id (column 1 of every
    projection). ``hash()`` of a str is stable within the process, which is all
    a run needs: every window of every table is split the same way."""
    if streams == 1:
        return [rows]
    parts: list[list[Any]] = [[] for _ in range(streams)]
    appends = [part.append for part in parts]
    for row in rows:
        appends[hash(row[1]) % streams](row)
    return parts


def _fetch_window_rows(
    tables: Sequence[str],
    resource_id: str,
    start: datetime,
    end: datetime,
    report: IngestReport,
    sleep: Callable[[float], None],
    streams: int = 1,
) -> list[_Window]:
    """The window's rows of every table as COPY text, in ``streams`` parts."""
    parts = [_Window(start, end) for _ in range(streams)]
    for table in tables:
        for window in parts:
            window.copy[table] = []
            window.rows[table] = 0
        tr = report.tables[table]
        try:
            for _a, _b, rows in _fetch(table, resource_id, start, end, tr, sleep):
                # Decoded rows live only until they are COPY text.
                for window, part in zip(parts, _split(rows, streams), strict=True):
                    if part:
                        window.copy[table].append(_copy_text(part))
                        window.rows[table] += len(part)
                del rows
        except (AzureError, IngestError) as exc:
            exc.ingest_table = table  # type: ignore[union-attr]
            raise
    return parts


def _plan_spans(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """``[start, end]`` as the spans planned one after the other, each twice as
    long as the one before (an hour, two, four...): the first windows are
    merging while later spans are planned, and a run of any length needs only
    a few planning rounds (a window never straddles two spans)."""
    spans: list[tuple[datetime, datetime]] = []
    length = FIRST_PLAN_SPAN
    while start < end:
        stop = min(end, start + length)
        spans.append((start, stop))
        start, length = stop, length * 2
    return spans


def _prefetched(
    tables: Sequence[str],
    resource_id: str,
    spans: list[tuple[datetime, datetime]],
    report: IngestReport,
    sleep: Callable[[float], None],
    streams: int = 1,
) -> Iterator[list[_Window]]:
    """Each window of each span in order (as ``streams`` parts, see ``_split``),
    the next one planned and fetched while this one merges.

    Log Analytics (or the emulator) and this thread's JSON decoding work on the
    next window while PostgreSQL merges the current one, which uses the second
    core. The fetch thread touches no database connection (Django connections are
    per thread).
    """
    done = object()
    buffer: queue.Queue[Any] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for span_start, span_end in spans:
                try:
                    windows = _plan_windows(
                        tables,
                        resource_id,
                        span_start,
                        span_end,
                        report.tables[tables[0]],
                        sleep,
                    )
                except (AzureError, IngestError) as exc:
                    exc.ingest_table = tables[0]  # type: ignore[union-attr]
                    raise
                for start, end in windows:
                    window = _fetch_window(
                        tables, resource_id, start, end, report, sleep, streams
                    )
                    if not put(window):
                        return
            put(done)
        except BaseException as exc:  # re-raised in the consuming thread
            put(exc)

    thread = threading.Thread(target=produce, name="ingest-fetch", daemon=True)
    thread.start()
    try:
        while True:
            item = buffer.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            del item
    finally:
        stop.set()
        thread.join()


# --- set-based merge --------------------------------------------------------------------

# Message ids sort and compare byte-wise, like the columns they are merged into
# (models.BYTEWISE). Recipients are lowered in the merge, by the database's own
# collation (as Python lowers Event Grid's), then compared byte-wise.
STAGING = {
    SEND_MAIL: (
        "_ing_send",
        't timestamptz, message_id text COLLATE "C", size text, to_n text, cc_n text, '
        "bcc_n text, uniq text, att text, traffic text",
    ),
    STATUS_UPDATE: (
        "_ing_status",
        't timestamptz, message_id text COLLATE "C", recipient text, '
        "status text, smtp text, "
        "enh text, reason text, msg text, sdomain text, suser text, hard text",
    ),
    USER_ENGAGEMENT: (
        "_ing_engage",
        't timestamptz, message_id text COLLATE "C", recipient text, '
        "kind text, ctx text, ua text",
    ),
}


def _stage(
    cursor: Any,
    table: str,
    rows: Iterable[Sequence[Any]] = (),
    *,
    copy_text: Iterable[bytes] = (),
) -> None:
    """Create the temp table for ``table`` (emptied at commit) and COPY rows in,
    given as ``rows`` or as blocks of COPY text (``_copy_text``).

    No ANALYZE: every statement that reads a staging table is planned so that the
    large tables are only reached through unique-index probes (ON CONFLICT and
    correlated subqueries), whatever the estimates say; sampling each window cost
    more than all the planning it could improve.
    """
    name, columns = STAGING[table]
    # Created once per connection and emptied by every commit: creating and
    # dropping three tables per window cost more catalog work than the merge of
    # a small window. DELETE (not TRUNCATE, which makes a new file) empties what
    # an earlier batch of the same transaction left (Event Grid in a caller's
    # transaction); on an empty table it reads nothing.
    cursor.execute("SET LOCAL client_min_messages = warning")  # "already exists"
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns}) ON COMMIT DELETE ROWS"
    )
    cursor.execute(f"DELETE FROM {name}")
    with cursor.cursor.copy(f"COPY {name} FROM STDIN") as copy:
        for block in copy_text:
            copy.write(block)
        for row in rows:
            copy.write_row(row)


_CREDENTIAL_MAP = """
    SELECT lower(sa.username || '@' || d.name) AS address, min(c.id) AS id
    FROM mailops_smtpcredential c
    JOIN mailops_senderaddress sa ON sa.id = c.sender_id
    JOIN mailops_sendingdomain d ON d.id = sa.domain_id
    GROUP BY 1
    HAVING count(*) = 1
"""


def _changed_set(columns: dict[str, str]) -> str:
    """``SET`` list plus a ``WHERE`` that skips rows it would not change (an
    overlapping re-read then writes nothing: no dead tuples, no index churn)."""
    sets = ",\n".join(f"{c} = {e}" for c, e in columns.items())
    old = ", ".join(f"m.{c}" for c in columns)
    new = ", ".join(columns.values())
    return f"SET {sets}\nWHERE ({old}) IS DISTINCT FROM ({new})"


# What the status rows of a batch say about each message: first status time,
# sender, and the latest message-level status (one sort for the whole batch; an
# ordered aggregate would sort each message's rows separately).
def _status_by_message(rows: str = "_ing_status") -> str:
    return f"""
    SELECT a.*, lvl.status AS level
    FROM (
        SELECT message_id, min(t) AS t,
            max(CASE WHEN suser <> '' AND sdomain <> ''
                THEN lower(suser || '@' || sdomain) ELSE '' END) AS sender,
            max(lower(sdomain)) AS sdomain
        FROM {rows} r WHERE message_id <> ''
        GROUP BY message_id
    ) a LEFT JOIN (
        SELECT DISTINCT ON (message_id) message_id, status
        FROM {rows} r WHERE message_id <> '' AND recipient = ''
        ORDER BY message_id, t DESC
    ) lvl USING (message_id)
"""


# Status rows of messages without a SendMail row in the batch (hash anti-join):
# only these are aggregated for the status-only statement.
_STATUS_WITHOUT_SEND = """(
    SELECT * FROM _ing_status x
    WHERE NOT EXISTS (SELECT 1 FROM _ing_send s WHERE s.message_id = x.message_id)
)"""


# The same shape, for a batch without status rows (``_ing_status`` not staged).
_NO_STATUS = """
    SELECT NULL::text AS message_id, NULL::timestamptz AS t, '' AS sender,
        '' AS sdomain, NULL::text AS level
    WHERE false
"""

# Message outcome from its recipients' latest statuses: Delivered when every
# recipient was delivered, else the latest other status.
_OUTCOME_OF = """CASE WHEN bool_and(status = 'Delivered') THEN 'Delivered'
    ELSE (array_agg(status ORDER BY status = 'Delivered', status_at DESC))[1] END"""
# The same from the stored recipient rows (after they were merged). Correlated
# per message: one index range scan each, never a scan of the whole (large) table.
_OUTCOME = f"""(
    SELECT {_OUTCOME_OF}
    FROM mailops_recipientevent e WHERE e.message_id = {{msg}}.message_id
)"""

# Sender, credential and status as the status rows update them: a sender is
# filled once; a message-level status (OutForDelivery) never hides a recipient
# outcome already derived; an empty one keeps what is there.
_STATUS_COLUMNS = {
    "sender_address": "CASE WHEN m.sender_address = '' "
    "THEN excluded.sender_address ELSE m.sender_address END",
    "sender_domain": "CASE WHEN m.sender_domain = '' "
    "THEN excluded.sender_domain ELSE m.sender_domain END",
    "credential_id": "coalesce(m.credential_id, excluded.credential_id)",
    "status": "CASE WHEN excluded.status = '' THEN m.status "
    "WHEN excluded.status = 'OutForDelivery' AND m.status <> '' THEN m.status "
    "ELSE excluded.status END",
}

# SendMail rows carry everything else about the message, and win.
_SEND_COLUMNS = {
    c: f"excluded.{c}"
    for c in (
        "sent_at",
        "resource_id",
        "traffic_source",
        "size_mb",
        "to_count",
        "cc_count",
        "bcc_count",
        "unique_recipients",
        "attachments",
    )
}


# A message record from a SendMail row (``r``: its columns, plus the sender and
# outcome the batch's status rows give).
_MESSAGE_INSERT = """
    INSERT INTO mailops_messagerecord AS m (
        message_id, resource_id, sent_at, sender_address, sender_domain,
        traffic_source, size_mb, to_count, cc_count, bcc_count,
        unique_recipients, attachments, status, credential_id)
    SELECT message_id, %(resource_id)s, t, left(sender, 320), left(sdomain, 253),
        left(coalesce(traffic, ''), 100),
        coalesce(nullif(size, '')::numeric, 0),
        coalesce(nullif(to_n, '')::int, 0),
        coalesce(nullif(cc_n, '')::int, 0),
        coalesce(nullif(bcc_n, '')::int, 0),
        coalesce(nullif(uniq, '')::int, 0),
        coalesce(nullif(att, '')::int, 0), left(outcome, 20),
        creds.id
    FROM r LEFT JOIN creds ON creds.address = r.sender
"""


def _merge_messages(
    cursor: Any,
    resource_id: str,
    affected: _Affected,
    *,
    send: bool,
    status: bool,
    send_merged: bool = False,
) -> None:
    """Write each message of the staged batch once.

    With ``send``, messages with a SendMail row in ``_ing_send`` get their full
    record (plus sender and outcome when ``status`` rows of theirs are in
    ``_ing_status`` too); messages that only have status rows are updated as
    status rows say, or created as a stub with zero recipients and size (not
    billable until their SendMail row completes it). ``send_merged``: the
    SendMail rows' messages are already written (``_merge_fresh``).
    """
    if send and not send_merged:
        cursor.execute(
            f"""
            WITH snd AS (
                SELECT DISTINCT ON (message_id) * FROM _ing_send
                WHERE message_id <> '' ORDER BY message_id, t
            ), st AS ({_status_by_message() if status else _NO_STATUS}),
            creds AS ({_CREDENTIAL_MAP}),
            r AS (
                SELECT snd.*, coalesce(st.sender, '') AS sender,
                    coalesce(st.sdomain, '') AS sdomain,
                    CASE WHEN st.message_id IS NOT NULL
                        THEN coalesce({_OUTCOME.format(msg="snd")}, st.level, '')
                        ELSE '' END AS outcome,
                    -- The record before this batch, probed by its unique index.
                    (SELECT m.sent_at FROM mailops_messagerecord m
                     WHERE m.message_id = snd.message_id) AS old_sent_at
                FROM snd LEFT JOIN st USING (message_id)
            ), up AS (
                {_MESSAGE_INSERT}
                ON CONFLICT (message_id) DO UPDATE
                {_changed_set(_SEND_COLUMNS | _STATUS_COLUMNS)}
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM up), min(old_sent_at), max(old_sent_at),
                min(t), max(t)
            FROM r
            """,
            {"resource_id": resource_id},
        )
        _n, old_lo, old_hi, lo, hi = cursor.fetchone()
        affected.messages(old_lo, old_hi, lo, hi)
    if not status:
        return
    # Messages of the status rows without a SendMail row in this batch.
    rows = _STATUS_WITHOUT_SEND if send else "_ing_status"
    cursor.execute(
        f"""
        WITH st AS ({_status_by_message(rows)}), creds AS ({_CREDENTIAL_MAP})
        INSERT INTO mailops_messagerecord AS m (
            message_id, resource_id, sent_at, sender_address, sender_domain,
            traffic_source, size_mb, to_count, cc_count, bcc_count,
            unique_recipients, attachments, status, credential_id)
        SELECT st.message_id, %s, st.t, left(st.sender, 320),
            left(st.sdomain, 253), '', 0, 0, 0, 0, 0, 0,
            left(coalesce({_OUTCOME.format(msg="st")}, st.level, ''), 20),
            creds.id
        FROM st LEFT JOIN creds ON creds.address = st.sender
        ON CONFLICT (message_id) DO UPDATE
        {_changed_set(_STATUS_COLUMNS)}
        """,
        [resource_id],
    )


def merge_status_rows(
    cursor: Any, *, resource_id: str, source: str, affected: _Affected
) -> int:
    """Merge the rows staged in ``_ing_status``; return recipient rows changed.

    Recipient rows upsert RecipientEvent on (message_id, recipient) and only
    replace a status with one at least as recent. Then each message of the batch
    is written once (``_merge_messages``).
    """
    changed = _merge_recipients(cursor, source=source, affected=affected)
    _merge_messages(cursor, resource_id, affected, send=False, status=True)
    return changed


# The batch's latest row per recipient (ties on the time broken by the status,
# so every statement that reads the batch picks the same row).
_RECIPIENT_ROWS = """
    SELECT DISTINCT ON (message_id, recipient) *,
        split_part(recipient, '@', 2) AS domain{extra}
    FROM (
        SELECT message_id, lower(recipient) COLLATE "C" AS recipient,
            t, status, smtp, enh, reason, msg, hard
        FROM _ing_status WHERE recipient <> '' AND message_id <> ''
    ) s
    ORDER BY message_id, recipient, t DESC, status
"""

_RECIPIENT_INSERT = """
    INSERT INTO mailops_recipientevent AS e (
        message_id, recipient, recipient_domain, domain_class, status,
        status_at, smtp_code, enhanced_code, is_hard_bounce, failure_reason,
        failure_message, source)
    SELECT message_id, left(recipient, 320), left(domain, 253),
        {domain_class}, left(status, 20), t, left(coalesce(smtp, ''), 10),
        left(coalesce(enh, ''), 16), lower(coalesce(hard, '')) = 'true',
        left(coalesce(reason, ''), 400), coalesce(msg, ''), %(source)s
    FROM src
"""

_RECIPIENT_COLUMNS = (
    "status",
    "status_at",
    "smtp_code",
    "enhanced_code",
    "is_hard_bounce",
    "failure_reason",
    "failure_message",
    "source",
)


def _merge_recipients(cursor: Any, *, source: str, affected: _Affected) -> int:
    """Upsert the batch's recipient rows; a status only moves forward in time
    and an identical row is not rewritten. Returns the rows changed."""
    old = ", ".join(f"e.{c}" for c in _RECIPIENT_COLUMNS)
    new = ", ".join(f"excluded.{c}" for c in _RECIPIENT_COLUMNS)
    rows = _RECIPIENT_ROWS.format(
        extra=""",
        -- The current row, probed by the natural key's unique index.
        (SELECT e.status_at FROM mailops_recipientevent e
         WHERE e.message_id = s.message_id AND e.recipient = s.recipient
        ) AS old_at"""
    )
    cursor.execute(
        f"""
        WITH src AS ({rows}), up AS (
            {_RECIPIENT_INSERT.format(domain_class=_domain_class_sql("domain"))}
            ON CONFLICT (message_id, recipient) DO UPDATE SET
                {", ".join(f"{c} = excluded.{c}" for c in _RECIPIENT_COLUMNS)}
            WHERE excluded.status_at >= e.status_at
                AND ({old}) IS DISTINCT FROM ({new})
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM up),
            min(old_at) FILTER (WHERE old_at <= t),
            max(old_at) FILTER (WHERE old_at <= t), min(t), max(t)
        FROM src
        """,
        {"source": source},
    )
    changed, old_lo, old_hi, lo, hi = cursor.fetchone()
    affected.events(old_lo, old_hi, lo, hi)
    return int(changed)


def _merge_fresh(cursor: Any, resource_id: str, affected: _Affected) -> bool:
    """Insert a batch of SendMail and status rows that are all new, in one
    statement; False (nothing left changed) when any row already exists.

    A backfill, or any window past the overlap, consists of new rows only: then
    no row needs its previous version read (for the aggregates to rebuild, or
    for a message's other recipients), and the message outcome is derived from
    the recipient rows this statement inserts (a new message's recipients are
    all in its batch: status rows always create their message's record in the
    same transaction). Rows that already exist are left alone here and the
    caller merges the batch the general way, which then writes only them.
    """
    cursor.execute(
        f"""
        WITH src AS ({_RECIPIENT_ROWS.format(extra="")}), rcpt AS (
            {_RECIPIENT_INSERT.format(domain_class=_domain_class_sql("domain"))}
            ON CONFLICT (message_id, recipient) DO NOTHING
            RETURNING message_id, status, status_at
        ), outcome AS (
            SELECT message_id, {_OUTCOME_OF} AS outcome
            FROM rcpt GROUP BY message_id
        ), snd AS (
            SELECT DISTINCT ON (message_id) * FROM _ing_send
            WHERE message_id <> '' ORDER BY message_id, t
        ), st AS ({_status_by_message()}),
        creds AS ({_CREDENTIAL_MAP}),
        r AS (
            SELECT snd.*, coalesce(st.sender, '') AS sender,
                coalesce(st.sdomain, '') AS sdomain,
                CASE WHEN st.message_id IS NOT NULL
                    THEN coalesce(outcome.outcome, st.level, '')
                    ELSE '' END AS outcome
            FROM snd LEFT JOIN st USING (message_id)
                LEFT JOIN outcome USING (message_id)
        ), msg AS (
            {_MESSAGE_INSERT}
            ON CONFLICT (message_id) DO NOTHING
            RETURNING sent_at
        )
        SELECT (SELECT count(*) FROM src), (SELECT count(*) FROM r),
            r_n, r_lo, r_hi, m_n, m_lo, m_hi
        FROM (SELECT count(*), min(status_at), max(status_at) FROM rcpt)
                AS a (r_n, r_lo, r_hi),
            (SELECT count(*), min(sent_at), max(sent_at) FROM msg)
                AS b (m_n, m_lo, m_hi)
        """,
        {"source": "logs", "resource_id": resource_id},
    )
    recipients, messages, r_n, r_lo, r_hi, m_n, m_lo, m_hi = cursor.fetchone()
    affected.events(r_lo, r_hi)
    affected.messages(m_lo, m_hi)
    return r_n == recipients and m_n == messages


def _merge_engagement(cursor: Any) -> int:
    cursor.execute(
        """
        INSERT INTO mailops_engagementevent (
            message_id, recipient, kind, occurred_at, context, user_agent)
        SELECT DISTINCT ON (message_id, lower(recipient) COLLATE "C", lower(kind), t)
            message_id, left(lower(recipient), 320), left(lower(kind), 10), t,
            coalesce(ctx, ''), left(coalesce(ua, ''), 400)
        FROM _ing_engage WHERE message_id <> '' AND recipient <> ''
        ORDER BY message_id, lower(recipient) COLLATE "C", lower(kind), t
        ON CONFLICT (message_id, recipient, kind, occurred_at) DO NOTHING
        """
    )
    return int(cursor.rowcount)


# --- aggregates and the billing ledger --------------------------------------------------


def detail_cutoff(now: datetime | None = None) -> datetime:
    """Start of the oldest JST day whose message-level detail is kept.

    ``prune()`` deletes detail before it and recomputations never reach before it,
    so a pruned day's aggregates and usage ledger rows are never rewritten.
    """
    now = now or timezone.now()
    days = analytics_settings().detail_retention_days
    today = now.astimezone(JST).date()
    start = today - timedelta(days=days)
    return datetime(start.year, start.month, start.day, tzinfo=JST)


def analytics_settings() -> AnalyticsSettings:
    row = AnalyticsSettings.objects.first()
    return row or AnalyticsSettings.objects.create()


def _hour(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _jst_day_start(value: datetime) -> datetime:
    d = value.astimezone(JST).date()
    return datetime(d.year, d.month, d.day, tzinfo=JST)


def recompute_aggregates(lo: datetime, hi: datetime, *, streams: int = 1) -> int:
    """Rebuild hour and day DeliveryAggregate rows covering ``[lo, hi]``.

    Hours are rebuilt from RecipientEvent (bucketed by ``status_at``), then the JST
    days that contain them are rebuilt from the hour rows. Delete and insert in one
    transaction: a bucket's counts are replaced, never added to. With ``streams``
    above one, the hours are cut into that many runs of whole hours, each rebuilt
    in its own transaction on its own connection (``_side_by_side``), and then the
    days. Returns the number of hour buckets rebuilt.
    """
    cutoff = detail_cutoff()
    h0 = max(_hour(lo), cutoff.astimezone(UTC))
    h1 = _hour(hi) + timedelta(hours=1)
    if h1 <= h0:
        return 0
    hours = int((h1 - h0) / timedelta(hours=1))
    d0 = max(_jst_day_start(h0), cutoff)
    d1 = _jst_day_start(h1 - timedelta(microseconds=1)) + timedelta(days=1)
    parts = min(streams, hours)
    if parts > 1:
        cuts = [h0 + timedelta(hours=hours * i // parts) for i in range(parts + 1)]
        _side_by_side(
            [
                (lambda a=a, b=b: _rebuild_hours(a, b))
                for a, b in zip(cuts, cuts[1:], strict=False)
            ]
        )
        _rebuild_days(d0, d1)
        return hours
    with transaction.atomic():
        _rebuild_hours(h0, h1)
        _rebuild_days(d0, d1)
    return hours


def _rebuild_hours(h0: datetime, h1: datetime) -> None:
    hour = DeliveryAggregate.Period.HOUR
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # see _tune_merge
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute(
            "DELETE FROM mailops_deliveryaggregate "
            "WHERE period = %s AND bucket >= %s AND bucket < %s",
            [hour, h0, h1],
        )
        cursor.execute(
            """
            INSERT INTO mailops_deliveryaggregate (
                period, bucket, sender_domain, sender_address, credential_id,
                domain_class, status, count)
            SELECT %s, date_trunc('hour', e.status_at),
                coalesce(m.sender_domain, ''), coalesce(m.sender_address, ''),
                m.credential_id, e.domain_class, e.status, count(*)
            FROM mailops_recipientevent e
            LEFT JOIN mailops_messagerecord m ON m.message_id = e.message_id
            WHERE e.status_at >= %s AND e.status_at < %s
            GROUP BY 2, 3, 4, 5, 6, 7
            """,
            [hour, h0, h1],
        )


def _rebuild_days(d0: datetime, d1: datetime) -> None:
    """Days from hours; a day only partly inside the rebuilt hours still sums
    all of its hours, the others being already up to date. Days before the
    detail cutoff are never in range (see detail_cutoff)."""
    hour, day = DeliveryAggregate.Period.HOUR, DeliveryAggregate.Period.DAY
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # see _tune_merge
        cursor.execute(
            "DELETE FROM mailops_deliveryaggregate "
            "WHERE period = %s AND bucket >= %s AND bucket < %s",
            [day, d0, d1],
        )
        cursor.execute(
            """
            INSERT INTO mailops_deliveryaggregate (
                period, bucket, sender_domain, sender_address, credential_id,
                domain_class, status, count)
            SELECT %s,
                date_trunc('day', bucket AT TIME ZONE 'Asia/Tokyo')
                    AT TIME ZONE 'Asia/Tokyo',
                sender_domain, sender_address, credential_id, domain_class, status,
                sum(count)
            FROM mailops_deliveryaggregate
            WHERE period = %s AND bucket >= %s AND bucket < %s
            GROUP BY 2, 3, 4, 5, 6, 7
            """,
            [day, hour, d0, d1],
        )


@contextmanager
def _thread_connection(schema: str) -> Iterator[None]:
    """This thread's own database connection (Django's are per thread), in
    ``schema``, closed when the block ends."""
    connection.set_schema(schema)  # the proxy resolves to this thread's wrapper
    try:
        yield
    finally:
        connection.close()


def _side_by_side(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` at the same time: the first in this thread, each other one
    in a thread of its own with its own database connection in the current
    schema (closed afterwards). Returns their results in order; raises the
    first failure once all have finished."""
    schema = connection.schema_name
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        with _thread_connection(schema):
            try:
                results[i] = calls[i]()
            except BaseException as exc:
                errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(i,), name=f"ingest-side-{i}", daemon=True)
        for i in range(1, len(calls))
    ]
    for thread in threads:
        thread.start()
    try:
        results[0] = calls[0]()
    finally:
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]
    return results


def _current_customer_id() -> int:
    from tenants.models import Customer

    schema = connection.schema_name
    return int(
        Customer.objects.filter(schema_name=schema).values_list("pk", flat=True).get()
    )


def recompute_usage(lo: datetime, hi: datetime) -> int:
    """Rebuild the public ``billing.UsageDay`` rows of the JST days in ``[lo, hi]``.

    Per recipient (azure-facts §4): billable emails = sum of UniqueRecipientsCount,
    billable MB = sum of Size × UniqueRecipientsCount, exact decimals. The numbers
    are a pure function of the MessageRecords, so re-running gives the same rows.
    Days before the detail cutoff are never touched (their detail may be pruned).
    Returns the number of days rebuilt.
    """
    d0 = max(_jst_day_start(lo), detail_cutoff())
    d1 = _jst_day_start(hi) + timedelta(days=1)
    if d1 <= d0:
        return 0
    tenant_id = _current_customer_id()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")  # see _tune_merge
        # A message with no recipients yet is a stub created from a status row
        # before its SendMail row arrived; ACS never sends to zero recipients.
        cursor.execute(
            """
            WITH days AS (
                SELECT (sent_at AT TIME ZONE 'Asia/Tokyo')::date AS day,
                    count(*) FILTER (WHERE unique_recipients > 0) AS messages,
                    sum(unique_recipients) AS emails,
                    sum(size_mb * unique_recipients) AS mb
                FROM mailops_messagerecord
                WHERE sent_at >= %(d0)s AND sent_at < %(d1)s
                GROUP BY 1
            ), up AS (
                INSERT INTO public.billing_usageday AS u (
                    tenant_id, day, messages, billable_emails, billable_megabytes,
                    computed_at)
                SELECT %(tenant)s, day, messages, emails, mb, now() FROM days
                ON CONFLICT (tenant_id, day) DO UPDATE SET
                    messages = excluded.messages,
                    billable_emails = excluded.billable_emails,
                    billable_megabytes = excluded.billable_megabytes,
                    computed_at = excluded.computed_at
                RETURNING day
            )
            UPDATE public.billing_usageday u SET
                messages = 0, billable_emails = 0, billable_megabytes = 0,
                computed_at = now()
            WHERE u.tenant_id = %(tenant)s
              AND u.day >= %(day0)s AND u.day < %(day1)s
              AND u.day NOT IN (SELECT day FROM days)
            """,
            {
                "d0": d0,
                "d1": d1,
                "tenant": tenant_id,
                "day0": d0.date(),
                "day1": d1.date(),
            },
        )
    return (d1.date() - d0.date()).days


# --- the run ----------------------------------------------------------------------------


def _lock_key(schema: str) -> int:
    digest = hashlib.sha256(f"analytics-ingest:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _try_lock(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [_lock_key(schema)])
        return bool(cursor.fetchone()[0])


def _unlock(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [_lock_key(schema)])


def ingest_tenant(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> IngestReport:
    """Pull new ACS Email log rows of the current tenant and update its analytics.

    Without ``since`` each table resumes at its watermark minus the overlap (or
    ``detail_retention_days`` back on the first run); without ``until`` it stops
    at now minus the lag. Idempotent: re-running, or overlapping windows, never
    double counts. Holds a PostgreSQL advisory lock for the schema; a concurrent
    run returns at once with ``skipped`` set. Raises AzureError (retryable ones
    only after ``MAX_ATTEMPTS``) and IngestError.
    """
    started = time.monotonic()
    schema = connection.schema_name
    report = IngestReport(schema=schema)
    footprint = (
        AcsFootprint.objects.exclude(communication_service_id="").order_by("pk").first()
    )
    if footprint is None:
        report.skipped = "no communication service yet"
        return report
    if not _try_lock(schema):
        report.skipped = "another ingestion run holds the lock"
        return report
    try:
        _run(report, footprint.communication_service_id, since, until, now, sleep)
        if since is None:  # an explicit historic range says nothing of the rest
            report.cross_check = metrics_cross_check(
                footprint.communication_service_id, report
            )
    finally:
        _unlock(schema)
    report.seconds = time.monotonic() - started
    return report


def metrics_cross_check(resource_id: str, report: IngestReport) -> CrossCheck | None:
    """Compare the recipient statuses ingested for the closed hours before the
    late-arrival overlap with Azure Monitor's DeliveryStatusUpdate metric (one
    data point per recipient status) for the same span, and raise or clear the
    telemetry alert. Log Analytics losing rows (a diagnostic setting dropping
    records, a workspace cap) shows up here, not in the logs themselves.

    Advisory: an Azure Monitor error is logged and skips the check.
    """
    from mailops.analytics.alerts import metrics_mismatch_record

    status = report.tables.get(STATUS_UPDATE)
    if status is None or status.end is None:
        return None
    end = _hour(status.end - overlap())
    start = end - CROSS_CHECK_SPAN
    if end <= start:
        return None
    try:
        metric = sum(
            t.total
            for t in azure.metrics_totals(
                resource_id=resource_id,
                metric="DeliveryStatusUpdate",
                start=start,
                end=end,
            )
        )
    except AzureError as exc:
        logger.warning("metrics cross-check skipped: %s", exc)
        return None
    ingested = RecipientEvent.objects.filter(
        status_at__gte=start, status_at__lt=end
    ).count()
    check = CrossCheck(start=start, end=end, ingested=ingested, metric=metric)
    metrics_mismatch_record(check)
    return check


def _run(
    report: IngestReport,
    resource_id: str,
    since: datetime | None,
    until: datetime | None,
    now: datetime | None,
    sleep: Callable[[float], None],
) -> None:
    now = now or timezone.now()
    end = until or (now - lag())
    retention = timedelta(days=analytics_settings().detail_retention_days)
    affected = _Affected()
    marks = {m.table: m for m in IngestWatermark.objects.filter(table__in=TABLES)}
    for table in TABLES:
        mark = marks.get(table)
        if since is not None:
            start = since
        elif mark is not None:
            start = mark.ingested_until - overlap()
        else:
            start = now - retention
        report.tables[table] = TableReport(table=table, start=start, end=end)
    # All tables are read over the same windows (from the earliest start: reading
    # a table again from before its watermark is harmless, merges are idempotent).
    active = [t for t in TABLES if end > report.tables[t].start]  # type: ignore[operator]
    try:
        if active:
            _ingest_windows(report, active, resource_id, end, affected, sleep)
    except (AzureError, IngestError) as exc:
        # The table whose query failed keeps its watermark and records the error.
        table = getattr(exc, "ingest_table", active[0])
        mark = marks.get(table)
        IngestWatermark.objects.update_or_create(
            table=table,
            defaults={
                "ingested_until": (
                    mark.ingested_until if mark else report.tables[table].start
                ),
                "last_run_at": now,
                "last_error": str(exc)[:2000],
            },
        )
        raise
    finally:
        # Also after a failure: the windows already merged are committed, so
        # their buckets must not go stale.
        _rebuild_affected(report, affected)
    for table in active:
        mark, start = marks.get(table), report.tables[table].start
        # An explicit historic range (--since after a gap) must not move the
        # watermark past rows it never read.
        if mark is None or start <= mark.ingested_until:  # type: ignore[operator]
            new_mark = max(end, mark.ingested_until) if mark else end
        else:
            new_mark = mark.ingested_until
        IngestWatermark.objects.update_or_create(
            table=table,
            defaults={
                "ingested_until": new_mark,
                "last_run_at": now,
                "last_error": "",
                "rows_last_run": report.tables[table].rows,
            },
        )


def _rebuild_affected(report: IngestReport, affected: _Affected) -> None:
    """Rebuild the aggregates and usage days the merged rows touched; side by
    side on their own connections (the usage ledger reads only messages) when
    the merge ran in streams."""
    streams = merge_streams()
    calls: list[Callable[[], None]] = []
    if affected.event_lo is not None and affected.event_hi is not None:
        lo, hi = affected.event_lo, affected.event_hi

        def aggregates() -> None:
            report.hour_buckets = recompute_aggregates(lo, hi, streams=streams)

        calls.append(aggregates)
    if affected.message_lo is not None and affected.message_hi is not None:
        m_lo, m_hi = affected.message_lo, affected.message_hi

        def usage() -> None:
            report.usage_days = recompute_usage(m_lo, m_hi)

        calls.append(usage)
    if streams > 1 and len(calls) > 1:
        _side_by_side(calls)
    else:
        for call in calls:
            call()


def _ingest_windows(
    report: IngestReport,
    tables: list[str],
    resource_id: str,
    end: datetime,
    affected: _Affected,
    sleep: Callable[[float], None],
) -> None:
    start = min(report.tables[t].start for t in tables)  # type: ignore[type-var]
    spans = _plan_spans(start, end)
    streams = merge_streams()
    with _MergeStreams(streams - 1, resource_id, affected) as helpers:
        for parts in _prefetched(tables, resource_id, spans, report, sleep, streams):
            for table in tables:
                report.tables[table].windows += 1
                report.tables[table].rows += sum(p.rows[table] for p in parts)
            for i, part in enumerate(parts[1:]):
                helpers.submit(i, part)
            _apply(parts[0], resource_id, affected)
            del parts


class _MergeStreams:
    """Threads that merge the other parts of each window, one database
    connection each (Django's connections are per thread), in the current
    tenant's schema. A part waits in a one-slot queue while its thread merges
    the previous one, so a stream is never more than a window ahead.

    The first failure stops every stream and is raised in the calling thread;
    windows already committed stay (their rows are re-read idempotently next
    run: the watermark only moves after the whole run), and their time ranges
    are folded into ``affected`` either way, so their aggregates are rebuilt.
    """

    def __init__(self, count: int, resource_id: str, affected: _Affected) -> None:
        self.resource_id = resource_id
        self.target = affected
        self.schema = connection.schema_name
        self.queues: list[queue.Queue[_Window | None]] = [
            queue.Queue(maxsize=1) for _ in range(count)
        ]
        self.affected = [_Affected() for _ in range(count)]
        self.error: BaseException | None = None
        self.failed = threading.Event()
        self.threads = [
            threading.Thread(
                target=self._run, args=(i,), name=f"ingest-merge-{i + 1}", daemon=True
            )
            for i in range(count)
        ]

    def __enter__(self) -> _MergeStreams:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Wait for every stream, fold in what it merged, raise its failure."""
        for q, thread in zip(self.queues, self.threads, strict=True):
            if thread.is_alive():
                q.put(None)
        for thread in self.threads:
            thread.join()
        for other in self.affected:
            self.target.events(other.event_lo, other.event_hi)
            self.target.messages(other.message_lo, other.message_hi)
        if self.error is not None and exc_info[1] is None:
            raise self.error

    def _run(self, i: int) -> None:
        with _thread_connection(self.schema):
            try:
                while (part := self.queues[i].get()) is not None:
                    if not self.failed.is_set():
                        _apply(part, self.resource_id, self.affected[i])
                    del part
            except BaseException as exc:
                if self.error is None:
                    self.error = exc
                self.failed.set()
                while self.queues[i].get() is not None:  # unblock submit()
                    pass

    def _check(self) -> None:
        if self.failed.is_set() and self.error is not None:
            raise self.error

    def submit(self, i: int, part: _Window) -> None:
        while True:
            self._check()
            try:
                self.queues[i].put(part, timeout=0.2)
                return
            except queue.Full:
                continue


def _tune_merge(cursor: Any) -> None:
    """Session settings for one merge transaction (``SET LOCAL``: until commit)."""
    # The rows can be read again from Log Analytics, and the watermark commits
    # after them: losing the last commits in a crash only means re-reading.
    cursor.execute("SET LOCAL synchronous_commit = off")
    # Room for the DISTINCT ON sorts and GROUP BYs of one window in memory.
    cursor.execute("SET LOCAL work_mem = '64MB'")
    # The per-message subqueries inflate cost estimates past jit_above_cost:
    # compiling each statement took ~0.3 s, longer than running it.
    cursor.execute("SET LOCAL jit = off")


def _apply(window: _Window, resource_id: str, affected: _Affected) -> None:
    """Merge one window of all tables in one transaction: recipients first (the
    message outcome is derived from them), then each message once, then
    engagement."""
    send = window.rows.get(SEND_MAIL, 0) > 0
    status = window.rows.get(STATUS_UPDATE, 0) > 0
    engage = window.rows.get(USER_ENGAGEMENT, 0) > 0
    if not (send or status or engage):
        return
    with transaction.atomic(), connection.cursor() as cursor:
        _tune_merge(cursor)
        for table, present in (
            (SEND_MAIL, send),
            (STATUS_UPDATE, status),
            (USER_ENGAGEMENT, engage),
        ):
            if present:
                _stage(cursor, table, copy_text=window.copy[table])
        fresh = send and status and _merge_fresh(cursor, resource_id, affected)
        if status and not fresh:
            _merge_recipients(cursor, source="logs", affected=affected)
        if send or status:
            _merge_messages(
                cursor,
                resource_id,
                affected,
                send=send,
                status=status,
                send_merged=fresh,
            )
        if engage:
            _merge_engagement(cursor)


# --- Event Grid -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryEvent:
    event_id: str
    message_id: str
    recipient: str
    status: str
    at: datetime
    sender: str = ""
    status_message: str = ""


@dataclass(frozen=True)
class EngagementReport:
    event_id: str
    message_id: str
    recipient: str
    kind: str
    at: datetime
    context: str = ""
    user_agent: str = ""


def apply_events(
    *,
    deliveries: Sequence[DeliveryEvent],
    engagements: Sequence[EngagementReport] = (),
) -> int:
    """Apply Event Grid events to the current tenant; return how many were new.

    Each event id is recorded in ProcessedEvent in the same transaction, so a
    redelivered event changes nothing. Deliveries go through the same merge as
    log rows (status only moves forward by time), so the result converges with the
    Log Analytics pull whichever arrives first.
    """
    footprint = (
        AcsFootprint.objects.exclude(communication_service_id="").order_by("pk").first()
    )
    resource_id = footprint.communication_service_id if footprint else ""
    affected = _Affected()
    with transaction.atomic():
        ids = [e.event_id for e in (*deliveries, *engagements)]
        seen = set(
            ProcessedEvent.objects.filter(event_id__in=ids).values_list(
                "event_id", flat=True
            )
        )
        new_ids: list[str] = []
        fresh_d = []
        for d in deliveries:
            if d.event_id not in seen and d.event_id not in new_ids:
                new_ids.append(d.event_id)
                fresh_d.append(d)
        fresh_e = []
        for e in engagements:
            if e.event_id not in seen and e.event_id not in new_ids:
                new_ids.append(e.event_id)
                fresh_e.append(e)
        if not new_ids:
            return 0
        ProcessedEvent.objects.bulk_create(
            [ProcessedEvent(event_id=i) for i in new_ids], ignore_conflicts=True
        )
        with connection.cursor() as cursor:
            _tune_merge(cursor)
            if fresh_d:
                rows = []
                for d in fresh_d:
                    local, _, domain = d.sender.partition("@")
                    rows.append(
                        (
                            d.at,
                            d.message_id,
                            d.recipient,
                            _canonical_status(d.status),
                            "",
                            "",
                            d.status_message if d.status.lower() != "delivered" else "",
                            "",
                            domain,
                            local,
                            "",
                        )
                    )
                _stage(cursor, STATUS_UPDATE, rows)
                merge_status_rows(
                    cursor,
                    resource_id=resource_id,
                    source="eventgrid",
                    affected=affected,
                )
            if fresh_e:
                _stage(
                    cursor,
                    USER_ENGAGEMENT,
                    [
                        (
                            e.at,
                            e.message_id,
                            e.recipient,
                            e.kind,
                            e.context,
                            e.user_agent,
                        )
                        for e in fresh_e
                    ],
                )
                _merge_engagement(cursor)
    if affected.event_lo is not None and affected.event_hi is not None:
        recompute_aggregates(affected.event_lo, affected.event_hi)
    return len(new_ids)


_STATUSES = {
    s.lower(): s
    for s in (
        "OutForDelivery",
        "Delivered",
        "Expanded",
        "Failed",
        "Bounced",
        "Suppressed",
        "Quarantined",
        "FilteredSpam",
    )
}


def _canonical_status(value: str) -> str:
    # Event Grid samples use lower case ("delivered"); the logs use PascalCase.
    return _STATUSES.get(value.strip().lower(), value.strip()[:20])


# --- retention --------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneReport:
    messages: int
    events: int
    engagements: int
    processed_events: int
    aggregates: int


def prune(*, now: datetime | None = None) -> PruneReport:
    """Delete detail older than ``detail_retention_days`` (from the start of that JST
    day) and aggregates older than ``aggregate_retention_months``.

    Never touches the billing ledger (public ``UsageDay``): recomputation never
    reaches before the detail cutoff, so pruned days keep their ledger rows.
    """
    now = now or timezone.now()
    cutoff = detail_cutoff(now)
    months = analytics_settings().aggregate_retention_months
    today = now.astimezone(JST).date()
    year, month = today.year, today.month - months
    while month <= 0:
        month += 12
        year -= 1
    agg_cutoff = datetime(year, month, 1, tzinfo=JST)
    with transaction.atomic():
        messages = MessageRecord.objects.filter(sent_at__lt=cutoff).delete()[0]
        events = RecipientEvent.objects.filter(status_at__lt=cutoff).delete()[0]
        engagements = EngagementEvent.objects.filter(occurred_at__lt=cutoff).delete()[0]
        processed = ProcessedEvent.objects.filter(received_at__lt=cutoff).delete()[0]
        aggregates = DeliveryAggregate.objects.filter(bucket__lt=agg_cutoff).delete()[0]
    return PruneReport(messages, events, engagements, processed, aggregates)


def jst_day(value: datetime) -> date:
    return value.astimezone(JST).date()
