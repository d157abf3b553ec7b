"""Reads of delivery analytics for the tenant pages (current schema).

The dashboard reads only ``DeliveryAggregate`` (day rows for the period, hour rows
for at most 48 hours) plus one bounded ``GROUP BY`` over the failed recipients of
the period, so it runs a fixed number of queries whatever the data size. Message
search pages with LIMIT/OFFSET (capped) and never counts the whole result.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Max, QuerySet, Subquery, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from mailops.analytics import bounces
from mailops.models import (
    AnalyticsSettings,
    DeliveryAggregate,
    EngagementEvent,
    MessageRecord,
    ProcessedEvent,
    RecipientDomainClass,
    RecipientEvent,
    SmtpCredential,
)

JST = ZoneInfo("Asia/Tokyo")

# Display order of the statuses; anything else counts as "in progress".
STATUSES = (
    "Delivered",
    "Bounced",
    "Failed",
    "Suppressed",
    "Quarantined",
    "FilteredSpam",
    "OutForDelivery",
)
STATUS_LABELS: dict[str, Promise] = {
    "Delivered": _("Delivered"),
    "Bounced": _("Bounced"),
    "Failed": _("Failed"),
    "Suppressed": _("Suppressed"),
    "Quarantined": _("Quarantined"),
    "FilteredSpam": _("Filtered as spam"),
    "OutForDelivery": _("In progress"),
}
PENDING = "OutForDelivery"
_CANONICAL = {s.lower(): s for s in STATUSES}
FAILED = frozenset(bounces.FAILED_STATUSES)

PERIODS: tuple[tuple[str, Promise], ...] = (
    ("today", _("Today")),
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("month", _("This month")),
    ("custom", _("Custom")),
)
MAX_CUSTOM_DAYS = 400  # 13 months of aggregates, plus slack
HOURLY_WINDOW = dt.timedelta(hours=48)
TOP_DOMAINS = 10
# Failed-recipient groups read for the cause breakdown; the long tail beyond this
# (rare codes on rare domains) is not worth a bigger query.
CAUSE_GROUP_LIMIT = 2000
# Failed recipients read per dashboard view: enough for representative causes and
# top domains, and a bounded cost however many failures a period has.
FAILURE_SAMPLE = 10_000
SEARCH_PAGE_SIZE = 50
SEARCH_MAX_PAGES = 100  # deeper than 5,000 results: narrow the search or export
EXPORT_MAX_MESSAGES = 100_000
EXPORT_CHUNK = 1000
ENGAGEMENT_LIMIT = 200  # opens and clicks shown on one message page


def canonical_status(status: str) -> str:
    """Azure sends "Delivered" or "delivered"; unknown values count as pending."""
    return _CANONICAL.get((status or "").lower(), PENDING)


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(canonical_status(status), status))


# --- periods ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str
    first_day: dt.date  # JST, inclusive
    last_day: dt.date  # JST, inclusive

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time(), tzinfo=JST)

    @property
    def end(self) -> dt.datetime:
        """Exclusive end: midnight JST after the last day."""
        return dt.datetime.combine(
            self.last_day + dt.timedelta(days=1), dt.time(), tzinfo=JST
        )

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def day_list(self) -> list[dt.date]:
        return [self.first_day + dt.timedelta(days=i) for i in range(self.days)]


def today_jst(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(JST).date()


def period_for(
    key: str,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    *,
    now: dt.datetime | None = None,
) -> Period:
    """Resolve a period key (``today``, ``7d``, ``30d``, ``month``, ``custom``).

    A custom period is clamped to ``MAX_CUSTOM_DAYS`` ending at ``date_to`` and
    swapped if reversed; unknown keys mean ``7d``.
    """
    today = today_jst(now)
    if key == "today":
        return Period(key, today, today)
    if key == "30d":
        return Period(key, today - dt.timedelta(days=29), today)
    if key == "month":
        return Period(key, today.replace(day=1), today)
    if key == "custom" and date_from and date_to:
        first, last = sorted((date_from, date_to))
        first = max(first, last - dt.timedelta(days=MAX_CUSTOM_DAYS - 1))
        return Period(key, first, last)
    return Period("7d", today - dt.timedelta(days=6), today)


# --- dashboard --------------------------------------------------------------------------


@dataclass
class Counts:
    by_status: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, status: str, count: int) -> None:
        self.by_status[canonical_status(status)] += int(count or 0)

    @property
    def sent(self) -> int:
        return sum(self.by_status.values())

    def get(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def delivered(self) -> int:
        return self.get("Delivered")

    @property
    def failed_total(self) -> int:
        return sum(self.get(s) for s in FAILED)

    def rate(self, status: str) -> float | None:
        """Share of ``status`` in percent (display only), None without traffic."""
        return 100.0 * self.get(status) / self.sent if self.sent else None

    @property
    def delivery_rate(self) -> float | None:
        return self.rate("Delivered")

    @property
    def failure_rate(self) -> float | None:
        return 100.0 * self.failed_total / self.sent if self.sent else None


@dataclass
class BreakdownRow:
    key: str
    label: str
    counts: Counts


@dataclass
class DomainRow:
    domain: str
    domain_class: str
    failed: int


@dataclass
class CauseRow:
    domain_class: str
    domain_class_label: str
    explanation: bounces.Explanation
    count: int
    example_code: str


@dataclass
class Dashboard:
    period: Period
    totals: Counts
    daily: list[tuple[dt.date, Counts]]
    hourly: list[tuple[dt.datetime, Counts]]
    by_sender_domain: list[BreakdownRow]
    by_device: list[BreakdownRow]
    by_domain_class: list[BreakdownRow]
    top_failed_domains: list[DomainRow]
    causes: list[CauseRow]
    # True when more than FAILURE_SAMPLE recipients failed: the top domains and
    # causes then describe the latest FAILURE_SAMPLE of them.
    failures_sampled: bool = False


def _grouped(rows: Iterable[dict[str, object]], key: str) -> dict[object, Counts]:
    out: dict[object, Counts] = defaultdict(Counts)
    for row in rows:
        out[row[key]].add(str(row["status"]), int(row["n"]))  # type: ignore[call-overload]
    return out


def _breakdown(
    grouped: dict[object, Counts], labels: dict[object, str]
) -> list[BreakdownRow]:
    rows = [
        BreakdownRow(key=str(k or ""), label=labels.get(k, str(k or "—")), counts=c)
        for k, c in grouped.items()
    ]
    rows.sort(key=lambda r: (-r.counts.sent, r.label))
    return rows


def _day_rows(period: Period) -> QuerySet[DeliveryAggregate]:
    return DeliveryAggregate.objects.filter(
        period=DeliveryAggregate.Period.DAY,
        bucket__gte=period.start,
        bucket__lt=period.end,
    )


_GROUPING_SQL = """
    SELECT GROUPING(bucket, sender_domain, credential_id, domain_class),
        bucket, sender_domain, credential_id, domain_class, status, SUM(count)
    FROM {table}
    WHERE period = %s AND bucket >= %s AND bucket < %s
    GROUP BY GROUPING SETS ((bucket, status), (sender_domain, status),
        (credential_id, status), (domain_class, status))
