"""Pure money arithmetic: rounding modes, rate groups, proration, T-numbers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.services import money
from billing.services.tnumber import check_digit, validate_tnumber


def test_worked_example_a_floor() -> None:
    email, mb = money.usage_usd(
        120_000, Decimal("2400"), Decimal("0.00025"), Decimal("0.00012")
    )
    usd = email + mb
    assert usd == Decimal("30.288")
    assert usd * Decimal("150.99") == Decimal("4573.18512")
    acs = money.convert_usd(usd, Decimal("150.99"), money.FLOOR)
    assert acs == 4573
    tt = money.tax_totals([(10, acs), (10, 30_000)], money.FLOOR)
    assert (tt.net_jpy, tt.tax_jpy, tt.total_jpy) == (34_573, 3_457, 38_030)


@pytest.mark.parametrize(
    ("mode", "acs", "tax"),
    [(money.FLOOR, 4573, 3457), (money.HALF_UP, 4573, 3457), (money.CEIL, 4574, 3458)],
)
def test_every_rounding_mode_on_example_a(mode: str, acs: int, tax: int) -> None:
    assert money.convert_usd(Decimal("30.288"), Decimal("150.99"), mode) == acs
    # Tax on the reference's 34,573 group total for each mode (§6a).
    assert money.tax_for_group(34_573, 10, mode) == tax


@pytest.mark.parametrize(
    ("amount", "floor", "ceil", "half_up"),
    [
        ("10.5", 10, 11, 11),
        ("10.4999", 10, 11, 10),
        ("11.5", 11, 12, 12),  # half-up, not banker's rounding (round() gives 12)
        ("12.5", 12, 13, 13),  # round() would give 12
        ("7", 7, 7, 7),
        ("-10.5", -10, -11, -11),  # magnitude rounding: credit notes mirror invoices
    ],
)
def test_rounding_modes(amount: str, floor: int, ceil: int, half_up: int) -> None:
    value = Decimal(amount)
    assert money.to_yen(value, money.FLOOR) == floor
    assert money.to_yen(value, money.CEIL) == ceil
    assert money.to_yen(value, money.HALF_UP) == half_up


def test_unknown_rounding_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        money.to_yen(Decimal("1.5"), "bankers")


def test_tax_once_per_rate_group_not_per_line() -> None:
    # Reference §1.3: three lines of ¥105 at 10%, round down.
    lines = [(10, 105)] * 3
    per_line = sum(money.tax_for_group(a, r, money.FLOOR) for r, a in lines)
    assert per_line == 30  # the forbidden method
    tt = money.tax_totals(lines, money.FLOOR)
    assert tt.tax_jpy == 31
    assert tt.groups == ((10, 315, 31),)


def test_tax_groups_are_separate_per_rate() -> None:
    tt = money.tax_totals([(10, 60_000), (8, 40_000), (10, 5)], money.FLOOR)
    assert tt.groups == ((10, 60_005, 6_000), (8, 40_000, 3_200))
    assert tt.total_jpy == 100_005 + 9_200


def test_convert_once_differs_from_convert_per_meter() -> None:
    rate = Decimal("150.99")
    once = money.convert_usd(Decimal("30") + Decimal("0.288"), rate, money.FLOOR)
    per_meter = money.convert_usd(Decimal("30"), rate, money.FLOOR) + money.convert_usd(
        Decimal("0.288"), rate, money.FLOOR
    )
    assert once == 4573
    assert per_meter == 4572


@pytest.mark.parametrize(
    ("days", "expected"), [(30, 30_000), (15, 15_000), (10, 10_000)]
)
def test_prorate_fee_30_day_month(days: int, expected: int) -> None:
    assert money.prorate_fee(30_000, days, 30, money.FLOOR) == expected


def test_prorate_fee_rounding_31_day_month() -> None:
    # 30,000 × 10/31 = 9,677.419…
    assert money.prorate_fee(30_000, 10, 31, money.FLOOR) == 9_677
    assert money.prorate_fee(30_000, 10, 31, money.CEIL) == 9_678
    assert money.prorate_fee(30_000, 10, 31, money.HALF_UP) == 9_677
    assert money.prorate_fee(10_000, 16, 31, money.HALF_UP) == 5_161  # 5,161.29


def test_overage_blocks() -> None:
    assert money.overage_jpy(0, 500) == 0
    assert money.overage_jpy(1, 500) == 500
    assert money.overage_jpy(1000, 500) == 500
    assert money.overage_jpy(1001, 500) == 1000


def test_last_business_day_skips_weekends() -> None:
    assert money.last_business_day(2025, 3) == date(2025, 3, 31)  # Monday
    assert money.last_business_day(2025, 5) == date(2025, 5, 30)  # 31st is Saturday
    assert money.last_business_day(2025, 8) == date(2025, 8, 29)  # 31st is Sunday


def test_average_rate_is_exact_decimal() -> None:
    avg = money.average_rate([Decimal("150"), Decimal("151"), Decimal("151")])
    assert avg == Decimal("150.66666667")


@pytest.mark.parametrize(
    "number",
    [
        "7000012050002",
        "8700110005901",
        "7010705000725",
        "4011001098993",
        "2120901007402",
    ],
)
def test_known_corporate_numbers_pass(number: str) -> None:
    assert check_digit(number[1:]) == int(number[0])
    result = validate_tnumber("T" + number)
    assert result.normalized == "T" + number
    assert result.warning == ""


def test_tnumber_normalises_full_width_and_hyphens() -> None:
    assert (
        validate_tnumber("Ｔ７０００-０１２０-５０００２").normalized
        == "T7000012050002"
    )
    assert validate_tnumber("t7000012050002").normalized == "T7000012050002"


@pytest.mark.parametrize(
    "bad", ["7000012050002", "T700001205000", "T70000120500021", "TX000012050002", ""]
)
def test_tnumber_format_is_a_hard_error(bad: str) -> None:
    with pytest.raises(ValidationError):
        validate_tnumber(bad)


def test_tnumber_check_digit_mismatch_is_a_warning() -> None:
    result = validate_tnumber("T1000012050002")
    assert result.normalized == "T1000012050002"
    assert result.warning
