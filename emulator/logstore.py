"""Emulated Log Analytics workspace and Azure Monitor metrics store.

Rows live in their own SQLite file (WAL mode) with one table per Log
Analytics table (schemas in :mod:`emulator.la_tables`). KQL queries are
compiled to SQL by :mod:`emulator.kql`. Metrics are computed on demand from
the same rows (DeliveryStatusUpdate, UserEngagement) and from a small table
of recorded API requests (ApiRequests).

Both ``query_http`` and ``metrics_http`` return ``(status, json_body)`` in
exactly the shape the Azure REST APIs use, so the HTTP layer just forwards
them. They open their own SQLite connection per call, so they may run in a
worker thread (``loop.run_in_executor``) while ingestion continues; a summary
over a million rows takes around a second.
"""

from __future__ import annotations

import gc
import http
import json
import re
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator import kql
from emulator.la_tables import (
    CATEGORIES,
    OPERATION_NAMES,
    STATUS_UPDATE,
    TABLES,
    USER_ENGAGEMENT,
)

US = kql.US_PER_SECOND

# Documented Log Analytics query limits (azure-facts §7.3 / aka.ms/kustoquerylimits).
DEFAULT_MAX_ROWS = 500_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_TIMEOUT_S = 180.0  # Log Analytics' default server timeout (3 minutes)

METRIC_NAMESPACE = "Microsoft.Communication/CommunicationServices"
API_REQUESTS_TABLE = "_emu_api_requests"

_SQL_TYPES = {
    "string": "TEXT",
    "long": "INTEGER",
    "int": "INTEGER",
    "real": "REAL",
    "bool": "INTEGER",
    "datetime": "INTEGER",
    "timespan": "INTEGER",
    "dynamic": "TEXT",
}


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_DURATION = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)


def parse_iso_duration(text: str) -> timedelta:
    """ISO 8601 duration incl. fractional seconds ("PT86400.0S", "P1D")."""
    m = _DURATION.match(text.strip())
    if not m or text.strip().upper() in ("P", "PT") or text.strip().endswith("T"):
        raise ValueError(f"invalid ISO 8601 duration {text!r}")
    parts = {k: float(v) if v else 0.0 for k, v in m.groupdict().items()}
    return timedelta(
        weeks=parts["w"],
        days=parts["d"],
        hours=parts["h"],
        minutes=parts["m"],
        seconds=parts["s"],
    )


def parse_iso_datetime(text: str) -> datetime:
    return kql.us_to_dt(kql.parse_datetime_text(text))


def parse_timespan(value: object, now: datetime) -> tuple[datetime, datetime] | None:
    """The request body's ``timespan``: None, "PTxS", "start/end", "start/PTxS"."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("timespan must be a string")
    text = value.strip()
    if "/" in text:
        left, right = (p.strip() for p in text.split("/", 1))
        if left.upper().startswith("P"):
            end = parse_iso_datetime(right)
            return end - parse_iso_duration(left), end
        start = parse_iso_datetime(left)
        if right.upper().startswith("P"):
            return start, start + parse_iso_duration(right)
        return start, parse_iso_datetime(right)
    duration = parse_iso_duration(text)
    return now - duration, now


def _bad_argument(inner_code: str, inner_message: str, **extra: Any) -> dict[str, Any]:
    """Log Analytics' 400 body; the SDK surfaces the innermost message."""
    summary = {
        "SyntaxError": "A recognition error occurred in the query.",
        "SemanticError": "A semantic error occurred.",
    }.get(inner_code, inner_message)
    inner: dict[str, Any] = {"code": inner_code, "message": summary}
    detail = {"message": inner_message, **extra}
    inner["innererror"] = detail
    return {
        "error": {
            "message": "The request had some invalid properties",
            "code": "BadArgumentError",
            "correlationId": str(uuid.uuid4()),
            "innererror": inner,
        }
    }


