"""Accounting CSV exports: columns (reference §5), encodings, one row's values."""

from __future__ import annotations

import csv
import dataclasses
import io
from decimal import Decimal

import pytest

from billing import exports
from billing.documents import TaxGroup
from mailops.csvio import CsvEncodeError
from tests.billing.doc_examples import CUSTOMER, RATE, example_a


def _rows(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def _customer_named(name: str):
    return dataclasses.replace(CUSTOMER, name=name)


def _credit_note():
    return example_a(
        kind="credit_note",
        number="CN-2025-000001",
        original_number="INV-2025-000042",
        reason="値引き",
        fx=None,
        usage_usd_total=Decimal("0"),
        usage_jpy=0,
        tax_groups=(TaxGroup(rate=RATE, net_jpy=-4573, tax_jpy=-457),),
        total_jpy=-5030,
    )


def test_generic_csv_is_utf8_bom_with_one_row_per_document():
    data = exports.export_generic_csv([example_a(), _credit_note()])
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    rows = _rows(data, "utf-8-sig")
    assert tuple(rows[0]) == exports.GENERIC_COLUMNS
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["請求書番号"] == "INV-2025-000042"
    assert row["発行日"] == "2025-05-01"
    assert row["取引先"] == "株式会社霞商店"
    assert row["発行者登録番号"] == "T7000012050002"
    assert row["10%対象税抜"] == "34573"
    assert row["10%消費税"] == "3457"
    assert row["8%対象税抜"] == "0"
    assert row["税込合計"] == "38030"
    assert row["ACS利用額USD"] == "30.28800"
    assert row["ACS利用額円"] == "4573"
    assert row["適用為替レート"] == "150.99"
    assert (row["レート種別"], row["レート日付"], row["レート出典"]) == (
        "TTM",
        "2025-04-01",
        "三菱UFJ銀行",
    )
    credit = dict(zip(rows[0], rows[2], strict=True))
    # Negative numbers stay numbers (no anti-formula quote).
    assert credit["税込合計"] == "-5030"
    assert credit["元請求書番号"] == "INV-2025-000042"


def test_freee_columns_and_row():
    data = exports.export_freee([example_a()])
    assert not data.startswith(b"\xef\xbb\xbf")
    rows = _rows(data, "utf-8")
    assert rows[0] == [
        "収支区分",
        "管理番号",
        "発生日",
        "決済期日",
        "取引先",
        "勘定科目",
        "税区分",
        "金額",
        "税計算区分",
        "税額",
        "備考",
        "品目",
        "部門",
        "メモタグ",
        "セグメント1",
        "セグメント2",
        "セグメント3",
        "決済日",
        "決済口座",
        "決済金額",
    ]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["収支区分"] == "収入"
    assert row["管理番号"] == "INV-2025-000042"
    assert row["発生日"] == "2025/05/01"
    assert row["決済期日"] == "2025/05/31"
    assert row["取引先"] == CUSTOMER.name
    assert row["勘定科目"] == "売上高"
    assert row["税区分"] == "課税売上10%"
    assert row["金額"] == "38030"
    assert row["税額"] == "3457"
    assert row["備考"] == "INV-2025-000042 株式会社霞商店 2025年4月分"
    assert row["決済日"] == ""
    assert len(rows) == 2


def test_moneyforward_columns_and_row():
    rows = _rows(exports.export_moneyforward([example_a()]), "utf-8")
    assert len(rows[0]) == 27
    assert tuple(rows[0]) == exports.MONEYFORWARD_COLUMNS
    assert rows[0][7] == "借方インボイス" and rows[0][15] == "貸方インボイス"
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["取引No"] == "1"
    assert row["取引日"] == "2025/05/01"
    assert (row["借方勘定科目"], row["借方金額(円)"], row["借方税区分"]) == (
        "売掛金",
        "38030",
        "対象外",
    )
    assert (row["貸方勘定科目"], row["貸方金額(円)"], row["貸方税額"]) == (
        "売上高",
        "38030",
        "3457",
    )
    assert row["貸方税区分"] == "課売上 10%"
    assert row["貸方取引先"] == CUSTOMER.name


def test_yayoi_is_cp932_crlf_without_header_25_columns():
    data = exports.export_yayoi([example_a()])
    assert data.endswith(b"\r\n")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rows = _rows(data, "cp932")
    assert len(rows) == 1  # no header row
    assert len(rows[0]) == 25 == len(exports.YAYOI_COLUMNS)
    row = dict(zip(exports.YAYOI_COLUMNS, rows[0], strict=True))
    assert row["識別フラグ"] == "2000"
    assert row["取引日付"] == "2025/05/01"
    assert (row["借方勘定科目"], row["借方金額"], row["借方税区分"]) == (
        "売掛金",
        "38030",
        "対象外",
    )
    assert (row["貸方勘定科目"], row["貸方税区分"]) == ("売上高", "課税売上10%")
    assert (row["貸方金額"], row["貸方税金額"]) == ("38030", "3457")
    assert row["摘要"] == "INV-2025-000042 株式会社霞商店 2025年4月分"
    assert row["期日"] == "2025/05/31"


def test_credit_note_swaps_sides_in_journals():
    mf = dict(
        zip(
            exports.MONEYFORWARD_COLUMNS,
            _rows(exports.export_moneyforward([_credit_note()]), "utf-8")[1],
            strict=True,
        )
    )
    assert (mf["借方勘定科目"], mf["借方金額(円)"], mf["借方税額"]) == (
        "売上高",
        "5030",
        "457",
    )
    assert (mf["貸方勘定科目"], mf["貸方金額(円)"]) == ("売掛金", "5030")
    assert "元請求書 INV-2025-000042" in mf["摘要"]
    yayoi = _rows(exports.export_yayoi([_credit_note()]), "cp932")[0]
    assert (yayoi[4], yayoi[7], yayoi[8], yayoi[10]) == (
        "売上高",
        "課税売上10%",
        "5030",
        "売掛金",
    )
    freee = _rows(exports.export_freee([_credit_note()]), "utf-8")[1]
    assert freee[7] == "-5030"


def test_two_rate_groups_make_a_multi_line_yayoi_entry():
    doc = example_a(
        tax_groups=(
            TaxGroup(Decimal("0.08"), 300, 24),
            TaxGroup(RATE, 34573, 3457),
        ),
        total_jpy=38354,
    )
    rows = _rows(exports.export_yayoi([doc]), "cp932")
    assert [r[0] for r in rows] == ["2110", "2101"]
    assert rows[0][13] == "課税売上10%" and rows[1][13] == "課税売上8%（軽）"
    mf = _rows(exports.export_moneyforward([doc, example_a()]), "utf-8")[1:]
    assert [r[0] for r in mf] == ["1", "1", "2"]


def test_yayoi_refuses_characters_cp932_cannot_hold():
    doc = example_a(customer=_customer_named("🍣商店"))
    with pytest.raises(CsvEncodeError):
        exports.export_yayoi([doc])


def test_formula_like_text_is_escaped():
    doc = example_a(customer=_customer_named("=HYPERLINK(1)"))
    rows = _rows(exports.export_generic_csv([doc]), "utf-8-sig")
    assert rows[1][6] == "'=HYPERLINK(1)"


def test_exporters_table_covers_the_cli_formats():
    assert set(exports.EXPORTERS) == {"csv", "freee", "moneyforward", "yayoi"}