"""
# GROUPING() bitmask (1 = column not grouped) → the dimension of the row.
_GROUPING_DIMENSION = {
    0b0111: ("bucket", 1),
    0b1011: ("sender_domain", 2),
    0b1101: ("credential_id", 3),
    0b1110: ("domain_class", 4),
}


def _day_grouping_sets(period: Period) -> dict[str, dict[object, Counts]]:
    """Counts of the period's day rows by each dimension, in one scan."""
    out: dict[str, dict[object, Counts]] = {
        name: defaultdict(Counts) for name, _col in _GROUPING_DIMENSION.values()
    }
    sql = _GROUPING_SQL.format(table=DeliveryAggregate._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [DeliveryAggregate.Period.DAY, period.start, period.end])
        for row in cursor.fetchall():
            name, column = _GROUPING_DIMENSION[row[0]]
            out[name][row[column]].add(row[5], row[6])
    return out


_FAILURE_COLUMNS = (
    "recipient_domain",
    "domain_class",
    "status",
    "enhanced_code",
    "smtp_code",
    "is_hard_bounce",
    "failure_reason",
)
_FAILURE_SQL = """
    SELECT {cols}, count(*) AS n, sum(count(*)) OVER () AS total FROM (
        SELECT {cols} FROM {table}
        WHERE status IN ({statuses}) AND status_at >= %s AND status_at < %s
        ORDER BY status_at DESC LIMIT %s
    ) latest
    GROUP BY {cols} ORDER BY n DESC LIMIT %s
"""


