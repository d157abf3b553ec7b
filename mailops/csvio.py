"""CSV import and export of email-address lists, tuned for Excel in Japan.

Japanese users produce CSV files with Excel, which writes either Shift_JIS
(really Microsoft's CP932 superset; the default "CSV" format) or UTF-8 with a
byte order mark ("CSV UTF-8"). Files come from suppression-list uploads today
and from recipient lists of up to about 1,000,000 rows later, so everything
here streams: nothing reads a whole file into memory, and the importer never
writes anywhere — callers see the complete result and decide all-or-nothing.

Typical import::

    guess = detect_encoding(upload)          # show guess.label / guess.reason
    result = import_addresses(upload, guess.encoding)
    if result.invalid:                       # show result.errors, write nothing
        ...

Typical export::

    StreamingHttpResponse(
        write_csv(rows, ["email"], encoding="utf-8-sig"), content_type="text/csv"
    )

Row numbers reported to users are Excel row numbers (see :class:`Row`).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import numbers
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import IO, Any

from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

__all__ = [
    "DEFAULT_EMAIL_COLUMNS",
    "ENCODING_CHOICES",
    "LEGACY_CARRIER_DOMAINS",
    "CsvEncodeError",
    "CsvEncodingError",
    "CsvError",
    "CsvFormatError",
    "EmailCheck",
    "EncodingGuess",
    "ImportResult",
    "Row",
    "RowError",
    "check_email",
    "dedupe_key",
    "detect_encoding",
    "import_addresses",
    "iter_rows",
    "iter_valid",
    "normalise_encoding",
    "validate_email_address",
    "write_csv",
]

# How much of an upload is inspected to guess its encoding. 64 KiB is a few
# thousand rows of a typical list: enough to meet Japanese text if there is
# any, and small enough to be cheap on every upload.
SAMPLE_SIZE = 64 * 1024

# Size of the byte chunks write_csv yields. Per-row chunks would make
# StreamingHttpResponse issue a socket write per row; 64 KiB keeps the
# overhead negligible while memory stays bounded.
EXPORT_CHUNK_SIZE = 64 * 1024

UTF8_SIG = "utf-8-sig"
UTF8 = "utf-8"
CP932 = "cp932"

# (codec name, label) pairs for a "confirm or override the encoding" select.
# Labels are technical names users see in Excel's dialogs, so not translated.
ENCODING_CHOICES: tuple[tuple[str, str], ...] = (
    (UTF8_SIG, "UTF-8 (BOM)"),
    (UTF8, "UTF-8"),
    (CP932, "Shift_JIS (CP932)"),
)
_LABELS = dict(ENCODING_CHOICES)

# Names people (and browsers) use for Excel's Japanese encoding. Excel
# actually writes CP932, a superset of Shift_JIS with NEC/IBM extensions
# (①, ㈱, 髙...), so every alias decodes as cp932 to avoid spurious errors.
_ENCODING_ALIASES = {
    "utf-8-sig": UTF8_SIG,
    "utf-8": UTF8,
    "cp932": CP932,
    "shift_jis": CP932,
    "shift_jis_2004": CP932,
    "shift_jisx0213": CP932,
}

# Header names recognised as the email column, compared after
# _normalise_header (NFKC, case-folded, spaces/hyphens/underscores removed),
# so "E-Mail", "ｅｍａｉｌ" and "Email Address" all match. Earlier entries win
# when several columns match.
DEFAULT_EMAIL_COLUMNS: tuple[str, ...] = (
    "email",
    "mail",
    "メールアドレス",
    "e-mail",
    "アドレス",
    "email address",
    "mail address",
    "Eメール",
    "Eメールアドレス",
    "メール",
    "電子メールアドレス",
)

# Domains of Japanese mobile carriers that, before about 2009, let
# subscribers pick addresses with consecutive dots or a dot right before the
# @ (taro..yamada@docomo.ne.jp, hanako.@ezweb.ne.jp). RFC 5322 forbids both,
# but the carriers still deliver to the addresses that exist, so rejecting
# them would silently drop real customers. Subdomains are included
# (e.g. biz.ezweb.ne.jp, t.vodafone.ne.jp).
LEGACY_CARRIER_DOMAINS: frozenset[str] = frozenset(
    {
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "au.com",
        "softbank.ne.jp",
        "i.softbank.jp",
        "vodafone.ne.jp",
        "disney.ne.jp",
        "pdx.ne.jp",
        "willcom.com",
        "emnet.ne.jp",
        "ymobile.ne.jp",
        "y-mobile.ne.jp",
    }
)

# RFC 5322 "atext" plus dot: what an unquoted local part may contain. Quoted
# local parts ("john doe"@example.com) are legal but never seen in real
# lists, and most sending services refuse them, so they are rejected.
_LOCAL_ALLOWED = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]+")
_LOCAL_CHAR = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_HEADER_NOISE = re.compile(r"[\s\-_]+")
_WHITESPACE = re.compile(r"\s")
# Invisible characters that survive NFKC and str.strip() but sneak in when
# addresses are copied from web pages or Word documents.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"

# A leading character that makes Excel (or LibreOffice) evaluate a cell as a
# formula (OWASP "CSV injection"). The full-width forms are included
# defensively, as Japanese Excel turns ＝ typed through the IME into a
# formula; the only cost is a visible quote.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# The triggers that can begin an (NFKC-normalised) email address.
_ESCAPED_BY_EXPORT = frozenset("=+-@")


def _format_lazy(message: Promise | str, **params: object) -> str:
    """Return ``message % params`` translated when rendered, not when built.

    ``gettext_lazy(...) % {...}`` translates immediately in whatever
    language is active; row errors may be built in a background job and shown
    later, so interpolation is deferred too.
    """
    return _lazy_interpolate(message, params)


def _interpolate(message: Promise | str, params: dict[str, object]) -> str:
    return str(message) % params


# A module-level function (not a lambda) so results holding these messages
# can be pickled, e.g. into the session or cache between upload and confirm.
_lazy_interpolate = lazy(_interpolate, str)


# --------------------------------------------------------------------------
# Errors


class CsvError(ValueError):
    """Base class; ``str(exc)`` (and ``exc.message``) is a user-facing message."""

    def __init__(self, message: Promise | str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


class CsvEncodingError(CsvError):
    """The bytes are not in a supported encoding (detection or decoding)."""


class CsvFormatError(CsvError):
    """The file is not a usable CSV: no email column, broken quoting, etc."""


class CsvEncodeError(CsvError):
    """Export: a cell cannot be represented in the requested encoding.

    ``row`` is the 1-based row number in the produced file (the header is
    row 1) and ``chars`` the offending characters, for the UI.
    """

    def __init__(self, message: Promise | str, *, row: int, chars: str) -> None:
        super().__init__(message)
        self.row = row
        self.chars = chars


# --------------------------------------------------------------------------
# Encoding detection


@dataclass(frozen=True, slots=True)
class EncodingGuess:
    """Result of :func:`detect_encoding`.

    ``encoding`` is a Python codec name accepted by :func:`iter_rows`;
    ``label`` a human name ("UTF-8 (BOM)", "UTF-8", "Shift_JIS (CP932)");
    ``reason`` a translated sentence explaining the guess; ``confident`` is
    False when the sample could not tell encodings apart (plain ASCII), so
    the UI should ask the user to confirm.
    """

    encoding: str
    label: str
    reason: str
    confident: bool = True


def normalise_encoding(encoding: str) -> str:
    """Map a codec name or alias to one of "utf-8-sig", "utf-8", "cp932".

    Raises :class:`CsvEncodingError` for anything else, so a tampered
    form value cannot select an arbitrary codec.
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        name = ""
    try:
        return _ENCODING_ALIASES[name]
    except KeyError:
        raise CsvEncodingError(
            _format_lazy(_("Unsupported encoding: %(encoding)s."), encoding=encoding)
        ) from None


