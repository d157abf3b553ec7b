"""Tests for mailops.csvio: encoding detection, row parsing, validation, export."""

from __future__ import annotations

import codecs
import csv
import io
import pickle
import time
import tracemalloc
from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from mailops.csvio import (
    CP932,
    UTF8,
    UTF8_SIG,
    CsvEncodeError,
    CsvEncodingError,
    CsvFormatError,
    ImportResult,
    check_email,
    dedupe_key,
    detect_encoding,
    import_addresses,
    iter_rows,
    iter_valid,
    validate_email_address,
    write_csv,
)

JAPANESE_CSV = (
    "メールアドレス,氏名,部署\r\n"
    "taro@example.jp,山田 太郎,営業部\r\n"
    "hanako@example.co.jp,佐藤 花子,総務部\r\n"
)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    # The project default is Japanese; assertions below match the English
    # msgids, which must not depend on the state of the Japanese catalog.
    with translation.override("en"):
        yield


def _stream(text: str, encoding: str) -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


# --------------------------------------------------------------------------
# Encoding detection


@pytest.mark.parametrize(
    ("encoding", "expected", "label"),
    [
        ("utf-8-sig", UTF8_SIG, "UTF-8 (BOM)"),
        ("utf-8", UTF8, "UTF-8"),
        ("cp932", CP932, "Shift_JIS (CP932)"),
    ],
)
def test_detect_encoding_with_japanese_headers(
    encoding: str, expected: str, label: str
) -> None:
    stream = _stream(JAPANESE_CSV, encoding)
    stream.seek(0)
    guess = detect_encoding(stream)
    assert (guess.encoding, guess.label, guess.confident) == (expected, label, True)
    assert str(guess.reason)
    assert stream.tell() == 0  # rewound for iter_rows

    rows = list(iter_rows(stream, guess.encoding))
    assert [r.email for r in rows] == ["taro@example.jp", "hanako@example.co.jp"]
    assert rows[0].fields == {
        "メールアドレス": "taro@example.jp",
        "氏名": "山田 太郎",
        "部署": "営業部",
    }
    assert [r.line for r in rows] == [2, 3]


def test_detect_restores_non_zero_start_position() -> None:
    stream = io.BytesIO(b"junk" + JAPANESE_CSV.encode("cp932"))
    stream.seek(4)
    assert detect_encoding(stream).encoding == CP932
    assert stream.tell() == 4


def test_detect_tolerates_character_cut_at_sample_boundary() -> None:
    # A multi-byte character straddling the 64 KiB boundary must not make a
    # valid UTF-8 file look invalid.
    line = "a@example.jp,あ\r\n"
    text = "email,name\r\n" + line * 5000
    data = text.encode("utf-8")
    assert not data[: 64 * 1024].decode("utf-8", errors="ignore").endswith("\r\n")
    assert detect_encoding(io.BytesIO(data)).encoding == UTF8


def test_detect_ascii_only_is_not_confident() -> None:
    guess = detect_encoding(io.BytesIO(b"email\r\na@example.jp\r\n"))
    assert guess.encoding == UTF8
    assert guess.confident is False


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("email\r\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
        (b"email\r\n\x81\x20\x82\x7f", "neither UTF-8 nor Shift_JIS"),
    ],
)
def test_detect_rejects_unsupported_files(data: bytes, message: str) -> None:
    with pytest.raises(CsvEncodingError, match=message):
        detect_encoding(io.BytesIO(data))


def test_django_uploaded_file_is_left_open() -> None:
    upload = SimpleUploadedFile(
        "list.csv", JAPANESE_CSV.encode("utf-8-sig"), "text/csv"
    )
    guess = detect_encoding(upload)
    result = import_addresses(upload, guess.encoding)
    assert result.addresses == ["taro@example.jp", "hanako@example.co.jp"]
    assert not upload.closed
    upload.seek(0)
    assert upload.read(3) == codecs.BOM_UTF8