def _partial_error(message: str) -> dict[str, Any]:
    # Emulator behaviour: modelled on the PartialError Log Analytics returns
    # with E_QUERY_RESULT_SET_TOO_LARGE when a result is truncated.
    return {
        "code": "PartialError",
        "message": "There were some errors when processing your query.",
        "details": [
            {
                "code": "EngineError",
                "message": "Something went wrong processing your query on the server.",
                "innererror": {
                    "code": "-2133196797",
                    "message": message,
                    "severity": 2,
                    "severityName": "Error",
                },
            }
        ],
    }


def _encode(body: dict[str, Any]) -> bytes:
    """JSON as the emulator's HTTP layer sends it (``errors.json_response``)."""
    return json.dumps(body, separators=(",", ":")).encode()


def _subscription_of(resource_id: str) -> str:
    parts = resource_id.strip("/").split("/")
    if len(parts) >= 2 and parts[0].lower() == "subscriptions":
        return parts[1]
    return ""


class _QueryTimeout(Exception):
    pass


# ---------------------------------------------------------------------------
# Metric definitions
# ---------------------------------------------------------------------------

_METRICS: dict[str, dict[str, Any]] = {
    "ApiRequests": {
        "display": "Email Service API Requests",
        "description": "Email Communication Services API request metric for the "
        "data-plane API surface.",
        "table": API_REQUESTS_TABLE,
        "time": "at",
        "resource": "resource_id",
        "where": "1",
        "dims": {
            "Operation": "operation",
            "StatusCode": "CAST(status_code AS TEXT)",
            "StatusCodeClass": "status_class",
            "StatusCodeReason": "status_reason",
        },
    },
    "DeliveryStatusUpdate": {
        "display": "Email Service Delivery Status Updates",
        "description": "Email Communication Services message delivery results.",
        "table": STATUS_UPDATE,
        "time": '"TimeGenerated"',
        "resource": '"_ResourceId"',
        # Emulator behaviour: one data point per recipient-level status row;
        # message-level rows (empty RecipientId, e.g. OutForDelivery) would
        # double count.
        "where": "\"RecipientId\" <> ''",
        "dims": {
            "MessageStatus": '"DeliveryStatus"',
            "Result": "CASE WHEN \"DeliveryStatus\" = 'Delivered' THEN 'Success' "
            "ELSE 'Failure' END",
            "SmtpStatusCode": '"SmtpStatusCode"',
            "EnhancedSmtpStatusCode": '"EnhancedSmtpStatusCode"',
            "SenderDomain": '"SenderDomain"',
            "IsHardBounce": '"IsHardBounce"',
        },
    },
    "UserEngagement": {
        "display": "Email Service User Engagement",
        "description": "Email Communication Services user engagement metrics.",
        "table": USER_ENGAGEMENT,
        "time": '"TimeGenerated"',
        "resource": '"_ResourceId"',
        "where": "1",
        "dims": {"EngagementType": '"EngagementType"'},
    },
}

_AGGREGATIONS = ("average", "count", "maximum", "minimum", "total")


def _metrics_error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"code": code, "message": message}}


def _parse_metric_filter(text: str) -> dict[str, list[str]]:
    """``A eq 'x' and (B eq 'y' or B eq 'z') and C eq '*'`` -> {A: [x], ...}.

    Supports the forms the SDK documents (eq, and, or over one dimension).
    """
    out: dict[str, list[str]] = {}
    clauses = re.split(r"\s+and\s+", text.strip(), flags=re.IGNORECASE)
    for clause in clauses:
        clause = clause.strip()
        if clause.startswith("(") and clause.endswith(")"):
            clause = clause[1:-1]
        for alt in re.split(r"\s+or\s+", clause, flags=re.IGNORECASE):
            m = re.fullmatch(r"\s*([A-Za-z0-9_]+)\s+eq\s+'((?:[^']|'')*)'\s*", alt)
            if not m:
                raise ValueError(f"unsupported metric filter clause {alt.strip()!r}")
            out.setdefault(m.group(1), []).append(m.group(2).replace("''", "'"))
    return out


# ---------------------------------------------------------------------------
# LogStore
# ---------------------------------------------------------------------------


