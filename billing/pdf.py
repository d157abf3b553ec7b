"""Render an ``InvoiceDocument`` as a Japanese qualified-invoice PDF (御請求書).

Layout follows reference §5.5 and carries the six mandatory items of §1.2.
The renderer only prints: every amount comes computed from the document
(tax once per rate group, USD converted once); nothing is recomputed here.

The font is IPAexGothic as a TrueType font, so reportlab embeds a subset and
the PDF renders on any viewer (stack-notes §6: the built-in CID fonts are
*not* embedded and show blank text without poppler-data).

Output is deterministic: reportlab runs in invariant mode (fixed document ID)
and the creation date is the issue date, so the same document always gives
the same bytes. That lets finalize store "the PDF that was issued" and a
re-render be compared byte for byte.
"""

from __future__ import annotations

import io
import os
from decimal import Decimal

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from billing.documents import InvoiceDocument, InvoiceLineDocument
from billing.formatting import (
    format_date_ja,
    format_decimal,
    format_jpy,
    format_rate,
    format_usd,
)

FONT_NAME = "IPAexGothic"
FONT_PATH = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"


class PdfFontMissingError(RuntimeError):
    """The Japanese TrueType font needed for an embedded-font PDF is absent."""


def _register_font(path: str = FONT_PATH) -> str:
    """Register IPAexGothic once; fail loudly rather than fall back.

    A silent fallback to a built-in CID font would produce PDFs that look
    blank on viewers without Japanese fonts, which is worse than an error.
    """
    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    if not os.path.exists(path):
        raise PdfFontMissingError(
            f"Japanese font {FONT_NAME} not found at {path}. "
            "Install the Debian package fonts-ipaexfont-gothic."
        )
    pdfmetrics.registerFont(TTFont(FONT_NAME, path))
    return FONT_NAME


def fx_line(doc: InvoiceDocument) -> str:
    """The printed FX sentence, e.g.
    ``適用為替レート: 1 USD = 150.99 JPY（TTM、2025年4月1日、三菱UFJ銀行）``."""
    if doc.fx is None:
        return ""
    fx = doc.fx
    return (
        f"適用為替レート: 1 USD = {format_decimal(fx.rate, 2)} JPY"
        f"（{fx.rate_type}、{format_date_ja(fx.rate_date)}、{fx.source}）"
    )


def default_subject(doc: InvoiceDocument) -> str:
    if doc.subject:
        return doc.subject
    if (doc.period_start.year, doc.period_start.month) == (
        doc.period_end.year,
        doc.period_end.month,
    ):
        period = f"{doc.period_start.year}年{doc.period_start.month}月分"
    else:
        period = (
            f"{format_date_ja(doc.period_start)}〜{format_date_ja(doc.period_end)}分"
        )
    return f"ACS Email 利用料およびマネージドサービス料（{period}）"


# --- layout --------------------------------------------------------------

_INK = colors.HexColor("#222222")
_RULE = colors.HexColor("#555555")
_SHADE = colors.HexColor("#EEF1F5")


class _Styles:
    """Paragraph styles bound to the embedded font."""

    def __init__(self, font: str) -> None:
        self.font = font
        # bulletFontName too: its Helvetica default would be listed (unembedded).
        base = {
            "fontName": font,
            "bulletFontName": font,
            "textColor": _INK,
            "wordWrap": "CJK",
        }
        self.title = ParagraphStyle(
            "title", fontSize=22, leading=28, alignment=TA_CENTER, **base
        )
        self.body = ParagraphStyle("body", fontSize=9, leading=13, **base)
        self.small = ParagraphStyle("small", fontSize=7.5, leading=10, **base)
        self.right = ParagraphStyle(
            "right", fontSize=9, leading=13, alignment=TA_RIGHT, **base
        )
        self.cell = ParagraphStyle("cell", fontSize=8.5, leading=11, **base)
        self.cell_right = ParagraphStyle(
            "cellr", fontSize=8.5, leading=11, alignment=TA_RIGHT, **base
        )
        self.head = ParagraphStyle(
            "head", fontSize=8.5, leading=11, alignment=TA_CENTER, **base
        )
        self.recipient = ParagraphStyle(
            "recipient", fontSize=14, leading=19, alignment=TA_LEFT, **base
        )
        self.amount_label = ParagraphStyle("amountl", fontSize=11, leading=16, **base)
        self.amount = ParagraphStyle(
            "amount", fontSize=18, leading=24, alignment=TA_RIGHT, **base
        )


