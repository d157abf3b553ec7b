"""Bulk-generate realistic ACS Email log history into an emulator state dir.

``python -m emulator simulate --state DIR --resource RID --days N --per-day M``

Writes N*M messages (one ``ACSEmailSendMailOperational`` row each, a
message-level ``OutForDelivery`` status row, one status row per recipient and
engagement rows for some delivered recipients) straight into
``DIR/logs.sqlite3`` with the schema :class:`emulator.logstore.LogStore` uses.
The output is a pure function of the arguments and ``--seed`` (the time window
is anchored to ``--now``, default the current time, so pass ``--now`` too for
byte-identical output).

Speed: rows are produced as tuples by a tight generator and inserted with
``executemany`` in one transaction with ``synchronous=OFF`` (no journal when
the file is not open elsewhere); in that case indexes are also dropped during
the load and rebuilt once afterwards. Into a running emulator's state dir the
rows go through the WAL with the indexes kept.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import os
import queue
import random
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from emulator import kql
from emulator.la_tables import (
    CATEGORIES,
    OPERATION_NAMES,
    SEND_MAIL,
    STATUS_UPDATE,
    TABLES,
    USER_ENGAGEMENT,
)
from emulator.logstore import LogStore

US = kql.US_PER_SECOND
DAY_US = 86400 * US
JST_OFFSET_US = 9 * 3600 * US

# Recipient domain mix for a Japanese B2C/B2B sender (weights in percent).
DOMAINS: list[tuple[str, float]] = [
    ("docomo.ne.jp", 14.0),
    ("ezweb.ne.jp", 6.0),
    ("au.com", 4.0),
    ("softbank.ne.jp", 5.0),
    ("i.softbank.jp", 4.0),
    ("gmail.com", 25.0),
    ("outlook.jp", 3.0),
    ("outlook.com", 3.0),
    ("hotmail.co.jp", 3.0),
    ("yahoo.co.jp", 13.0),
    ("example-shoji.co.jp", 4.0),
    ("sample-kogyo.co.jp", 4.0),
    ("tokyo-trading.co.jp", 4.0),
    ("osaka-denki.co.jp", 4.0),
    ("nagoya-seiki.co.jp", 4.0),
]
MOBILE_CARRIERS = {
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "au.com",
    "softbank.ne.jp",
    "i.softbank.jp",
}

# Hour-of-day weights in JST: business hours dominate, evenings moderate.
HOUR_WEIGHTS_JST = [
    0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 3.0, 6.0, 8.0, 8.0,
    6.0, 7.0, 8.0, 8.0, 7.0, 6.0, 4.0, 3.0, 2.5, 2.0, 1.2, 0.6,
]  # fmt: skip

# (status, smtp, enhanced, reason, message, hard bounce) per outcome.
OUTCOMES: dict[str, tuple[str, str, str, str, str]] = {
    "Delivered": ("250", "2.6.0", "", "", "false"),
    "Bounced": (
        "550",
        "5.1.1",
        "RecipientAddressRejected",
        "550 5.1.1 Recipient address rejected: User unknown",
        "true",
    ),
    "Failed": (
        "451",
        "4.4.7",
        "MessageExpired",
        "451 4.4.7 Message delayed; the recipient server did not respond in time",
        "false",
    ),
    "FilteredSpam": (
        "550",
        "5.7.1",
        "MessageRejectedAsSpam",
        "550 5.7.1 Message rejected as spam by the recipient's content filter",
        "false",
    ),
    "Quarantined": (
        "",
        "",
        "MessageQuarantined",
        "The message was quarantined by Exchange Online Protection",
        "false",
    ),
    "Suppressed": (
        "",
        "",
        "RecipientSuppressed",
        "The recipient is on the suppression list",
        "false",
    ),
}
# Outcome weights (percent) for ordinary and mobile-carrier domains: carrier
# filters reject more bulk mail as spam.
OUTCOME_WEIGHTS = [
    ("Delivered", 94.5, 90.0),
    ("Bounced", 2.0, 3.0),
    ("Failed", 1.0, 1.0),
    ("FilteredSpam", 0.8, 4.0),
    ("Quarantined", 0.7, 0.5),
    ("Suppressed", 1.0, 1.5),
]
TRAFFIC_SOURCES = [("Email Python SDK", 55.0), ("SMTP", 30.0), ("Email .NET SDK", 15.0)]
USER_AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 15; SO-51E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Microsoft Outlook 16.0",
]
SENDER_USERNAMES = ["DoNotReply", "info", "noreply"]


def _cum(weights: list[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


class Generator:
    """Produces row tuples in the column order of :data:`TABLES`."""

    def __init__(
        self,
        *,
        resource_id: str,
        days: int,
        per_day: int,
        seed: int,
        sender_domain: str,
        now: datetime,
        workspace_id: str = "",
    ) -> None:
        self.rid = resource_id.lower()
        self.days = days
        self.per_day = per_day
        self.seed = seed
        self.sender_domain = sender_domain
        self.now_us = kql.dt_to_us(now)
        self.workspace_id = workspace_id
        parts = self.rid.strip("/").split("/")
        self.sub = parts[1] if len(parts) > 1 and parts[0] == "subscriptions" else ""
        self.counts = {SEND_MAIL: 0, STATUS_UPDATE: 0, USER_ENGAGEMENT: 0}

    def rows(self) -> Iterator[tuple[str, tuple[object, ...]]]:
        """(table, row) pairs; a row holds the non-constant columns in table order.

        See :meth:`constants` and :meth:`insert_sql` for the other columns.
        """
        rng = random.Random(self.seed)
        dom_names = [d for d, _ in DOMAINS]
        dom_cum = _cum([w for _, w in DOMAINS])
        hour_cum = _cum(HOUR_WEIGHTS_JST)
        out_names = [o for o, _, _ in OUTCOME_WEIGHTS]
        out_cum = _cum([w for _, w, _ in OUTCOME_WEIGHTS])
        out_cum_mobile = _cum([w for _, _, w in OUTCOME_WEIGHTS])
        src_names = [s for s, _ in TRAFFIC_SOURCES]
        src_cum = _cum([w for _, w in TRAFFIC_SOURCES])
        bisect_right = bisect.bisect_right
        rnd = rng.random
        randint = rng.randrange

        # JST midnight of "today" in microseconds (UTC epoch based).
        today_jst = ((self.now_us + JST_OFFSET_US) // DAY_US) * DAY_US - JST_OFFSET_US
        window_us = self.days * DAY_US
        latest_send = self.now_us - 3 * 60 * US

        now_us = self.now_us
        sender_domain = self.sender_domain
        for day in range(self.days):
            day_start = today_jst - day * DAY_US
            for _ in range(self.per_day):
                hour = bisect_right(hour_cum, rnd() * hour_cum[-1])
                t = day_start + hour * 3600 * US + randint(3600 * US)
                if t > latest_send:
                    # Fold "future" times of today into the oldest day so the
                    # window is exactly `days` long and the count is exact.
                    # (latest_send leaves room for the status rows, which
                    # follow the send by up to two minutes, to be in the past.)
                    t -= window_us
                msg_id = _uuid(rng)
                r = rnd()
                n_rcpt = 1 if r < 0.85 else (2 if r < 0.95 else 3 + randint(3))
                source = src_names[bisect_right(src_cum, rnd() * src_cum[-1])]
                size = round(0.005 + rnd() * rnd() * 0.5, 6)
                sender_user = SENDER_USERNAMES[randint(3)]
                billed = 520.0 + randint(200)
                yield (
                    SEND_MAIL,
                    (
                        t, msg_id, size, n_rcpt, n_rcpt,
                        0 if rnd() < 0.9 else 1, source, billed,
                    ),
                )  # fmt: skip
                # Message-level row (empty RecipientId).
                yield (
                    STATUS_UPDATE,
                    (
                        t + US, msg_id, "", "OutForDelivery", "", "", "", "",
                        sender_user, "false", billed,
                    ),
                )  # fmt: skip
                for _ in range(n_rcpt):
                    domain = dom_names[bisect_right(dom_cum, rnd() * dom_cum[-1])]
                    addr = f"user{randint(10_000_000):07d}@{domain}"
                    cum = out_cum_mobile if domain in MOBILE_CARRIERS else out_cum
                    status = out_names[bisect_right(cum, rnd() * cum[-1])]
                    smtp, enh, reason, message, hard = OUTCOMES[status]
                    t_status = t + 2 * US + randint(120 * US)
                    yield (
                        STATUS_UPDATE,
                        (
                            t_status, msg_id, addr, status, smtp, enh, reason,
                            message, sender_user, hard, billed,
                        ),
                    )  # fmt: skip
                    if status == "Delivered" and rnd() < 0.25:
                        t_view = t_status + randint(6 * 3600 * US)
                        if t_view <= now_us:
                            agent = USER_AGENTS[randint(len(USER_AGENTS))]
                            inet_id = f"<{msg_id}@{sender_domain}>"
                            yield (
                                USER_ENGAGEMENT,
                                (
                                    t_view,
                                    msg_id,
                                    addr,
                                    "View",
                                    "",
                                    agent,
                                    inet_id,
                                    300.0,
                                ),
                            )
                            if rnd() < 0.3:
                                t_click = t_view + randint(600 * US)
                                if t_click <= now_us:
                                    url = f"https://{sender_domain}/campaign?m={msg_id[:8]}"
                                    yield (
                                        USER_ENGAGEMENT,
                                        (
                                            t_click, msg_id, addr, "Click", url,
                                            agent, inet_id, 320.0,
                                        ),
                                    )  # fmt: skip

    def constants(self) -> dict[str, dict[str, object]]:
        """Per table: the columns with the same value in every generated row."""
        common = {
            "TenantId": self.workspace_id,
            "Location": "Japan East",
            "OperationVersion": "2025-09-01",
            "SourceSystem": "Azure",
            "_ResourceId": self.rid,
            "_SubscriptionId": self.sub,
            "_IsBillable": "True",
        }
        out = {}
        for table in TABLES:
            out[table] = common | {
                "OperationName": OPERATION_NAMES[table],
                "Category": CATEGORIES[table],
                "Type": table,
            }
        out[SEND_MAIL] |= {"CcRecipientsCount": 0, "BccRecipientsCount": 0}
        out[STATUS_UPDATE]["SenderDomain"] = self.sender_domain
        return out

    def insert_sql(self) -> dict[str, str]:
        """INSERT statements with the constant columns inlined as literals.

        Binding only the varying columns halves the per-row work of the load.
        """
        out = {}
        for table, consts in self.constants().items():
            cols = [c for c, _ in TABLES[table]]
            values = []
            for c in cols:
                if c in consts:
                    v = consts[c]
                    values.append(kql.sql_str(v) if isinstance(v, str) else repr(v))
                else:
                    values.append("?")
            col_sql = ", ".join(kql.q(c) for c in cols)
            out[table] = (
                f"INSERT INTO {kql.q(table)} ({col_sql}) VALUES ({', '.join(values)})"
            )
        return out


class _Stopped(Exception):
    """The consumer gave up; the producer thread should end."""


def _drop_indexes(conn: sqlite3.Connection) -> None:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
        )
    ]
    for name in names:
        conn.execute(f"DROP INDEX IF EXISTS {kql.q(name)}")


def generate(
    path: str,
    *,
    resource_id: str,
    days: int,
    per_day: int,
    seed: int = 1,
    sender_domain: str = "example.co.jp",
    now: datetime | None = None,
    workspace_id: str = "",
    batch: int = 50_000,
) -> dict[str, int]:
    """Append generated history to the LogStore database at ``path``."""
    now = now or datetime.now(UTC)
    gen = Generator(
        resource_id=resource_id,
        days=days,
        per_day=per_day,
        seed=seed,
        sender_domain=sender_domain,
        now=now,
        workspace_id=workspace_id,
    )
    conn = sqlite3.connect(path, timeout=60)
    try:
        # A bulk load into a state dir nobody else has open needs no journal
        # (a crash mid-load just means re-running the simulation). If the
        # emulator has the file open, SQLite refuses the switch and the load
        # goes through the WAL like any other write.
        try:
            (mode,) = conn.execute("PRAGMA journal_mode=OFF").fetchone()
        except sqlite3.OperationalError:  # "database is locked": emulator is live
            mode = "wal"
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MB page cache
        conn.execute("PRAGMA threads=2")  # parallel sorter for CREATE INDEX
        for stmt in LogStore.create_schema_sql(indexes=False):
            conn.execute(stmt)
        conn.commit()
        conn.execute("BEGIN")
        exclusive = mode != "wal"
        if exclusive:
            # Building indexes once after the load is much faster than
            # maintaining them row by row; a live emulator keeps its indexes.
            _drop_indexes(conn)
        inserts = gen.insert_sql()
        counts = dict.fromkeys(TABLES, 0)
        # Generate in a helper thread while this one inserts: sqlite3 releases
        # the GIL inside sqlite3_step, so the two overlap on a 2-core machine.
        batches: queue.Queue[tuple[str, list[tuple[object, ...]]] | None] = queue.Queue(
            maxsize=8
        )
        failure: list[BaseException] = []
        stop = threading.Event()

        def put(item: tuple[str, list[tuple[object, ...]]] | None) -> None:
            while not stop.is_set():
                try:
                    batches.put(item, timeout=0.5)
                    return
                except queue.Full:
                    continue
            raise _Stopped

        def produce() -> None:
            try:
                buffers: dict[str, list[tuple[object, ...]]] = {t: [] for t in TABLES}
                for table, row in gen.rows():
                    buf = buffers[table]
                    buf.append(row)
                    if len(buf) >= batch:
                        put((table, buf))
                        buffers[table] = []
                for table, buf in buffers.items():
                    if buf:
                        put((table, buf))
                put(None)
            except _Stopped:
                pass
            except BaseException as exc:  # surfaced in the consumer
                failure.append(exc)
                with contextlib.suppress(_Stopped):
                    put(None)

        producer = threading.Thread(target=produce, name="simulate-gen", daemon=True)
        producer.start()
        try:
            while (item := batches.get()) is not None:
                table, rows = item
                conn.executemany(inserts[table], rows)
                counts[table] += len(rows)
        finally:
            stop.set()
            producer.join()
        if failure:
            raise failure[0]
        for stmt in LogStore.index_sql():
            conn.execute(stmt)
        conn.commit()
        if mode == "wal":
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            # Leave the file in the WAL mode LogStore expects.
            conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()
    return counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emulator simulate",
        description="Bulk-generate ACS Email log history into DIR/logs.sqlite3.",
    )
    parser.add_argument("--state", required=True, help="emulator state directory")
    parser.add_argument("--resource", required=True, help="ACS resource ID")
    parser.add_argument("--days", type=int, required=True)
    parser.add_argument("--per-day", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sender-domain", default="example.co.jp")
    parser.add_argument(
        "--now", help="end of the window (ISO 8601, default: current time)"
    )
    parser.add_argument("--workspace-id", default="", help="TenantId column value")
    args = parser.parse_args(argv)
    if args.days <= 0 or args.per_day < 0:
        parser.error("--days must be positive and --per-day non-negative")
    now = (
        kql.us_to_dt(kql.parse_datetime_text(args.now))
        if args.now
        else datetime.now(UTC)
    )
    workspace_id = args.workspace_id
    if not workspace_id:
        try:
            from emulator.defaults import WORKSPACE_ID

            workspace_id = WORKSPACE_ID
        except ImportError:  # defaults are optional for this tool
            workspace_id = ""
    os.makedirs(args.state, exist_ok=True)
    path = os.path.join(args.state, "logs.sqlite3")
    started = time.monotonic()
    counts = generate(
        path,
        resource_id=args.resource,
        days=args.days,
        per_day=args.per_day,
        seed=args.seed,
        sender_domain=args.sender_domain,
        now=now,
        workspace_id=workspace_id,
    )
    elapsed = time.monotonic() - started
    print(  # noqa: T201 (CLI output)
        f"simulated {args.days * args.per_day} messages over {args.days} days into "
        f"{path}: {counts[SEND_MAIL]} SendMail, {counts[STATUS_UPDATE]} StatusUpdate, "
        f"{counts[USER_ENGAGEMENT]} UserEngagement rows in {elapsed:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