class LogStore:
    """SQLite-backed emulated Log Analytics workspace + metrics source."""

    def __init__(
        self,
        path: str,
        *,
        workspace_id: str = "",
        max_rows: int = DEFAULT_MAX_ROWS,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        region: str = "global",
    ) -> None:
        self.path = path
        self.workspace_id = workspace_id
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self._initial_limits = (max_rows, max_bytes)
        # Emulator knob: hide every Nth stored row from Log Analytics queries
        # (not from metrics), as when a diagnostic setting drops log records.
        self.drop_every = 0
        self.timeout_s = timeout_s
        self.region = region
        self._lock = threading.Lock()
        self._conn = self._connect()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._create_schema(self._conn)

    # -- connections / schema --
    def set_limits(
        self,
        *,
        max_rows: int | None = None,
        max_bytes: int | None = None,
        drop_every: int | None = None,
    ) -> None:
        """Change the result limits (admin API; tests of truncated results), or
        hide every ``drop_every``-th row from queries (0: none; tests of logs
        that disagree with metrics)."""
        if max_rows is not None:
            self.max_rows = max_rows
        if max_bytes is not None:
            self.max_bytes = max_bytes
        if drop_every is not None:
            self.drop_every = drop_every

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA synchronous=NORMAL")
        kql.register_functions(conn)
        return conn

    @staticmethod
    def create_schema_sql(*, indexes: bool = True) -> list[str]:
        stmts = []
        for table, cols in TABLES.items():
            defs = ", ".join(f"{kql.q(c)} {_SQL_TYPES[t]}" for c, t in cols)
            stmts.append(f"CREATE TABLE IF NOT EXISTS {kql.q(table)} ({defs})")
        stmts.append(
            f"CREATE TABLE IF NOT EXISTS {API_REQUESTS_TABLE} (resource_id TEXT, "
            "operation TEXT, status_code INTEGER, status_class TEXT, "
            "status_reason TEXT, at INTEGER)"
        )
        if indexes:
            stmts.extend(LogStore.index_sql())
        return stmts

    @staticmethod
    def index_sql() -> list[str]:
        stmts = []
        # TimeGenerated (every query is time-bounded in practice) with
        # _ResourceId (every resource-centric query is scoped by it), and
        # CorrelationId (looking up one message's history). With the resource in
        # the time index, a summarize over a time range (an ingestion plans its
        # windows with one per table) never visits the ~350-byte rows: 3x less
        # CPU over a million rows, for ~10% more at bulk load.
        for table in TABLES:
            base = table.lower()
            stmts.append(f"DROP INDEX IF EXISTS ix_{base}_time")  # before 2026-11
            stmts.append(
                f"CREATE INDEX IF NOT EXISTS ix_{base}_time_rid ON {kql.q(table)} "
                '("TimeGenerated", "_ResourceId")'
            )
            stmts.append(
                f"CREATE INDEX IF NOT EXISTS ix_{base}_corr ON {kql.q(table)} "
                '("CorrelationId")'
            )
        stmts.append(
            f"CREATE INDEX IF NOT EXISTS ix_api_req ON {API_REQUESTS_TABLE} "
            "(resource_id, at)"
        )
        return stmts

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        with self._lock:
            for stmt in self.create_schema_sql():
                conn.execute(stmt)
            conn.commit()

    def reset(self) -> None:
        self.max_rows, self.max_bytes = self._initial_limits
        self.drop_every = 0
        with self._lock:
            for table in TABLES:
                self._conn.execute(f"DELETE FROM {kql.q(table)}")
            self._conn.execute(f"DELETE FROM {API_REQUESTS_TABLE}")
            self._conn.commit()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # -- ingestion --
    def _convert_row(
        self, table: str, row: dict[str, Any], now_us: int
    ) -> tuple[object, ...]:
        out: list[object] = []
        for col, typ in TABLES[table]:
            value = row.get(col)
            if value is None:
                value = self._default(table, col, row, now_us)
            out.append(self.convert_value(value, typ))
        return tuple(out)

    def _default(self, table: str, col: str, row: dict[str, Any], now_us: int) -> Any:
        # Columns Azure Monitor always fills even when the producer omits them.
        if col == "TimeGenerated":
            return now_us
        if col == "Type":
            return table
        if col == "SourceSystem":
            return "Azure"
        if col == "Category":
            return CATEGORIES[table]
        if col == "OperationName":
            return OPERATION_NAMES[table]
        if col == "TenantId":
            return self.workspace_id
        if col == "_IsBillable":
            return "True"
        if col == "_SubscriptionId":
            return _subscription_of(str(row.get("_ResourceId") or ""))
        if col == "_BilledSize":
            return float(len(json.dumps(row, default=str)))
        return None

    @staticmethod
    def convert_value(value: Any, typ: str) -> object:
        """Python/JSON value -> SQLite representation of KQL type ``typ``."""
        if typ == "string":
            if value is None:
                return ""
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
        if value is None or value == "":
            return None
        if typ == "datetime":
            if isinstance(value, datetime):
                return kql.dt_to_us(value)
            if isinstance(value, (int, float)):
                return int(value)
            return kql.parse_datetime_text(str(value))
        if typ in ("long", "int"):
            return int(value)
        if typ == "real":
            return float(value)
        if typ == "bool":
            if isinstance(value, str):
                return 1 if value.strip().lower() == "true" else 0
            return 1 if value else 0
        if typ == "timespan":
            if isinstance(value, timedelta):
                return value // timedelta(microseconds=1)
            return int(value)
        if typ == "dynamic":
            return value if isinstance(value, str) else json.dumps(value)
        return value

    def insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        if table not in TABLES:
            raise ValueError(f"unknown Log Analytics table {table!r}")
        if not rows:
            return
        now_us = kql.dt_to_us(datetime.now(UTC))
        prepared = []
        for row in rows:
            row = dict(row)
            if row.get("_ResourceId"):
                # Azure Monitor stores _ResourceId lower-cased.
                row["_ResourceId"] = str(row["_ResourceId"]).lower()
            prepared.append(self._convert_row(table, row, now_us))
        cols = ", ".join(kql.q(c) for c, _ in TABLES[table])
        marks = ", ".join("?" for _ in TABLES[table])
        with self._lock:
            self._conn.executemany(
                f"INSERT INTO {kql.q(table)} ({cols}) VALUES ({marks})", prepared
            )
            self._conn.commit()

    def record_api_request(
        self, *, resource_id: str, operation: str, status_code: int, at: datetime
    ) -> None:
        try:
            reason = http.HTTPStatus(status_code).phrase
        except ValueError:
            reason = ""
        with self._lock:
            self._conn.execute(
                f"INSERT INTO {API_REQUESTS_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
                (
                    resource_id.lower(),
                    operation,
                    int(status_code),
                    f"{int(status_code) // 100}xx",
                    reason,
                    kql.dt_to_us(at),
                ),
            )
            self._conn.commit()

    def count_rows(self, table: str) -> int:
        with self._lock:
            (n,) = self._conn.execute(f"SELECT count(*) FROM {kql.q(table)}").fetchone()
        return int(n)

    # -- Log Analytics query API --
    def query_http(
        self,
        body: dict[str, Any],
        *,
        resource_ids: list[str] | None,
        now: datetime,
        encoded: bool = False,
    ) -> tuple[int, Any]:
        """Answer a Log Analytics query request: ``(status, body)``, the body a
        dict, or with ``encoded`` its JSON bytes (what the HTTP layer sends)."""
        status, answer = self._query(body, resource_ids=resource_ids, now=now)
        if isinstance(answer, kql.CompiledQuery):
            return self._execute(answer, encoded=encoded)
        return self._answer(status, answer, encoded)

    def _query(
        self,
        body: dict[str, Any],
        *,
        resource_ids: list[str] | None,
        now: datetime,
    ) -> tuple[int, Any]:
        query = body.get("query") if isinstance(body, dict) else None
        if not isinstance(query, str) or not query.strip():
            return 400, _bad_argument("SyntaxError", "The query is empty or missing")
        try:
            span = parse_timespan(body.get("timespan"), now)
        except ValueError as exc:
            return 400, _bad_argument("InvalidTimespan", str(exc))
        try:
            compiled = kql.compile_kql(
                query,
                TABLES,
                now_us=kql.dt_to_us(now),
                source_filter=self._source_filter(span, resource_ids),
            )
        except kql.KqlError as exc:
            extra: dict[str, Any] = {"code": exc.code}
            if exc.line is not None:
                extra |= {"line": exc.line, "pos": exc.pos}
            if exc.token is not None:
                extra["token"] = exc.token
            body_ = _bad_argument(exc.kind, exc.message, **extra)
            body_["error"]["innererror"]["innererror"] = {
                "code": exc.code,
                "message": exc.message,
                **{k: v for k, v in extra.items() if k != "code"},
            }
            return 400, body_
        return 200, compiled

    def _source_filter(
        self,
        span: tuple[datetime, datetime] | None,
        resource_ids: list[str] | None,
    ) -> Any:
        conds: list[str] = []
        if span is not None:
            start, end = span
            if end < start:
                start, end = end, start
            # Emulator behaviour: the request timespan is applied as an
            # inclusive range on TimeGenerated of every table referenced.
            conds.append(
                f'"TimeGenerated" BETWEEN {kql.dt_to_us(start)} AND {kql.dt_to_us(end)}'
            )
        if resource_ids is not None:
            alts = []
            for rid in resource_ids:
                rid = rid.strip().rstrip("/").lower()
                if not rid.startswith("/"):
                    rid = "/" + rid
                lit = kql.sql_str(rid)
                # The resource itself or any child resource.
                lo, hi = kql.sql_str(rid + "/"), kql.sql_str(rid + "0")
                alts.append(
                    f'"_ResourceId" = {lit} OR '
                    f'("_ResourceId" > {lo} AND "_ResourceId" < {hi})'
                )
            conds.append(
                "(" + " OR ".join(f"({a})" for a in alts) + ")" if alts else "0"
            )
        if self.drop_every > 0:
            conds.append(f"rowid % {int(self.drop_every)} <> 0")
        where = " AND ".join(conds)
        return lambda _table: where

    def _execute(
        self, compiled: kql.CompiledQuery, *, encoded: bool = False
    ) -> tuple[int, Any]:
        # A large result allocates containers per row, and the cyclic collector
        # would keep re-scanning the rows already built (~15% of the time). They
        # form no cycles; the collector resumes when the answer is built.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._execute_rows(compiled, encoded=encoded)
        finally:
            if was_enabled:
                gc.enable()

    def _execute_rows(
        self, compiled: kql.CompiledQuery, *, encoded: bool = False
    ) -> tuple[int, Any]:
        """Run a compiled query; ``(status, body)``.

        ``encoded`` returns the body as the JSON bytes the HTTP layer sends
        (exactly ``json.dumps(body, separators=(",", ":"))``), built from rows
        encoded a batch at a time, instead of a dict: a result of 50,000 rows is
        then encoded once, not row by row and again as a whole.
        """
        conn = self._connect()
        deadline = time.monotonic() + self.timeout_s

        def check() -> int:
            return 1 if time.monotonic() > deadline else 0

        conn.set_progress_handler(check, 200_000)
        types = [t for _, t in compiled.columns]
        # Columns whose SQLite value is not already its JSON value (to_wire is the
        # identity for strings, which is what most projections return).
        convert = [i for i, t in enumerate(types) if t not in ("string", "")]

        def wire(raw: tuple[object, ...]) -> list[object]:
            row = list(raw)
            for i in convert:
                row[i] = kql.to_wire(row[i], types[i])
            return row

        # The size limit counts each row as ``json.dumps(row)`` (", " between
        # cells); a compact batch encoding is shorter by one byte per separator.
        extra = max(len(types) - 1, 0)
        # All-string results (log projections) are encoded by SQLite itself, one
        # json_array() text per row. Its output equals Python's compact
        # json.dumps for printable ASCII; a batch with anything else (non-ASCII,
        # DEL) is decoded again and encoded by Python, so the bytes never differ.
        native = encoded and bool(types) and all(t == "string" for t in types)
        sql = compiled.sql
        if native:
            cells = ", ".join(kql.q(n) for n, _ in compiled.columns)
            sql = f"SELECT json_array({cells}) FROM ({sql})"
        chunks: list[str] = []  # encoded batches, without their brackets
        rows: list[list[object]] = []
        count = 0
        partial: str | None = None
        size = 0
        try:
            cur = conn.execute(sql + f" LIMIT {int(self.max_rows) + 1}")
            while partial is None:
                fetched = cur.fetchmany(5000)
                if not fetched:
                    break
                batch: list[Any] = fetched[: max(self.max_rows - count, 0)]
                too_many = len(batch) < len(fetched)
                as_text = False
                if native:
                    batch = [raw[0] for raw in batch]
                    inner = ",".join(batch)
                    as_text = inner.isascii() and "\x7f" not in inner
                    if not as_text:
                        batch = [json.loads(row) for row in batch]
                if as_text:
                    grown = len(inner) - max(len(batch) - 1, 0) + len(batch) * extra
                else:
                    if convert or not encoded:
                        batch = [wire(raw) for raw in batch]
                    inner = json.dumps(batch, separators=(",", ":"))[1:-1]
                    grown = len(inner) + 1 - len(batch) + len(batch) * extra
                if batch and size + grown > self.max_bytes:
                    keep = 0
                    for row in batch:
                        size += len(row) + extra if as_text else len(json.dumps(row))
                        if size > self.max_bytes:
                            break
                        keep += 1
                    batch = batch[:keep]
                    inner = (
                        ",".join(batch)
                        if as_text
                        else json.dumps(batch, separators=(",", ":"))[1:-1]
                    )
                    partial = (
                        "Query result set has exceeded the internal data size "
                        f"limit {self.max_bytes} (E_QUERY_RESULT_SET_TOO_LARGE; "
                        "see https://aka.ms/kustoquerylimits)"
                    )
                elif batch:
                    size += grown
                if too_many and partial is None:
                    partial = (
                        "Query result set has exceeded the internal record count "
                        f"limit {self.max_rows} (E_QUERY_RESULT_SET_TOO_LARGE; "
                        "see https://aka.ms/kustoquerylimits)"
                    )
                count += len(batch)
                if not batch:
                    continue
                if encoded:
                    chunks.append(inner)
                else:
                    rows.extend(batch)
        except sqlite3.OperationalError as exc:
            if "interrupted" in str(exc):
                return self._answer(
                    504,
                    {
                        "error": {
                            "code": "GatewayTimeout",
                            "message": "The query exceeded the allowed execution time.",
                        }
                    },
                    encoded,
                )
            # A runtime failure the compiler did not foresee: never guess.
            return self._answer(
                400,
                _bad_argument("SemanticError", f"Query execution failed: {exc}"),
                encoded,
            )
        finally:
            conn.close()
        result: dict[str, Any] = {
            "tables": [
                {
                    "name": "PrimaryResult",
                    "columns": [{"name": n, "type": t} for n, t in compiled.columns],
                    "rows": rows,
                }
            ]
        }
        if partial:
            result["error"] = _partial_error(partial)
        if not encoded:
            return 200, result
        # Splice the encoded rows into the (empty) rows array of the envelope.
        head, tail = _encode(result).split(b'"rows":[]', 1)
        return 200, b"".join((head, b'"rows":[', ",".join(chunks).encode(), b"]", tail))

    @staticmethod
    def _answer(status: int, body: dict[str, Any], encoded: bool) -> tuple[int, Any]:
        return status, (_encode(body) if encoded else body)

    # -- Metrics batch API --
    def metrics_http(
        self, query: dict[str, str], body: dict[str, Any], *, now: datetime
    ) -> tuple[int, dict[str, Any]]:
        params = {k.lower(): v for k, v in query.items()}
        namespace = params.get("metricnamespace", "")
        if namespace.lower() != METRIC_NAMESPACE.lower():
            return _metrics_error(
                400,
                "BadRequest",
                f"Failed to find metric configuration for provider: {namespace}",
            )
        names_raw = params.get("metricnames", "")
        names = [n.strip() for n in names_raw.split(",") if n.strip()]
        by_lower = {n.lower(): n for n in _METRICS}
        if not names:
            return _metrics_error(400, "BadRequest", "metricnames is required")
        metric_names = []
        for n in names:
            if n.lower() not in by_lower:
                return _metrics_error(
                    400,
                    "BadRequest",
                    "Failed to find metric configuration for provider: "
                    f"Microsoft.Communication, resource Type: CommunicationServices, "
                    f"metric: {n}, Valid metrics: {','.join(_METRICS)}",
                )
            metric_names.append(by_lower[n.lower()])
        resource_ids = body.get("resourceids") if isinstance(body, dict) else None
        if not isinstance(resource_ids, list) or not resource_ids:
            return _metrics_error(400, "BadRequest", "resourceids must be non-empty")
        try:
            end = parse_iso_datetime(params["endtime"]) if "endtime" in params else now
            start = (
                parse_iso_datetime(params["starttime"])
                if "starttime" in params
                else end - timedelta(hours=1)
            )
            interval_text = params.get("interval") or "PT1M"
            if interval_text.upper() == "FULL":
                interval = end - start
            else:
                interval = parse_iso_duration(interval_text)
            if interval <= timedelta(0):
                raise ValueError("interval must be positive")
            aggs_text = params.get("aggregation") or "count"
            aggs = [a.strip().lower() for a in aggs_text.split(",") if a.strip()]
            for a in aggs:
                if a not in _AGGREGATIONS:
                    raise ValueError(f"unsupported aggregation {a!r}")
            filt = (
                _parse_metric_filter(params["filter"]) if params.get("filter") else {}
            )
            top = int(params.get("top") or 10)
            # orderby is "<aggregation> asc|desc"; every aggregation of these
            # count metrics ranks series the same way, so only the direction
            # matters.
            order_parts = (params.get("orderby") or "count desc").split()
            if len(order_parts) not in (1, 2) or order_parts[0].lower() not in (
                _AGGREGATIONS
            ):
                raise ValueError(f"invalid orderby {params.get('orderby')!r}")
            ascending = len(order_parts) == 2 and order_parts[1].lower() == "asc"
            rollup = {
                r.strip().lower() for r in (params.get("rollupby") or "").split(",")
            }
        except (ValueError, KeyError) as exc:
            return _metrics_error(400, "BadRequest", str(exc))
        if end < start:
            return _metrics_error(400, "BadRequest", "endtime is before starttime")
        if interval_text.upper() == "FULL":
            interval_text = "FULL"
        values = []
        for rid in resource_ids:
            metrics = []
            for name in metric_names:
                try:
                    metrics.append(
                        self._metric(
                            str(rid),
                            name,
                            start,
                            end,
                            interval,
                            aggs,
                            filt,
                            top,
                            ascending,
                            rollup,
                        )
                    )
                except ValueError as exc:
                    return _metrics_error(400, "BadRequest", str(exc))
            values.append(
                {
                    "starttime": _iso(start),
                    "endtime": _iso(end),
                    "interval": interval_text
                    if interval_text == "FULL"
                    else _format_duration(interval),
                    "namespace": METRIC_NAMESPACE,
                    "resourceregion": self.region,
                    "resourceid": str(rid),
                    "value": metrics,
                }
            )
        return 200, {"values": values}

    def _metric(
        self,
        rid: str,
        name: str,
        start: datetime,
        end: datetime,
        interval: timedelta,
        aggs: list[str],
        filt: dict[str, list[str]],
        top: int,
        ascending: bool,
        rollup: set[str],
    ) -> dict[str, Any]:
        spec = _METRICS[name]
        dims_by_lower = {d.lower(): d for d in spec["dims"]}
        split: list[str] = []
        conds = [spec["where"]]
        for dim, wanted in filt.items():
            real = dims_by_lower.get(dim.lower())
            if real is None:
                # Azure rejects dimensions the metric does not define.
                raise ValueError(
                    f"Metric {name} does not have dimension {dim}. Valid dimensions: "
                    + ", ".join(spec["dims"])
                )
            expr = spec["dims"][real]
            if "*" in wanted:
                if real.lower() not in rollup:
                    split.append(real)
                continue
            if real.lower() not in rollup:
                split.append(real)
            lits = ", ".join(kql.sql_str(w.lower()) for w in wanted)
            conds.append(f"lower({expr}) IN ({lits})")
        start_us, end_us = kql.dt_to_us(start), kql.dt_to_us(end)
        step = interval // timedelta(microseconds=1)
        # Azure aligns buckets to the interval grain.
        first = (start_us // step) * step if interval < end - start else start_us
        time_col = spec["time"]
        bucket = f"(({time_col} - {first}) / {step})"
        dim_sql = [spec["dims"][d] for d in split]
        select = ", ".join([bucket, *dim_sql, "count(*)"])
        group = ", ".join(str(i + 1) for i in range(1 + len(dim_sql)))
        sql = (
            f"SELECT {select} FROM {kql.q(spec['table'])} "
            f"WHERE {spec['resource']} = ? AND {time_col} >= ? AND {time_col} < ? "
            f"AND {' AND '.join(f'({c})' for c in conds)} GROUP BY {group}"
        )
        conn = self._connect()
        try:
            result = conn.execute(sql, (rid.lower(), start_us, end_us)).fetchall()
        finally:
            conn.close()
        n_buckets = max(1, -(-(end_us - first) // step))
        series: dict[tuple[str, ...], dict[int, int]] = {}
        for row in result:
            key = tuple("" if v is None else str(v) for v in row[1:-1])
            series.setdefault(key, {})[int(row[0])] = int(row[-1])
        if not split:
            series.setdefault((), {})
        # Emulator behaviour: like Azure, at most `top` (default 10) series,
        # largest total first unless orderby says asc.
        sign = 1 if ascending else -1
        ordered = sorted(
            series.items(), key=lambda kv: (sign * sum(kv[1].values()), kv[0])
        )
        if split:
            ordered = ordered[: max(top, 0)]
        timeseries = []
        for key, buckets in ordered:
            data = []
            for i in range(n_buckets):
                n = buckets.get(i, 0)
                point: dict[str, Any] = {
                    "timeStamp": _iso(kql.us_to_dt(first + i * step))
                }
                for agg in aggs:
                    if agg == "count":
                        point["count"] = float(n)
                    elif agg == "total":
                        point["total"] = float(n)
                    elif n:
                        # Each event contributes the value 1.
                        point[agg] = 1.0
                data.append(point)
            timeseries.append(
                {
                    "metadatavalues": [
                        {
                            "name": {"value": d.lower(), "localizedValue": d.lower()},
                            "value": v,
                        }
                        for d, v in zip(split, key, strict=True)
                    ],
                    "data": data,
                }
            )
        return {
            "id": f"{rid}/providers/Microsoft.Insights/metrics/{name}",
            "type": "Microsoft.Insights/metrics",
            "name": {"value": name, "localizedValue": spec["display"]},
            "displayDescription": spec["description"],
            "unit": "Count",
            "errorCode": "Success",
            "timeseries": timeseries,
        }


def _format_duration(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    days, rem = divmod(total, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, seconds = divmod(rem, 60)
    out = "P"
    if days:
        out += f"{days}D"
    if hours or minutes or seconds or not days:
        out += "T"
        if hours:
            out += f"{hours}H"
        if minutes:
            out += f"{minutes}M"
        if seconds or not (hours or minutes):
            out += f"{seconds}S"
    return out