def _table_style(st: _Styles, commands: list[tuple]) -> TableStyle:
    """TableStyle whose cell font is ours: the Helvetica default would be
    listed as a non-embedded font even though every cell holds a Paragraph."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), st.font), *commands])


def _esc(text: str) -> str:
    """Escape for reportlab's mini-markup and keep newlines as line breaks."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\n", "<br/>")


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(_esc(text), style)


def _usd_lines(doc: InvoiceDocument) -> list[InvoiceLineDocument]:
    return [line for line in doc.lines if line.amount_usd is not None]


def _needs_conversion_row(doc: InvoiceDocument) -> bool:
    """Convention A of ``InvoiceLineDocument.amount_jpy``: meter lines carry
    no yen, so print one row with the once-converted ``usage_jpy``."""
    usd = _usd_lines(doc)
    if not usd:
        return False
    return sum(line.amount_jpy for line in usd) != doc.usage_jpy


def _amount_label(doc: InvoiceDocument) -> str:
    if doc.kind == "credit_note":
        return "返還金額（税込）"
    return "御請求金額（税込）"


def _header(doc: InvoiceDocument, st: _Styles, width: float) -> list[Flowable]:
    customer = doc.customer
    name = Table([[_p(f"{customer.name}　御中", st.recipient)]], hAlign="LEFT")
    # The 宛名 is customarily underlined (§5.5).
    name.setStyle(
        _table_style(
            st,
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.8, _INK),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ],
        )
    )
    left: list[Flowable] = [name, Spacer(1, 2 * mm)]
    if customer.address:
        left.append(_p(customer.address, st.small))
    if customer.registration_number:
        left.append(_p(f"登録番号: {customer.registration_number}", st.small))
    left.append(Spacer(1, 4 * mm))
    left.append(_p(f"件名: {default_subject(doc)}", st.body))
    intro = {
        "invoice": "下記のとおりご請求申し上げます。",
        "credit_note": "下記のとおり返品・値引きによる対価の返還等を行います。",
        "corrected": "下記のとおり請求内容を訂正いたします。",
    }[doc.kind]
    left.append(_p(intro, st.body))

    issuer = doc.issuer
    number = doc.number or "（下書き）"
    label = "番号" if doc.kind == "credit_note" else "請求書番号"
    right_rows = [
        f"{label}: {number}",
        f"発行日: {format_date_ja(doc.issue_date)}",
    ]
    right: list[Flowable] = [_p(row, st.right) for row in right_rows]
    right.append(Spacer(1, 3 * mm))
    right.append(_p(issuer.name, st.right))
    if issuer.address:
        right.append(_p(issuer.address, st.right))
    if issuer.contact:
        right.append(_p(issuer.contact, st.right))
    right.append(_p(f"登録番号: {issuer.registration_number}", st.right))

    table = Table(
        [[left, right]], colWidths=[width * 0.56, width * 0.44], hAlign="LEFT"
    )
    table.setStyle(
        _table_style(
            st,
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ],
        )
    )
    return [table]


def _reference_block(doc: InvoiceDocument, st: _Styles) -> list[Flowable]:
    """Credit notes and corrections must identify the invoice they affect."""
    if doc.kind == "invoice":
        return []
    verb = "返還対象" if doc.kind == "credit_note" else "訂正対象"
    rows = [f"{verb}の請求書番号: {doc.original_number or '—'}"]
    if doc.kind == "corrected":
        rows.append(
            f"本書は請求書番号 {doc.original_number} を訂正し、これに代わるものです。"
        )
    if doc.reason:
        rows.append(f"理由: {doc.reason}")
    return [Spacer(1, 2 * mm)] + [_p(row, st.body) for row in rows]