def _read_sample(stream: IO[bytes], size: int) -> bytes:
    # Raw streams may return short reads; loop until size bytes or EOF.
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        if isinstance(chunk, str):
            raise TypeError("detect_encoding() needs a binary stream")
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)


def _decodes(sample: bytes, codec: str, *, final: bool) -> bool:
    # An incremental decoder with final=False tolerates a multi-byte
    # character cut in half at the end of the sample, which a plain
    # bytes.decode would misreport as invalid.
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    try:
        decoder.decode(sample, final=final)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(stream: IO[bytes]) -> EncodingGuess:
    """Guess the encoding of a binary CSV stream from its first 64 KiB.

    Order: UTF-8 BOM → "utf-8-sig"; valid strict UTF-8 → "utf-8"; valid
    CP932 → "cp932"; otherwise :class:`CsvEncodingError` (with a specific
    message for UTF-16 text and Excel workbooks uploaded by mistake).

    The stream (a Django ``UploadedFile`` or any seekable binary file) is
    returned to the position it had on entry, so it can be passed straight
    to :func:`iter_rows`.
    """
    start = stream.tell()
    try:
        sample = _read_sample(stream, SAMPLE_SIZE)
    finally:
        stream.seek(start)
    at_eof = len(sample) < SAMPLE_SIZE

    if sample.startswith(codecs.BOM_UTF8):
        return EncodingGuess(
            UTF8_SIG,
            _LABELS[UTF8_SIG],
            _(
                'The file starts with a UTF-8 byte order mark (Excel\'s "CSV UTF-8" format).'
            ),
        )
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise CsvEncodingError(
            _(
                'The file is UTF-16 text (Excel\'s "Unicode Text" format). Save it from Excel as "CSV UTF-8 (comma delimited)" and upload it again.'
            )
        )
    if sample.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise CsvEncodingError(
            _(
                'This is an Excel workbook, not a CSV file. In Excel, use "Save As" and choose "CSV UTF-8 (comma delimited)".'
            )
        )
    if not sample:
        return EncodingGuess(
            UTF8, _LABELS[UTF8], _("The file is empty."), confident=False
        )
    if sample.isascii():
        # Shift_JIS and UTF-8 agree on ASCII, so the sample cannot decide;
        # Japanese text further down would surface as a decoding error that
        # names the line.
        return EncodingGuess(
            UTF8,
            _LABELS[UTF8],
            _(
                "The beginning of the file contains only ASCII characters, so it reads the same as UTF-8 or Shift_JIS."
            ),
            confident=False,
        )
    if _decodes(sample, UTF8, final=at_eof):
        return EncodingGuess(
            UTF8,
            _LABELS[UTF8],
            _("The file is valid UTF-8 (without a byte order mark)."),
        )
    if _decodes(sample, CP932, final=at_eof):
        return EncodingGuess(
            CP932,
            _LABELS[CP932],
            _(
                'The file is not UTF-8 but is valid Shift_JIS (Excel\'s default "CSV" format in Japan).'
            ),
        )
    raise CsvEncodingError(
        _(
            'The file is neither UTF-8 nor Shift_JIS. Save it from Excel as "CSV UTF-8 (comma delimited)" and upload it again.'
        )
    )


