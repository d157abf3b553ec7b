"""A KQL (Kusto Query Language) subset compiled to SQLite SQL.

The emulator's Log Analytics query API parses the query into an AST and
compiles the whole pipeline into a single SQLite statement, so that summaries
over a million rows run inside SQLite instead of a Python loop.

Anything outside the supported subset raises :class:`KqlError`, which the log
store turns into Log Analytics' ``400 BadArgumentError``: the emulator prefers
refusing a query to answering it wrongly.

Supported subset:

* statements: ``let name = <scalar>;``, ``let T = <tabular>;``, one tabular
  expression; ``//`` comments.
* sources: a table name, ``union [kind=inner|outer] T1, T2, Pattern*, (...)``.
* operators: ``where``/``filter``, ``project`` (``A = expr``), ``project-away``,
  ``project-keep``, ``project-rename``, ``extend``, ``summarize [aggs] [by
  keys]``, ``order by``/``sort by`` (``asc``/``desc``, default desc,
  ``nulls first|last``), ``take``/``limit``, ``top N by expr [asc|desc]``,
  ``count``, ``distinct cols|*``, ``union``, ``join kind=innerunique (default)
  |inner|leftouter|leftsemi|leftanti (...) on Col | $left.A == $right.B``,
  ``render`` (ignored, as by the query API).
* predicates: ``== != < <= > >= =~ !~``, ``and or not()``, ``in !in in~ !in~``,
  ``between``/``!between`` (``a .. b`` or ``start .. timespan``), ``has``,
  ``contains``, ``startswith``, ``endswith`` (all with ``!`` and ``_cs``
  forms), ``hasprefix``, ``hassuffix``, ``matches regex``.
* literals: strings (``"" '' @"" h""``), long, real, bool, timespans
  (``1d 2h 30m 10s 100ms``), ``datetime(...)``, ``timespan(...)``/``time(...)``.
* scalar functions: ``ago now bin floor startofday endofday startofmonth
  startofyear hourofday tolower toupper strcat strlen substring tostring toint
  tolong toreal todouble todatetime isempty isnotempty isnull isnotnull not iff
  iif case coalesce abs round``; arithmetic ``+ - * / %`` incl. datetime and
  timespan arithmetic.
* aggregates: ``count countif sum sumif avg avgif min max dcount dcountif
  make_set make_list take_any any``, expressions over aggregates, and
  ``arg_max``/``arg_min`` (as the only aggregate of a summarize).

Value representation inside SQLite (see ``LogStore``):

* string   -> TEXT, never NULL (KQL strings are never null; empty is ``''``)
* long/int -> INTEGER (nullable)
* real     -> REAL (nullable)
* bool     -> INTEGER 0/1 (nullable)
* datetime -> INTEGER microseconds since the Unix epoch (nullable)
* timespan -> INTEGER microseconds (nullable)
* dynamic  -> TEXT holding JSON
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

US_PER_SECOND = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NUMERIC = ("int", "long", "real")
TYPES = ("string", "long", "int", "real", "bool", "datetime", "timespan", "dynamic")


class KqlError(Exception):
    """A query the emulator refuses (syntax or semantic error)."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        code: str | None = None,
        line: int | None = None,
        pos: int | None = None,
        token: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind  # "SyntaxError" | "SemanticError"
        self.message = message
        self.code = code or ("SYN0002" if kind == "SyntaxError" else "SEM0100")
        self.line = line
        self.pos = pos
        self.token = token


def _semantic(message: str) -> KqlError:
    return KqlError("SemanticError", message)


# ---------------------------------------------------------------------------
# Value conversion helpers (shared with the log store)
# ---------------------------------------------------------------------------


def dt_to_us(value: datetime) -> int:
    """Aware datetime -> microseconds since epoch (naive is taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - EPOCH
    return (delta.days * 86400 + delta.seconds) * US_PER_SECOND + delta.microseconds


def us_to_dt(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


_ISO_FRACTION = re.compile(r"\.(\d+)")


def parse_datetime_text(text: str) -> int:
    """Parse the formats KQL's datetime() literal and ISO 8601 strings use."""
    raw = text.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        raw = raw[1:-1].strip()
    norm = raw.replace(" ", "T", 1) if "T" not in raw else raw
    if norm.endswith(("Z", "z")):
        norm = norm[:-1] + "+00:00"
    # Python accepts at most 6 fractional digits; KQL has 7 (100 ns ticks).
    norm = _ISO_FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], norm, 1)
    try:
        parsed = datetime.fromisoformat(norm)
    except ValueError:
        try:
            parsed = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(f"invalid datetime literal {text!r}") from None
    return dt_to_us(parsed)


def format_datetime(us: int) -> str:
    """KQL/Log Analytics wire format: ISO 8601, 'Z', 7 fraction digits if any."""
    dt = us_to_dt(us)
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        return f"{base}.{dt.microsecond:06d}0Z"
    return base + "Z"


def format_timespan(us: int) -> str:
    """KQL timespan text: [-][d.]hh:mm:ss[.fffffff]."""
    sign = "-" if us < 0 else ""
    us = abs(us)
    days, rem = divmod(us, 86400 * US_PER_SECOND)
    hours, rem = divmod(rem, 3600 * US_PER_SECOND)
    minutes, rem = divmod(rem, 60 * US_PER_SECOND)
    seconds, micro = divmod(rem, US_PER_SECOND)
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if days:
        text = f"{days}.{text}"
    if micro:
        text += f".{micro:06d}0"
    return sign + text


_UNITS: dict[str, int] = {}
for _names, _us in (
    (("d", "day", "days"), 86400 * US_PER_SECOND),
    (("h", "hr", "hrs", "hour", "hours"), 3600 * US_PER_SECOND),
    (("m", "min", "mins", "minute", "minutes"), 60 * US_PER_SECOND),
    (("s", "sec", "secs", "second", "seconds"), US_PER_SECOND),
    (("ms", "milli", "millis", "millisecond", "milliseconds"), 1000),
    (("microsecond", "microseconds"), 1),
):
    for _n in _names:
        _UNITS[_n] = _us


