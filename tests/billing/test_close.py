"""Month close, finalization, corrections and late usage against the database."""

from __future__ import annotations

import subprocess
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from billing.models import (
    BilledUsage,
    Contract,
    FxRate,
    Invoice,
    InvoiceLine,
    Plan,
    PlanAssignment,
    PriceVersion,
    RateType,
    UsageDay,
)
from billing.services import adjustments, close, corrections, finalize
from tenants.accounts.audit import AuditContext, AuditEvent
from tests.billing.conftest import add_usage, tts_contract

APRIL = date(2025, 4, 1)
MAY = date(2025, 5, 1)
JUNE = date(2025, 6, 1)
CTX = AuditContext(actor_email="staff@msp.example", actor_kind="staff", is_staff=True)


def draft_of(tenant, period=APRIL, kind=Invoice.Kind.INVOICE) -> Invoice:
    return Invoice.objects.get(tenant=tenant, period=period, kind=kind, status="draft")


def close_only(personas, period=APRIL):
    return close.close_month(period=period, ctx=CTX, tenant_ids=[personas.tenant_a.pk])


@pytest.fixture
def example_a(personas, issuer, april_rate):
    tts_contract(personas.tenant_a)
    add_usage(personas.tenant_a, APRIL, 120_000, "2400")
    return personas.tenant_a


def test_worked_example_a_reproduced_by_close(personas, example_a) -> None:
    result = close_only(personas)
    assert result.created == 1 and not result.errors
    inv = draft_of(example_a)
    assert inv.usage_usd == Decimal("30.288")
    assert inv.fx_rate == Decimal("150.99")
    assert (inv.fx_rate_type, inv.fx_rate_date, inv.fx_source) == (
        "TTS",
        date(2025, 3, 31),
        "三菱UFJ銀行",
    )
    assert inv.usage_jpy == 4_573
    assert inv.net_jpy == 34_573
    assert inv.tax_jpy == 3_457
    assert inv.total_jpy == 38_030
    kinds = [
        (ln.kind, ln.meter, ln.amount_usd, ln.amount_jpy) for ln in inv.lines.all()
    ]
    assert kinds == [
        ("plan", "", None, 30_000),
        ("usage", "emails", Decimal("30.00000000"), 0),
        ("usage", "megabytes", Decimal("0.28800000"), 0),
    ]


@pytest.mark.parametrize(
    ("fx_mode", "tax_mode", "usage_jpy", "tax"),
    [
        ("floor", "floor", 4_573, 3_457),
        ("ceil", "ceil", 4_574, 3_458),
        ("half_up", "half_up", 4_573, 3_457),
        ("ceil", "floor", 4_574, 3_457),
    ],
)
def test_issuer_rounding_modes_apply(
    personas, example_a, issuer, fx_mode, tax_mode, usage_jpy, tax
) -> None:
    issuer.fx_rounding, issuer.tax_rounding = fx_mode, tax_mode
    issuer.save()
    close_only(personas)
    inv = draft_of(example_a)
    assert (inv.usage_jpy, inv.tax_jpy) == (usage_jpy, tax)
    assert inv.total_jpy == usage_jpy + 30_000 + tax
    assert (inv.fx_rounding, inv.tax_rounding) == (fx_mode, tax_mode)


def test_close_command_is_idempotent_and_keeps_adjustments(personas, example_a) -> None:
    call_command("close_month", "2025-04")
    first = draft_of(example_a)
    adjustments.line_add(
        invoice_id=first.pk,
        description="初期設定作業",
        amount_jpy=50_000,
        reason="onboarding",
        ctx=CTX,
    )
    adjustments.line_add(
        invoice_id=first.pk,
        description="値引き",
        amount_jpy=-5_000,
        reason="discount",
        ctx=CTX,
    )
    assert draft_of(example_a).total_jpy == 38_030 + 45_000 + 4_500
    call_command("close_month", "2025-04")
    call_command("close_month", "2025-04")
    drafts = Invoice.objects.filter(tenant=example_a, period=APRIL)
    assert drafts.count() == 1
    again = drafts.get()
    assert again.pk != first.pk  # replaced, not appended
    assert again.total_jpy == 38_030 + 45_000 + 4_500
    assert sorted(
        again.lines.filter(kind="adjustment").values_list("reason", flat=True)
    ) == [
        "discount",
        "onboarding",
    ]