# --------------------------------------------------------------------------
# Reading rows


@dataclass(frozen=True, slots=True)
class Row:
    """One data row of an uploaded CSV.

    ``line`` is the 1-based row number Excel shows for this row (the header
    is row 1, blank rows count). It equals the physical line number in a
    text editor unless an earlier quoted cell contained a line break — Excel
    shows such a cell as one row, and users read row numbers in Excel.

    ``email`` is the email cell with surrounding (including full-width)
    whitespace removed but otherwise unvalidated; ``fields`` maps column
    names to stripped values (see :func:`iter_rows` for the keys).
    """

    line: int
    email: str
    fields: dict[str, str]


def _normalise_header(name: str) -> str:
    name = unicodedata.normalize("NFKC", name.strip().lstrip("\ufeff"))
    return _HEADER_NOISE.sub("", name).casefold()


def _looks_like_email(value: str) -> bool:
    return "@" in unicodedata.normalize("NFKC", value)


class _UndecodableLine(Exception):
    """Raised by _decoded_lines; converted to CsvEncodingError with a line."""


def _decoded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    # The text layer decodes with errors="replace" and this filter turns the
    # first U+FFFD into an error. A strict decoder would fail on a whole
    # 8 KiB chunk, i.e. up to ~100 lines before the culprit; this way the
    # message names the exact line. (A literal U+FFFD in the file is also
    # rejected: it only ever comes from earlier mis-decoding.)
    for line in text:
        if "\ufffd" in line:
            raise _UndecodableLine
        yield line