def parse_timespan_text(text: str) -> int:
    """Parse timespan(...) contents: '1d', '1.5h', '00:30:00', '1.02:00:00'."""
    raw = text.strip()
    m = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*([a-zA-Z]+)", raw)
    if m and m.group(2).lower() in _UNITS:
        return round(float(m.group(1)) * _UNITS[m.group(2).lower()])
    m = re.fullmatch(r"(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?", raw)
    if m:
        sign, d, h, mi, s, frac = m.groups()
        total = (
            (int(d or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + int(s or 0))
            * US_PER_SECOND
        ) + int(((frac or "") + "000000")[:6])
        return -total if sign else total
    raise ValueError(f"invalid timespan literal {text!r}")


# ---------------------------------------------------------------------------
# SQLite user functions (registered on every connection the store opens)
# ---------------------------------------------------------------------------


def _is_term_char(ch: str) -> bool:
    return ch.isalnum()


def _kql_has(hay: str | None, needle: str | None, cs: int = 0) -> int:
    """KQL `has`: needle matches whole terms (alphanumeric runs).

    Log Analytics implements `has` over a term index; matching the needle at
    non-alphanumeric boundaries gives the same answer for ordinary text.
    """
    if hay is None or needle is None:
        return 0
    if not needle:
        return 1
    if not cs:
        hay, needle = hay.lower(), needle.lower()
    start = 0
    while True:
        i = hay.find(needle, start)
        if i < 0:
            return 0
        end = i + len(needle)
        before_ok = (
            i == 0 or not _is_term_char(hay[i - 1]) or not _is_term_char(needle[0])
        )
        after_ok = (
            end == len(hay)
            or not _is_term_char(hay[end])
            or not _is_term_char(needle[-1])
        )
        if before_ok and after_ok:
            return 1
        start = i + 1


def _kql_affix(hay: str | None, needle: str | None, *, prefix: bool) -> int:
    """hasprefix/hassuffix: a term of ``hay`` starts/ends with ``needle``."""
    if hay is None or needle is None:
        return 0
    hay, needle = hay.lower(), needle.lower()
    start = 0
    while (i := hay.find(needle, start)) >= 0:
        end = i + len(needle)
        if prefix and (i == 0 or not _is_term_char(hay[i - 1])):
            return 1
        if not prefix and (end == len(hay) or not _is_term_char(hay[end])):
            return 1
        start = i + 1
    return 0


def _kql_hasprefix(hay: str | None, needle: str | None) -> int:
    return _kql_affix(hay, needle, prefix=True)


def _kql_hassuffix(hay: str | None, needle: str | None) -> int:
    return _kql_affix(hay, needle, prefix=False)


def _kql_dtstr(us: int | None) -> str:
    return "" if us is None else format_datetime(int(us))


# A quoted column name: cheap to evaluate more than once in one SQL expression.
_COLUMN_REF = re.compile(r'"[^"]+"')
# 10000-01-01T00:00:00Z in microseconds: SQLite's strftime stops at year 9999.
_MAX_SQL_DATETIME_US = 253_402_300_800_000_000


def _dtstr_sql(col: str) -> str:
    """``format_datetime`` of a column, in SQL: ``tostring(TimeGenerated)`` of a
    whole result runs inside SQLite instead of one Python call per row. Only the
    common case (an integer from 1970 to 9999) is formatted in SQL; anything
    else still goes through ``kql_dtstr``, so the text is always identical."""
    return (
        f"(CASE WHEN {col} IS NULL THEN '' "
        f"WHEN typeof({col}) = 'integer' AND {col} >= 0 "
        f"AND {col} < {_MAX_SQL_DATETIME_US} THEN "
        f"strftime('%Y-%m-%dT%H:%M:%S', {col} / {US_PER_SECOND}, 'unixepoch') || "
        f"(CASE WHEN {col} % {US_PER_SECOND} = 0 THEN 'Z' "
        f"ELSE printf('.%06d0Z', {col} % {US_PER_SECOND}) END) "
        f"ELSE kql_dtstr({col}) END)"
    )


def _kql_tsstr(us: int | None) -> str:
    return "" if us is None else format_timespan(int(us))


def _kql_realstr(value: float | None) -> str:
    if value is None:
        return ""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _kql_tolong(value: object) -> int | None:
    if value is None:
        return None
    try:
        if isinstance(value, str):
            text = value.strip()
            return int(text) if re.fullmatch(r"[+-]?\d+", text) else int(float(text))
        return int(value)  # type: ignore[call-overload]
    except (ValueError, OverflowError):
        return None


def _kql_toreal(value: object) -> float | None:
    if value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except ValueError:
        return None


def _kql_todatetime(value: object) -> int | None:
    if value is None or value == "":
        return None
    try:
        return parse_datetime_text(str(value))
    except ValueError:
        return None


def _kql_regex(hay: str | None, pattern: str | None) -> int:
    if hay is None or pattern is None:
        return 0
    return 1 if re.search(pattern, hay) else 0


def _kql_floor_real(value: float | None, size: float | None) -> float | None:
    if value is None or not size:
        return None
    return math.floor(value / size) * size


def _kql_round(value: float | None, digits: int | None) -> float | None:
    if value is None:
        return None
    return round(float(value), int(digits or 0))


def _kql_startofmonth(us: int | None) -> int | None:
    if us is None:
        return None
    dt = us_to_dt(int(us))
    return dt_to_us(datetime(dt.year, dt.month, 1, tzinfo=UTC))


def _kql_startofyear(us: int | None) -> int | None:
    if us is None:
        return None
    return dt_to_us(datetime(us_to_dt(int(us)).year, 1, 1, tzinfo=UTC))


def register_functions(conn: sqlite3.Connection) -> None:
    det = {"deterministic": True}
    conn.create_function("kql_has", 2, _kql_has, **det)
    conn.create_function("kql_has", 3, _kql_has, **det)
    conn.create_function("kql_hasprefix", 2, _kql_hasprefix, **det)
    conn.create_function("kql_hassuffix", 2, _kql_hassuffix, **det)
    conn.create_function("kql_dtstr", 1, _kql_dtstr, **det)
    conn.create_function("kql_tsstr", 1, _kql_tsstr, **det)
    conn.create_function("kql_realstr", 1, _kql_realstr, **det)
    conn.create_function("kql_tolong", 1, _kql_tolong, **det)
    conn.create_function("kql_toreal", 1, _kql_toreal, **det)
    conn.create_function("kql_todatetime", 1, _kql_todatetime, **det)
    conn.create_function("kql_regex", 2, _kql_regex, **det)
    conn.create_function("kql_floor_real", 2, _kql_floor_real, **det)
    conn.create_function("kql_round", 2, _kql_round, **det)
    conn.create_function("kql_startofmonth", 1, _kql_startofmonth, **det)
    conn.create_function("kql_startofyear", 1, _kql_startofyear, **det)


# ---------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------


@dataclass
class Token:
    kind: str  # ident, string, int, real, timespan, datetime, op, eof
    value: object
    text: str
    pos: int
    end: int


_OPS = [
    "==",
    "!=",
    "<=",
    ">=",
    "=~",
    "!~",
    "..",
    "<",
    ">",
    "=",
    "+",
    "-",
    "*",
    "/",
    "%",
    "(",
    ")",
    ",",
    "|",
    ";",
    "!",
    "~",
    "[",
    "]",
    ".",
    ":",
]


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1)
    return line, col


def _syntax(text: str, pos: int, token: str) -> KqlError:
    line, col = _line_col(text, pos)
    return KqlError(
        "SyntaxError",
        f"Query could not be parsed at '{token}' on line [{line},{col}]",
        line=line,
        pos=col,
        token=token,
    )


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        start = i
        # Strings: "..." '...' with escapes, @"..." verbatim, h"..." obfuscated.
        if ch in "\"'" or (ch in "@hH" and i + 1 < n and text[i + 1] in "\"'"):
            verbatim = ch == "@"
            if ch not in "\"'":
                i += 1
            quote = text[i]
            i += 1
            buf: list[str] = []
            while True:
                if i >= n:
                    raise _syntax(text, start, text[start : start + 20])
                c = text[i]
                if c == quote:
                    if verbatim and i + 1 < n and text[i + 1] == quote:
                        buf.append(quote)
                        i += 2
                        continue
                    i += 1
                    break
                if c == "\\" and not verbatim:
                    if i + 1 >= n:
                        raise _syntax(text, start, text[start:])
                    esc = text[i + 1]
                    buf.append({"n": "\n", "t": "\t", "r": "\r"}.get(esc, esc))
                    i += 2
                    continue
                if c == "\n":
                    raise _syntax(text, start, text[start:i])
                buf.append(c)
                i += 1
            tokens.append(Token("string", "".join(buf), text[start:i], start, i))
            continue
        if ch.isdigit():
            m = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?").match(text, i)
            assert m is not None
            i = m.end()
            num_text = m.group(0)
            um = re.compile(r"[A-Za-z_]+").match(text, i)
            if um:
                unit = um.group(0).lower()
                if unit not in _UNITS:
                    raise _syntax(text, start, text[start : um.end()])
                i = um.end()
                us = round(float(num_text) * _UNITS[unit])
                tokens.append(Token("timespan", us, text[start:i], start, i))
                continue
            if m.group(1) or m.group(2):
                tokens.append(Token("real", float(num_text), num_text, start, i))
            else:
                tokens.append(Token("int", int(num_text), num_text, start, i))
            continue
        if ch.isalpha() or ch == "_" or ch == "$":
            m = re.compile(r"[A-Za-z_$][A-Za-z0-9_]*").match(text, i)
            assert m is not None
            word = m.group(0)
            i = m.end()
            # datetime(...) / timespan(...) / time(...) literals take raw text.
            if word in ("datetime", "timespan", "time"):
                j = i
                while j < n and text[j].isspace():
                    j += 1
                if j < n and text[j] == "(":
                    close = text.find(")", j)
                    if close < 0:
                        raise _syntax(text, start, text[start:])
                    inner = text[j + 1 : close]
                    i = close + 1
                    try:
                        if inner.strip() == "null":
                            value: object = None
                        elif word == "datetime":
                            value = parse_datetime_text(inner)
                        else:
                            value = parse_timespan_text(inner)
                    except ValueError:
                        raise _syntax(text, start, text[start:i]) from None
                    kind = "datetime" if word == "datetime" else "timespan"
                    tokens.append(Token(kind, value, text[start:i], start, i))
                    continue
            tokens.append(Token("ident", word, word, start, i))
            continue
        if ch == "[" and i + 1 < n and text[i + 1] in "\"'":
            # ['column name'] bracketed identifier
            quote = text[i + 1]
            close = text.find(quote + "]", i + 2)
            if close < 0:
                raise _syntax(text, start, text[start:])
            name = text[i + 2 : close]
            i = close + 2
            tokens.append(Token("ident", name, text[start:i], start, i))
            continue
        for op in _OPS:
            if text.startswith(op, i):
                i += len(op)
                tokens.append(Token("op", op, op, start, i))
                break
        else:
            raise _syntax(text, start, ch)
    tokens.append(Token("eof", None, "<end of query>", n, n))
    return tokens


# ---------------------------------------------------------------------------
# AST
# ---------------------------------------------------------------------------


@dataclass
class Lit:
    value: object
    type: str


@dataclass
class Col:
    name: str


@dataclass
class Call:
    name: str
    args: list[Expr]


@dataclass
class Bin:
    op: str
    left: Expr
    right: Expr


@dataclass
class Unary:
    op: str  # "-", "+"
    operand: Expr


@dataclass
class InList:
    operand: Expr
    items: list[Expr]
    negate: bool
    ci: bool


@dataclass
class Between:
    operand: Expr
    low: Expr
    high: Expr
    negate: bool


Expr = Lit | Col | Call | Bin | Unary | InList | Between


@dataclass
class NamedExpr:
    name: str | None
    expr: Expr


@dataclass
class SortKey:
    expr: Expr
    desc: bool
    nulls_first: bool


@dataclass
class Op:
    kind: str
    args: dict[str, object] = field(default_factory=dict)
    pos: int = 0


@dataclass
class Pipeline:
    source: str
    source_pos: int
    ops: list[Op]


# ---------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------

