"""御請求書 PDF: text (pdftotext), embedded font (pdffonts), determinism, kinds."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from billing import pdf
from billing.documents import InvoiceDocument, InvoiceLineDocument, TaxGroup
from billing.formatting import (
    format_date_ja,
    format_decimal,
    format_jpy,
    format_rate,
    format_usd,
)
from tests.billing.doc_examples import RATE, example_a

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils not installed"
)


def _text(data: bytes, tmp_path: Path, mode: str = "-layout") -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", mode, str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def _fonts(data: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    out = subprocess.run(
        ["pdffonts", str(path)], check=True, capture_output=True, text=True
    )
    # Skip the two header lines; columns: name type encoding emb sub uni id.
    return [line.split() for line in out.stdout.splitlines()[2:] if line.strip()]


def test_example_a_prints_the_mandatory_items_and_amounts(tmp_path):
    text = _text(pdf.render_invoice_pdf(example_a()), tmp_path)
    # Title, recipient with 御中, issuer and T-number (§1.2 items 1 and 6).
    assert "御請求書" in text
    assert "株式会社霞商店 御中" in text.replace("\u3000", " ")
    assert "株式会社サンプルMSP" in text
    assert "登録番号: T7000012050002" in text
    # Number, issue date, due date, service period (item 2).
    assert "INV-2025-000042" in text
    assert "2025年5月1日" in text
    assert "支払期限" in text and "2025年5月31日" in text
    assert "2025年4月1日 〜 2025年4月30日" in text
    # Total (headline and summary), per-rate net and tax (items 4 and 5).
    assert text.count("¥38,030") >= 2
    assert "10%対象 税抜" in text and "¥34,573" in text
    assert "10%対象 消費税" in text and "¥3,457" in text
    # ACS usage: USD amounts, the once-converted yen and the FX line.
    assert "$0.00025" in text and "$0.00012" in text
    assert "$30.288" in text
    assert "¥4,573" in text
    assert "¥30,000" in text
    flat = text.replace("\n", "")
    assert "1 USD = 150.99 JPY（TTM、2025年4月1日、三菱UFJ銀行）" in flat
    # 振込先.
    assert "振込先" in text and "三菱UFJ銀行 丸の内支店 普通 1234567" in text


def test_font_is_embedded_and_no_unembedded_font_remains(tmp_path):
    fonts = _fonts(pdf.render_invoice_pdf(example_a()), tmp_path)
    assert fonts, "no fonts listed"
    names = [row[0] for row in fonts]
    assert any(name.endswith("+IPAexGothic") for name in names)
    for row in fonts:
        # emb column is the 3rd from the end ("yes yes yes <obj> <gen>").
        assert row[-5] == "yes", row


def test_rendering_is_deterministic():
    doc = example_a()
    first = pdf.render_invoice_pdf(doc)
    assert first.startswith(b"%PDF-")
    assert pdf.render_invoice_pdf(doc) == first
    # The creation date is the issue date, not the wall clock.
    assert b"D:20250501000000+09'00'" in first


def test_rendering_is_identical_in_a_fresh_process():
    """Finalize stores the issued bytes; a later re-render elsewhere must match."""
    script = (
        "import hashlib, sys; sys.path.insert(0, '.');"
        "from tests.billing.doc_examples import example_a;"
        "from billing.pdf import render_invoice_pdf;"
        "print(hashlib.sha256(render_invoice_pdf(example_a())).hexdigest())"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    here = hashlib.sha256(pdf.render_invoice_pdf(example_a())).hexdigest()
    assert out.stdout.strip() == here


def test_different_documents_render_differently():
    assert pdf.render_invoice_pdf(example_a()) != pdf.render_invoice_pdf(
        example_a(number="INV-2025-000043")
    )


def test_credit_note_names_original_and_reason(tmp_path):
    credit = example_a(
        kind="credit_note",
        number="CN-2025-000001",
        original_number="INV-2025-000042",
        reason="ACS 利用料の二重計上分の返還",
        lines=(
            InvoiceLineDocument(
                description="値引き（ACS Email 利用料）",
                quantity=Decimal("1"),
                unit="式",
                unit_price_usd=None,
                amount_usd=None,
                amount_jpy=-4573,
                tax_rate=RATE,
            ),
        ),
        fx=None,
        usage_usd_total=Decimal("0"),
        usage_jpy=0,
        tax_groups=(TaxGroup(rate=RATE, net_jpy=-4573, tax_jpy=-457),),
        total_jpy=-5030,
        payment_terms="翌月のご請求額から差し引きます。",
    )
    text = _text(pdf.render_invoice_pdf(credit), tmp_path)
    assert "適格返還請求書" in text
    assert "INV-2025-000042" in text and "CN-2025-000001" in text
    assert "二重計上" in text
    assert "返還金額（税込）" in text
    # 適格返還請求書: date of the refund and period of the original sale.
    assert "返還等の年月日" in text and "元の取引期間" in text
    assert "支払期限" not in text and "振込先" not in text
    assert "翌月のご請求額から差し引きます。" in text
    assert "-¥5,030" in text and "-¥457" in text
    assert "適用為替レート" not in text


def test_corrected_invoice_references_the_original(tmp_path):
    doc = example_a(kind="corrected", number="INV-2025-000050", reason="宛名の誤り")
    doc = dataclasses.replace(doc, original_number="INV-2025-000042")
    text = _text(pdf.render_invoice_pdf(doc), tmp_path)
    assert "訂正請求書" in text
    assert "INV-2025-000042" in text and "訂正" in text
    assert "宛名の誤り" in text


def test_single_line_usage_convention_prints_no_extra_row(tmp_path):
    """Convention B: one ACS line already carries usage_jpy."""
    base = example_a()
    acs = InvoiceLineDocument(
        description="ACS Email 利用料",
        quantity=Decimal("1"),
        unit="式",
        unit_price_usd=None,
        amount_usd=Decimal("30.288"),
        amount_jpy=4573,
        tax_rate=RATE,
    )
    doc = dataclasses.replace(base, lines=(acs, base.lines[2]))
    text = _text(pdf.render_invoice_pdf(doc), tmp_path)
    assert "USD 合計を円換算" not in text
    assert "¥4,573" in text and "$30.288" in text


def test_reduced_rate_lines_are_marked(tmp_path):
    base = example_a()
    food = InvoiceLineDocument(
        description="差し入れ（飲料）",
        quantity=Decimal("2"),
        unit="本",
        unit_price_usd=None,
        amount_usd=None,
        amount_jpy=300,
        tax_rate=Decimal("0.08"),
    )
    doc = dataclasses.replace(
        base,
        lines=(*base.lines, food),
        tax_groups=(*base.tax_groups, TaxGroup(Decimal("0.08"), 300, 24)),
        total_jpy=38354,
    )
    text = _text(pdf.render_invoice_pdf(doc), tmp_path)
    assert "差し入れ（飲料） ※" in text
    assert "8%対象※ 税抜" in text and "8%対象※ 消費税" in text
    assert "※は軽減税率" in text


def test_many_lines_flow_onto_more_pages(tmp_path):
    base = example_a()
    line = base.lines[2]
    doc = dataclasses.replace(base, lines=tuple([line] * 60))
    data = pdf.render_invoice_pdf(doc)
    assert data.count(b"/Type /Page\n") >= 2
    assert "品名" in _text(data, tmp_path)


def test_missing_font_fails_clearly(monkeypatch, tmp_path):
    monkeypatch.setattr(pdf.pdfmetrics, "getRegisteredFontNames", lambda: [])
    with pytest.raises(pdf.PdfFontMissingError, match="fonts-ipaexfont-gothic"):
        pdf._register_font(str(tmp_path / "missing.ttf"))


def test_document_helpers():
    doc: InvoiceDocument = example_a()
    assert doc.title == "御請求書"
    assert doc.net_jpy == 34573 and doc.tax_jpy == 3457
    assert pdf.fx_line(doc) == (
        "適用為替レート: 1 USD = 150.99 JPY（TTM、2025年4月1日、三菱UFJ銀行）"
    )
    assert pdf.default_subject(doc).endswith("（2025年4月分）")
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.total_jpy = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(38030, "¥38,030"), (0, "¥0"), (-5030, "-¥5,030")],
)
def test_format_jpy(value, expected):
    assert format_jpy(value) == expected


def test_decimal_formats_are_exact():
    assert format_usd(Decimal("30.28800")) == "$30.288"
    assert format_usd(Decimal("30.00000")) == "$30.00"
    assert format_usd(Decimal("0.00025")) == "$0.00025"
    assert format_usd(Decimal("-1.5")) == "-$1.50"
    assert format_decimal(Decimal("120000")) == "120,000"
    assert format_decimal(Decimal("150.990000"), 2) == "150.99"
    assert format_rate(Decimal("0.10")) == "10%"
    assert format_rate(Decimal("0.08")) == "8%"
    assert format_date_ja(example_a().issue_date) == "2025年5月1日"


def test_large_numbers_wrap_instead_of_overflowing(tmp_path):
    """Long amounts fall back to wrapping Paragraphs; every digit still prints."""
    base = example_a()
    big = InvoiceLineDocument(
        description="大量送信",
        quantity=Decimal("123456789012"),
        unit="通",
        unit_price_usd=Decimal("0.00025"),
        amount_usd=Decimal("30864197.253000"),
        amount_jpy=0,
        tax_rate=RATE,
    )
    doc = dataclasses.replace(
        base,
        lines=(big, base.lines[2]),
        usage_usd_total=Decimal("30864197.253"),
        usage_jpy=4660185143,
        tax_groups=(TaxGroup(RATE, 4660215143, 466021514),),
        total_jpy=5126236657,
    )
    data = pdf.render_invoice_pdf(doc)
    # -raw keeps content-stream order, so a wrapped number reads contiguously.
    text = _text(data, tmp_path, "-raw").replace("\n", "").replace(" ", "")
    for expected in ("123,456,789,012", "$30,864,197.253", "¥4,660,185,143"):
        assert expected in text
    assert "¥5,126,236,657" in text