def _failure_groups(period: Period) -> tuple[list[dict[str, object]], bool]:
    """Failed recipients of the period grouped by domain and code.

    Reads at most ``FAILURE_SAMPLE`` rows (the latest), so the cost stays bounded
    on a tenant with many failures; returns the groups and whether the sample
    was full (i.e. the figures are the latest ``FAILURE_SAMPLE``, not all).
    """
    statuses = sorted(FAILED)
    sql = _FAILURE_SQL.format(
        cols=", ".join(_FAILURE_COLUMNS),
        table=RecipientEvent._meta.db_table,
        statuses=", ".join(["%s"] * len(statuses)),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [*statuses, period.start, period.end, FAILURE_SAMPLE, CAUSE_GROUP_LIMIT],
        )
        rows = cursor.fetchall()
    groups = [
        dict(zip((*_FAILURE_COLUMNS, "n"), row[:-1], strict=True)) for row in rows
    ]
    seen = int(rows[0][-1]) if rows else 0
    return groups, seen >= FAILURE_SAMPLE


def dashboard(period: Period, *, now: dt.datetime | None = None) -> Dashboard:
    """Everything the dashboard shows for ``period``, in four queries.

    The count does not depend on the amount of data (tests assert it). Day rows
    give totals, the daily chart and the breakdowns (one scan with GROUPING
    SETS); hour rows give the hourly chart for the last 48 hours of the period
    (or up to now); device names label the devices; the failed recipients of the
    period give the top domains and the causes.
    """
    now = now or timezone.now()

    # 1. one scan of the period's day rows, four groupings (day, sender domain,
    # device, recipient domain class; each by status)
    by_set = _day_grouping_sets(period)
    by_date: dict[dt.date, Counts] = {
        b.astimezone(JST).date(): c  # type: ignore[attr-defined]
        for b, c in by_set["bucket"].items()
    }
    totals = Counts()
    for counts in by_date.values():
        for status, n in counts.by_status.items():
            totals.by_status[status] += n
    daily = [(d, by_date.get(d, Counts())) for d in period.day_list()]

    # 2. per hour for the last 48 hours of the period
    hour_end = min(
        period.end,
        now.astimezone(JST).replace(minute=0, second=0, microsecond=0)
        + dt.timedelta(hours=1),
    )
    hour_start = max(period.start, hour_end - HOURLY_WINDOW)
    hour_grouped = _grouped(
        DeliveryAggregate.objects.filter(
            period=DeliveryAggregate.Period.HOUR,
            bucket__gte=hour_start,
            bucket__lt=hour_end,
        )
        .values("bucket", "status")
        .annotate(n=Sum("count")),
        "bucket",
    )
    by_hour = {b.astimezone(JST): c for b, c in hour_grouped.items()}  # type: ignore[attr-defined]
    hourly = []
    cursor = hour_start.astimezone(JST)
    while cursor < hour_end:
        hourly.append((cursor, by_hour.get(cursor, Counts())))
        cursor += dt.timedelta(hours=1)

    # 3. device names (a tenant has tens of devices, not thousands)
    device_labels: dict[object, str] = dict(
        SmtpCredential.objects.values_list("pk", "label")
    )
    device_labels[None] = str(_("Other (not a device credential)"))
    class_labels: dict[object, str] = {
        k: str(v) for k, v in RecipientDomainClass.choices
    }
    by_sender_domain = _breakdown(by_set["sender_domain"], {})
    by_device = _breakdown(by_set["credential_id"], device_labels)
    by_domain_class = _breakdown(by_set["domain_class"], class_labels)

    # 4. failed recipients of the period (the latest FAILURE_SAMPLE of them):
    # top domains and causes in one pass
    groups, sampled = _failure_groups(period)
    domain_failed: dict[tuple[str, str], int] = defaultdict(int)
    causes: dict[tuple[str, str], CauseRow] = {}
    for g in groups:
        domain_failed[(g["recipient_domain"], g["domain_class"])] += g["n"]
        explanation = bounces.explain(
            g["status"],
            g["enhanced_code"],
            g["smtp_code"],
            g["is_hard_bounce"],
            g["failure_reason"],
            g["domain_class"],
        )
        key = (g["domain_class"], str(explanation.cause))
        if key in causes:
            causes[key].count += g["n"]
        else:
            causes[key] = CauseRow(
                domain_class=g["domain_class"],
                domain_class_label=class_labels.get(
                    g["domain_class"], g["domain_class"]
                ),
                explanation=explanation,
                count=g["n"],
                example_code=bounces.normalise_code(g["enhanced_code"])
                or g["smtp_code"],
            )
    top = sorted(domain_failed.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_DOMAINS]
    class_order = {k: i for i, (k, _label) in enumerate(RecipientDomainClass.choices)}
    return Dashboard(
        period=period,
        totals=totals,
        daily=daily,
        hourly=hourly,
        by_sender_domain=by_sender_domain,
        by_device=by_device,
        by_domain_class=by_domain_class,
        top_failed_domains=[
            DomainRow(domain=d, domain_class=c, failed=n) for (d, c), n in top
        ],
        causes=sorted(
            causes.values(),
            key=lambda r: (class_order.get(r.domain_class, 99), -r.count),
        ),
        failures_sampled=sampled,
    )


