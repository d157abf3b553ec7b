"""Estimator, TERRL/assessment, their CLIs and public pages."""

from __future__ import annotations

import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from billing import estimator
from billing.estimator import (
    FALLBACK_PLANS,
    PlanTerms,
    estimate_monthly,
    exo_assess,
    terrl,
)

STANDARD = PlanTerms("standard", "standard", 30000, 0, "fallback table")

# Example (a): 2,400 MB for 120,000 recipient-sends = 20.48 KB each (1 MB = 1024 KB).
AVG_KB_A = Decimal("20.48")


def test_worked_example_a():
    est = estimate_monthly(120000, AVG_KB_A, 30000, 0, Decimal("150.99"))
    assert est.megabytes == Decimal("2400")
    assert est.email_usd == Decimal("30.00000")
    assert est.data_usd == Decimal("0.288")
    assert est.usage_usd == Decimal("30.288")
    assert est.usage_jpy_exact == Decimal("4573.18512")
    assert est.usage_jpy == 4573
    assert est.net_jpy == 34573
    assert est.tax_jpy == 3457
    assert est.total_jpy == 38030


@pytest.mark.parametrize(
    ("mode", "usage", "tax", "total"),
    [
        ("floor", 4573, 3457, 38030),
        ("half_up", 4573, 3457, 38030),
        ("ceil", 4574, 3458, 38032),
    ],
)
def test_rounding_modes_follow_the_reference(mode, usage, tax, total):
    est = estimate_monthly(120000, AVG_KB_A, 30000, 0, Decimal("150.99"), rounding=mode)
    assert (est.usage_jpy, est.tax_jpy, est.total_jpy) == (usage, tax, total)


def test_tax_rounding_can_differ_from_fx_rounding():
    est = estimate_monthly(
        120000,
        AVG_KB_A,
        30000,
        0,
        Decimal("150.99"),
        rounding="ceil",
        tax_rounding="floor",
    )
    # ceil(4,573.18512) = 4,574; floor(34,574 × 10%) = 3,457.
    assert (est.usage_jpy, est.tax_jpy, est.total_jpy) == (4574, 3457, 38031)
    assert (est.rounding, est.tax_rounding) == ("ceil", "floor")


def test_included_emails_are_not_billed():
    est = estimate_monthly(120000, AVG_KB_A, 30000, 100000, Decimal("150.99"))
    assert est.billable_emails == 20000
    assert est.megabytes == Decimal("400")
    assert est.usage_usd == Decimal("5.048")  # 20,000×0.00025 + 400×0.00012
    assert est.usage_jpy == 762  # floor(5.048 × 150.99 = 762.19752)
    over = estimate_monthly(1000, AVG_KB_A, 30000, 100000, Decimal("150"))
    assert (over.billable_emails, over.usage_jpy, over.total_jpy) == (0, 0, 33000)


def test_estimate_never_uses_binary_floats():
    est = estimate_monthly(3, Decimal("1"), 0, 0, Decimal("150.99"))
    for value in est.as_dict().values():
        assert not isinstance(value, float)


def test_estimate_rejects_bad_input():
    with pytest.raises(ValueError):
        estimate_monthly(-1, AVG_KB_A, 0, 0, Decimal("150"))
    with pytest.raises(ValueError):
        estimate_monthly(1, AVG_KB_A, 0, 0, Decimal("0"))
    with pytest.raises(ValueError):
        estimate_monthly(1, AVG_KB_A, 0, 0, Decimal("150"), rounding="bankers")


@pytest.mark.parametrize(
    ("licenses", "expected"),
    [
        (1, 10000),
        (2, 10312),
        (10, 12005),
        (25, 14259),
        (100, 22059),
        (200, 29902),
        (300, 36599),  # worked example (b)
        (500, 48247),
        (1000, 72446),
        (0, 9500),
    ],
)
def test_terrl_table_of_the_reference(licenses, expected):
    assert terrl(licenses) == expected


def test_trial_terrl_is_5000_regardless_of_licences():
    assert terrl(1, trial=True) == 5000
    assert terrl(10000, trial=True) == 5000