def test_wrong_encoding_choice_reports_exact_line() -> None:
    # Far more than one 8 KiB decoding chunk of ASCII before the bad line.
    text = "email,name\r\n" + "a@example.jp,x\r\n" * 2000 + "b@example.jp,山田\r\n"
    with pytest.raises(CsvEncodingError, match="Line 2002 cannot be read as UTF-8"):
        list(iter_rows(_stream(text, "cp932"), "utf-8"))


# --------------------------------------------------------------------------
# Parsing rows


def test_no_header_file_uses_email_column() -> None:
    rows = list(
        iter_rows(_stream("taro@example.jp,太郎\r\njiro@example.jp\r\n", UTF8), UTF8)
    )
    assert [(r.line, r.email) for r in rows] == [
        (1, "taro@example.jp"),
        (2, "jiro@example.jp"),
    ]
    assert rows[0].fields == {"column_1": "taro@example.jp", "column_2": "太郎"}


def test_no_header_short_rows_and_required_columns() -> None:
    text = "x,taro@example.jp\r\ny\r\n"
    rows = list(iter_rows(_stream(text, UTF8), UTF8))
    assert [(r.line, r.email) for r in rows] == [(1, "taro@example.jp"), (2, "")]
    with pytest.raises(CsvFormatError, match="no header row"):
        list(iter_rows(_stream(text, UTF8), UTF8, required_columns=["name"]))


def test_no_header_and_no_email_is_an_error() -> None:
    with pytest.raises(CsvFormatError, match="No email address column"):
        list(iter_rows(_stream("name,phone\r\n太郎,03\r\n", UTF8), UTF8))


def test_quoted_commas_newlines_and_excel_row_numbers() -> None:
    text = (
        "Name,E-Mail,Note,,\r\n"
        '"Yamada, Taro",taro@example.jp,"line one\r\nline two",,\r\n'
        ",,,,\r\n"
        "\r\n"
        'Sato,"　hanako@example.jp　","He said ""hi""",,\r\n'
    )
    rows = list(iter_rows(_stream(text, UTF8), UTF8))
    assert [r.email for r in rows] == ["taro@example.jp", "hanako@example.jp"]
    # Excel shows the multi-line cell as one row, so Sato is row 5.
    assert [r.line for r in rows] == [2, 5]
    assert rows[0].fields == {
        "Name": "Yamada, Taro",
        "E-Mail": "taro@example.jp",
        "Note": "line one\r\nline two",
    }
    assert rows[1].fields["Note"] == 'He said "hi"'


def test_header_matching_is_width_and_case_insensitive() -> None:
    text = "\ufeff番号,ＥＭＡＩＬ\r\n1,a@example.jp\r\n"
    # Decoding as plain utf-8 leaves the BOM in the first header cell.
    rows = list(iter_rows(_stream(text, UTF8), UTF8))
    assert rows[0].email == "a@example.jp"
    assert rows[0].fields == {"番号": "1", "ＥＭＡＩＬ": "a@example.jp"}


def test_required_columns_keyed_by_requested_name() -> None:
    text = "Ｍａｉｌ,Company Name\r\na@example.jp,ACME\r\n"
    rows = list(iter_rows(_stream(text, UTF8), UTF8, required_columns=["company_name"]))
    assert rows[0].fields == {"Ｍａｉｌ": "a@example.jp", "company_name": "ACME"}
    with pytest.raises(CsvFormatError, match="Required columns.*phone"):
        list(iter_rows(_stream(text, UTF8), UTF8, required_columns=["phone"]))


def test_extra_cells_beyond_header() -> None:
    text = "email\r\na@example.jp,,extra,\r\n"
    (row,) = iter_rows(_stream(text, UTF8), UTF8)
    assert row.fields == {"email": "a@example.jp", "column_3": "extra"}


def test_unterminated_quote_is_a_format_error() -> None:
    text = 'email\r\n"a@example.jp\r\n' + "x" * 200_000
    with pytest.raises(CsvFormatError, match="malformed"):
        list(iter_rows(_stream(text, UTF8), UTF8))


def test_empty_file_yields_nothing() -> None:
    assert list(iter_rows(io.BytesIO(b""), UTF8)) == []
    assert import_addresses(io.BytesIO(b""), UTF8).total == 0