def aggregate_rows(period: Period) -> Iterator[tuple[object, ...]]:
    """Day aggregates of ``period`` for CSV export: one row per day and dimension."""
    labels = dict(SmtpCredential.objects.values_list("pk", "label"))
    rows = (
        _day_rows(period)
        .order_by(
            "bucket",
            "sender_domain",
            "sender_address",
            "credential_id",
            "domain_class",
            "status",
        )
        .values_list(
            "bucket",
            "sender_domain",
            "sender_address",
            "credential_id",
            "domain_class",
            "status",
            "count",
        )
    )
    for bucket, domain, address, cred, klass, status, count in rows.iterator(
        chunk_size=5000
    ):
        yield (
            bucket.astimezone(JST).date().isoformat(),
            domain,
            address,
            labels.get(cred, "") if cred else "",
            klass,
            status,
            count,
        )


# --- message search ---------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    recipient: str = ""
    sender: str = ""
    message_id: str = ""
    status: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    device: int | None = None

    @property
    def is_empty(self) -> bool:
        return not any(
            (self.recipient, self.sender, self.message_id, self.status, self.device)
        )


@dataclass
class MessageRow:
    message: MessageRecord
    recipients: list[RecipientEvent]
    device_label: str

    @property
    def first_recipient(self) -> RecipientEvent | None:
        return self.recipients[0] if self.recipients else None


