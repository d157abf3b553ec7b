"""Shared InvoiceDocument fixtures: reference §6 worked example (a)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from billing.documents import (
    FxDocument,
    InvoiceDocument,
    InvoiceLineDocument,
    Party,
    TaxGroup,
)

ISSUER = Party(
    name="株式会社サンプルMSP",
    address="〒100-0005\n東京都千代田区丸の内1-1-1 サンプルビル5F",
    registration_number="T7000012050002",
    corporate_number="7000012050002",
    bank_account="三菱UFJ銀行 丸の内支店 普通 1234567 カ）サンプルエムエスピー",
    contact="TEL 03-0000-0000  billing@msp.example.jp",
)

CUSTOMER = Party(
    name="株式会社霞商店",
    address="〒100-8978 東京都千代田区霞が関3-1-1",
)

RATE = Decimal("0.10")


def example_a(**overrides: object) -> InvoiceDocument:
    """120,000 emails, 2,400 MB, 150.99 JPY/USD, ¥30,000 plan, floor → ¥38,030."""
    doc = InvoiceDocument(
        kind="invoice",
        number="INV-2025-000042",
        issue_date=date(2025, 5, 1),
        due_date=date(2025, 5, 31),
        period_start=date(2025, 4, 1),
        period_end=date(2025, 4, 30),
        issuer=ISSUER,
        customer=CUSTOMER,
        lines=(
            InvoiceLineDocument(
                description="ACS Email 送信",
                quantity=Decimal("120000"),
                unit="通",
                unit_price_usd=Decimal("0.00025"),
                amount_usd=Decimal("30.00000"),
                amount_jpy=0,
                tax_rate=RATE,
            ),
            InvoiceLineDocument(
                description="ACS Email データ転送",
                quantity=Decimal("2400"),
                unit="MB",
                unit_price_usd=Decimal("0.00012"),
                amount_usd=Decimal("0.28800"),
                amount_jpy=0,
                tax_rate=RATE,
            ),
            InvoiceLineDocument(
                description="マネージドサービス スタンダードプラン 月額",
                quantity=Decimal("1"),
                unit="月",
                unit_price_usd=None,
                amount_usd=None,
                amount_jpy=30000,
                tax_rate=RATE,
            ),
        ),
        fx=FxDocument(
            rate=Decimal("150.99"),
            rate_type="TTM",
            rate_date=date(2025, 4, 1),
            source="三菱UFJ銀行",
        ),
        usage_usd_total=Decimal("30.28800"),
        usage_jpy=4573,
        tax_groups=(TaxGroup(rate=RATE, net_jpy=34573, tax_jpy=3457),),
        total_jpy=38030,
        payment_terms="お支払期限までに下記口座へお振込みください。",
        notes="",
    )
    return replace(doc, **overrides)  # type: ignore[arg-type]
