"""Billing pages: role checks, tenant isolation, staff flow through HTTP."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from billing.models import CloseRun, FxRate, Invoice, IssuerSettings, PriceVersion
from billing.services import close, finalize
from tenants.accounts.audit import AuditContext
from tests.billing.conftest import add_usage, tts_contract

APRIL = date(2025, 4, 1)
CTX = AuditContext(actor_email="staff@msp.example", actor_kind="staff", is_staff=True)


@pytest.fixture
def issued(personas, issuer, april_rate) -> Invoice:
    tts_contract(personas.tenant_a)
    add_usage(personas.tenant_a, APRIL, 120_000, "2400")
    close.close_month(period=APRIL, ctx=CTX, tenant_ids=[personas.tenant_a.pk])
    draft = Invoice.objects.get(tenant=personas.tenant_a, period=APRIL)
    return finalize.invoice_finalize(invoice_id=draft.pk, ctx=CTX)


def test_owner_sees_invoices_and_downloads_the_issued_pdf(
    owner_a_client, issued
) -> None:
    page = owner_a_client.get("/billing/")
    assert page.status_code == 200
    assert issued.number in page.content.decode()
    detail = owner_a_client.get(f"/billing/invoices/{issued.pk}/")
    assert detail.status_code == 200 and "38,030" in detail.content.decode()
    pdf = owner_a_client.get(f"/billing/invoices/{issued.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content == bytes(Invoice.objects.get(pk=issued.pk).pdf)


def test_viewer_cannot_see_invoices(viewer_a_client, issued) -> None:
    assert viewer_a_client.get("/billing/").status_code == 403
    assert viewer_a_client.get(f"/billing/invoices/{issued.pk}/").status_code == 403
    assert viewer_a_client.get(f"/billing/invoices/{issued.pk}/pdf/").status_code == 403


def test_other_tenant_never_sees_the_invoice(owner_b_client, issued) -> None:
    assert owner_b_client.get(f"/billing/invoices/{issued.pk}/").status_code == 404
    assert owner_b_client.get(f"/billing/invoices/{issued.pk}/pdf/").status_code == 404
    assert issued.number not in owner_b_client.get("/billing/").content.decode()


def test_drafts_are_not_shown_to_customers(owner_a_client, personas, issuer) -> None:
    close.close_month(period=APRIL, ctx=CTX, tenant_ids=[personas.tenant_a.pk])
    draft = Invoice.objects.get(tenant=personas.tenant_a, period=APRIL)
    assert owner_a_client.get(f"/billing/invoices/{draft.pk}/").status_code == 404


def test_anonymous_is_sent_to_sign_in(client, personas) -> None:
    resp = client.get("/billing/", HTTP_HOST=personas.host_a)
    assert resp.status_code == 302


def test_running_estimate(owner_a_client, personas, issuer) -> None:
    from billing.services.documents import jst_today

    today = jst_today()
    tts_contract(personas.tenant_a)
    FxRate.objects.create(
        date=date(2000, 1, 3), rate=Decimal("150"), rate_type="TTS", source="x"
    )
    PriceVersion.objects.filter(effective_from__gt=date(2000, 1, 1)).update(
        effective_from=date(2000, 1, 1)
    )
    add_usage(
        personas.tenant_a, today.replace(day=1), 4_000 * today.day, "0", days=today.day
    )
    page = owner_a_client.get("/billing/").content.decode()
    # ¥30,000 plan + USD (1 × 4,000 × 0.00025 per day) × 150, plus 10% tax.
    usage = int(Decimal(today.day) * Decimal("1") * Decimal("150"))
    expected = (30_000 + usage) + (30_000 + usage) // 10
    assert f"¥{expected:,}" in page


def test_staff_flow_adjust_finalize_credit(
    staff_client, personas, issuer, april_rate
) -> None:
    tts_contract(personas.tenant_a)
    add_usage(personas.tenant_a, APRIL, 120_000, "2400")
    close.close_month(period=APRIL, ctx=CTX, tenant_ids=[personas.tenant_a.pk])
    draft = Invoice.objects.get(tenant=personas.tenant_a, period=APRIL)
    listing = staff_client.get("/staff/billing/?month=2025-04")
    assert listing.status_code == 200 and "株式会社アルファ" in listing.content.decode()
    resp = staff_client.post(
        f"/staff/billing/invoices/{draft.pk}/lines/",
        {"description": "初期設定", "amount_jpy": "10000", "reason": "onboarding"},
    )
    assert resp.status_code == 302
    draft.refresh_from_db()
    assert draft.total_jpy == 38_030 + 11_000
    assert staff_client.get(
        f"/staff/billing/invoices/{draft.pk}/pdf/"
    ).content.startswith(b"%PDF")
    staff_client.post(f"/staff/billing/invoices/{draft.pk}/finalize/")
    draft.refresh_from_db()
    assert draft.is_final and draft.number.startswith("INV-")
    resp = staff_client.post(
        f"/staff/billing/invoices/{draft.pk}/credit/",
        {"reason": "誤請求", "corrected": "0"},
    )
    note = Invoice.objects.get(original=draft)
    assert resp["Location"].endswith(f"/invoices/{note.pk}/")
    assert note.total_jpy == -draft.total_jpy


def test_staff_runs_close_with_progress(
    staff_client, personas, issuer, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        resp = staff_client.post("/staff/billing/close/", {"month": "2025-04"})
    run = CloseRun.objects.get()
    assert resp["Location"].endswith(f"/staff/billing/close/{run.pk}/")
    assert run.state == "done" and run.total >= 2 and run.percent == 100
    poll = staff_client.get(f"/staff/billing/close/{run.pk}/", HTTP_HX_REQUEST="true")
    body = poll.content.decode()
    assert 'id="close-progress"' in body and "<html" not in body
    assert Invoice.objects.filter(period=APRIL, status="draft").count() >= 2


def test_issuer_page_validates_tnumber(staff_client, personas, english) -> None:
    data = {
        "name": "MSP",
        "registration_number": "T12345",
        "address": "Tokyo",
        "contact": "",
        "bank_account": "bank",
        "payment_terms_days": "30",
        "fx_rounding": "floor",
        "tax_rounding": "floor",
        "tax_rate_percent": "10",
        "usage_closing_day": "8",
    }
    resp = staff_client.post("/staff/billing/issuer/", data)
    assert resp.status_code == 200 and not IssuerSettings.objects.exists()
    resp = staff_client.post(
        "/staff/billing/issuer/",
        {**data, "registration_number": "T1000012050002"},
        follow=True,
    )
    assert IssuerSettings.objects.get().registration_number == "T1000012050002"
    assert "check digit" in resp.content.decode()
    staff_client.post(
        "/staff/billing/issuer/",
        {**data, "registration_number": "Ｔ７００００１２０５０００２"},
    )
    assert IssuerSettings.objects.get().registration_number == "T7000012050002"


def test_price_and_rate_pages(staff_client, personas) -> None:
    resp = staff_client.post(
        "/staff/billing/prices/",
        {
            "effective_from": "2026-01-01",
            "email_usd": "0.00026",
            "megabyte_usd": "0.00012",
        },
    )
    assert resp.status_code == 302
    assert PriceVersion.objects.get(
        effective_from=date(2026, 1, 1)
    ).email_usd == Decimal("0.00026")
    resp = staff_client.post(
        "/staff/billing/rates/",
        {
            "day": "2026-01-30",
            "rate": "155.123456",
            "rate_type": "TTM",
            "source": "MUFG",
        },
    )
    assert resp.status_code == 302
    fx = FxRate.objects.get(date=date(2026, 1, 30))
    assert fx.rate == Decimal("155.123456") and fx.entered_by == "staff@msp.example"


def test_staff_pages_refuse_tenant_users(owner_a_client, personas) -> None:
    assert owner_a_client.get("/staff/billing/").status_code == 404


def test_issued_mail_goes_to_owners_and_billing_contact_once(
    personas, issuer, april_rate, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    from billing.services.notify import invoice_notify

    personas.tenant_a.billing_contact_email = "ap@alpha.example"
    personas.tenant_a.save()
    tts_contract(personas.tenant_a)
    close.close_month(period=APRIL, ctx=CTX, tenant_ids=[personas.tenant_a.pk])
    draft = Invoice.objects.get(tenant=personas.tenant_a, period=APRIL)
    with django_capture_on_commit_callbacks(execute=True):
        inv = finalize.invoice_finalize(invoice_id=draft.pk, ctx=CTX)
    assert len(mailoutbox) == 1
    msg = mailoutbox[0]
    assert sorted(msg.to) == ["ap@alpha.example", "owner@alpha.example"]
    assert "viewer@alpha.example" not in msg.to
    assert inv.number in msg.subject
    name, content, mime = msg.attachments[0]
    assert (
        content == bytes(Invoice.objects.get(pk=inv.pk).pdf)
        and mime == "application/pdf"
    )
    assert invoice_notify(invoice_id=inv.pk) is None  # claimed: never twice
    assert len(mailoutbox) == 1


def test_search_issued_documents_by_date_amount_customer(
    staff_client, issued, personas
) -> None:
    from billing.services import corrections

    note = corrections.credit_note_issue(original_id=issued.pk, reason="x", ctx=CTX)
    day = issued.issue_date.isoformat()

    def numbers(**q) -> str:
        return staff_client.get("/staff/billing/search/", q).content.decode()

    page = numbers(issued_from=day, issued_to=day)
    assert issued.number in page and note.number in page
    page = numbers(amount_min="0", amount_max="40000")
    assert issued.number in page and note.number not in page
    page = numbers(amount_max="-1", customer="アルファ")
    assert note.number in page and issued.number not in page
    page = numbers(customer="ベータ")
    assert issued.number not in page


def test_support_staff_read_but_cannot_change_billing(
    support_client, personas, issuer
) -> None:
    close.close_month(period=APRIL, ctx=CTX, tenant_ids=[personas.tenant_a.pk])
    draft = Invoice.objects.get(tenant=personas.tenant_a, period=APRIL)
    assert support_client.get("/staff/billing/?month=2025-04").status_code == 200
    assert support_client.get(f"/staff/billing/invoices/{draft.pk}/").status_code == 200
    assert (
        support_client.post(f"/staff/billing/invoices/{draft.pk}/finalize/").status_code
        == 403
    )
    assert (
        support_client.post("/staff/billing/close/", {"month": "2025-04"}).status_code
        == 403
    )
    assert support_client.get("/staff/billing/rates/").status_code == 403
    draft.refresh_from_db()
    assert not draft.is_final


def test_staff_export_csv_and_issued_pdfs(staff_client, issued) -> None:
    import io
    import zipfile

    month = issued.issue_date.strftime("%Y-%m")
    resp = staff_client.get("/staff/billing/export/", {"month": month, "format": "csv"})
    assert resp.status_code == 200 and issued.number in resp.content.decode("utf-8-sig")
    resp = staff_client.get("/staff/billing/export/", {"month": month, "format": "pdf"})
    archive = zipfile.ZipFile(io.BytesIO(resp.content))
    (name,) = archive.namelist()
    assert name.endswith(f"_38030_{issued.number}.pdf")
    assert archive.read(name) == bytes(Invoice.objects.get(pk=issued.pk).pdf)
    assert staff_client.get("/staff/billing/export/").status_code == 200


def test_export_command_uses_finalized_documents(issued, tmp_path) -> None:
    from django.core.management import call_command

    call_command(
        "export_invoices",
        issued.issue_date.strftime("%Y-%m"),
        "--format",
        "csv",
        "--out",
        str(tmp_path),
    )
    (csv_file,) = tmp_path.iterdir()
    assert issued.number in csv_file.read_bytes().decode("utf-8-sig")


def test_issued_pdf_rerenders_byte_for_byte(issued) -> None:
    from billing.services.documents import render

    stored = Invoice.objects.get(pk=issued.pk)
    assert render(stored) == bytes(stored.pdf)


def test_tenant_with_invoices_cannot_be_deleted(issued, personas) -> None:
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        personas.tenant_a.delete()


def test_staff_create_and_update_plan(staff_client, personas, issuer) -> None:
    from billing.models import Plan

    data = {
        "code": "bundle",
        "name": "Bundle",
        "name_ja": "バンドル",
        "monthly_fee_jpy": "20000",
        "included_emails": "100000",
        "overage": "jpy_per_1000",
        "overage_jpy_per_1000": "50",
        "change_mode": "next_month",
    }
    assert staff_client.post("/staff/billing/plans/", data).status_code == 302
    assert Plan.objects.get(code="bundle").monthly_fee_jpy == 20_000
    staff_client.post("/staff/billing/plans/", {**data, "monthly_fee_jpy": "25000"})
    plan = Plan.objects.get(code="bundle")
    assert plan.monthly_fee_jpy == 25_000 and plan.change_mode == "next_month"
    assert "Bundle" in staff_client.get("/staff/billing/prices/").content.decode()


def test_issuer_tnumber_with_hyphens_and_full_width(staff_client, personas) -> None:
    data = {
        "name": "MSP",
        "registration_number": "Ｔ７０００-０１２０-５０００２",
        "address": "Tokyo",
        "contact": "",
        "bank_account": "bank",
        "payment_terms_days": "30",
        "fx_rounding": "floor",
        "tax_rounding": "floor",
        "tax_rate_percent": "10",
        "usage_closing_day": "8",
    }
    resp = staff_client.post("/staff/billing/issuer/", data)
    assert resp.status_code == 302
    assert IssuerSettings.objects.get().registration_number == "T7000012050002"