def test_close_never_touches_final_invoices(personas, example_a) -> None:
    close_only(personas)
    inv = finalize.invoice_finalize(invoice_id=draft_of(example_a).pk, ctx=CTX)
    add_usage(example_a, APRIL, 999_999, "9999")  # usage changes afterwards
    result = close_only(personas)
    assert result.skipped_final == 1 and result.created == 0
    assert Invoice.objects.filter(tenant=example_a, period=APRIL).count() == 1
    inv.refresh_from_db()
    assert inv.total_jpy == 38_030 and inv.is_final


def test_finalize_numbers_freezes_and_stores_pdf(personas, example_a) -> None:
    close_only(personas)
    inv = finalize.invoice_finalize(
        invoice_id=draft_of(example_a).pk, ctx=CTX, issue_date=date(2025, 5, 9)
    )
    assert inv.number == "INV-2025-000001"
    assert inv.due_date == date(2025, 6, 8)
    stored = Invoice.objects.get(pk=inv.pk)
    import hashlib

    pdf = bytes(stored.pdf)
    assert pdf.startswith(b"%PDF")
    assert hashlib.sha256(pdf).hexdigest() == stored.pdf_sha256
    billed = {
        (b.usage_month, b.meter): b.quantity
        for b in BilledUsage.objects.filter(invoice=inv)
    }
    assert billed == {
        (APRIL, "emails"): Decimal(120_000),
        (APRIL, "megabytes"): Decimal(2400),
    }
    assert AuditEvent.objects.filter(
        action="billing.invoice_finalize", target_id=str(inv.pk)
    ).exists()
    with pytest.raises(finalize.InvoiceStateError):
        finalize.invoice_finalize(invoice_id=inv.pk, ctx=CTX)


def test_issued_pdf_text(personas, example_a, tmp_path) -> None:
    close_only(personas)
    inv = finalize.invoice_finalize(
        invoice_id=draft_of(example_a).pk, ctx=CTX, issue_date=date(2025, 5, 9)
    )
    path = tmp_path / "inv.pdf"
    path.write_bytes(bytes(Invoice.objects.get(pk=inv.pk).pdf))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for needle in (
        "INV-2025-000001",
        "T7000012050002",
        "株式会社アルファ",
        "38,030",
        "34,573",
        "3,457",
        "4,573",
        "150.99",
        "TTS",
        "振込",
    ):
        assert needle in text, needle