@dataclass
class SearchPage:
    rows: list[MessageRow]
    page: int
    has_next: bool
    capped: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def search_queryset(filters: SearchFilters) -> QuerySet[MessageRecord]:
    """Messages matching ``filters``, newest first. Every filter uses an index:

    recipient address → ``recipient_lookup``; ``@domain`` → recipient_domain;
    sender address/domain → sender_address / ``msg_domain_time``; message id →
    unique; status and dates → their indexes; device → the FK index. With a
    recipient filter the status filter applies to that recipient's status.
    """
    qs = MessageRecord.objects.all()
    if filters.message_id:
        qs = qs.filter(message_id=filters.message_id.strip())
    if filters.date_from:
        qs = qs.filter(
            sent_at__gte=dt.datetime.combine(filters.date_from, dt.time(), tzinfo=JST)
        )
    if filters.date_to:
        qs = qs.filter(
            sent_at__lt=dt.datetime.combine(
                filters.date_to + dt.timedelta(days=1), dt.time(), tzinfo=JST
            )
        )
    sender = filters.sender.strip().lower()
    if sender:
        if "@" in sender.lstrip("@"):
            qs = qs.filter(sender_address=sender)
        else:
            qs = qs.filter(sender_domain=sender.lstrip("@"))
    # Event Grid may spell statuses in lower case ("delivered").
    statuses = {filters.status, filters.status.lower()} if filters.status else set()
    recipient = filters.recipient.strip().lower()
    if statuses and not recipient:
        qs = qs.filter(status__in=statuses)
    if filters.device:
        qs = qs.filter(credential_id=filters.device)
    if recipient:
        # With a recipient, the status is that recipient's ("docomo addresses
        # that bounced"), which also narrows the index scan.
        if "@" in recipient.lstrip("@"):
            events = RecipientEvent.objects.filter(recipient=recipient)
        else:
            events = RecipientEvent.objects.filter(
                recipient_domain=recipient.lstrip("@")
            )
            if filters.date_from:
                # Statuses arrive after the send: bound the domain scan by the date.
                events = events.filter(
                    status_at__gte=dt.datetime.combine(
                        filters.date_from, dt.time(), tzinfo=JST
                    )
                )
        if statuses:
            events = events.filter(status__in=statuses)
        qs = qs.filter(message_id__in=Subquery(events.values("message_id")))
    return qs.order_by("-sent_at", "-message_id")


def _problems_first(
    events: Iterable[RecipientEvent], recipient: str = ""
) -> list[RecipientEvent]:
    """The searched recipient first, then the undelivered, then by address."""
    wanted = recipient.strip().lower().lstrip("@")

    def key(e: RecipientEvent) -> tuple[bool, bool, str]:
        matches = bool(wanted) and wanted in (e.recipient, e.recipient_domain)
        return (not matches, canonical_status(e.status) == "Delivered", e.recipient)

    return sorted(events, key=key)


def _attach(messages: list[MessageRecord], recipient: str = "") -> list[MessageRow]:
    ids = [m.message_id for m in messages]
    recipients: dict[str, list[RecipientEvent]] = defaultdict(list)
    if ids:
        for event in RecipientEvent.objects.filter(message_id__in=ids):
            recipients[event.message_id].append(event)
    recipients = {k: _problems_first(v, recipient) for k, v in recipients.items()}
    cred_ids = {m.credential_id for m in messages if m.credential_id}
    labels = (
        dict(SmtpCredential.objects.filter(pk__in=cred_ids).values_list("pk", "label"))
        if cred_ids
        else {}
    )
    return [
        MessageRow(
            message=m,
            recipients=recipients.get(m.message_id, []),
            device_label=labels.get(m.credential_id, ""),
        )
        for m in messages
    ]


def message_search(filters: SearchFilters, page: int = 1) -> SearchPage:
    """One page of search results (at most three queries, no COUNT).

    ``page`` is clamped to 1..``SEARCH_MAX_PAGES``; ``capped`` tells the page to
    suggest narrowing the search.
    """
    page = min(max(page, 1), SEARCH_MAX_PAGES)
    offset = (page - 1) * SEARCH_PAGE_SIZE
    found = list(search_queryset(filters)[offset : offset + SEARCH_PAGE_SIZE + 1])
    has_next = len(found) > SEARCH_PAGE_SIZE
    return SearchPage(
        rows=_attach(found[:SEARCH_PAGE_SIZE], filters.recipient),
        page=page,
        has_next=has_next and page < SEARCH_MAX_PAGES,
        capped=has_next and page >= SEARCH_MAX_PAGES,
    )