def _iter_records(text: io.TextIOWrapper) -> Iterator[tuple[int, list[str]]]:
    """Yield (Excel row number, stripped cells) for every non-blank record."""
    # Runs once per row, so error conversion lives in _reader_error.
    reader = csv.reader(_decoded_lines(text), strict=False)
    number = 0
    try:
        for record in reader:
            number += 1
            cells = [cell.strip() for cell in record]
            # Blank lines and Excel's ",,,," rows (empty cells of a wider
            # used range) carry nothing; skipping keeps them out of counts.
            if any(cells):
                yield number, cells
    except (csv.Error, _UndecodableLine) as exc:
        raise _reader_error(exc, text, reader.line_num) from None


def _reader_error(exc: Exception, text: io.TextIOWrapper, line_num: int) -> CsvError:
    if isinstance(exc, _UndecodableLine):
        return CsvEncodingError(
            _format_lazy(
                _(
                    "Line %(line)s cannot be read as %(encoding)s. Choose a different encoding and try again."
                ),
                encoding=_LABELS.get(text.encoding, text.encoding),
                # line_num counts the physical lines the parser has consumed;
                # the undecodable one is the next.
                line=line_num + 1,
            )
        )
    return CsvFormatError(
        _format_lazy(
            _(
                "The CSV file is malformed near line %(line)s (%(detail)s). Check for an unmatched double quote."
            ),
            line=line_num,
            detail=str(exc),
        )
    )


def iter_rows(
    stream: IO[bytes],
    encoding: str,
    *,
    required_columns: list[str] | None = None,
    email_column_candidates: Sequence[str] = DEFAULT_EMAIL_COLUMNS,
) -> Iterator[Row]:
    """Stream the data rows of a CSV file as :class:`Row` objects.

    Reads ``stream`` from its current position with a small buffer (it is
    never seeked, so non-seekable streams work), decoding with ``encoding``
    (see :func:`normalise_encoding`). Handles CRLF/LF, quoted cells
    containing commas or line breaks, a BOM before the header, full-width
    spaces around values, Excel's trailing empty columns and blank rows
    (skipped).

    The email column is the first header matching ``email_column_candidates``
    (NFKC, case- and width-insensitive; spaces, hyphens and underscores
    ignored). If no header matches but the first row contains an "@", the
    file is treated as headerless: the first row is data and the first
    column containing an "@" is the email column.

    ``fields`` keys: the header text as written (stripped); a header that
    matches a name in ``required_columns`` is keyed by that name instead, so
    callers can look it up reliably. Headerless files and cells beyond the
    header use "column_N" (1-based). Duplicate headers get a "#N" suffix
    (N = column number). Empty cells past the header are dropped.

    Raises (when iterated) :class:`CsvFormatError` if there is no email
    column, a required column is missing or the quoting is broken, and
    :class:`CsvEncodingError` naming the first line whose bytes do not
    decode. The caller's stream is left open.
    """
    codec = normalise_encoding(encoding)
    # newline="" hands \r\n and line breaks inside quotes to the csv module
    # untouched, as its documentation requires.
    # errors="replace": see _decoded_lines.
    text = io.TextIOWrapper(stream, encoding=codec, errors="replace", newline="")  # type: ignore[arg-type]
    try:
        yield from _iter_rows(
            text,
            required_columns=required_columns or [],
            candidates=email_column_candidates,
        )
    finally:
        # Detach so garbage-collecting the wrapper does not close the
        # caller's stream (Django still needs the UploadedFile afterwards).
        with contextlib.suppress(ValueError):
            text.detach()


def _iter_rows(
    text: io.TextIOWrapper,
    *,
    required_columns: list[str],
    candidates: Sequence[str],
) -> Iterator[Row]:
    records = _iter_records(text)
    first = next(records, None)
    if first is None:
        return
    names, email_index = _parse_header(first[1], required_columns, candidates)
    if not names:
        records = chain([first], records)
    width = len(names)
    for number, cells in records:
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        fields = dict(zip(names, cells, strict=False))
        if len(cells) > width:
            _add_extra_cells(fields, cells, width)
        email = cells[email_index] if email_index < len(cells) else ""
        yield Row(number, email.strip(_INVISIBLE), fields)