_STRING_OPS = {
    "has",
    "has_cs",
    "contains",
    "contains_cs",
    "startswith",
    "startswith_cs",
    "endswith",
    "endswith_cs",
    "hasprefix",
    "hassuffix",
}
_COMPARE_OPS = {"==", "!=", "<", "<=", ">", ">=", "=~", "!~"}


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.lets: dict[str, Expr | Pipeline] = {}

    # -- token helpers --
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def error(self, tok: Token | None = None) -> KqlError:
        tok = tok or self.tok
        return _syntax(self.text, tok.pos, tok.text)

    def advance(self) -> Token:
        tok = self.tok
        self.i += 1
        return tok

    def is_op(self, op: str) -> bool:
        return self.tok.kind == "op" and self.tok.value == op

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.value in words

    def expect_op(self, op: str) -> Token:
        if not self.is_op(op):
            raise self.error()
        return self.advance()

    def expect_word(self, word: str) -> Token:
        if not self.is_word(word):
            raise self.error()
        return self.advance()

    def ident(self) -> str:
        if self.tok.kind != "ident":
            raise self.error()
        return str(self.advance().value)

    # -- statements --
    def parse_query(self) -> Pipeline:
        result: Pipeline | None = None
        while self.tok.kind != "eof":
            if self.is_op(";"):
                self.advance()
                continue
            if self.is_word("let"):
                self.advance()
                name = self.ident()
                self.expect_op("=")
                bound = self.lets.get(str(self.tok.value))
                if (
                    self.tok.kind == "ident"
                    and self.peek().kind == "op"
                    and self.peek().value in ("|", ";")
                    and (bound is None or isinstance(bound, Pipeline))
                ):
                    self.lets[name] = self.parse_pipeline()
                else:
                    self.lets[name] = self.parse_expr()
                if not self.is_op(";"):
                    raise self.error()
                continue
            if result is not None:
                # Only one tabular expression statement is supported.
                raise self.error()
            result = self.parse_pipeline()
            if not (self.is_op(";") or self.tok.kind == "eof"):
                raise self.error()
        if result is None:
            raise KqlError(
                "SyntaxError",
                "The query does not contain a tabular expression statement",
                code="SYN0001",
            )
        return result

    def parse_pipeline(self) -> Pipeline:
        tok = self.tok
        if tok.kind != "ident":
            raise self.error()
        if tok.value == "union" and not (
            self.peek().kind == "eof"
            or (self.peek().kind == "op" and self.peek().value in ("|", ";", ")"))
        ):
            # `union A, B | ...` is compiled as a union applied to nothing.
            self.advance()
            ops = [self.parse_union(tok.pos)]
            while self.is_op("|"):
                self.advance()
                ops.append(self.parse_operator())
            return Pipeline("", tok.pos, ops)
        self.advance()
        name = str(tok.value)
        ops = []
        let = self.lets.get(name)
        if isinstance(let, Pipeline):
            ops.extend(let.ops)
            source, source_pos = let.source, let.source_pos
        else:
            source, source_pos = name, tok.pos
        while self.is_op("|"):
            self.advance()
            ops.append(self.parse_operator())
        return Pipeline(source, source_pos, ops)

    def parse_kind(self, allowed: tuple[str, ...], default: str) -> str:
        if not self.is_word("kind"):
            return default
        self.advance()
        self.expect_op("=")
        if not self.is_word(*allowed):
            raise self.error()
        return str(self.advance().value)

    def parse_source(self) -> Pipeline:
        """A table (pattern), a let-bound tabular name or ``( pipeline )``."""
        if self.is_op("("):
            self.advance()
            inner = self.parse_pipeline()
            self.expect_op(")")
            return inner
        tok = self.tok
        if tok.kind != "ident":
            raise self.error()
        self.advance()
        name = str(tok.value)
        if self.is_op("*") and self.tok.pos == tok.end:
            self.advance()
            name += "*"
        let = self.lets.get(name)
        if isinstance(let, Pipeline):
            return let
        if let is not None:
            raise self.error(tok)
        return Pipeline(name, tok.pos, [])

    def parse_union(self, pos: int) -> Op:
        kind = self.parse_kind(("inner", "outer"), "outer")
        sources = [self.parse_source()]
        while self.is_op(","):
            self.advance()
            sources.append(self.parse_source())
        return Op("union", {"kind": kind, "sources": sources}, pos)

    def parse_join(self, pos: int) -> Op:
        kind = self.parse_kind(
            ("inner", "innerunique", "leftouter", "leftsemi", "leftanti"),
            "innerunique",
        )
        right = self.parse_source()
        self.expect_word("on")
        keys: list[tuple[str, str]] = []
        while True:
            if self.is_word("$left"):
                self.advance()
                self.expect_op(".")
                left_key = self.ident()
                self.expect_op("==")
                self.expect_word("$right")
                self.expect_op(".")
                keys.append((left_key, self.ident()))
            else:
                name = self.ident()
                keys.append((name, name))
            if not self.is_op(","):
                break
            self.advance()
        return Op("join", {"kind": kind, "right": right, "keys": keys}, pos)

    def _op_name(self) -> tuple[str, int]:
        tok = self.tok
        if tok.kind != "ident":
            raise self.error()
        self.advance()
        name = str(tok.value)
        # Hyphenated operator names: project-away, project-rename, ...
        if self.is_op("-") and self.tok.pos == tok.end and self.peek().kind == "ident":
            self.advance()
            name += "-" + str(self.advance().value)
        return name, tok.pos

    def parse_operator(self) -> Op:
        start_tok = self.tok
        name, pos = self._op_name()
        if name in ("where", "filter"):
            return Op("where", {"expr": self.parse_expr()}, pos)
        if name in ("project", "extend"):
            return Op(name, {"items": self.parse_named_list()}, pos)
        if name == "project-away":
            return Op(name, {"names": self.parse_name_list()}, pos)
        if name == "project-keep":
            return Op(name, {"names": self.parse_name_list()}, pos)
        if name == "project-rename":
            pairs = []
            while True:
                new = self.ident()
                self.expect_op("=")
                old = self.ident()
                pairs.append((new, old))
                if not self.is_op(","):
                    break
                self.advance()
            return Op(name, {"pairs": pairs}, pos)
        if name == "summarize":
            aggs: list[NamedExpr] = []
            if not self.is_word("by"):
                aggs = self.parse_named_list()
            by: list[NamedExpr] = []
            if self.is_word("by"):
                self.advance()
                by = self.parse_named_list()
            if not aggs and not by:
                raise self.error()
            return Op(name, {"aggs": aggs, "by": by}, pos)
        if name in ("order", "sort"):
            self.expect_word("by")
            keys = [self.parse_sort_key()]
            while self.is_op(","):
                self.advance()
                keys.append(self.parse_sort_key())
            return Op("sort", {"keys": keys}, pos)
        if name in ("take", "limit"):
            return Op("take", {"expr": self.parse_expr()}, pos)
        if name == "top":
            count = self.parse_expr()
            self.expect_word("by")
            key = self.parse_sort_key()
            return Op("top", {"expr": count, "key": key}, pos)
        if name == "count":
            return Op("count", {}, pos)
        if name == "distinct":
            if self.is_op("*"):
                self.advance()
                return Op("distinct", {"names": None}, pos)
            return Op("distinct", {"names": self.parse_name_list()}, pos)
        if name == "union":
            return self.parse_union(pos)
        if name == "join":
            return self.parse_join(pos)
        if name == "render":
            # Visualisation hint only: Log Analytics returns the data unchanged.
            while not (self.tok.kind == "eof" or self.is_op("|") or self.is_op(";")):
                self.advance()
            return Op("render", {}, pos)
        raise self.error(start_tok)

    def parse_name_list(self) -> list[str]:
        names = [self.ident()]
        while self.is_op(","):
            self.advance()
            names.append(self.ident())
        return names

    def parse_named_list(self) -> list[NamedExpr]:
        items = [self.parse_named()]
        while self.is_op(","):
            self.advance()
            items.append(self.parse_named())
        return items

    def parse_named(self) -> NamedExpr:
        if (
            self.tok.kind == "ident"
            and self.peek().kind == "op"
            and self.peek().value == "="
        ):
            name = self.ident()
            self.advance()
            return NamedExpr(name, self.parse_expr())
        return NamedExpr(None, self.parse_expr())

    def parse_arg(self) -> Expr:
        # `*` stands for "all columns" in arg_max(x, *) / arg_min(x, *).
        if (
            self.is_op("*")
            and self.peek().kind == "op"
            and self.peek().value in (",", ")")
        ):
            self.advance()
            return Col("*")
        return self.parse_expr()

    def parse_sort_key(self) -> SortKey:
        expr = self.parse_expr()
        desc = True  # KQL sorts descending unless told otherwise
        if self.is_word("asc"):
            self.advance()
            desc = False
        elif self.is_word("desc"):
            self.advance()
        # Default null placement: nulls last for desc, first for asc.
        nulls_first = not desc
        if self.is_word("nulls"):
            self.advance()
            if self.is_word("first"):
                nulls_first = True
            elif self.is_word("last"):
                nulls_first = False
            else:
                raise self.error()
            self.advance()
        return SortKey(expr, desc, nulls_first)

    # -- expressions (precedence: or < and < comparison < +,- < *,/,% < unary) --
    def parse_expr(self) -> Expr:
        left = self.parse_and()
        while self.is_word("or"):
            self.advance()
            left = Bin("or", left, self.parse_and())
        return left

    def parse_and(self) -> Expr:
        left = self.parse_compare()
        while self.is_word("and"):
            self.advance()
            left = Bin("and", left, self.parse_compare())
        return left

    def parse_compare(self) -> Expr:
        left = self.parse_additive()
        tok = self.tok
        if tok.kind == "op" and tok.value in _COMPARE_OPS:
            self.advance()
            return Bin(str(tok.value), left, self.parse_additive())
        negate = False
        if (
            self.is_op("!")
            and self.peek().kind == "ident"
            and self.peek().pos == tok.end
        ):
            negate = True
            self.advance()
        if self.tok.kind != "ident":
            if negate:
                raise self.error()
            return left
        word = str(self.tok.value)
        if word in _STRING_OPS:
            self.advance()
            right = self.parse_additive()
            node: Expr = Bin(word, left, right)
            return Call("not", [node]) if negate else node
        if word == "in":
            self.advance()
            ci = False
            if self.is_op("~") and self.tok.pos == self.tokens[self.i - 1].end:
                self.advance()
                ci = True
            self.expect_op("(")
            items = [self.parse_expr()]
            while self.is_op(","):
                self.advance()
                items.append(self.parse_expr())
            self.expect_op(")")
            return InList(left, items, negate, ci)
        if word == "between":
            self.advance()
            self.expect_op("(")
            low = self.parse_additive()
            self.expect_op("..")
            high = self.parse_additive()
            self.expect_op(")")
            return Between(left, low, high, negate)
        if word == "matches" and not negate:
            self.advance()
            self.expect_word("regex")
            return Bin("matches regex", left, self.parse_additive())
        if negate:
            raise self.error()
        return left

    def parse_additive(self) -> Expr:
        left = self.parse_multiplicative()
        while self.tok.kind == "op" and self.tok.value in ("+", "-"):
            op = str(self.advance().value)
            left = Bin(op, left, self.parse_multiplicative())
        return left

    def parse_multiplicative(self) -> Expr:
        left = self.parse_unary()
        while self.tok.kind == "op" and self.tok.value in ("*", "/", "%"):
            op = str(self.advance().value)
            left = Bin(op, left, self.parse_unary())
        return left

    def parse_unary(self) -> Expr:
        if self.tok.kind == "op" and self.tok.value in ("-", "+"):
            op = str(self.advance().value)
            return Unary(op, self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Expr:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return Lit(tok.value, "string")
        if tok.kind == "int":
            self.advance()
            return Lit(tok.value, "long")
        if tok.kind == "real":
            self.advance()
            return Lit(tok.value, "real")
        if tok.kind == "timespan":
            self.advance()
            return Lit(tok.value, "timespan")
        if tok.kind == "datetime":
            self.advance()
            return Lit(tok.value, "datetime")
        if tok.kind == "op" and tok.value == "(":
            self.advance()
            inner = self.parse_expr()
            self.expect_op(")")
            return inner
        if tok.kind == "ident":
            self.advance()
            name = str(tok.value)
            if self.is_op("("):
                self.advance()
                args: list[Expr] = []
                if not self.is_op(")"):
                    args.append(self.parse_arg())
                    while self.is_op(","):
                        self.advance()
                        args.append(self.parse_arg())
                self.expect_op(")")
                return Call(name, args)
            if name in ("true", "True", "TRUE"):
                return Lit(True, "bool")
            if name in ("false", "False", "FALSE"):
                return Lit(False, "bool")
            let = self.lets.get(name)
            if isinstance(let, Pipeline):
                raise self.error(tok)
            if let is not None:
                return let
            return Col(name)
        raise self.error()


def parse(text: str) -> Pipeline:
    return Parser(text).parse_query()


# ---------------------------------------------------------------------------
# Compiler
# ---------------------------------------------------------------------------


def q(name: str) -> str:
    """Quote an identifier for SQLite."""
    return '"' + name.replace('"', '""') + '"'


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class Rel:
    """A compiled relation: a SELECT plus its visible and carried columns."""

    sql: str
    cols: list[tuple[str, str]]
    # Columns carried along but not visible (sort keys kept for later ops).
    hidden: list[str] = field(default_factory=list)
    # Sort order as (column name, desc, nulls_first); names visible or hidden.
    order: list[tuple[str, bool, bool]] = field(default_factory=list)

    def schema(self) -> dict[str, str]:
        return dict(self.cols)


_AGG_PREFIX = {
    "count": "count",
    "countif": "countif",
    "sum": "sum",
    "sumif": "sumif",
    "avg": "avg",
    "avgif": "avgif",
    "min": "min",
    "max": "max",
    "dcount": "dcount",
    "dcountif": "dcountif",
    "make_set": "set",
    "make_list": "list",
    "take_any": "any",
    "arg_max": "max",
    "arg_min": "min",
    "any": "any",
}


@dataclass
class CompiledQuery:
    sql: str
    columns: list[tuple[str, str]]


class Compiler:
    def __init__(
        self,
        text: str,
        tables: dict[str, list[tuple[str, str]]],
        *,
        now_us: int,
        source_filter: Callable[[str], str] | None = None,
    ) -> None:
        self.text = text
        self.tables = tables
        self.now_us = now_us
        self.source_filter = source_filter
        self.hidden_seq = 0

    # -- expressions --
    def expr(
        self,
        e: Expr,
        scope: dict[str, str],
        ctx: str,
        aggs_allowed: bool = False,
    ) -> tuple[str, str]:
        if isinstance(e, Lit):
            return self._lit(e), e.type
        if isinstance(e, Col):
            if e.name not in scope:
                raise _semantic(
                    f"'{ctx}' operator: Failed to resolve scalar expression named "
                    f"'{e.name}'"
                )
            return q(e.name), scope[e.name]
        if isinstance(e, Unary):
            sql, t = self.expr(e.operand, scope, ctx, aggs_allowed)
            if t not in (*NUMERIC, "timespan"):
                raise _semantic(f"Unary '{e.op}' cannot be applied to type {t}")
            return (f"(-{sql})" if e.op == "-" else sql), t
        if isinstance(e, Bin):
            return self._binary(e, scope, ctx, aggs_allowed)
        if isinstance(e, InList):
            lhs, lt = self.expr(e.operand, scope, ctx, aggs_allowed)
            parts = []
            for item in e.items:
                s, t = self.expr(item, scope, ctx, aggs_allowed)
                self._check_comparable(lt, t, "in")
                parts.append(f"lower({s})" if e.ci and t == "string" else s)
            if e.ci and lt != "string":
                raise _semantic("Operator 'in~' requires string operands")
            target = f"lower({lhs})" if e.ci else lhs
            op = "NOT IN" if e.negate else "IN"
            return f"({target} {op} ({', '.join(parts)}))", "bool"
        if isinstance(e, Between):
            s, t = self.expr(e.operand, scope, ctx, aggs_allowed)
            lo, lt = self.expr(e.low, scope, ctx, aggs_allowed)
            hi, ht = self.expr(e.high, scope, ctx, aggs_allowed)
            self._check_comparable(t, lt, "between")
            if t == "datetime" and ht == "timespan":
                hi = f"({lo} + {hi})"  # between (start .. duration)
            else:
                self._check_comparable(t, ht, "between")
            op = "NOT BETWEEN" if e.negate else "BETWEEN"
            return f"({s} {op} {lo} AND {hi})", "bool"
        if isinstance(e, Call):
            return self._call(e, scope, ctx, aggs_allowed)
        raise _semantic("Unsupported expression")  # pragma: no cover

    def _lit(self, e: Lit) -> str:
        v = e.value
        if v is None:
            return "NULL"
        if e.type == "string":
            return sql_str(str(v))
        if e.type == "bool":
            return "1" if v else "0"
        if e.type == "real":
            return repr(float(v))  # type: ignore[arg-type]
        return str(int(v))  # type: ignore[call-overload]

    @staticmethod
    def _comparable(a: str, b: str) -> bool:
        return a == b or (a in NUMERIC and b in NUMERIC)

    def _check_comparable(self, a: str, b: str, op: str) -> None:
        if not self._comparable(a, b):
            raise _semantic(
                f"Cannot compare values of types {a} and {b}. Try adding explicit casts"
                if op != "in"
                else f"Operator 'in' has incompatible operand types {a} and {b}"
            )

    def _binary(
        self, e: Bin, scope: dict[str, str], ctx: str, aggs_allowed: bool
    ) -> tuple[str, str]:
        ls, lt = self.expr(e.left, scope, ctx, aggs_allowed)
        rs, rt = self.expr(e.right, scope, ctx, aggs_allowed)
        op = e.op
        if op in ("and", "or"):
            if lt != "bool" or rt != "bool":
                raise _semantic(
                    f"Operator '{op}' requires bool operands, got {lt}, {rt}"
                )
            return f"({ls} {op.upper()} {rs})", "bool"
        if op in ("==", "!=", "<", "<=", ">", ">="):
            if lt == "dynamic" or rt == "dynamic":
                raise _semantic(f"Cannot compare values of types {lt} and {rt}")
            self._check_comparable(lt, rt, op)
            sql_op = {"==": "=", "!=": "<>"}.get(op, op)
            return f"({ls} {sql_op} {rs})", "bool"
        if op in ("=~", "!~"):
            if lt != "string" or rt != "string":
                raise _semantic(f"Operator '{op}' requires string operands")
            sql_op = "=" if op == "=~" else "<>"
            return f"(lower({ls}) {sql_op} lower({rs}))", "bool"
        if op in _STRING_OPS or op == "matches regex":
            if lt != "string" or rt != "string":
                raise _semantic(
                    f"Operator '{op}' requires string operands, got {lt} and {rt}. "
                    "Try tostring()"
                )
            return self._string_op(op, ls, rs), "bool"
        if op in ("+", "-", "*", "/", "%"):
            return self._arith(op, ls, lt, rs, rt)
        raise _semantic(f"Unsupported operator '{op}'")  # pragma: no cover

    @staticmethod
    def _string_op(op: str, ls: str, rs: str) -> str:
        # SQLite lower() folds ASCII only; Japanese text has no case so this
        # matches Kusto for the data the emulator produces.
        if op == "contains":
            return f"(instr(lower({ls}), lower({rs})) > 0)"
        if op == "contains_cs":
            return f"(instr({ls}, {rs}) > 0)"
        if op == "startswith":
            return f"(substr(lower({ls}), 1, length({rs})) = lower({rs}))"
        if op == "startswith_cs":
            return f"(substr({ls}, 1, length({rs})) = {rs})"
        if op == "endswith":
            return (
                f"(length({rs}) <= length({ls}) AND "
                f"substr(lower({ls}), length({ls}) - length({rs}) + 1) = lower({rs}))"
            )
        if op == "endswith_cs":
            return (
                f"(length({rs}) <= length({ls}) AND "
                f"substr({ls}, length({ls}) - length({rs}) + 1) = {rs})"
            )
        if op == "has":
            return f"(kql_has({ls}, {rs}) = 1)"
        if op == "has_cs":
            return f"(kql_has({ls}, {rs}, 1) = 1)"
        if op == "hasprefix":
            return f"(kql_hasprefix({ls}, {rs}) = 1)"
        if op == "hassuffix":
            return f"(kql_hassuffix({ls}, {rs}) = 1)"
        if op == "matches regex":
            return f"(kql_regex({ls}, {rs}) = 1)"
        raise _semantic(f"Unsupported operator '{op}'")  # pragma: no cover

    def _arith(self, op: str, ls: str, lt: str, rs: str, rt: str) -> tuple[str, str]:
        expr = f"({ls} {op} {rs})"
        if lt in NUMERIC and rt in NUMERIC:
            if "real" in (lt, rt):
                return expr, "real"
            return expr, "int" if lt == rt == "int" else "long"
        if op == "-" and lt == rt == "datetime":
            return expr, "timespan"
        if op in ("+", "-") and lt == "datetime" and rt == "timespan":
            return expr, "datetime"
        if op == "+" and lt == "timespan" and rt == "datetime":
            return expr, "datetime"
        if op in ("+", "-") and lt == rt == "timespan":
            return expr, "timespan"
        if op == "/" and lt == rt == "timespan":
            return f"(CAST({ls} AS REAL) / {rs})", "real"
        if op in ("*", "/") and lt == "timespan" and rt in NUMERIC:
            return f"CAST({expr} AS INTEGER)", "timespan"
        if op == "*" and rt == "timespan" and lt in NUMERIC:
            return f"CAST({expr} AS INTEGER)", "timespan"
        raise _semantic(f"Operator '{op}' cannot be applied to types {lt} and {rt}")

    def _call(
        self, e: Call, scope: dict[str, str], ctx: str, aggs_allowed: bool
    ) -> tuple[str, str]:
        name = e.name
        if name in _AGG_PREFIX:
            if not aggs_allowed:
                raise _semantic(
                    f"Function '{name}' cannot be invoked in the current context"
                )
            return self._aggregate(e, scope, ctx)

        def args(n_min: int, n_max: int | None = None) -> list[tuple[str, str]]:
            n_max = n_min if n_max is None else n_max
            if not n_min <= len(e.args) <= n_max:
                raise _semantic(
                    f"Function '{name}': expected {n_min}"
                    + (f"..{n_max}" if n_max != n_min else "")
                    + f" arguments, got {len(e.args)}"
                )
            return [self.expr(a, scope, ctx, aggs_allowed) for a in e.args]

        def need(t: str, allowed: tuple[str, ...], what: str = "argument") -> None:
            if t not in allowed:
                raise _semantic(
                    f"Function '{name}': {what} of type {t} is not supported; "
                    f"expected {' or '.join(allowed)}"
                )

        if name == "now":
            a = args(0, 1)
            if a:
                need(a[0][1], ("timespan",))
                return f"({self.now_us} + {a[0][0]})", "datetime"
            return str(self.now_us), "datetime"
        if name == "ago":
            ((s, t),) = args(1)
            need(t, ("timespan",))
            return f"({self.now_us} - {s})", "datetime"
        if name in ("bin", "floor"):
            (s, t), (ss, st) = args(2)
            if t in ("datetime", "timespan"):
                need(st, ("timespan",), "bin size")
                return f"(({s} / {ss}) * {ss})", t
            if t in ("long", "int"):
                need(st, ("long", "int", "real"), "bin size")
                if st == "real":
                    return f"kql_floor_real({s}, {ss})", "real"
                return f"(({s} / {ss}) * {ss})", t
            if t == "real":
                need(st, NUMERIC, "bin size")
                return f"kql_floor_real({s}, {ss})", "real"
            need(t, ("datetime", "timespan", "long", "int", "real"))
        if name == "startofday":
            ((s, t),) = args(1)
            need(t, ("datetime",))
            day = 86400 * US_PER_SECOND
            return f"(({s} / {day}) * {day})", "datetime"
        if name == "endofday":
            ((s, t),) = args(1)
            need(t, ("datetime",))
            day = 86400 * US_PER_SECOND
            return f"(({s} / {day}) * {day} + {day - 1})", "datetime"
        if name == "startofmonth":
            ((s, t),) = args(1)
            need(t, ("datetime",))
            return f"kql_startofmonth({s})", "datetime"
        if name == "startofyear":
            ((s, t),) = args(1)
            need(t, ("datetime",))
            return f"kql_startofyear({s})", "datetime"
        if name == "hourofday":
            ((s, t),) = args(1)
            need(t, ("datetime",))
            return f"(({s} / {3600 * US_PER_SECOND}) % 24)", "int"
        if name in ("tolower", "toupper"):
            ((s, t),) = args(1)
            s = self._to_string(s, t)
            return f"{'lower' if name == 'tolower' else 'upper'}({s})", "string"
        if name == "strcat":
            a = args(1, 64)
            return "(" + " || ".join(
                self._to_string(s, t) for s, t in a
            ) + ")", "string"
        if name == "strlen":
            ((s, t),) = args(1)
            need(t, ("string",))
            return f"length({s})", "long"
        if name == "substring":
            a = args(2, 3)
            s = self._to_string(*a[0])
            need(a[1][1], ("long", "int"), "start index")
            if len(a) == 3:
                need(a[2][1], ("long", "int"), "length")
                return f"substr({s}, ({a[1][0]}) + 1, {a[2][0]})", "string"
            return f"substr({s}, ({a[1][0]}) + 1)", "string"
        if name == "tostring":
            ((s, t),) = args(1)
            return self._to_string(s, t), "string"
        if name in ("toint", "tolong"):
            ((s, t),) = args(1)
            rt = "int" if name == "toint" else "long"
            if t in ("long", "int", "bool"):
                return s, rt
            if t == "real":
                return f"CAST({s} AS INTEGER)", rt
            if t == "string":
                return f"kql_tolong({s})", rt
            need(t, ("string", "long", "int", "real", "bool"))
        if name in ("toreal", "todouble"):
            ((s, t),) = args(1)
            if t in NUMERIC or t == "bool":
                return f"CAST({s} AS REAL)", "real"
            if t == "string":
                return f"kql_toreal({s})", "real"
            need(t, ("string", "long", "int", "real", "bool"))
        if name == "todatetime":
            ((s, t),) = args(1)
            if t == "datetime":
                return s, t
            need(t, ("string",))
            return f"kql_todatetime({s})", "datetime"
        if name in ("isempty", "isnotempty"):
            ((s, t),) = args(1)
            if t in ("string", "dynamic"):
                test = f"({s} IS NULL OR {s} = '')"
            else:
                test = f"({s} IS NULL)"
            return (test if name == "isempty" else f"(NOT {test})"), "bool"
        if name in ("isnull", "isnotnull"):
            ((s, t),) = args(1)
            # Strings are never null in KQL.
            test = "0" if t == "string" else f"({s} IS NULL)"
            return (test if name == "isnull" else f"(NOT {test})"), "bool"
        if name == "not":
            ((s, t),) = args(1)
            need(t, ("bool",))
            return f"(NOT {s})", "bool"
        if name in ("iff", "iif"):
            (c, ct), (a, at), (b, bt) = args(3)
            need(ct, ("bool",), "condition")
            rt = self._unify(at, bt, name)
            return f"(CASE WHEN {c} THEN {a} ELSE {b} END)", rt
        if name == "case":
            if len(e.args) < 3 or len(e.args) % 2 == 0:
                raise _semantic(
                    "Function 'case': expects predicate/value pairs and else"
                )
            a = [self.expr(x, scope, ctx, aggs_allowed) for x in e.args]
            rt = a[-1][1]
            parts = []
            for i in range(0, len(a) - 1, 2):
                need(a[i][1], ("bool",), "predicate")
                rt = self._unify(rt, a[i + 1][1], name)
                parts.append(f"WHEN {a[i][0]} THEN {a[i + 1][0]}")
            return f"(CASE {' '.join(parts)} ELSE {a[-1][0]} END)", rt
        if name == "coalesce":
            a = args(2, 64)
            rt = a[0][1]
            for _, t in a[1:]:
                rt = self._unify(rt, t, name)
            if rt == "string":
                # Strings are never null; coalesce picks the first non-empty.
                inner = " ".join(f"WHEN {s} <> '' THEN {s}" for s, _ in a)
                return f"(CASE {inner} ELSE '' END)", rt
            return f"coalesce({', '.join(s for s, _ in a)})", rt
        if name == "abs":
            ((s, t),) = args(1)
            need(t, (*NUMERIC, "timespan"))
            return f"abs({s})", t
        if name == "round":
            a = args(1, 2)
            need(a[0][1], NUMERIC)
            digits = a[1][0] if len(a) == 2 else "0"
            return f"kql_round({a[0][0]}, {digits})", "real"
        raise _semantic(
            f"'{ctx}' operator: Failed to resolve scalar expression named '{name}'"
        )

    def _unify(self, a: str, b: str, fn: str) -> str:
        if a == b:
            return a
        if a in NUMERIC and b in NUMERIC:
            return "real" if "real" in (a, b) else "long"
        raise _semantic(f"Function '{fn}': arguments have different types {a} and {b}")

    @staticmethod
    def _to_string(s: str, t: str) -> str:
        if t in ("string", "dynamic"):
            return s
        if t == "datetime":
            if _COLUMN_REF.fullmatch(s):
                return _dtstr_sql(s)
            return f"kql_dtstr({s})"
        if t == "timespan":
            return f"kql_tsstr({s})"
        if t == "bool":
            return f"(CASE {s} WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE '' END)"
        if t == "real":
            return f"kql_realstr({s})"
        return f"coalesce(CAST({s} AS TEXT), '')"

    def _aggregate(self, e: Call, scope: dict[str, str], ctx: str) -> tuple[str, str]:
        name = e.name

        def arg(i: int) -> tuple[str, str]:
            # Aggregates cannot nest.
            return self.expr(e.args[i], scope, ctx, aggs_allowed=False)

        def nargs(n: int, m: int | None = None) -> None:
            m = n if m is None else m
            if not n <= len(e.args) <= m:
                raise _semantic(f"Aggregate '{name}' expects {n} arguments")

        def pred(i: int) -> str:
            s, t = arg(i)
            if t != "bool":
                raise _semantic(f"Aggregate '{name}': predicate must be bool")
            return s

        if name == "count":
            nargs(0)
            return "count(*)", "long"
        if name == "countif":
            nargs(1)
            return f"coalesce(sum(CASE WHEN {pred(0)} THEN 1 ELSE 0 END), 0)", "long"
        if name in ("sum", "sumif"):
            nargs(1 if name == "sum" else 2)
            s, t = arg(0)
            if t not in (*NUMERIC, "timespan"):
                raise _semantic(f"Aggregate '{name}' cannot sum values of type {t}")
            if name == "sumif":
                s = f"CASE WHEN {pred(1)} THEN {s} END"
            rt = "long" if t == "int" else t
            # Kusto's default value of sum() over no rows is 0, not null.
            return f"coalesce(sum({s}), 0)", rt
        if name in ("avg", "avgif"):
            nargs(1 if name == "avg" else 2)
            s, t = arg(0)
            if t not in NUMERIC:
                raise _semantic(f"Aggregate '{name}' requires a numeric argument")
            if name == "avgif":
                s = f"CASE WHEN {pred(1)} THEN {s} END"
            return f"avg({s})", "real"
        if name in ("min", "max"):
            nargs(1)
            s, t = arg(0)
            if t in ("dynamic", "bool"):
                raise _semantic(f"Aggregate '{name}' does not support type {t}")
            if t == "string":
                # Empty strings are "null" for min/max in Kusto.
                s = f"NULLIF({s}, '')"
                return f"coalesce({name}({s}), '')", t
            return f"{name}({s})", t
        if name in ("dcount", "dcountif"):
            if name == "dcount":
                nargs(1, 2)
                s, t = arg(0)
            else:
                nargs(2, 3)
                s, t = arg(0)
                s = f"CASE WHEN {pred(1)} THEN {s} END"
            # Exact distinct count; Kusto's HLL estimate is exact at this scale.
            return f"count(DISTINCT {s})", "long"
        if name in ("make_set", "make_list"):
            nargs(1, 2)
            s, t = arg(0)
            distinct = "DISTINCT " if name == "make_set" else ""
            if t == "bool":
                s = f"json({self._to_string(s, t)})"
            elif t in ("datetime", "timespan"):
                s = self._to_string(s, t)
            return f"coalesce(json_group_array({distinct}{s}), '[]')", "dynamic"
        if name in ("arg_max", "arg_min"):
            raise _semantic(
                f"Aggregate '{name}' can only be used directly as a summarize aggregate"
            )
        if name in ("take_any", "any"):
            nargs(1)
            s, t = arg(0)
            return f"max({s})", t
        raise _semantic(f"Unsupported aggregate '{name}'")  # pragma: no cover

    # -- naming --
    @staticmethod
    def _first_column(e: Expr) -> str | None:
        if isinstance(e, Col):
            return e.name
        if isinstance(e, Call):
            for a in e.args:
                found = Compiler._first_column(a)
                if found:
                    return found
        if isinstance(e, Bin):
            return Compiler._first_column(e.left) or Compiler._first_column(e.right)
        if isinstance(e, Unary):
            return Compiler._first_column(e.operand)
        return None

    @staticmethod
    def _unique(name: str, taken: set[str]) -> str:
        if name not in taken:
            return name
        i = 1
        while f"{name}{i}" in taken:
            i += 1
        return f"{name}{i}"

    def _column_n(self, taken: set[str]) -> str:
        i = 1
        while f"Column{i}" in taken:
            i += 1
        return f"Column{i}"

    def _default_name(self, e: Expr, taken: set[str], *, by: bool = False) -> str:
        if isinstance(e, Col):
            return e.name
        if isinstance(e, Call):
            if e.name in ("bin", "floor") and e.args and isinstance(e.args[0], Col):
                return e.args[0].name
            if e.name in _AGG_PREFIX:
                col = (
                    self._first_column(e) if e.name not in ("count", "countif") else ""
                )
                return self._unique(f"{_AGG_PREFIX[e.name]}_{col or ''}", taken)
        return self._column_n(taken)

    # -- relational helpers --
    def _hidden_name(self) -> str:
        self.hidden_seq += 1
        return f"__kql_h{self.hidden_seq}"

    @staticmethod
    def _order_by(order: list[tuple[str, bool, bool]]) -> str:
        if not order:
            return ""
        terms = []
        for name, desc, nulls_first in order:
            terms.append(
                f"{q(name)} {'DESC' if desc else 'ASC'} "
                f"NULLS {'FIRST' if nulls_first else 'LAST'}"
            )
        return " ORDER BY " + ", ".join(terms)

    def _wrap(
        self,
        rel: Rel,
        items: list[tuple[str, str]],
        cols: list[tuple[str, str]],
        *,
        where: str | None = None,
        limit: str | None = None,
        keep_order: bool = True,
    ) -> Rel:
        """SELECT items FROM rel; carries hidden sort columns along."""
        hidden = rel.hidden if keep_order else []
        select = [f"{sql} AS {q(name)}" for sql, name in items]
        select += [q(h) for h in hidden]
        sql = f"SELECT {', '.join(select) or 'NULL'} FROM ({rel.sql})"
        if where:
            sql += f" WHERE {where}"
        order = rel.order if keep_order else []
        if limit is not None:
            sql += self._order_by(order) + f" LIMIT {limit}"
        return Rel(sql, cols, list(hidden), list(order))

    def _preserve_order_cols(self, rel: Rel, dropped: set[str]) -> Rel:
        """Move sort-key columns about to vanish into hidden columns."""
        need = [n for n, _, _ in rel.order if n in dropped and n not in rel.hidden]
        if not need:
            return rel
        mapping = {n: self._hidden_name() for n in need}
        items = [(q(n), n) for n, _ in rel.cols]
        items += [(q(n), h) for n, h in mapping.items()]
        new = self._wrap(rel, items, rel.cols)
        new.hidden = [*rel.hidden, *mapping.values()]
        new.order = [(mapping.get(n, n), d, nf) for n, d, nf in rel.order]
        return new

    # -- pipeline --
    def _unknown_table(self, name: str, pos: int) -> KqlError:
        line, col = _line_col(self.text, pos)
        return KqlError(
            "SemanticError",
            f"'{name}' operator: Failed to resolve table or column expression "
            f"named '{name}'",
            line=line,
            pos=col,
        )

    def _base(self, name: str, pos: int) -> Rel:
        if name not in self.tables:
            raise self._unknown_table(name, pos)
        cols = self.tables[name]
        sql = f"SELECT {', '.join(q(c) for c, _ in cols)} FROM {q(name)}"
        if self.source_filter:
            cond = self.source_filter(name)
            if cond:
                sql += f" WHERE {cond}"
        return Rel(sql, list(cols))

    def _compile_rel(self, pipeline: Pipeline) -> Rel:
        if pipeline.source == "":
            # `union ...` as the source: the first op builds the relation.
            first, *rest = pipeline.ops
            rel = self._union(None, first)
        elif "*" in pipeline.source:
            # A table pattern outside union (e.g. `join (ACS*)`) is refused.
            raise self._unknown_table(pipeline.source, pipeline.source_pos)
        else:
            rel = self._base(pipeline.source, pipeline.source_pos)
            rest = pipeline.ops
        for op in rest:
            rel = self._apply(rel, op)
        return rel

    def compile(self, pipeline: Pipeline) -> CompiledQuery:
        rel = self._compile_rel(pipeline)
        final = [f"{q(n)}" for n, _ in rel.cols]
        out = f"SELECT {', '.join(final) or 'NULL'} FROM ({rel.sql})"
        out += self._order_by(rel.order)
        return CompiledQuery(out, rel.cols)

    def _apply(self, rel: Rel, op: Op) -> Rel:
        kind = op.kind
        scope = rel.schema()
        if kind == "where":
            s, t = self.expr(op.args["expr"], scope, "where")  # type: ignore[arg-type]
            if t != "bool":
                raise _semantic(
                    f"'where' operator: the predicate must be of type bool, not {t}"
                )
            return self._wrap(rel, [(q(n), n) for n, _ in rel.cols], rel.cols, where=s)
        if kind == "extend":
            ext_items: list[NamedExpr] = op.args["items"]  # type: ignore[assignment]
            if len(ext_items) > 1:
                # Later expressions see the columns defined before them.
                for item in ext_items:
                    rel = self._apply(rel, Op("extend", {"items": [item]}, op.pos))
                return rel
            items = [(q(n), n) for n, _ in rel.cols]
            cols = list(rel.cols)
            taken = {n for n, _ in cols}
            overwritten: set[str] = set()
            computed: list[tuple[str, str, str]] = []
            for ne in op.args["items"]:  # type: ignore[attr-defined]
                s, t = self.expr(ne.expr, scope, "extend")
                name = ne.name or self._default_name(ne.expr, taken)
                computed.append((name, s, t))
                if name in taken:
                    overwritten.add(name)
                taken.add(name)
            rel = self._preserve_order_cols(rel, overwritten)
            for name, s, t in computed:
                idx = next((i for i, (n, _) in enumerate(cols) if n == name), None)
                if idx is None:
                    cols.append((name, t))
                    items.append((s, name))
                else:
                    cols[idx] = (name, t)
                    items[idx] = (s, name)
            return self._wrap(rel, items, cols)
        if kind == "project":
            items = []
            cols = []
            taken: set[str] = set()
            redefined: set[str] = set()
            for ne in op.args["items"]:  # type: ignore[attr-defined]
                if self._columns_in(ne.expr) & redefined:
                    # Whether Kusto resolves this to the input column or to
                    # the earlier item is not something to guess.
                    raise _semantic(
                        "'project' operator: an expression refers to a column "
                        "redefined earlier in the same project; use extend first"
                    )
                s, t = self.expr(ne.expr, scope, "project")
                name = ne.name or self._default_name(ne.expr, taken | set(scope))
                if name in taken:
                    raise _semantic(
                        f"'project' operator: duplicate column name '{name}'"
                    )
                taken.add(name)
                if not (isinstance(ne.expr, Col) and ne.expr.name == name):
                    redefined.add(name)
                items.append((s, name))
                cols.append((name, t))
            # Columns that disappear or change meaning lose their visible name.
            changed = {n for n in scope if n not in taken} | {
                ne.name
                for ne in op.args["items"]  # type: ignore[attr-defined]
                if ne.name
                and not (isinstance(ne.expr, Col) and ne.expr.name == ne.name)
            }
            rel = self._preserve_order_cols(rel, changed)
            return self._wrap(rel, items, cols)
        if kind in ("project-away", "project-keep"):
            names: list[str] = op.args["names"]  # type: ignore[assignment]
            for n in names:
                if n not in scope:
                    raise _semantic(
                        f"'{kind}' operator: Failed to resolve column named '{n}'"
                    )
            if kind == "project-away":
                keep = [(n, t) for n, t in rel.cols if n not in names]
            else:
                keep = [(n, t) for n, t in rel.cols if n in names]
            if not keep:
                raise _semantic(f"'{kind}' operator: no columns would remain")
            dropped = {n for n, _ in rel.cols} - {n for n, _ in keep}
            rel = self._preserve_order_cols(rel, dropped)
            return self._wrap(rel, [(q(n), n) for n, _ in keep], keep)
        if kind == "project-rename":
            pairs: list[tuple[str, str]] = op.args["pairs"]  # type: ignore[assignment]
            rename = {}
            for new, old in pairs:
                if old not in scope:
                    raise _semantic(
                        f"'project-rename' operator: Failed to resolve column "
                        f"named '{old}'"
                    )
                rename[old] = new
            cols = [(rename.get(n, n), t) for n, t in rel.cols]
            if len({n for n, _ in cols}) != len(cols):
                raise _semantic("'project-rename' operator: duplicate column names")
            rel = self._preserve_order_cols(rel, set(rename) | set(rename.values()))
            items = [(q(n), rename.get(n, n)) for n, _ in rel.cols]
            return self._wrap(rel, items, cols)
        if kind == "summarize":
            return self._summarize(rel, op)
        if kind == "sort":
            keys: list[SortKey] = op.args["keys"]  # type: ignore[assignment]
            items = [(q(n), n) for n, _ in rel.cols]
            order = []
            for k in keys:
                s, t = self.expr(k.expr, scope, "sort")
                if t == "dynamic":
                    raise _semantic("'sort' operator: cannot sort by a dynamic value")
                if isinstance(k.expr, Col):
                    order.append((k.expr.name, k.desc, k.nulls_first))
                else:
                    h = self._hidden_name()
                    items.append((s, h))
                    order.append((h, k.desc, k.nulls_first))
            hidden = [n for _, n in items[len(rel.cols) :]]
            select = ", ".join(f"{s} AS {q(n)}" for s, n in items)
            return Rel(f"SELECT {select} FROM ({rel.sql})", rel.cols, hidden, order)
        if kind == "take":
            s, t = self.expr(op.args["expr"], {}, "take")  # type: ignore[arg-type]
            if t not in ("long", "int") or isinstance(op.args["expr"], Unary):
                raise _semantic(
                    "'take' operator: the row count must be a non-negative integer"
                )
            # A negative count must not turn into SQLite's "no limit".
            limit = f"max(0, {s})"
            return self._wrap(
                rel, [(q(n), n) for n, _ in rel.cols], rel.cols, limit=limit
            )
        if kind == "top":
            s, t = self.expr(op.args["expr"], {}, "top")  # type: ignore[arg-type]
            if t not in ("long", "int") or isinstance(op.args["expr"], Unary):
                raise _semantic(
                    "'top' operator: the row count must be a non-negative integer"
                )
            key: SortKey = op.args["key"]  # type: ignore[assignment]
            ks, kt = self.expr(key.expr, scope, "top")
            if kt == "dynamic":
                raise _semantic("'top' operator: cannot sort by a dynamic value")
            items = [(q(n), n) for n, _ in rel.cols]
            if isinstance(key.expr, Col):
                kname = key.expr.name
                hidden: list[str] = []
            else:
                kname = self._hidden_name()
                items.append((ks, kname))
                hidden = [kname]
            order = [(kname, key.desc, key.nulls_first)]
            select = ", ".join(f"{x} AS {q(n)}" for x, n in items)
            sql = f"SELECT {select} FROM ({rel.sql})" + self._order_by(order)
            sql += f" LIMIT max(0, {s})"
            return Rel(sql, rel.cols, hidden, order)
        if kind == "count":
            return Rel(
                f"SELECT count(*) AS {q('Count')} FROM ({rel.sql})", [("Count", "long")]
            )
        if kind == "distinct":
            names = op.args["names"]  # type: ignore[assignment]
            if names is None:
                names = [n for n, _ in rel.cols]
            for n in names:
                if n not in scope:
                    raise _semantic(
                        f"'distinct' operator: Failed to resolve column named '{n}'"
                    )
            cols = [(n, scope[n]) for n in names]
            sel = ", ".join(q(n) for n in names)
            return Rel(f"SELECT DISTINCT {sel} FROM ({rel.sql})", cols)
        if kind == "render":
            return rel
        if kind == "union":
            return self._union(rel, op)
        if kind == "join":
            return self._join(rel, op)
        raise _semantic(f"Unsupported operator '{kind}'")  # pragma: no cover

    def _union(self, rel: Rel | None, op: Op) -> Rel:
        legs: list[Rel] = [] if rel is None else [rel]
        for src in op.args["sources"]:  # type: ignore[attr-defined]
            if src.source and "*" in src.source and not src.ops:
                pattern = re.escape(src.source).replace(r"\*", ".*")
                names = sorted(t for t in self.tables if re.fullmatch(pattern, t))
                if not names:
                    raise self._unknown_table(src.source, src.source_pos)
                legs.extend(self._base(n, src.source_pos) for n in names)
            else:
                legs.append(self._compile_rel(src))
        types: dict[str, str] = {}
        order: list[str] = []
        for leg in legs:
            for n, t in leg.cols:
                if n in types and types[n] != t:
                    # Kusto would rename these to n_type; not emulated.
                    raise _semantic(
                        f"'union' operator: column '{n}' has types {types[n]} and {t}"
                    )
                if n not in types:
                    types[n] = t
                    order.append(n)
        if op.args["kind"] == "inner":
            order = [n for n in order if all(n in leg.schema() for leg in legs)]
            if not order:
                raise _semantic("'union' operator: the inputs share no columns")
        parts = []
        for leg in legs:
            have = leg.schema()
            items = []
            for n in order:
                if n in have:
                    items.append(f"{q(n)} AS {q(n)}")
                else:
                    # Missing columns are null; a null string reads as "".
                    items.append(
                        f"{sql_str('') if types[n] == 'string' else 'NULL'} AS {q(n)}"
                    )
            parts.append(f"SELECT {', '.join(items)} FROM ({leg.sql})")
        sql = " UNION ALL ".join(parts)
        return Rel(f"SELECT * FROM ({sql})", [(n, types[n]) for n in order])

    def _join(self, left: Rel, op: Op) -> Rel:
        kind: str = op.args["kind"]  # type: ignore[assignment]
        right = self._compile_rel(op.args["right"])  # type: ignore[arg-type]
        keys: list[tuple[str, str]] = op.args["keys"]  # type: ignore[assignment]
        lscope, rscope = left.schema(), right.schema()
        for lk, rk in keys:
            if lk not in lscope:
                raise _semantic(f"'join' operator: Failed to resolve column '{lk}'")
            if rk not in rscope:
                raise _semantic(f"'join' operator: Failed to resolve column '{rk}'")
            if lscope[lk] == "dynamic" or not self._comparable(lscope[lk], rscope[rk]):
                raise _semantic(
                    f"'join' operator: keys '{lk}' and '{rk}' have incompatible "
                    f"types {lscope[lk]} and {rscope[rk]}"
                )
        la, ra = self._hidden_name(), self._hidden_name()
        left_sql = left.sql
        if kind == "innerunique":
            # One (arbitrary, as in Kusto) left row per key value.
            part = ", ".join(q(lk) for lk, _ in keys)
            rn = self._hidden_name()
            lcols = ", ".join(q(n) for n, _ in left.cols)
            left_sql = (
                f"SELECT {lcols} FROM (SELECT {lcols}, row_number() OVER "
                f"(PARTITION BY {part}) AS {q(rn)} FROM ({left.sql})) "
                f"WHERE {q(rn)} = 1"
            )
        cond = " AND ".join(f"{q(la)}.{q(lk)} = {q(ra)}.{q(rk)}" for lk, rk in keys)
        lsel = [f"{q(la)}.{q(n)} AS {q(n)}" for n, _ in left.cols]
        if kind in ("leftsemi", "leftanti"):
            neg = "NOT " if kind == "leftanti" else ""
            sql = (
                f"SELECT {', '.join(lsel)} FROM ({left_sql}) AS {q(la)} WHERE "
                f"{neg}EXISTS (SELECT 1 FROM ({right.sql}) AS {q(ra)} WHERE {cond})"
            )
            return Rel(sql, list(left.cols))
        taken = {n for n, _ in left.cols}
        cols = list(left.cols)
        rsel = []
        for n, t in right.cols:
            out = n
            i = 1
            while out in taken:
                out = f"{n}{i}"  # Kusto suffixes clashing right columns: Col1
                i += 1
            taken.add(out)
            expr = f"{q(ra)}.{q(n)}"
            if kind == "leftouter" and t == "string":
                expr = f"coalesce({expr}, '')"  # unmatched: null string is ""
            rsel.append(f"{expr} AS {q(out)}")
            cols.append((out, t))
        join = "LEFT JOIN" if kind == "leftouter" else "JOIN"
        sql = (
            f"SELECT {', '.join(lsel + rsel)} FROM ({left_sql}) AS {q(la)} "
            f"{join} ({right.sql}) AS {q(ra)} ON {cond}"
        )
        return Rel(sql, cols)

    def _summarize(self, rel: Rel, op: Op) -> Rel:
        scope = rel.schema()
        aggs: list[NamedExpr] = op.args["aggs"]  # type: ignore[assignment]
        by: list[NamedExpr] = op.args["by"]  # type: ignore[assignment]
        taken: set[str] = set()
        by_items: list[tuple[str, str, str]] = []
        for ne in by:
            s, t = self.expr(ne.expr, scope, "summarize")
            if t == "dynamic":
                raise _semantic("'summarize' operator: cannot group by a dynamic value")
            name = ne.name or self._default_name(ne.expr, taken, by=True)
            if name in taken:
                raise _semantic(f"'summarize' operator: duplicate column name '{name}'")
            taken.add(name)
            by_items.append((s, name, t))
        arg_aggs = [
            ne
            for ne in aggs
            if isinstance(ne.expr, Call) and ne.expr.name in ("arg_max", "arg_min")
        ]
        if arg_aggs:
            return self._summarize_arg(rel, aggs, by, by_items, taken)
        agg_items: list[tuple[str, str, str]] = []
        for ne in aggs:
            if not self._contains_agg(ne.expr):
                raise _semantic(
                    "'summarize' operator: expression must contain an aggregate "
                    "function"
                )
            s, t = self.expr(ne.expr, scope, "summarize", aggs_allowed=True)
            name = ne.name or self._default_name(ne.expr, taken)
            if name in taken:
                raise _semantic(f"'summarize' operator: duplicate column name '{name}'")
            taken.add(name)
            agg_items.append((s, name, t))
        select = [f"{s} AS {q(n)}" for s, n, _ in by_items + agg_items]
        sql = f"SELECT {', '.join(select)} FROM ({rel.sql})"
        if by_items:
            sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(by_items)))
        cols = [(n, t) for _, n, t in by_items + agg_items]
        return Rel(sql, cols)

    def _summarize_arg(
        self,
        rel: Rel,
        aggs: list[NamedExpr],
        by: list[NamedExpr],
        by_items: list[tuple[str, str, str]],
        taken: set[str],
    ) -> Rel:
        """arg_max/arg_min via SQLite's documented "bare column" rule.

        With exactly one min()/max() aggregate, SQLite takes the other selected
        columns from the row holding that extreme, which is arg_max semantics.
        Any other aggregate in the same summarize would break the rule, so the
        emulator refuses that combination instead of answering wrongly.
        """
        scope = rel.schema()
        if len(aggs) != 1 or aggs[0].name is not None:
            raise _semantic(
                "'summarize' operator: the emulator supports arg_max()/arg_min() "
                "only as the single, unnamed aggregate of a summarize"
            )
        call = aggs[0].expr
        assert isinstance(call, Call)
        if len(call.args) < 2:
            raise _semantic(f"Aggregate '{call.name}' expects at least 2 arguments")
        key, *rest = call.args
        ks, kt = self.expr(key, scope, "summarize")
        if kt in ("dynamic", "bool"):
            raise _semantic(f"Aggregate '{call.name}' does not support type {kt}")
        fn = "max" if call.name == "arg_max" else "min"
        if isinstance(key, Col):
            key_name = key.name
        else:
            key_name = self._unique(f"{fn}_{self._first_column(key) or ''}", taken)
        by_names = {n for _, n, _ in by_items}
        items: list[tuple[str, str, str]] = [(f"{fn}({ks})", key_name, kt)]
        names_out = {key_name}
        for a in rest:
            if isinstance(a, Col) and a.name == "*":
                for n, t in rel.cols:
                    if n not in by_names and n not in names_out:
                        items.append((q(n), n, t))
                        names_out.add(n)
                continue
            if not isinstance(a, Col):
                raise _semantic(
                    f"Aggregate '{call.name}': the emulator accepts only column "
                    "names or * after the first argument"
                )
            s, t = self.expr(a, scope, "summarize")
            if a.name in names_out or a.name in by_names:
                continue
            items.append((s, a.name, t))
            names_out.add(a.name)
        everything = by_items + items
        select = [f"{s} AS {q(n)}" for s, n, _ in everything]
        sql = f"SELECT {', '.join(select)} FROM ({rel.sql})"
        if by_items:
            sql += " GROUP BY " + ", ".join(str(i + 1) for i in range(len(by_items)))
        if not by_items:
            # Over no rows the bare columns would be a row of NULLs.
            sql = f"SELECT * FROM ({sql}) WHERE {q(key_name)} IS NOT NULL"
        return Rel(sql, [(n, t) for _, n, t in everything])

    def _columns_in(self, e: Expr) -> set[str]:
        if isinstance(e, Col):
            return {e.name}
        if isinstance(e, Call):
            return set().union(*(self._columns_in(a) for a in e.args))
        if isinstance(e, Bin):
            return self._columns_in(e.left) | self._columns_in(e.right)
        if isinstance(e, Unary):
            return self._columns_in(e.operand)
        if isinstance(e, InList):
            out = self._columns_in(e.operand)
            return out.union(*(self._columns_in(i) for i in e.items))
        if isinstance(e, Between):
            return (
                self._columns_in(e.operand)
                | self._columns_in(e.low)
                | self._columns_in(e.high)
            )
        return set()

    def _contains_agg(self, e: Expr) -> bool:
        if isinstance(e, Call):
            return e.name in _AGG_PREFIX or any(self._contains_agg(a) for a in e.args)
        if isinstance(e, Bin):
            return self._contains_agg(e.left) or self._contains_agg(e.right)
        if isinstance(e, Unary):
            return self._contains_agg(e.operand)
        return False


def compile_kql(
    text: str,
    tables: dict[str, list[tuple[str, str]]],
    *,
    now_us: int,
    source_filter: Callable[[str], str] | None = None,
) -> CompiledQuery:
    """Parse and compile ``text``; raises :class:`KqlError` when unsupported."""
    if not text or not text.strip():
        raise KqlError("SyntaxError", "The query is empty", code="SYN0001")
    pipeline = parse(text)
    return Compiler(text, tables, now_us=now_us, source_filter=source_filter).compile(
        pipeline
    )


def to_wire(value: object, kql_type: str) -> object:
    """Convert a SQLite cell to its Log Analytics JSON representation."""
    if value is None:
        return None
    if kql_type == "datetime":
        return format_datetime(int(value))  # type: ignore[call-overload]
    if kql_type == "timespan":
        return format_timespan(int(value))  # type: ignore[call-overload]
    if kql_type == "bool":
        return bool(value)
    if kql_type in ("long", "int"):
        return int(value)  # type: ignore[call-overload]
    if kql_type == "real":
        return float(value)  # type: ignore[arg-type]
    if kql_type == "dynamic":
        # Log Analytics serialises dynamic cells as JSON text.
        return value if isinstance(value, str) else json.dumps(value)
    return value