def _amount_box(doc: InvoiceDocument, st: _Styles, width: float) -> list[Flowable]:
    amount = Table(
        [
            [
                _p(_amount_label(doc), st.amount_label),
                _p(format_jpy(doc.total_jpy), st.amount),
            ]
        ],
        colWidths=[width * 0.22, width * 0.36],
        hAlign="LEFT",
    )
    amount.setStyle(
        _table_style(
            st,
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.4, _INK),
                ("BACKGROUND", (0, 0), (-1, -1), _SHADE),
            ],
        )
    )
    period = f"{format_date_ja(doc.period_start)} 〜 {format_date_ja(doc.period_end)}"
    if doc.kind == "credit_note":
        # 適格返還請求書 items: the date of the refund and of the original sale.
        info_rows = [
            ["返還等の年月日", format_date_ja(doc.issue_date)],
            ["元の取引期間", period],
        ]
    else:
        info_rows = [["支払期限", format_date_ja(doc.due_date)], ["対象期間", period]]
    info = Table(
        [[_p(a, st.cell), _p(b, st.cell)] for a, b in info_rows],
        colWidths=[width * 0.17, width * 0.57],
        hAlign="LEFT",
    )
    info.setStyle(
        _table_style(
            st,
            [
                ("GRID", (0, 0), (-1, -1), 0.4, _RULE),
                ("BACKGROUND", (0, 0), (0, -1), _SHADE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ],
        )
    )
    return [Spacer(1, 5 * mm), amount, Spacer(1, 4 * mm), info]


def _cell(text: str, st: _Styles, style: ParagraphStyle, fits: int) -> Flowable | str:
    """A plain string when it surely fits its column, else a wrapping Paragraph.

    Plain strings draw several times faster than Paragraphs (no line breaking),
    which matters when a month close renders a thousand PDFs; numbers longer
    than ``fits`` characters still wrap rather than overflow the column.
    """
    if len(text) <= fits:
        return text
    return _p(text, style)


def _line_table(doc: InvoiceDocument, st: _Styles, width: float) -> Table:
    heads = ["品名", "数量", "単位", "単価(USD)", "金額(USD)", "金額(円)", "税率"]
    fractions = [0.38, 0.11, 0.06, 0.12, 0.12, 0.13, 0.08]
    # Characters that fit each numeric column at 8.5 pt (digits ≈ 4.7 pt wide).
    fits = [int(width * f / 5.2) - 2 for f in fractions]
    data: list[list[Flowable | str | list[Flowable]]] = [list(heads)]
    reduced = False
    conversion_row = _needs_conversion_row(doc)
    for line in doc.lines:
        desc = line.description
        if line.tax_rate < Decimal("0.10"):
            desc = f"{desc} ※"
            reduced = True
        cell: list[Flowable] = [_p(desc, st.cell)]
        if line.note:
            cell.append(_p(line.note, st.small))
        usd_line = line.amount_usd is not None
        if usd_line and conversion_row and line.amount_jpy == 0:
            # Convention A: yen is shown once on the conversion row below.
            jpy = ""
        else:
            jpy = format_jpy(line.amount_jpy)
        unit_price = (
            format_usd(line.unit_price_usd) if line.unit_price_usd is not None else ""
        )
        amount_usd = format_usd(line.amount_usd) if usd_line else ""
        data.append(
            [
                cell,
                _cell(format_decimal(line.quantity), st, st.cell_right, fits[1]),
                _cell(line.unit, st, st.head, fits[2]),
                _cell(unit_price, st, st.cell_right, fits[3]),
                _cell(amount_usd, st, st.cell_right, fits[4]),
                _cell(jpy, st, st.cell_right, fits[5]),
                _cell(format_rate(line.tax_rate), st, st.head, fits[6]),
            ]
        )
    if conversion_row:
        rates = {line.tax_rate for line in _usd_lines(doc)}
        rate_text = format_rate(next(iter(rates))) if len(rates) == 1 else ""
        data.append(
            [
                [
                    _p("ACS Email 利用料（USD 合計を円換算）", st.cell),
                    _p(fx_line(doc), st.small),
                ],
                "",
                "",
                "",
                _cell(format_usd(doc.usage_usd_total), st, st.cell_right, fits[4]),
                _cell(format_jpy(doc.usage_jpy), st, st.cell_right, fits[5]),
                rate_text,
            ]
        )
    table = Table(data, colWidths=[width * f for f in fractions], repeatRows=1)
    style = [
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), _INK),
        ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ("ALIGN", (1, 1), (1, -1), "RIGHT"),
        ("ALIGN", (2, 1), (2, -1), "CENTER"),
        ("ALIGN", (3, 1), (5, -1), "RIGHT"),
        ("ALIGN", (6, 1), (6, -1), "CENTER"),
        ("GRID", (0, 0), (-1, -1), 0.4, _RULE),
        ("BACKGROUND", (0, 0), (-1, 0), _SHADE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    if conversion_row:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#F7F7F7")))
    table.setStyle(_table_style(st, style))
    table._reduced_mark = reduced  # read by _summary to print the ※ legend
    return table


def _summary(doc: InvoiceDocument, st: _Styles, width: float) -> Table:
    rows: list[list[str]] = []
    for group in sorted(doc.tax_groups, key=lambda g: g.rate, reverse=True):
        label = format_rate(group.rate)
        mark = "※" if group.rate < Decimal("0.10") else ""
        rows.append([f"{label}対象{mark} 税抜", format_jpy(group.net_jpy)])
        rows.append([f"{label}対象{mark} 消費税", format_jpy(group.tax_jpy)])
    rows.append(["合計（税込）", format_jpy(doc.total_jpy)])
    table = Table(rows, colWidths=[width * 0.24, width * 0.18], hAlign="RIGHT")
    table.setStyle(
        _table_style(
            st,
            [
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("TEXTCOLOR", (0, 0), (-1, -1), _INK),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("GRID", (0, 0), (-1, -1), 0.4, _RULE),
                ("BACKGROUND", (0, 0), (0, -1), _SHADE),
                ("LINEABOVE", (0, -1), (-1, -1), 1.2, _INK),
            ],
        )
    )
    return table


def _bank_block(doc: InvoiceDocument, st: _Styles, width: float) -> list[Flowable]:
    """振込先 below the totals (§5.5), where 「下記振込先」 in the terms points."""
    if doc.kind == "credit_note":
        return []
    table = Table(
        [[_p("振込先", st.cell), _p(doc.issuer.bank_account or "—", st.cell)]],
        colWidths=[width * 0.17, width * 0.57],
        hAlign="LEFT",
    )
    table.setStyle(
        _table_style(
            st,
            [
                ("GRID", (0, 0), (-1, -1), 0.4, _RULE),
                ("BACKGROUND", (0, 0), (0, -1), _SHADE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ],
        )
    )
    return [Spacer(1, 5 * mm), table]


def _remarks(doc: InvoiceDocument, st: _Styles, reduced: bool) -> list[Flowable]:
    rows: list[str] = []
    if doc.fx is not None:
        rows.append(fx_line(doc))
        rows.append(
            f"ACS Email 利用料: USD {format_decimal(doc.usage_usd_total, 2)} × "
            f"{format_decimal(doc.fx.rate, 2)} = {format_jpy(doc.usage_jpy)}"
            "（USD 合計を一括して円換算し、1円未満を端数処理）"
        )
    rows.append("消費税は税率ごとに合計した対価の額に対して一回計算しています。")
    if reduced:
        rows.append("※は軽減税率（8%）対象です。")
    if doc.payment_terms:
        rows.append(doc.payment_terms)
    if doc.kind == "invoice":
        rows.append("恐れ入りますが、振込手数料は貴社にてご負担ください。")
    if doc.notes:
        rows.append(doc.notes)
    flow: list[Flowable] = [Spacer(1, 6 * mm), _p("備考", st.body)]
    flow.extend(_p(row, st.small) for row in rows)
    return [KeepTogether(flow)]


def _canvas_factory(doc: InvoiceDocument, font: str):
    """A Canvas class that stamps the issue date and a page footer.

    The creation date comes from the issue date (JST midnight) instead of the
    wall clock; together with ``invariant=1`` this makes output reproducible.
    """
    stamp = f"D:{doc.issue_date:%Y%m%d}000000+09'00'"
    footer = f"{doc.title}  {doc.number or '（下書き）'}"

    class _InvoiceCanvas(Canvas):
        def __init__(self, *args, **kwargs) -> None:
            kwargs["invariant"] = 1
            super().__init__(*args, **kwargs)
            self.setDateFormatter(lambda *_parts: stamp)
            self.setTitle(f"{doc.title} {doc.number}".strip())
            self.setAuthor(doc.issuer.name)
            self.setSubject(default_subject(doc))
            self.setCreator("MSP portal billing")

        def showPage(self) -> None:
            self.setFont(font, 7)
            self.setFillColor(_RULE)
            self.drawRightString(
                A4[0] - 18 * mm, 10 * mm, f"{footer}  {self.getPageNumber()}"
            )
            super().showPage()

    return _InvoiceCanvas


def render_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """Render ``doc`` to PDF bytes (A4, Japanese, font embedded).

    Raises ``PdfFontMissingError`` if the IPAexGothic TTF is not installed.
    """
    font = _register_font()
    st = _Styles(font)
    buf = io.BytesIO()
    template = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        invariant=1,
        # The canvas's default Helvetica would appear as a non-embedded font.
        initialFontName=font,
        title=f"{doc.title} {doc.number}".strip(),
        author=doc.issuer.name,
    )
    width = template.width
    story: list[Flowable] = [_p(doc.title, st.title), Spacer(1, 6 * mm)]
    story += _header(doc, st, width)
    story += _reference_block(doc, st)
    story += _amount_box(doc, st, width)
    story.append(Spacer(1, 6 * mm))
    lines = _line_table(doc, st, width)
    story.append(lines)
    story.append(Spacer(1, 4 * mm))
    story.append(_summary(doc, st, width))
    story += _bank_block(doc, st, width)
    story += _remarks(doc, st, getattr(lines, "_reduced_mark", False))
    template.build(story, canvasmaker=_canvas_factory(doc, font))
    return buf.getvalue()