# --------------------------------------------------------------------------
# Email validation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("taro@example.jp", "taro@example.jp"),
        ("  Taro.Yamada@Example.CO.JP\u3000", "Taro.Yamada@example.co.jp"),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
        ("taro＠example.jp", "taro@example.jp"),
        ("\u200btaro@example.jp", "taro@example.jp"),
        ("info@日本語.jp", "info@xn--wgv71a119e.jp"),
        ("info@ドメイン名例.JP", "info@xn--eckwd4c7cu47r2wf.jp"),
        ("user+tag@mail.example.com", "user+tag@mail.example.com"),
        ("o'brien@example.ie", "o'brien@example.ie"),
    ],
)
def test_valid_addresses_are_normalised(raw: str, expected: str) -> None:
    assert validate_email_address(raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "empty"),
        ("taro.example.jp", "no @"),
        ("@example.jp", "nothing before the @"),
        ("taro@", "nothing after the @"),
        ("a@b@example.jp", "more than one @"),
        ("taro yamada@example.jp", "space"),
        ("taro..yamada@example.jp", "consecutive dots"),
        ("taro.@example.jp", "dot right before the @"),
        (".taro@docomo.ne.jp", "starts with a dot"),
        ("a" * 65 + "@example.jp", "longer than 64"),
        ("a@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "." + "e" * 70, "valid"),
        ("a@" + ("b" * 62 + ".") * 4 + "jp", "254"),
        ("taro@localhost", "no dot"),
        ("taro@-example.jp", "not a valid domain"),
        ("taro@exa_mple.jp", "not a valid domain"),
        ("taro@example..jp", "not a valid domain"),
        ("taro@[192.0.2.1]", "IP address"),
        ("たろう@example.jp", "ASCII"),
        ("taro,yamada@example.jp", "cannot be used before the @: ,"),
    ],
)
def test_invalid_addresses_have_reasons(raw: str, message: str) -> None:
    normalised, error = validate_email_address(raw)
    assert normalised is None
    assert message in str(error)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("taro..yamada@docomo.ne.jp", "taro..yamada@docomo.ne.jp"),
        ("hanako.@ezweb.ne.jp", "hanako.@ezweb.ne.jp"),
        ("Jiro..@biz.ezweb.ne.jp", "Jiro..@biz.ezweb.ne.jp"),
        ("a..b@T.Vodafone.ne.jp", "a..b@t.vodafone.ne.jp"),
    ],
)
def test_legacy_carrier_addresses_accepted_with_warning(
    raw: str, expected: str
) -> None:
    check = check_email(raw)
    assert check.ok and check.normalised == expected
    assert check.error is None
    assert "mobile-carrier" in str(check.warning)
    assert validate_email_address(raw) == (expected, None)


def test_regular_address_has_no_warning() -> None:
    assert check_email("taro.yamada@docomo.ne.jp").warning is None


def test_dedupe_key_folds_domain_only() -> None:
    assert dedupe_key("Taro@Example.JP") == dedupe_key("Taro@example.jp")
    assert dedupe_key("Taro@example.jp") != dedupe_key("taro@example.jp")
    assert dedupe_key("ｔａｒｏ＠ＥＸＡＭＰＬＥ.jp") == "taro@example.jp"
    assert dedupe_key("not an address@X.JP") == "not an address@x.jp"


# --------------------------------------------------------------------------
# Import


def test_import_counts_errors_duplicates_and_warnings() -> None:
    text = (
        "メールアドレス,氏名\r\n"
        "taro@example.jp,太郎\r\n"  # 2
        "taro@EXAMPLE.JP,太郎（重複）\r\n"  # 3 duplicate (domain case)
        "Taro@example.jp,別人\r\n"  # 4 distinct local part
        "no-at-sign,エラー\r\n"  # 5
        "\r\n"  # 6 blank: ignored
        ",名前だけ\r\n"  # 7 empty email
        "taro..yamada@docomo.ne.jp,携帯\r\n"  # 8 warning
        "ｊｉｒｏ＠example.jp,次郎\r\n"  # 9
    )
    result = import_addresses(_stream(text, "cp932"), "shift_jis")
    assert result.encoding == CP932
    assert (result.total, result.valid, result.invalid, result.duplicates) == (
        7,
        4,
        2,
        1,
    )
    assert result.total == result.valid + result.invalid + result.duplicates
    assert result.warnings == 1
    assert result.addresses == [
        "taro@example.jp",
        "Taro@example.jp",
        "taro..yamada@docomo.ne.jp",
        "jiro@example.jp",
    ]
    assert [(e.line, e.raw) for e in result.errors] == [(5, "no-at-sign"), (7, "")]
    assert "no @" in str(result.errors[0].message)
    assert [w.line for w in result.warning_rows] == [8]
    assert not result.ok