def search_export_rows(filters: SearchFilters) -> Iterator[tuple[object, ...]]:
    """One CSV row per recipient of the matching messages (newest first, capped)."""
    qs = search_queryset(filters)[:EXPORT_MAX_MESSAGES]
    labels = dict(SmtpCredential.objects.values_list("pk", "label"))
    chunk: list[MessageRecord] = []

    def flush(batch: list[MessageRecord]) -> Iterator[tuple[object, ...]]:
        per_message: dict[str, list[RecipientEvent]] = defaultdict(list)
        for event in RecipientEvent.objects.filter(
            message_id__in=[m.message_id for m in batch]
        ).order_by("recipient"):
            per_message[event.message_id].append(event)
        for m in batch:
            sent = timezone.localtime(m.sent_at, JST).strftime("%Y-%m-%d %H:%M:%S")
            device = labels.get(m.credential_id, "") if m.credential_id else ""
            events = per_message.get(m.message_id) or [None]
            for e in events:
                if e is None:
                    yield (
                        sent,
                        m.message_id,
                        m.sender_address,
                        device,
                        "",
                        m.status,
                        "",
                        "",
                        "",
                        "",
                        "",
                    )
                    continue
                explanation = bounces.explain(
                    e.status,
                    e.enhanced_code,
                    e.smtp_code,
                    e.is_hard_bounce,
                    e.failure_reason,
                    e.domain_class,
                )
                yield (
                    sent,
                    m.message_id,
                    m.sender_address,
                    device,
                    e.recipient,
                    e.status,
                    timezone.localtime(e.status_at, JST).strftime("%Y-%m-%d %H:%M:%S"),
                    e.smtp_code,
                    e.enhanced_code,
                    str(explanation.cause) if explanation.is_problem else "",
                    e.failure_reason,
                )

    for message in qs.iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(message)
        if len(chunk) >= EXPORT_CHUNK:
            yield from flush(chunk)
            chunk = []
    if chunk:
        yield from flush(chunk)


@dataclass
class MessageDetail:
    message: MessageRecord
    device: SmtpCredential | None
    # Each recipient's latest status, its explanation, and its opens and clicks
    # (oldest first).
    recipients: list[tuple[RecipientEvent, bounces.Explanation, list[EngagementEvent]]]


def message_detail(message_id: str) -> MessageDetail | None:
    """The message and each recipient's latest status with its explanation."""
    message = MessageRecord.objects.filter(message_id=message_id).first()
    if message is None:
        return None
    device = (
        SmtpCredential.objects.filter(pk=message.credential_id).first()
        if message.credential_id
        else None
    )
    events = _problems_first(RecipientEvent.objects.filter(message_id=message_id))
    engagement: dict[str, list[EngagementEvent]] = defaultdict(list)
    for action in EngagementEvent.objects.filter(message_id=message_id).order_by(
        "occurred_at"
    )[:ENGAGEMENT_LIMIT]:
        engagement[action.recipient].append(action)
    return MessageDetail(
        message=message,
        device=device,
        recipients=[
            (
                e,
                bounces.explain(
                    e.status,
                    e.enhanced_code,
                    e.smtp_code,
                    e.is_hard_bounce,
                    e.failure_reason,
                    e.domain_class,
                ),
                engagement.get(e.recipient, []),
            )
            for e in events
        ],
    )


def devices() -> list[tuple[int, str]]:
    return list(SmtpCredential.objects.order_by("label").values_list("pk", "label"))


def settings_for_tenant() -> AnalyticsSettings:
    """The tenant's settings row, or unsaved defaults (reads never write)."""
    return AnalyticsSettings.objects.order_by("pk").first() or AnalyticsSettings()


def last_activity_by_device(since: dt.datetime) -> dict[int, dt.datetime]:
    """Latest hour with traffic per credential since ``since`` (hour aggregates)."""
    return {
        row["credential_id"]: row["last"]
        for row in DeliveryAggregate.objects.filter(
            period=DeliveryAggregate.Period.HOUR,
            bucket__gte=since,
            credential_id__isnull=False,
        )
        .values("credential_id")
        .annotate(last=Max("bucket"))
    }


def last_eventgrid_event_at() -> dt.datetime | None:
    """When the newest Event Grid event reached the webhook (None: never).

    Ids grow with arrival, so the primary key finds it without a scan."""
    return (
        ProcessedEvent.objects.order_by("-pk")
        .values_list("received_at", flat=True)
        .first()
    )