def _add_extra_cells(fields: dict[str, str], cells: list[str], width: int) -> None:
    # Cells right of the header: kept when non-empty (data the user typed
    # without a heading), dropped when empty (Excel's trailing columns).
    for i in range(width, len(cells)):
        if cells[i]:
            fields[f"column_{i + 1}"] = cells[i]


def _parse_header(
    first: list[str], required_columns: list[str], candidates: Sequence[str]
) -> tuple[list[str], int]:
    """Return (field names, email column index) from the first record.

    Empty names mean "headerless": the first record is data.
    """
    normalised = [_normalise_header(cell) for cell in first]
    for candidate in candidates:
        key = _normalise_header(candidate)
        if key in normalised:
            names = _column_names(first, normalised, required_columns)
            return names, normalised.index(key)

    email_index = next(
        (i for i, cell in enumerate(first) if _looks_like_email(cell)), None
    )
    if email_index is None:
        raise CsvFormatError(
            _format_lazy(
                _(
                    "No email address column was found. Put a header such as %(names)s in the first row."
                ),
                names=", ".join(f'"{name}"' for name in candidates[:3]),
            )
        )
    if required_columns:
        raise CsvFormatError(
            _format_lazy(
                _(
                    "The file has no header row. Add a header row with these columns: %(columns)s."
                ),
                columns=", ".join(required_columns),
            )
        )
    return [], email_index


def _column_names(
    header: list[str], normalised: list[str], required_columns: list[str]
) -> list[str]:
    """Field keys for each header cell, enforcing ``required_columns``."""
    wanted = {_normalise_header(name): name for name in required_columns}
    missing = [name for key, name in wanted.items() if key not in normalised]
    if missing:
        raise CsvFormatError(
            _format_lazy(
                _("Required columns are missing from the header row: %(columns)s."),
                columns=", ".join(missing),
            )
        )
    # Excel often exports trailing header cells that are empty; they are
    # dropped so they don't become fields, but cells under them still surface
    # as column_N when non-empty.
    while header and not header[-1]:
        header = header[:-1]
    names: list[str] = []
    seen: set[str] = set()
    for i, cell in enumerate(header):
        name = wanted.get(normalised[i]) or cell.lstrip("\ufeff").strip()
        if not name:
            name = f"column_{i + 1}"
        if name in seen:
            name = f"{name}#{i + 1}"
        seen.add(name)
        names.append(name)
    return names


# --------------------------------------------------------------------------
# Email validation


@dataclass(frozen=True, slots=True)
class EmailCheck:
    """Result of :func:`check_email`.

    Exactly one of ``normalised`` and ``error`` is set. ``warning`` may
    accompany a valid address that is deliverable in practice but not
    RFC-conformant (legacy Japanese carrier addresses).
    """

    normalised: str | None
    error: str | None = None
    warning: str | None = None

    @property
    def ok(self) -> bool:
        return self.normalised is not None


def _is_legacy_carrier(domain: str) -> bool:
    return any(
        domain == carrier or domain.endswith("." + carrier)
        for carrier in LEGACY_CARRIER_DOMAINS
    )


# Real lists repeat a handful of domains (docomo.ne.jp, gmail.com, the
# customer's own) hundreds of thousands of times; caching skips the IDNA and
# label checks for them. Bounded, so hostile uploads cannot grow it.
@functools.lru_cache(maxsize=4096)
def _normalise_domain(domain: str) -> tuple[str | None, str | None]:
    """Return (ASCII domain, error) for the part after the @."""
    if domain.startswith("["):
        return None, _(
            "Addresses with an IP address instead of a domain name are not supported."
        )
    domain = domain.lower()
    if not domain.isascii():
        # Python's "idna" codec implements IDNA 2003 (nameprep), which is
        # what mail software generally uses for lookups; it maps e.g.
        # 日本語.jp to xn--wgv71a119e.jp.
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return None, _format_lazy(
                _('The domain "%(domain)s" is not a valid domain name.'), domain=domain
            )
    labels = domain.split(".")
    if len(labels) < 2:
        return None, _format_lazy(
            _(
                'The domain "%(domain)s" has no dot; a full domain such as example.co.jp is needed.'
            ),
            domain=domain,
        )
    for label in labels:
        if not _DOMAIN_LABEL.fullmatch(label):
            return None, _format_lazy(
                _('The domain "%(domain)s" is not a valid domain name.'), domain=domain
            )
    if labels[-1].isdigit():
        return None, _format_lazy(
            _('The domain "%(domain)s" is not a valid domain name.'), domain=domain
        )
    return domain, None