def test_import_result_pickles_and_translates_late() -> None:
    result = import_addresses(_stream("email\r\nbad\r\n", UTF8), UTF8)
    restored = pickle.loads(pickle.dumps(result))
    assert str(restored.errors[0].message) == "The email address has no @."
    with translation.override("ja"):
        # Rendered in the active language (msgid until the catalog has it).
        assert str(restored.errors[0].message)


def test_import_keeps_first_errors_but_counts_all() -> None:
    text = "email\r\n" + "bad\r\n" * 50 + "ok@example.jp\r\n"
    result = import_addresses(_stream(text, UTF8), UTF8, max_errors_kept=10)
    assert result.invalid == 50
    assert [e.line for e in result.errors] == list(range(2, 12))
    assert result.errors_truncated
    assert result.addresses == ["ok@example.jp"]


def test_iter_valid_yields_fields_and_fills_result() -> None:
    result = ImportResult()
    rows = list(
        iter_valid(_stream(JAPANESE_CSV + "bad,x,y\r\n", CP932), CP932, result=result)
    )
    assert [(line, email) for line, email, _ in rows] == [
        (2, "taro@example.jp"),
        (3, "hanako@example.co.jp"),
    ]
    assert rows[1][2]["部署"] == "総務部"
    assert (result.total, result.valid, result.invalid) == (3, 2, 1)
    assert result.addresses == []


# --------------------------------------------------------------------------
# Export


@pytest.mark.parametrize("encoding", [UTF8_SIG, CP932])
def test_export_round_trip(encoding: str) -> None:
    header = ["メールアドレス", "氏名", "メモ"]
    rows = [
        ["taro@example.jp", "山田 太郎", "カンマ, と\n改行"],
        ["hanako@example.jp", "髙橋 花子", '引用符 "あり"'],  # 髙: CP932-only kanji
    ]
    data = b"".join(write_csv(rows, header, encoding=encoding))
    assert b"\r\n" in data
    assert data.startswith(codecs.BOM_UTF8) == (encoding == UTF8_SIG)

    stream = io.BytesIO(data)
    guess = detect_encoding(stream)
    assert guess.encoding == encoding
    parsed = list(iter_rows(stream, guess.encoding))
    assert [list(r.fields.values()) for r in parsed] == rows
    assert [r.line for r in parsed] == [2, 3]


def test_export_chunks_large_output() -> None:
    rows = ([f"user{i}@example.jp", "名前"] for i in range(20_000))
    chunks = list(write_csv(rows, ["email", "name"], encoding=UTF8_SIG))
    assert len(chunks) > 1
    assert all(len(c) <= 64 * 1024 + 200 for c in chunks)
    assert b"".join(chunks).count(codecs.BOM_UTF8) == 1


def test_export_cp932_unencodable_raises_with_row() -> None:
    rows = [["ok@example.jp", "山田"], ["emoji@example.jp", "🍣 寿司"]]
    with pytest.raises(CsvEncodeError, match="Row 3") as exc_info:
        b"".join(write_csv(rows, ["email", "name"], encoding=CP932))
    assert exc_info.value.row == 3
    assert exc_info.value.chars == "🍣"

    data = b"".join(
        write_csv(rows, ["email", "name"], encoding=CP932, errors="replace")
    )
    assert data.decode(CP932).splitlines()[2] == "emoji@example.jp,? 寿司"


