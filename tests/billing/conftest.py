from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.models import (
    Contract,
    FxRate,
    IssuerSettings,
    Plan,
    PriceVersion,
    RateType,
    UsageDay,
)


def ensure_seed() -> None:
    """The data migration's rows (a transactional test's flush removes them)."""
    PriceVersion.objects.get_or_create(
        effective_from=date(2025, 1, 1),
        defaults={"email_usd": Decimal("0.00025"), "megabyte_usd": Decimal("0.00012")},
    )
    for code, name, name_ja, fee in (
        ("lite", "Lite", "ライトプラン", 10000),
        ("standard", "Standard", "スタンダードプラン", 30000),
        ("premium", "Premium", "プレミアムプラン", 80000),
    ):
        Plan.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_ja": name_ja, "monthly_fee_jpy": fee},
        )


@pytest.fixture
def issuer(personas) -> IssuerSettings:
    ensure_seed()
    return IssuerSettings.objects.create(
        name="株式会社エムエスピー",
        registration_number="T7000012050002",
        address="東京都千代田区丸の内1-1-1",
        bank_account="三菱UFJ銀行 丸の内支店 普通 1234567 カ）エムエスピー",
        payment_terms_days=30,
    )


@pytest.fixture
def april_rate(issuer) -> FxRate:
    # 2025-03-31 is a Monday: the last business day before April 2025.
    return FxRate.objects.create(
        date=date(2025, 3, 31),
        rate=Decimal("150.99"),
        rate_type=RateType.TTS,
        source="三菱UFJ銀行",
        entered_by="test",
    )


def tts_contract(tenant, **kw) -> Contract:
    kw.setdefault("start_date", date(2025, 1, 1))
    kw.setdefault("fx_rate_type", RateType.TTS)
    return Contract.objects.update_or_create(tenant=tenant, defaults=kw)[0]


def add_usage(tenant, month: date, emails: int, megabytes: str, days: int = 30) -> None:
    """Spread a month's usage over ``days`` days (exact totals)."""
    mb = Decimal(megabytes)
    for i in range(days):
        share_e = emails // days + (emails % days if i == days - 1 else 0)
        share_mb = (mb / days).quantize(Decimal("0.000001"))
        if i == days - 1:
            share_mb = mb - share_mb * (days - 1)
        UsageDay.objects.update_or_create(
            tenant=tenant,
            day=month.replace(day=i + 1),
            defaults={"billable_emails": share_e, "billable_megabytes": share_mb},
        )


@pytest.fixture
def staff_client(personas):
    """MSP staff with the billing staff role (may change billing data)."""
    from tests.conftest import client_for

    personas.staff.staff_role = "billing"
    personas.staff.save(update_fields=["staff_role"])
    return client_for(personas.public_host, personas.staff, schema="public")


@pytest.fixture
def support_client(personas):
    """MSP staff with the support role: may read billing pages, not change them."""
    from tests.conftest import client_for

    personas.staff.staff_role = "support"
    personas.staff.save(update_fields=["staff_role"])
    return client_for(personas.public_host, personas.staff, schema="public")