def check_email(raw: str) -> EmailCheck:
    """Validate and normalise one address as typed into a spreadsheet.

    Normalisation: surrounding (full-width) whitespace and invisible
    characters are removed, as is the ``'`` that :func:`write_csv` puts
    before a leading = + - @, NFKC folds full-width characters (＠, ｔａｒｏ,
    ．) to ASCII, the domain is lower-cased and IDN domains are converted to
    punycode. The local part keeps its case: RFC 5321 lets mailbox owners
    treat it case-sensitively, so we send exactly what the user wrote, even
    though Azure Communication Services and virtually all providers match
    addresses case-insensitively.

    Rejected (``error`` set): empty, spaces, missing or repeated @, empty
    local part or domain, characters not allowed in an unquoted local part,
    local part over 64 or address over 254 characters, a leading dot,
    consecutive dots or a dot before the @ (except at legacy carriers, see
    below), domains without a dot or with invalid labels.

    Legacy carrier addresses (consecutive dots or a dot before the @ at
    :data:`LEGACY_CARRIER_DOMAINS`) are accepted with ``warning`` set.
    """
    value = unicodedata.normalize("NFKC", raw).strip().strip(_INVISIBLE).strip()
    if value[:1] == "'" and value[1:2] in _ESCAPED_BY_EXPORT:
        # Undo write_csv's anti-formula quote ('-taro@example.jp), so an
        # exported list re-imports unchanged. A real local part starting
        # with ' followed by one of these is implausible.
        value = value[1:]
    local, _at, domain = value.partition("@")
    error = _syntax_error(value, local, domain)
    if error is not None:
        return EmailCheck(None, error)
    ascii_domain, error = _normalise_domain(domain)
    if ascii_domain is None:
        return EmailCheck(None, error)
    normalised = f"{local}@{ascii_domain}"
    if len(normalised) > 254:
        return EmailCheck(None, _("The email address is longer than 254 characters."))
    if ".." in local or local.endswith("."):
        return _check_irregular_dots(local, ascii_domain, normalised)
    return EmailCheck(normalised)


def _syntax_error(value: str, local: str, domain: str) -> str | None:
    """Return the reason ``value`` (split at its first @) is malformed, if any.

    Checks run in the order users fix things: presence, then characters,
    then lengths, so the message names the most basic problem.
    """
    if not value:
        return _("The email address is empty.")
    if _WHITESPACE.search(value):
        return _("The email address contains a space.")
    # Exactly one @: quoted local parts may legally contain more, but they
    # are rejected anyway (see _LOCAL_ALLOWED).
    if value.count("@") != 1:
        if "@" not in value:
            return _("The email address has no @.")
        return _("The email address contains more than one @.")
    if not local:
        return _("There is nothing before the @.")
    if not domain:
        return _("There is nothing after the @.")
    if not local.isascii():
        return _(
            "Only ASCII letters, digits and symbols can be used before the @ (no Japanese characters)."
        )
    if not _LOCAL_ALLOWED.fullmatch(local):
        bad = "".join(dict.fromkeys(ch for ch in local if not _LOCAL_CHAR.match(ch)))
        return _format_lazy(
            _("These characters cannot be used before the @: %(chars)s"), chars=bad
        )
    if len(local) > 64:
        return _("The part before the @ is longer than 64 characters.")
    if local.startswith("."):
        return _("The part before the @ starts with a dot.")
    return None


def _check_irregular_dots(local: str, domain: str, normalised: str) -> EmailCheck:
    """Consecutive dots / dot before @: a warning at legacy carriers, else an error."""
    if _is_legacy_carrier(domain):
        return EmailCheck(
            normalised,
            warning=_(
                "This mobile-carrier address has consecutive dots or a dot before the @. The carrier delivers to it, but some mail servers may refuse it."
            ),
        )
    if ".." in local:
        return EmailCheck(None, _("The email address contains consecutive dots."))
    return EmailCheck(None, _("There is a dot right before the @."))


