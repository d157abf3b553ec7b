"""Accounting exports of issued invoices: generic CSV, freee, マネーフォワード, 弥生.

Input is a list of ``InvoiceDocument`` (already computed; nothing here
re-rounds or recomputes tax). Output is the complete file as ``bytes``.

Journal shape (reference §5.4): one sales entry per invoice and tax-rate group,

    debit  売掛金  (net + tax of the group, tax-inclusive)
    credit 売上高  (same tax-inclusive amount, 税区分 課税売上10%, 税額 = group tax)

i.e. amounts are entered tax-inclusive (内税) with the tax amount given
explicitly, so the accounting software books exactly the tax printed on the
invoice instead of recomputing it. One row per rate group keeps every row
balanced on its own. Credit notes swap debit and credit with positive amounts
(返品・値引き reverses the sale); freee, which has no sides, gets negative
amounts instead. A corrected invoice (訂正請求書) is booked as a full new sale:
the billing core issues a credit note for the original in full before the
correction (``billing.services.corrections``), and that credit note reverses
the original entry, so nothing is counted twice.

**Column lists come from reference §5.1–5.3, which took them from third-party
code, not vendor manuals: all of them are UNCONFIRMED against the official
specs.** Columns whose *values* are also guesses are marked
``# UNCONFIRMED`` where they are filled in.

Encodings (§5.4): 弥生 CP932 with CRLF and no header; freee and
マネーフォワード UTF-8 with a header; the generic CSV UTF-8 with BOM so Excel
opens it correctly. All files are written with ``mailops.csvio.write_csv``
(CRLF, formula-injection escaping; numbers are written as numbers so
negative amounts are not escaped).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from billing.documents import InvoiceDocument, TaxGroup
from mailops.csvio import write_csv

# --------------------------------------------------------------------------
# Settings shared by the journal formats


@dataclass(frozen=True)
class JournalAccounts:
    """Account names used in journal exports (defaults are the common ones).

    The names must match the chart of accounts in the target software; the
    defaults are the standard Japanese names (売掛金 / 売上高).
    """

    receivable: str = "売掛金"
    sales: str = "売上高"


DEFAULT_ACCOUNTS = JournalAccounts()

# 税区分 strings per product and tax rate (percent). UNCONFIRMED: taken from
# third-party code (§5.1–5.3), which shows MF using 課売上 where freee and
# 弥生 use 課税売上.
FREEE_TAX_CLASSES = {10: "課税売上10%", 8: "課税売上8%（軽）"}
MONEYFORWARD_TAX_CLASSES = {10: "課売上 10%", 8: "課売上 (軽)8%"}
YAYOI_TAX_CLASSES = {10: "課税売上10%", 8: "課税売上8%（軽）"}
NOT_TAXABLE = "対象外"  # the receivable side of the entry carries no tax


def _percent(rate: Decimal) -> int:
    """Tax rate fraction → integer percent (0.10 → 10)."""
    return int(rate * 100)


def _tax_class(table: dict[int, str], rate: Decimal) -> str:
    percent = _percent(rate)
    try:
        return table[percent]
    except KeyError:
        raise ValueError(f"no 税区分 configured for {percent}%") from None


def _slash_date(value: date | None) -> str:
    """``YYYY/MM/DD``, the date form all three products accept (§5.3)."""
    return f"{value:%Y/%m/%d}" if value else ""


def _period_label(doc: InvoiceDocument) -> str:
    if (doc.period_start.year, doc.period_start.month) == (
        doc.period_end.year,
        doc.period_end.month,
    ):
        return f"{doc.period_start.year}年{doc.period_start.month}月分"
    return f"{doc.period_start:%Y/%m/%d}-{doc.period_end:%Y/%m/%d}"


_KIND_LABELS = {"invoice": "請求", "credit_note": "返還", "corrected": "訂正"}


def description(doc: InvoiceDocument) -> str:
    """摘要: invoice number + customer + period (§5.4), plus the original
    number for credit notes and corrections."""
    parts = [doc.number, doc.customer.name, _period_label(doc)]
    if doc.kind != "invoice":
        parts.append(f"{_KIND_LABELS[doc.kind]} 元請求書 {doc.original_number}")
    return " ".join(part for part in parts if part)


def _groups(doc: InvoiceDocument) -> tuple[TaxGroup, ...]:
    """Rate groups, highest rate first; an all-zero invoice still gets a row."""
    return tuple(sorted(doc.tax_groups, key=lambda g: g.rate, reverse=True))


def _to_bytes(
    rows: Iterable[Sequence[Any]], header: Sequence[str], encoding: str
) -> bytes:
    return b"".join(write_csv(rows, header, encoding=encoding))


# --------------------------------------------------------------------------
# (a) Generic invoice CSV — our own format, one row per document


GENERIC_COLUMNS: tuple[str, ...] = (
    "請求書番号",
    "種別",  # invoice / credit_note / corrected
    "発行日",
    "支払期限",
    "対象期間開始",
    "対象期間終了",
    "取引先",
    "取引先登録番号",
    "発行者登録番号",
    "10%対象税抜",
    "10%消費税",
    "8%対象税抜",
    "8%消費税",
    "税抜合計",
    "消費税合計",
    "税込合計",
    "ACS利用額USD",
    "ACS利用額円",
    "適用為替レート",
    "レート種別",
    "レート日付",
    "レート出典",
    "元請求書番号",
    "理由",
)


def _generic_row(doc: InvoiceDocument) -> list[Any]:
    by_rate = {_percent(g.rate): g for g in doc.tax_groups}
    other = set(by_rate) - {10, 8}
    if other:
        raise ValueError(f"{doc.number}: tax rate(s) {sorted(other)}% not exportable")
    ten, eight = by_rate.get(10), by_rate.get(8)
    fx = doc.fx
    return [
        doc.number,
        doc.kind,
        doc.issue_date.isoformat(),
        doc.due_date.isoformat(),
        doc.period_start.isoformat(),
        doc.period_end.isoformat(),
        doc.customer.name,
        doc.customer.registration_number,
        doc.issuer.registration_number,
        ten.net_jpy if ten else 0,
        ten.tax_jpy if ten else 0,
        eight.net_jpy if eight else 0,
        eight.tax_jpy if eight else 0,
        doc.net_jpy,
        doc.tax_jpy,
        doc.total_jpy,
        # Decimal is a numbers.Number: written exactly, not formula-escaped.
        doc.usage_usd_total,
        doc.usage_jpy,
        fx.rate if fx else "",
        fx.rate_type if fx else "",
        fx.rate_date.isoformat() if fx else "",
        fx.source if fx else "",
        doc.original_number,
        doc.reason,
    ]


def export_generic_csv(docs: Iterable[InvoiceDocument]) -> bytes:
    """One row per document, UTF-8 with BOM (Excel), ISO dates."""
    return _to_bytes(
        (_generic_row(doc) for doc in docs), GENERIC_COLUMNS, encoding="utf-8-sig"
    )


# --------------------------------------------------------------------------
# (b) freee会計 取引 import (§5.2) — UTF-8, header. All columns UNCONFIRMED.

FREEE_COLUMNS: tuple[str, ...] = (
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
)


def _freee_rows(doc: InvoiceDocument, accounts: JournalAccounts) -> Iterable[list[Any]]:
    # freee has no debit/credit sides: an unpaid 収入 取引 books 売掛金
    # itself. Rows sharing a 管理番号 form one 取引 (§5.2). Credit notes are
    # negative 収入 (UNCONFIRMED: freee may prefer a 支出 row instead).
    for group in _groups(doc):
        yield [
            "収入",
            doc.number,
            _slash_date(doc.issue_date),
            _slash_date(doc.due_date),
            doc.customer.name,
            accounts.sales,
            _tax_class(FREEE_TAX_CLASSES, group.rate),
            group.net_jpy + group.tax_jpy,
            "内税",  # UNCONFIRMED value: amount includes tax, tax given below
            group.tax_jpy,
            description(doc),
            "",
            "",
            "",
            "",
            "",
            "",
            "",  # 決済日: empty = unpaid (receivable)
            "",
            "",
        ]


def export_freee(
    docs: Iterable[InvoiceDocument], accounts: JournalAccounts = DEFAULT_ACCOUNTS
) -> bytes:
    rows = (row for doc in docs for row in _freee_rows(doc, accounts))
    return _to_bytes(rows, FREEE_COLUMNS, encoding="utf-8")


# --------------------------------------------------------------------------
# (c) マネーフォワード クラウド会計 仕訳帳 import (§5.3) — UTF-8, header.
# All columns UNCONFIRMED.

MONEYFORWARD_COLUMNS: tuple[str, ...] = (
    "取引No",
    "取引日",
    "借方勘定科目",
    "借方補助科目",
    "借方部門",
    "借方取引先",
    "借方税区分",
    "借方インボイス",
    "借方金額(円)",
    "借方税額",
    "貸方勘定科目",
    "貸方補助科目",
    "貸方部門",
    "貸方取引先",
    "貸方税区分",
    "貸方インボイス",
    "貸方金額(円)",
    "貸方税額",
    "摘要",
    "仕訳メモ",
    "タグ",
    "MF仕訳タイプ",
    "決算整理仕訳",
    "作成日時",
    "作成者",
    "最終更新日時",
    "最終更新者",
)


def _sides(
    doc: InvoiceDocument, accounts: JournalAccounts
) -> tuple[tuple[str, bool], tuple[str, bool]]:
    """(account, carries-tax) for debit and credit; swapped for credit notes."""
    receivable = (accounts.receivable, False)
    sales = (accounts.sales, True)
    if doc.kind == "credit_note":
        return sales, receivable
    return receivable, sales


def _mf_side(
    account: tuple[str, bool], customer: str, tax_class: str, amount: int, tax: int
) -> list[Any]:
    """勘定科目..税額 of one side; only the sales side carries 税区分 and tax."""
    name, taxed = account
    return [
        name,
        "",  # 補助科目
        "",  # 部門
        customer,  # 取引先
        tax_class if taxed else NOT_TAXABLE,
        "",  # インボイス: relevant to purchases only (UNCONFIRMED)
        amount,
        tax if taxed else 0,
    ]


def _moneyforward_rows(
    doc: InvoiceDocument, number: int, accounts: JournalAccounts
) -> Iterable[list[Any]]:
    debit, credit = _sides(doc, accounts)
    for group in _groups(doc):
        # abs(): credit notes arrive with negative amounts; the swapped sides
        # already express the reversal.
        amount = abs(group.net_jpy + group.tax_jpy)
        tax = abs(group.tax_jpy)
        tax_class = _tax_class(MONEYFORWARD_TAX_CLASSES, group.rate)

        yield [
            number,  # rows with the same 取引No form one entry
            _slash_date(doc.issue_date),
            *_mf_side(debit, doc.customer.name, tax_class, amount, tax),
            *_mf_side(credit, doc.customer.name, tax_class, amount, tax),
            description(doc),
            doc.number,
            "",
            "",  # MF仕訳タイプ: blank for a manual entry (UNCONFIRMED)
            "",  # 決算整理仕訳: blank = no (UNCONFIRMED)
            "",  # 作成日時..最終更新者: export-only columns, left blank
            "",
            "",
            "",
        ]


def export_moneyforward(
    docs: Iterable[InvoiceDocument], accounts: JournalAccounts = DEFAULT_ACCOUNTS
) -> bytes:
    rows = (
        row
        for number, doc in enumerate(docs, start=1)
        for row in _moneyforward_rows(doc, number, accounts)
    )
    return _to_bytes(rows, MONEYFORWARD_COLUMNS, encoding="utf-8")


# --------------------------------------------------------------------------
# (d) 弥生会計 仕訳日記帳 import (§5.1) — CP932, CRLF, NO header, 25 columns.
# All columns UNCONFIRMED. The names are kept for tests and documentation.

YAYOI_COLUMNS: tuple[str, ...] = (
    "識別フラグ",
    "伝票No",
    "決算",
    "取引日付",
    "借方勘定科目",
    "借方補助科目",
    "借方部門",
    "借方税区分",
    "借方金額",
    "借方税金額",
    "貸方勘定科目",
    "貸方補助科目",
    "貸方部門",
    "貸方税区分",
    "貸方金額",
    "貸方税金額",
    "摘要",
    "番号",
    "期日",
    "タイプ",
    "生成元",
    "仕訳メモ",
    "付箋1",
    "付箋2",
    "調整",
)

# 識別フラグ values as reported (§5.1, UNCONFIRMED): 2000 = single-line entry;
# a multi-line entry is 2110 (first), 2100 (middle), 2101 (last).
YAYOI_SINGLE, YAYOI_FIRST, YAYOI_MIDDLE, YAYOI_LAST = "2000", "2110", "2100", "2101"


def _yayoi_flag(index: int, count: int) -> str:
    if count == 1:
        return YAYOI_SINGLE
    if index == 0:
        return YAYOI_FIRST
    if index == count - 1:
        return YAYOI_LAST
    return YAYOI_MIDDLE


def _yayoi_side(
    account: tuple[str, bool], tax_class: str, amount: int, tax: int
) -> list[Any]:
    """勘定科目..税金額 of one side; only the sales side carries 税区分 and tax."""
    name, taxed = account
    return [
        name,
        "",  # 補助科目
        "",  # 部門
        tax_class if taxed else NOT_TAXABLE,
        amount,
        tax if taxed else 0,
    ]


def _yayoi_rows(doc: InvoiceDocument, accounts: JournalAccounts) -> Iterable[list[Any]]:
    debit, credit = _sides(doc, accounts)
    groups = _groups(doc)
    for index, group in enumerate(groups):
        amount = abs(group.net_jpy + group.tax_jpy)
        tax = abs(group.tax_jpy)
        tax_class = _tax_class(YAYOI_TAX_CLASSES, group.rate)

        yield [
            _yayoi_flag(index, len(groups)),
            "",  # 伝票No: blank lets 弥生 number the entry (UNCONFIRMED)
            "",  # 決算: blank = ordinary entry (UNCONFIRMED)
            _slash_date(doc.issue_date),
            *_yayoi_side(debit, tax_class, amount, tax),
            *_yayoi_side(credit, tax_class, amount, tax),
            description(doc),
            doc.number,  # 番号
            _slash_date(doc.due_date),  # 期日
            "0",  # タイプ: 0 = 仕訳 (UNCONFIRMED)
            "",  # 生成元
            doc.number,  # 仕訳メモ
            "0",  # 付箋1 (UNCONFIRMED)
            "0",  # 付箋2 (UNCONFIRMED)
            "no",  # 調整 (UNCONFIRMED)
        ]


def export_yayoi(
    docs: Iterable[InvoiceDocument], accounts: JournalAccounts = DEFAULT_ACCOUNTS
) -> bytes:
    """CP932: a name with a character outside CP932 raises ``CsvEncodeError``
    naming the row, rather than silently writing ``?`` into the books."""
    rows = (row for doc in docs for row in _yayoi_rows(doc, accounts))
    return _to_bytes(rows, (), encoding="cp932")


# --------------------------------------------------------------------------

#: format name → (exporter, file name suffix) for the management command/UI.
EXPORTERS: dict[str, tuple[Callable[[list[InvoiceDocument]], bytes], str]] = {
    "csv": (export_generic_csv, "invoices.csv"),
    "freee": (export_freee, "freee.csv"),
    "moneyforward": (export_moneyforward, "moneyforward.csv"),
    "yayoi": (export_yayoi, "yayoi.csv"),
}
FORMATS: tuple[str, ...] = (*EXPORTERS, "pdf")

# Characters not allowed in file names on the platforms accountants use.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\s]+')


def pdf_filename(doc: InvoiceDocument) -> str:
    """電帳法-friendly name: date_counterparty_amount (§1.8) plus the number."""
    customer = _UNSAFE_NAME.sub("_", doc.customer.name).strip("_")
    number = _UNSAFE_NAME.sub("_", doc.number or "draft")
    return f"{doc.issue_date:%Y%m%d}_{customer}_{doc.total_jpy}_{number}.pdf"


def build_export(
    docs: Sequence[InvoiceDocument], fmt: str, month: date
) -> list[tuple[str, bytes]]:
    """(file name, content) pairs for ``fmt``: one CSV, or one PDF per document.

    Shared by ``manage.py export_invoices`` and the staff UI so both produce
    the same files.
    """
    if fmt == "pdf":
        from billing.pdf import render_invoice_pdf  # reportlab only when needed

        return [(pdf_filename(doc), render_invoice_pdf(doc)) for doc in docs]
    try:
        exporter, suffix = EXPORTERS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r}") from None
    return [(f"{month:%Y-%m}_{suffix}", exporter(list(docs)))]