def test_assessment_for_300_licences(english):
    result = exo_assess(300, False, 300, 4, 50000, True, plan=STANDARD)
    assert result.terrl == 36599
    terrl_check = next(c for c in result.checks if c.limit == "terrl")
    assert terrl_check.exceeded and terrl_check.threshold == 36599
    rrl = next(c for c in result.checks if c.limit == "rrl")
    assert rrl.observed == 167 and not rrl.exceeded
    assert result.smtp_auth_affected
    assert any("December 2026" in str(a) for a in result.actions)
    assert result.monthly_emails == 1500000
    assert result.estimate.plan_fee_jpy == 30000
    # Every limit and timeline entry carries a source date.
    assert all(limit.source_date for limit in result.limits)
    assert all(entry.source_date for entry in result.smtp_auth_timeline)
    merrl = next(limit for limit in result.limits if limit.key == "merrl")
    assert (merrl.status, merrl.source_date) == ("cancelled", "2026-01-06")
    timeline = {entry.date: entry for entry in result.smtp_auth_timeline}
    assert timeline["2026-12"].source_date == "2026-01-27"


@pytest.mark.django_db
def test_assessment_within_limits_recommends_by_volume():
    result = exo_assess(50, False, 20, 0, 1000, False, plan=None)
    assert not any(c.exceeded for c in result.checks)
    assert result.recommended_plan == "lite"
    assert result.actions == ()


def test_recommend_plan_tiers():
    assert estimator.recommend_plan(100_000) == "lite"
    assert estimator.recommend_plan(100_001) == "standard"
    assert estimator.recommend_plan(5_000_000) == "premium"


# --- database-backed look-ups, CLI and pages --------------------------------


@pytest.mark.django_db
def test_plan_terms_fall_back_to_the_documented_table():
    terms = estimator.plan_terms("premium")
    assert terms.monthly_fee_jpy == FALLBACK_PLANS["premium"] == 80000
    with pytest.raises(KeyError):
        estimator.plan_terms("nonexistent")


@pytest.mark.django_db
def test_estimate_command_prints_json_with_decimal_strings():
    out = StringIO()
    call_command(
        "estimate",
        "--emails",
        "120000",
        "--avg-kb",
        "20.48",
        "--plan",
        "standard",
        "--rate",
        "150.99",
        stdout=out,
    )
    payload = json.loads(out.getvalue())
    est = payload["estimate"]
    assert Decimal(est["usage_usd"]) == Decimal("30.288")
    assert est["rate"] == "150.99"
    assert (est["usage_jpy"], est["tax_jpy"], est["total_jpy"]) == (4573, 3457, 38030)
    assert payload["plan"]["monthly_fee_jpy"] == 30000
    assert payload["rate_source"]["source"] == "--rate"


@pytest.mark.django_db
def test_estimate_command_rejects_unknown_plan():
    with pytest.raises(CommandError, match="unknown plan"):
        call_command("estimate", "--emails", "1", "--avg-kb", "1", "--plan", "nope")


@pytest.mark.django_db
def test_exo_assess_command_prints_json():
    out = StringIO()
    call_command(
        "exo_assess", "--licenses", "300", "--daily-external", "1000", stdout=out
    )
    payload = json.loads(out.getvalue())
    assert payload["terrl"] == 36599
    assert payload["checks"][0]["exceeded"] is False
    assert isinstance(payload["estimate"]["usage_usd"], str)
    assert [e["source_date"] for e in payload["smtp_auth_timeline"]][-1] == "2026-01-27"
    out = StringIO()
    call_command("exo_assess", "--licenses", "300", "--trial", stdout=out)
    assert json.loads(out.getvalue())["terrl"] == 5000


@pytest.mark.django_db
def test_estimate_page_shows_breakdown():
    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/estimate/")
    assert response.status_code == 200
    assert b'name="emails"' in response.content
    response = client.get(
        "/estimate/",
        {"emails": "120000", "avg_kb": "20.48", "plan": "standard", "rate": "150.99"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "¥38,030" in html
    assert "¥4,573" in html and "¥3,457" in html and "$30.288" in html


@pytest.mark.django_db
def test_estimate_page_reports_form_errors():
    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    response = client.get("/estimate/", {"emails": "-5", "avg_kb": "x", "plan": "?"})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


@pytest.mark.django_db
def test_assessment_page_states_every_source_date():
    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    response = client.get(
        "/assessment/",
        {
            "licenses": "300",
            "mailboxes": "300",
            "devices": "2",
            "daily_external": "50000",
            "uses_smtp_auth": "on",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "36,599" in html
    for limit in estimator.LIMIT_SOURCES:
        assert limit.source_date in html
    for entry in estimator.SMTP_AUTH_TIMELINE:
        assert entry.source_date in html
    assert "2026-01-06" in html  # MERRL cancelled