def validate_email_address(raw: str) -> tuple[str | None, str | None]:
    """Return (normalised address, None) or (None, error message).

    Thin wrapper over :func:`check_email` that drops the warning.
    """
    result = check_email(raw)
    return result.normalised, result.error


def dedupe_key(email: str) -> str:
    """Key under which two addresses count as duplicates.

    The domain is compared case-insensitively (and after the normalisation
    of :func:`check_email`), the local part exactly as written — per the
    issue's "deduplicate case-insensitively on the domain part". So
    ``Taro@Example.jp`` and ``Taro@example.JP`` collide, ``taro@example.jp``
    does not. Unparseable input falls back to lower-casing what follows the
    last @.
    """
    normalised = check_email(email).normalised
    if normalised is not None:
        # check_email already lower-cases the domain; the key is the address.
        return normalised
    local, _at, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if _at else email.strip()


# --------------------------------------------------------------------------
# Import


@dataclass(frozen=True, slots=True)
class RowError:
    """A rejected (or warned-about) row: Excel row number, raw cell, reason."""

    line: int
    raw: str
    message: str


@dataclass
class ImportResult:
    """Outcome of :func:`import_addresses` or an :func:`iter_valid` run.

    Counts cover every non-blank data row: ``total == valid + invalid +
    duplicates``. ``valid`` counts distinct accepted addresses (so it equals
    ``len(addresses)`` after :func:`import_addresses`); ``warnings`` counts
    accepted addresses that carry a warning. ``errors`` and ``warning_rows``
    keep only the first ``max_errors_kept`` entries; the counts are exact.
    """

    encoding: str = ""
    total: int = 0
    valid: int = 0
    invalid: int = 0
    duplicates: int = 0
    warnings: int = 0
    addresses: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warning_rows: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row was rejected (the all-or-nothing condition)."""
        return self.invalid == 0

    @property
    def errors_truncated(self) -> bool:
        return self.invalid > len(self.errors)


def iter_valid(
    stream: IO[bytes],
    encoding: str,
    *,
    result: ImportResult | None = None,
    dedupe: bool = True,
    max_errors_kept: int = 1000,
    required_columns: list[str] | None = None,
    email_column_candidates: Sequence[str] = DEFAULT_EMAIL_COLUMNS,
) -> Iterator[tuple[int, str, dict[str, str]]]:
    """Stream ``(line, normalised email, fields)`` for each accepted row.

    For files too large to hold in memory (recipient lists). Invalid rows
    are skipped; pass ``result`` to have counts, the first
    ``max_errors_kept`` errors and warnings accumulated into it (its
    ``addresses`` list is left alone). With ``dedupe`` the first occurrence
    of each :func:`dedupe_key` wins; that keeps one string per distinct
    address (~120 bytes each, so ~120 MB for 1,000,000), so pass
    ``dedupe=False`` when the destination deduplicates (e.g. a unique index).

    Because rows are yielded before the whole file is read, callers wanting
    all-or-nothing must stage what they receive and commit only if
    ``result.ok`` once the iterator is exhausted.
    """
    stats = result if result is not None else ImportResult()
    stats.encoding = normalise_encoding(encoding)
    seen: set[str] = set()
    for row in iter_rows(
        stream,
        encoding,
        required_columns=required_columns,
        email_column_candidates=email_column_candidates,
    ):
        stats.total += 1
        check = check_email(row.email)
        if check.normalised is None:
            stats.invalid += 1
            if len(stats.errors) < max_errors_kept:
                stats.errors.append(RowError(row.line, row.email, check.error or ""))
            continue
        if dedupe:
            # check_email output already has the domain folded, so it is its
            # own dedupe key; calling dedupe_key would validate twice.
            if check.normalised in seen:
                stats.duplicates += 1
                continue
            seen.add(check.normalised)
        stats.valid += 1
        if check.warning is not None:
            stats.warnings += 1
            if len(stats.warning_rows) < max_errors_kept:
                stats.warning_rows.append(RowError(row.line, row.email, check.warning))
        yield row.line, check.normalised, row.fields


def import_addresses(
    stream: IO[bytes],
    encoding: str,
    *,
    max_errors_kept: int = 1000,
    required_columns: list[str] | None = None,
    email_column_candidates: Sequence[str] = DEFAULT_EMAIL_COLUMNS,
) -> ImportResult:
    """Read a whole address list and return counts, addresses and errors.

    Streams the file but collects the distinct valid addresses (first-seen
    order) in ``result.addresses`` — meant for suppression lists, which are
    small; use :func:`iter_valid` for large files. Writes nothing anywhere.
    Raises :class:`CsvFormatError` / :class:`CsvEncodingError` for problems
    with the file as a whole.
    """
    result = ImportResult()
    for _line, email, _fields in iter_valid(
        stream,
        encoding,
        result=result,
        max_errors_kept=max_errors_kept,
        required_columns=required_columns,
        email_column_candidates=email_column_candidates,
    ):
        result.addresses.append(email)
    return result


# --------------------------------------------------------------------------
# Export


def _escape_cell(value: Any) -> str:
    """Render one cell, neutralising spreadsheet formulas (CSV injection).

    A string starting with a formula trigger gets a leading single quote,
    the OWASP-recommended mitigation (the quote may be visible in Excel).
    Numbers are written as-is: they cannot smuggle a formula and "'-5"
    would spoil them.
    """
    if value is None:
        return ""
    if isinstance(value, numbers.Number):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_TRIGGERS):
        return "'" + text
    return text


def _unencodable_chars(text: str, codec: str) -> str:
    bad: dict[str, None] = {}
    for ch in text:
        try:
            ch.encode(codec)
        except UnicodeEncodeError:
            bad[ch] = None
    return "".join(bad)


def write_csv(
    rows: Iterable[Sequence[Any]],
    header: Sequence[str],
    *,
    encoding: str,
    errors: str = "strict",
) -> Iterator[bytes]:
    """Yield the CSV file as byte chunks (~64 KiB) for StreamingHttpResponse.

    ``encoding`` is "utf-8-sig" (UTF-8 with BOM, which Excel opens
    correctly; recommended), "cp932"/"shift_jis" (Excel's legacy default) or
    "utf-8". Lines end with CRLF as Excel expects. An empty ``header``
    writes no header row. ``None`` cells become empty; other non-strings
    are ``str()``-ed.

    Every string cell starting with = + - @ (or tab, CR, LF, or their
    full-width forms) is prefixed with ``'`` to defuse formula injection.

    With ``errors="strict"`` a character that CP932 cannot represent (emoji,
    some kanji variants) raises :class:`CsvEncodeError` naming the row; with
    ``errors="replace"`` it is written as "?". The error surfaces while
    streaming, i.e. after the response has started; to fail cleanly first,
    run a dry pass (``for _ in write_csv(...): pass``) over a re-iterable
    ``rows``. Bad ``encoding``/``errors`` arguments raise immediately
    (:class:`CsvEncodingError` / ``ValueError``), before any streaming.
    """
    codec = normalise_encoding(encoding)
    if errors not in ("strict", "replace"):
        raise ValueError(f"errors must be 'strict' or 'replace', not {errors!r}")
    return _generate_csv(rows, header, codec, errors)


def _generate_csv(
    rows: Iterable[Sequence[Any]], header: Sequence[str], codec: str, errors: str
) -> Iterator[bytes]:
    # An incremental encoder emits the utf-8-sig BOM exactly once, at the
    # start of the first chunk.
    encoder = codecs.getincrementalencoder(codec)(errors=errors)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    out = bytearray()
    all_rows: Iterable[Sequence[Any]] = chain([header], rows) if header else rows
    for number, row in enumerate(all_rows, start=1):
        writer.writerow([_escape_cell(cell) for cell in row])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        try:
            out += encoder.encode(text)
        except UnicodeEncodeError as exc:
            chars = _unencodable_chars(text, codec)
            raise CsvEncodeError(
                _format_lazy(
                    _(
                        "Row %(row)s contains characters that cannot be saved as %(encoding)s: %(chars)s. Export as UTF-8 instead."
                    ),
                    row=number,
                    encoding=_LABELS[codec],
                    chars=chars,
                ),
                row=number,
                chars=chars,
            ) from exc
        if len(out) >= EXPORT_CHUNK_SIZE:
            yield bytes(out)
            out.clear()
    out += encoder.encode("", final=True)
    if out:
        yield bytes(out)