def test_final_invoices_are_immutable_in_the_database(personas, example_a) -> None:
    close_only(personas)
    inv = finalize.invoice_finalize(invoice_id=draft_of(example_a).pk, ctx=CTX)
    line = inv.lines.first()
    statements = [
        ("UPDATE billing_invoice SET total_jpy = 1 WHERE id = %s", [inv.pk]),
        ("UPDATE billing_invoice SET status = 'draft' WHERE id = %s", [inv.pk]),
        ("DELETE FROM billing_invoice WHERE id = %s", [inv.pk]),
        ("UPDATE billing_invoiceline SET amount_jpy = 1 WHERE id = %s", [line.pk]),
        ("DELETE FROM billing_invoiceline WHERE id = %s", [line.pk]),
        (
            "INSERT INTO billing_invoiceline (invoice_id, position, kind, description, meter,"
            " quantity, unit, amount_jpy, tax_rate_percent, reason, added_by)"
            " VALUES (%s, 9, 'adjustment', 'x', '', 1, '式', 1, 10, 'x', '')",
            [inv.pk],
        ),
        ("UPDATE billing_billedusage SET quantity = 0 WHERE invoice_id = %s", [inv.pk]),
        ("DELETE FROM billing_billedusage WHERE invoice_id = %s", [inv.pk]),
    ]
    for sql, params in statements:
        with (
            pytest.raises(DatabaseError, match="immutable|append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql, params)
    with pytest.raises(DatabaseError), transaction.atomic():
        Invoice.objects.filter(pk=inv.pk).update(reason="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        adjustments.InvoiceLine.objects.create(
            invoice=inv, kind="adjustment", description="x"
        )
    assert Invoice.objects.get(pk=inv.pk).total_jpy == 38_030


def test_price_change_inside_the_month(personas, example_a) -> None:
    PriceVersion.objects.create(
        effective_from=date(2025, 4, 16),
        email_usd=Decimal("0.0003"),
        megabyte_usd=Decimal("0.0001"),
    )
    close_only(personas)
    inv = draft_of(example_a)
    # 4,000 emails and 80 MB a day; days 1–15 old price, 16–30 new price.
    expected = (
        Decimal(60_000) * Decimal("0.00025")
        + Decimal(1200) * Decimal("0.00012")
        + Decimal(60_000) * Decimal("0.0003")
        + Decimal(1200) * Decimal("0.0001")
    )
    assert inv.usage_usd == expected == Decimal("33.264")
    assert inv.lines.filter(kind="usage").count() == 4
    assert inv.usage_jpy == int(
        (expected * Decimal("150.99")).to_integral_value(rounding="ROUND_FLOOR")
    )


def test_price_change_across_months(personas, example_a, april_rate) -> None:
    PriceVersion.objects.create(
        effective_from=MAY, email_usd=Decimal("0.0005"), megabyte_usd=Decimal("0.00012")
    )
    add_usage(example_a, MAY, 10_000, "0", days=30)
    FxRate.objects.create(
        date=date(2025, 4, 30),
        rate=Decimal("143.50"),
        rate_type="TTS",
        source="三菱UFJ銀行",
    )
    close.close_month(period=APRIL, ctx=CTX, tenant_ids=[example_a.pk])
    close.close_month(period=MAY, ctx=CTX, tenant_ids=[example_a.pk])
    april, may = draft_of(example_a, APRIL), draft_of(example_a, MAY)
    assert april.usage_usd == Decimal("30.288")
    assert may.usage_usd == Decimal("5")
    assert may.fx_rate == Decimal("143.50") and may.fx_rate_date == date(2025, 4, 30)
    assert may.usage_jpy == 717  # floor(717.5)


def test_fx_policies(personas, issuer) -> None:
    tenant = personas.tenant_a
    add_usage(tenant, APRIL, 40_000, "0")  # $10.00
    for day, rate in (
        (date(2025, 3, 28), "149"),
        (date(2025, 3, 31), "150"),
        (date(2025, 4, 1), "160"),
        (date(2025, 4, 2), "161"),
    ):
        FxRate.objects.create(
            date=day, rate=Decimal(rate), rate_type=RateType.TTM, source="MUFG"
        )
    # Previous month's last business day (Mon 31 March); later rates are ignored.
    tts_contract(tenant, fx_rate_type=RateType.TTM)
    close_only(personas)
    assert draft_of(tenant).fx_rate == Decimal("150")
    assert draft_of(tenant).usage_jpy == 1_500
    # Month average of April's rates.
    tts_contract(
        tenant, fx_rate_type=RateType.TTM, fx_policy=Contract.FxPolicy.MONTH_AVERAGE
    )
    close_only(personas)
    inv = draft_of(tenant)
    assert inv.fx_rate == Decimal("160.5") and inv.usage_jpy == 1_605
    assert "average" in inv.fx_rate_type
    # Fixed contract rate.
    tts_contract(
        tenant, fx_policy=Contract.FxPolicy.FIXED, fixed_rate=Decimal("145.123456")
    )
    close_only(personas)
    inv = draft_of(tenant)
    assert inv.fx_rate == Decimal("145.123456") and inv.usage_jpy == 1_451
    assert inv.fx_rate_type == "fixed"


def test_missing_rate_is_reported_and_others_still_close(personas, issuer) -> None:
    tts_contract(personas.tenant_a)
    add_usage(personas.tenant_a, APRIL, 1000, "1")
    result = close.close_month(
        period=APRIL, ctx=CTX, tenant_ids=[personas.tenant_a.pk, personas.tenant_b.pk]
    )
    assert "alpha" in result.errors
    assert result.created == 1  # beta has no usage: plan fee only, no rate needed
    assert draft_of(personas.tenant_b).total_jpy == 33_000


def test_plan_change_prorated_by_day(personas, example_a) -> None:
    standard = Plan.objects.get(code="standard")
    premium = Plan.objects.get(code="premium")
    PlanAssignment.objects.create(
        tenant=example_a, plan=standard, effective_from=date(2025, 1, 1)
    )
    PlanAssignment.objects.create(
        tenant=example_a, plan=premium, effective_from=date(2025, 4, 21)
    )
    close_only(personas)
    fees = list(
        draft_of(example_a)
        .lines.filter(kind="plan")
        .values_list("amount_jpy", "description")
    )
    # 20 days of ¥30,000 and 10 days of ¥80,000 in a 30-day month.
    assert [f[0] for f in fees] == [20_000, 26_666]
    assert "20/30" in fees[0][1] and "10/30" in fees[1][1]


def test_plan_change_from_next_month(personas, example_a) -> None:
    standard = Plan.objects.get(code="standard")
    premium = Plan.objects.get(code="premium")
    premium.change_mode = Plan.ChangeMode.NEXT_MONTH
    premium.save()
    PlanAssignment.objects.create(
        tenant=example_a, plan=standard, effective_from=date(2025, 1, 1)
    )
    PlanAssignment.objects.create(
        tenant=example_a, plan=premium, effective_from=date(2025, 4, 21)
    )
    FxRate.objects.create(
        date=date(2025, 4, 30), rate=Decimal("150"), rate_type="TTS", source="x"
    )
    close.close_month(period=APRIL, ctx=CTX, tenant_ids=[example_a.pk])
    close.close_month(period=MAY, ctx=CTX, tenant_ids=[example_a.pk])
    assert list(
        draft_of(example_a)
        .lines.filter(kind="plan")
        .values_list("amount_jpy", flat=True)
    ) == [30_000]
    assert list(
        draft_of(example_a, MAY)
        .lines.filter(kind="plan")
        .values_list("amount_jpy", flat=True)
    ) == [80_000]


def test_contract_start_mid_month_is_prorated(personas, example_a) -> None:
    tts_contract(example_a, start_date=date(2025, 4, 16))
    close_only(personas)
    assert list(
        draft_of(example_a)
        .lines.filter(kind="plan")
        .values_list("amount_jpy", flat=True)
    ) == [15_000]


def test_included_volume_and_jpy_overage(personas, example_a) -> None:
    plan = Plan.objects.create(
        code="bundle",
        name="Bundle",
        monthly_fee_jpy=20_000,
        included_emails=100_000,
        overage=Plan.Overage.JPY_PER_THOUSAND,
        overage_jpy_per_1000=50,
    )
    PlanAssignment.objects.create(
        tenant=example_a, plan=plan, effective_from=date(2025, 1, 1)
    )
    close_only(personas)
    inv = draft_of(example_a)
    over = inv.lines.get(kind="overage")
    assert over.quantity == 20_000 and over.amount_jpy == 1_000
    assert inv.usage_usd == Decimal("0.288")  # MB only
    assert inv.usage_jpy == 43
    assert inv.net_jpy == 20_000 + 1_000 + 43
    # USD overage: included emails are free, the rest at the price book.
    plan.overage = Plan.Overage.USD_LIST
    plan.save()
    close_only(personas)
    inv = draft_of(example_a)
    assert inv.usage_usd == Decimal("5.288")
    assert inv.lines.get(kind="usage", meter="emails").covered_quantity == 120_000


def test_late_usage_goes_to_next_invoice_once(personas, example_a) -> None:
    FxRate.objects.create(
        date=date(2025, 4, 30), rate=Decimal("150"), rate_type="TTS", source="x"
    )
    FxRate.objects.create(
        date=date(2025, 5, 30), rate=Decimal("150"), rate_type="TTS", source="x"
    )
    close_only(personas)
    finalize.invoice_finalize(invoice_id=draft_of(example_a).pk, ctx=CTX)
    # Late usage for 1 April arrives after the April invoice is final.
    day = UsageDay.objects.get(tenant=example_a, day=APRIL)
    day.billable_emails += 4_000
    day.billable_megabytes += Decimal("10")
    day.save()
    close.close_month(period=MAY, ctx=CTX, tenant_ids=[example_a.pk])
    may = draft_of(example_a, MAY)
    late = {ln.meter: ln for ln in may.lines.filter(kind="late_usage")}
    assert late["emails"].quantity == 4_000 and late["emails"].usage_month == APRIL
    assert late["megabytes"].quantity == 10
    assert may.usage_usd == Decimal("1.0012")  # 4,000 × 0.00025 + 10 × 0.00012
    finalize.invoice_finalize(invoice_id=may.pk, ctx=CTX)
    close.close_month(period=JUNE, ctx=CTX, tenant_ids=[example_a.pk])
    june = draft_of(example_a, JUNE)
    assert not june.lines.filter(kind="late_usage").exists()  # never counted twice
    total_billed = sum(
        b.quantity
        for b in BilledUsage.objects.filter(
            tenant=example_a, usage_month=APRIL, meter="emails"
        )
    )
    assert total_billed == 124_000


def test_usage_arriving_between_close_and_finalize_is_not_lost(
    personas, example_a
) -> None:
    FxRate.objects.create(
        date=date(2025, 4, 30), rate=Decimal("150"), rate_type="TTS", source="x"
    )
    close_only(personas)
    draft = draft_of(example_a)
    UsageDay.objects.filter(tenant=example_a, day=APRIL).update(
        billable_emails=4_000 + 1_000
    )
    finalize.invoice_finalize(invoice_id=draft.pk, ctx=CTX)
    close.close_month(period=MAY, ctx=CTX, tenant_ids=[example_a.pk])
    late = draft_of(example_a, MAY).lines.get(kind="late_usage", meter="emails")
    assert late.quantity == 1_000


def test_credit_note_mirrors_original(personas, example_a) -> None:
    close_only(personas)
    original = finalize.invoice_finalize(invoice_id=draft_of(example_a).pk, ctx=CTX)
    note = corrections.credit_note_issue(
        original_id=original.pk, reason="誤請求", ctx=CTX
    )
    assert note.kind == "credit_note" and note.is_final
    assert note.number.startswith("CN-") and note.number.endswith("-000001")
    assert note.original_id == original.pk
    assert (note.usage_jpy, note.net_jpy, note.tax_jpy, note.total_jpy) == (
        -4_573,
        -34_573,
        -3_457,
        -38_030,
    )
    assert bytes(Invoice.objects.get(pk=note.pk).pdf).startswith(b"%PDF")
    original.refresh_from_db()
    assert original.total_jpy == 38_030 and original.is_final
    with pytest.raises(finalize.InvoiceStateError):
        corrections.credit_note_issue(original_id=original.pk, reason="again", ctx=CTX)
    # A stand-alone credit note is monetary: the usage stays billed, never re-billed.
    billed = BilledUsage.objects.filter(
        tenant=example_a, usage_month=APRIL, meter="emails"
    )
    assert sum(b.quantity for b in billed) == 120_000
    FxRate.objects.create(
        date=date(2025, 4, 30), rate=Decimal("150"), rate_type="TTS", source="x"
    )
    close.close_month(period=MAY, ctx=CTX, tenant_ids=[example_a.pk])
    assert not draft_of(example_a, MAY).lines.filter(kind="late_usage").exists()


def test_corrected_invoice_references_original(personas, example_a) -> None:
    close_only(personas)
    original = finalize.invoice_finalize(invoice_id=draft_of(example_a).pk, ctx=CTX)
    UsageDay.objects.filter(tenant=example_a, day=APRIL).update(
        billable_emails=0
    )  # fix the ledger
    draft = corrections.corrected_invoice_create(
        original_id=original.pk, reason="usage corrected", ctx=CTX
    )
    assert draft.kind == "corrected" and draft.original_id == original.pk
    kinds = sorted(draft.lines.values_list("kind", flat=True))
    assert kinds == ["plan", "usage", "usage"]  # the month's own lines, not "late"
    fixed = finalize.invoice_finalize(invoice_id=draft.pk, ctx=CTX)
    assert fixed.number == "INV-" + f"{fixed.issue_date.year}-000002"
    assert fixed.total_jpy < original.total_jpy
    emails_billed = sum(
        b.quantity
        for b in BilledUsage.objects.filter(
            tenant=example_a, usage_month=APRIL, meter="emails"
        )
    )
    assert emails_billed == 116_000  # 120,000 − one day of 4,000


def test_stale_draft_cannot_be_finalized(personas, example_a) -> None:
    FxRate.objects.create(
        date=date(2025, 4, 30), rate=Decimal("150"), rate_type="TTS", source="x"
    )
    close_only(personas)
    april = finalize.invoice_finalize(invoice_id=draft_of(example_a).pk, ctx=CTX)
    UsageDay.objects.filter(tenant=example_a, day=APRIL).update(billable_emails=5_000)
    close.close_month(period=MAY, ctx=CTX, tenant_ids=[example_a.pk])
    may = draft_of(example_a, MAY)
    assert may.lines.filter(kind="late_usage").exists()
    corrected = corrections.corrected_invoice_create(
        original_id=april.pk, reason="late", ctx=CTX
    )
    finalize.invoice_finalize(invoice_id=corrected.pk, ctx=CTX)
    with pytest.raises(finalize.InvoiceStateError, match="re-run"):
        finalize.invoice_finalize(invoice_id=may.pk, ctx=CTX)
    close.close_month(period=MAY, ctx=CTX, tenant_ids=[example_a.pk])
    assert not draft_of(example_a, MAY).lines.filter(kind="late_usage").exists()


def test_adjustments_need_reason_and_only_on_drafts(personas, example_a) -> None:
    close_only(personas)
    draft = draft_of(example_a)
    with pytest.raises(finalize.InvoiceStateError):
        adjustments.line_add(
            invoice_id=draft.pk, description="x", amount_jpy=1, reason=" ", ctx=CTX
        )
    line = adjustments.line_add(
        invoice_id=draft.pk, description="x", amount_jpy=1000, reason="r", ctx=CTX
    )
    adjustments.line_remove(line_id=line.pk, reason="mistake", ctx=CTX)
    assert draft_of(example_a).total_jpy == 38_030
    final = finalize.invoice_finalize(invoice_id=draft.pk, ctx=CTX)
    with pytest.raises(finalize.InvoiceStateError):
        adjustments.line_add(
            invoice_id=final.pk, description="x", amount_jpy=1, reason="r", ctx=CTX
        )
    usage_line = InvoiceLine.objects.filter(invoice=final).first()
    with pytest.raises(finalize.InvoiceStateError):
        adjustments.line_remove(line_id=usage_line.pk, reason="r", ctx=CTX)


def test_close_command_rejects_bad_month() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("close_month", "April")


def test_suspended_tenants_are_not_closed(personas, issuer) -> None:
    personas.tenant_b.status = "suspended"
    personas.tenant_b.save()
    try:
        close.close_month(period=APRIL, ctx=CTX)
        assert not Invoice.objects.filter(tenant=personas.tenant_b).exists()
        assert Invoice.objects.filter(tenant=personas.tenant_a, period=APRIL).exists()
    finally:
        personas.tenant_b.status = "active"
        personas.tenant_b.save()


def test_beat_closes_last_month_on_the_usage_closing_day(
    personas, issuer, monkeypatch
) -> None:
    from billing import tasks
    from billing.models import CloseRun

    assert tasks.due_period(date(2025, 5, 8), 8) == APRIL
    assert tasks.due_period(date(2025, 5, 7), 8) is None
    assert tasks.due_period(date(2025, 5, 20), 8) == APRIL  # a missed day catches up
    assert tasks.due_period(date(2026, 1, 8), 8) == date(2025, 12, 1)
    monkeypatch.setattr(tasks, "jst_today", lambda: date(2025, 5, 8))
    run_id = tasks.close_month_scheduled_task()
    run = CloseRun.objects.get(pk=run_id)
    assert run.period == APRIL and run.state == "done" and run.started_by == "beat"
    assert Invoice.objects.filter(period=APRIL, status="draft").count() >= 2
    monkeypatch.setattr(tasks, "jst_today", lambda: date(2025, 5, 9))
    assert tasks.close_month_scheduled_task() is None  # once per month
    monkeypatch.setattr(tasks, "jst_today", lambda: date(2025, 5, 7))
    assert tasks.close_month_scheduled_task() is None  # before the closing day


def test_beat_entry_exists() -> None:
    from portal.celery import app

    entries = {e["task"] for e in app.conf.beat_schedule.values()}
    assert "billing.tasks.close_month_scheduled_task" in entries


def test_audit_rows_for_close_and_adjustments(personas, example_a) -> None:
    close_only(personas)
    draft = draft_of(example_a)
    adjustments.line_add(
        invoice_id=draft.pk, description="作業", amount_jpy=100, reason="r", ctx=CTX
    )
    actions = set(
        AuditEvent.objects.filter(action__startswith="billing.").values_list(
            "action", flat=True
        )
    )
    assert {"billing.close_month", "billing.line_add"} <= actions


def test_weekend_month_end_uses_the_last_business_day_rate(personas, issuer) -> None:
    tenant = personas.tenant_a
    tts_contract(tenant, fx_rate_type=RateType.TTM)
    add_usage(tenant, JUNE, 40_000, "0")  # $10.00
    # 31 May 2025 is a Saturday: June uses Friday 30 May, not a weekend entry.
    FxRate.objects.create(
        date=date(2025, 5, 30), rate=Decimal("144.00"), rate_type="TTM", source="MUFG"
    )
    FxRate.objects.create(
        date=date(2025, 5, 31), rate=Decimal("199.00"), rate_type="TTM", source="other"
    )
    close.close_month(period=JUNE, ctx=CTX, tenant_ids=[tenant.pk])
    inv = draft_of(tenant, JUNE)
    assert (inv.fx_rate, inv.fx_rate_date, inv.usage_jpy) == (
        Decimal("144"),
        date(2025, 5, 30),
        1_440,
    )


def test_close_run_without_issuer_fails_visibly(personas) -> None:
    from billing.models import CloseRun
    from billing.tasks import close_run_task

    run = CloseRun.objects.create(period=APRIL)
    with pytest.raises(close.BillingDataMissing):
        close_run_task(run.pk)
    run.refresh_from_db()
    assert run.state == "failed" and "issuer" in run.error
