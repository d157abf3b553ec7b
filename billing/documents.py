"""Invoice documents: the frozen, fully computed view of one issued invoice.

These dataclasses are the contract between billing's models/services (which
compute every amount) and the outputs that print them: the 御請求書 PDF
(``billing.pdf``) and the accounting CSV exports (``billing.exports``).

Rules (reference ``japan-billing-exo.md`` §1.2, §1.3, §2.6; STYLE §2 rule 11):

* Every amount is **already computed** by the service layer. Renderers and
  exporters print and sum nothing that changes the legal figures: they never
  recompute tax, never re-convert USD, never re-round. What the document says
  is what was issued.
* JPY is ``int`` (whole yen, tax included where stated). USD is ``Decimal``
  (exact, at least 6 dp). FX rates are ``Decimal``. No binary floating point.
* Consumption tax is computed once per invoice per tax rate (``TaxGroup``),
  never per line; lines therefore carry no tax amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

DocumentKind = Literal["invoice", "credit_note", "corrected"]

#: Kinds of document and their Japanese titles (§1.2 corrections, §5.5 layout).
KIND_TITLES: dict[str, str] = {
    "invoice": "御請求書",
    # A return/discount invoice (適格返還請求書) for refunds and discounts.
    "credit_note": "適格返還請求書（返品・値引き）",
    # A corrected qualified invoice that identifies the invoice it replaces.
    "corrected": "訂正請求書",
}


@dataclass(frozen=True)
class Party:
    """Issuer or recipient of a document.

    Attributes:
        name: Legal name, e.g. ``"株式会社サンプル"``. For the recipient the PDF
            appends ``御中`` (§5.5); pass the bare company name.
        address: Postal address, free text; newlines are kept.
        registration_number: Qualified-invoice issuer number ``T`` + 13 digits
            (§1.1, §1.5). Mandatory for the issuer; optional for customers.
            Already validated by the service layer; printed as given.
        corporate_number: 法人番号 (13 digits), informational.
        bank_account: 振込先 as printed, e.g.
            ``"三菱UFJ銀行 丸の内支店 普通 1234567 カ）サンプル"``. Issuer only.
        contact: Phone / e-mail / person in charge, free text.
    """

    name: str
    address: str
    registration_number: str = ""
    corporate_number: str = ""
    bank_account: str = ""
    contact: str = ""


@dataclass(frozen=True)
class InvoiceLineDocument:
    """One printed line of the invoice.

    Attributes:
        description: 品名 / 取引内容, e.g. ``"ACS Email 送信 (120,000 通)"`` or
            ``"マネージドサービス スタンダードプラン 月額"``.
        quantity: Quantity as Decimal (e.g. ``Decimal("120000")`` emails,
            ``Decimal("2400")`` MB, ``Decimal("1")`` month).
        unit: Unit label, e.g. ``"通"``, ``"MB"``, ``"式"``, ``"月"``.
        unit_price_usd: USD unit price for ACS usage lines (e.g. ``0.00025``);
            ``None`` for JPY-priced lines such as the plan fee.
        amount_usd: Exact USD amount of the line (quantity × unit price, not
            rounded); ``None`` for JPY-priced lines.
        amount_jpy: Tax-exclusive JPY amount of the line (integer yen), already
            converted and rounded by the service layer. Negative for discounts
            and on credit notes. ACS usage is converted **once** on the
            invoice's USD subtotal (§2.6), not per meter, so for USD-priced
            lines two conventions are accepted:

            (A, recommended) one line per meter (emails, MB) with
            ``amount_jpy=0``; the renderer then prints one 円換算 row carrying
            ``InvoiceDocument.usage_jpy``;
            (B) a single ACS line whose ``amount_jpy`` equals ``usage_jpy``;
            no extra row is printed.

            The renderer decides by comparing Σ ``amount_jpy`` of USD lines
            with ``usage_jpy``.
        tax_rate: Consumption tax rate as a fraction, ``Decimal("0.10")`` or
            ``Decimal("0.08")`` (reduced rate, marked ※ on the PDF).
        note: Short remark printed under the description (e.g. the reason of a
            discount or adjustment line).
    """

    description: str
    quantity: Decimal
    unit: str
    unit_price_usd: Decimal | None
    amount_usd: Decimal | None
    amount_jpy: int
    tax_rate: Decimal
    note: str = ""


@dataclass(frozen=True)
class FxDocument:
    """The exchange rate actually applied to the invoice (stored on it).

    Attributes:
        rate: JPY per 1 USD, e.g. ``Decimal("150.99")``.
        rate_type: ``"TTM"``, ``"TTS"``, ``"TTB"``, ``"Microsoft monthly"`` or
            ``"fixed"`` (contract-fixed); printed as given.
        rate_date: The date of the rate (not the invoice date).
        source: Who published it, e.g. ``"三菱UFJ銀行"``.
    """

    rate: Decimal
    rate_type: str
    rate_date: date
    source: str


@dataclass(frozen=True)
class TaxGroup:
    """Per-rate totals (§1.2 items 4 and 5): the only place tax appears.

    Attributes:
        rate: Tax rate as a fraction, ``Decimal("0.10")``.
        net_jpy: Tax-exclusive total of all lines at this rate (integer yen).
        tax_jpy: Consumption tax for this rate group, computed once on
            ``net_jpy`` with the issuer's rounding mode (§1.3). Negative on a
            credit note.
    """

    rate: Decimal
    net_jpy: int
    tax_jpy: int


@dataclass(frozen=True)
class InvoiceDocument:
    """A complete, issued (or to-be-issued) invoice, credit note or correction.

    Attributes:
        kind: ``"invoice"`` (御請求書), ``"credit_note"`` (適格返還請求書 for
            refunds/discounts) or ``"corrected"`` (訂正請求書 that replaces
            ``original_number``).
        number: Invoice number (通番), unique per issuer, e.g.
            ``"INV-2025-000123"``. Empty for drafts (the PDF then shows
            ``下書き``).
        issue_date: 発行日, also the 取引日 in accounting exports.
        due_date: 支払期限.
        period_start: First day of the service period (inclusive).
        period_end: Last day of the service period (inclusive).
        issuer: The MSP (name, T-number, address, 振込先).
        customer: The recipient (宛名). Mandatory item 6.
        lines: Printed lines in order.
        fx: Rate applied to the ACS USD subtotal; ``None`` when the invoice has
            no USD usage.
        usage_usd_total: Exact USD subtotal of all ACS usage (summed before
            conversion, §2.6 step 1). ``Decimal("0")`` when none.
        usage_jpy: ``usage_usd_total`` × ``fx.rate`` rounded once to whole yen
            with the configured mode (§2.6 steps 2–3). Printed next to the FX
            line so the reader can re-run the conversion.
        tax_groups: One entry per tax rate present, already computed.
        total_jpy: 御請求金額 (tax-inclusive): Σ net + Σ tax of ``tax_groups``.
            Negative for credit notes.
        original_number: For ``credit_note`` / ``corrected``: the number of the
            invoice being refunded or corrected.
        reason: For ``credit_note`` / ``corrected``: why (printed).
        payment_terms: Free text, e.g. ``"請求書発行月の翌月末日までにお振込みください"``.
        notes: 備考, free text (newlines kept).
        subject: 件名 (optional). Default: ``"ACS Email 利用料および
            マネージドサービス料（2025年4月分）"`` built from the period.
    """

    kind: DocumentKind
    number: str
    issue_date: date
    due_date: date
    period_start: date
    period_end: date
    issuer: Party
    customer: Party
    lines: tuple[InvoiceLineDocument, ...]
    fx: FxDocument | None
    usage_usd_total: Decimal
    usage_jpy: int
    tax_groups: tuple[TaxGroup, ...]
    total_jpy: int
    original_number: str = ""
    reason: str = ""
    payment_terms: str = ""
    notes: str = ""
    # 件名; renderers fall back to a default built from the service period.
    subject: str = ""

    @property
    def title(self) -> str:
        """Japanese document title for ``kind``."""
        return KIND_TITLES[self.kind]

    @property
    def net_jpy(self) -> int:
        """Σ tax-exclusive totals over rate groups (already computed values)."""
        return sum(g.net_jpy for g in self.tax_groups)

    @property
    def tax_jpy(self) -> int:
        """Σ consumption tax over rate groups (already computed values)."""
        return sum(g.tax_jpy for g in self.tax_groups)