def test_export_escapes_formulas() -> None:
    rows = [
        ['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)"],
        ["\tx", "＝1+1", "plain", -5],
        [None, 3.5, "a=b", "mail@example.jp"],
    ]
    data = b"".join(write_csv(rows, ["a", "b", "c", "d"], encoding=UTF8_SIG))
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[1] == ['\'=HYPERLINK("http://evil")', "'+1", "'-2", "'@SUM(A1)"]
    assert parsed[2] == ["'\tx", "'＝1+1", "plain", "-5"]
    assert parsed[3] == ["", "3.5", "a=b", "mail@example.jp"]


def test_escaped_addresses_reimport_unchanged() -> None:
    rows = [["-taro@example.jp"], ["+info@example.jp"], ["o'brien@example.ie"]]
    data = b"".join(write_csv(rows, ["email"], encoding=UTF8_SIG))
    assert b"'-taro@example.jp" in data
    result = import_addresses(io.BytesIO(data), UTF8_SIG)
    assert result.addresses == [r[0] for r in rows]


def test_export_rejects_unknown_encoding() -> None:
    # Raised on the call, before a StreamingHttpResponse starts sending.
    with pytest.raises(CsvEncodingError):
        write_csv([], ["a"], encoding="latin-1")
    with pytest.raises(ValueError, match="errors"):
        write_csv([], ["a"], encoding=CP932, errors="ignore")


# --------------------------------------------------------------------------
# Streaming


def _generated_line(i: int) -> str:
    # Every 1000th row is invalid, so errors are exercised too.
    if i % 1000 == 999:
        return f"broken-{i},エラー,\r\n"
    return f'user{i}@Example{i % 50}.co.jp,利用者{i},"メモ, {i}"\r\n'


class GeneratedCsv(io.RawIOBase):
    """A CSV file produced on the fly, never held in memory.

    Seekable (to 0) only until ``freeze()``, mimicking an upload that can be
    sniffed and rewound but must then be consumed strictly forward.
    """

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self.frozen = False
        self._restart()

    def _restart(self) -> None:
        self._blocks = self._generate()
        self._block = memoryview(b"")
        self._offset = 0
        self._pos = 0

    def _generate(self) -> Iterator[bytes]:
        # Blocks of 1,000 lines (~60 KB): realistic read sizes without
        # per-line overhead dominating the measurement.
        yield "\ufeffメールアドレス,氏名,メモ\r\n".encode()
        for start in range(0, self.rows, 1000):
            stop = min(start + 1000, self.rows)
            yield "".join(map(_generated_line, range(start, stop))).encode()

    def freeze(self) -> None:
        self.frozen = True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return not self.frozen

    def tell(self) -> int:
        if self.frozen:
            raise io.UnsupportedOperation("tell after start")
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if self.frozen or offset != 0 or whence != 0:
            raise io.UnsupportedOperation("seek after start")
        self._restart()
        return 0

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while self._offset >= len(self._block):
            block = next(self._blocks, None)
            if block is None:
                return 0
            self._block, self._offset = memoryview(block), 0
        chunk = self._block[self._offset : self._offset + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._offset += len(chunk)
        self._pos += len(chunk)
        return len(chunk)


def test_streaming_200k_rows_in_small_memory() -> None:
    rows = 200_000
    source = GeneratedCsv(rows)
    guess = detect_encoding(source)
    assert guess.encoding == UTF8_SIG
    source.freeze()

    result = ImportResult()
    rows_out = iter_valid(
        source, guess.encoding, result=result, dedupe=False, max_errors_kept=50
    )
    # tracemalloc slows every allocation down (more so in long functions),
    # so the consuming loop is kept allocation-free.
    started = time.perf_counter()
    tracemalloc.start()
    try:
        count = sum(1 for _ in rows_out)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - started

    assert count == result.valid == rows - rows // 1000
    assert result.invalid == rows // 1000
    assert len(result.errors) == 50
    assert result.errors[0].line == 1001  # header is row 1, data row 1000
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    # ~5 s here under tracemalloc (~0.8 s without); generous for slow CI.
    assert elapsed < 30, f"{elapsed:.1f} s"
    print(f"streaming {rows} rows: peak {peak / 1e6:.2f} MB, {elapsed:.2f} s")  # noqa: T201
