"""Usage caps: thresholds, one alert per cause, owner mail, bulk hold and its lift,
staff and owner pages with their role matrix (SMTP against the emulator lives in
tests/mailops/test_guardrail_smtp.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.core import mail
from django.utils import translation
from django_tenants.utils import schema_context

from billing.models import IssuerSettings, UsageDay
from tenants import guardrails
from tenants.accounts.audit import AuditContext
from tenants.accounts.models import AuditEvent, User
from tenants.guardrail_tasks import (
    guardrail_evaluate_task,
    guardrails_evaluate_all_task,
)
from tenants.models import Alert, Customer, Guardrail, GuardrailAction, TenantSummary
from tests.conftest import PASSWORD, TOTP_SECRET, client_for

# 12:00 JST on 15 November 2026.
NOW = dt.datetime(2026, 11, 15, 3, 0, tzinfo=dt.UTC)
STAFF_CTX = AuditContext(
    actor_id=1, actor_email="staff@msp.example", actor_kind="staff", is_staff=True
)


@pytest.fixture
def alpha(personas):
    # The fallback price (no issuer): $0.00025 × 150 = ¥0.0375 per email, floored.
    IssuerSettings.objects.all().delete()
    return personas.tenant_a


def _usage(tenant, emails: int, day: dt.date = dt.date(2026, 11, 2)) -> None:
    UsageDay.objects.update_or_create(
        tenant=tenant,
        day=day,
        defaults={"billable_emails": emails, "messages": emails},
    )


def _caps(tenant, send=None, spend=None, action=Guardrail.HardAction.NONE):
    return Guardrail.objects.update_or_create(
        tenant=tenant,
        defaults={
            "monthly_send_cap": send,
            "monthly_spend_cap_jpy": spend,
            "hard_action": action,
        },
    )[0]


def _cap_alerts(tenant) -> list[tuple[str, str, str]]:
    return sorted(
        Alert.objects.filter(tenant=tenant, kind__startswith="guardrail.")
        .exclude(state=Alert.State.RESOLVED)
        .values_list("kind", "cause_key", "severity")
    )


# --- evaluation thresholds ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("emails", "percent", "state", "alerts"),
    [
        (79, 79, "ok", []),
        (80, 80, "warning", [("guardrail.send_cap", "2026-11:80", "warning")]),
        (99, 99, "warning", [("guardrail.send_cap", "2026-11:80", "warning")]),
        (100, 100, "reached", [("guardrail.send_cap", "2026-11:100", "critical")]),
    ],
)
def test_send_cap_thresholds(alpha, emails, percent, state, alerts):
    # given: a cap of 100 emails and ``emails`` sent this month
    _caps(alpha, send=100)
    _usage(alpha, emails)
    # when
    result = guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    # then
    guardrail = result.guardrail
    assert (guardrail.emails_mtd, guardrail.send_percent) == (emails, percent)
    assert guardrail.state == state
    assert _cap_alerts(alpha) == alerts
    assert len(mail.outbox) == (1 if alerts else 0)
    summary = TenantSummary.objects.get(tenant=alpha)
    assert (summary.cap_percent, summary.cap_enforced) == (percent, False)


@pytest.mark.parametrize(
    ("emails", "spend", "percent"),
    [(6390, 239, 79), (6400, 240, 80), (7920, 297, 99), (8000, 300, 100)],
)
def test_spend_cap_thresholds_use_the_accrued_charge(alpha, emails, spend, percent):
    # given: a ¥300 cap; ``emails`` × ¥0.0375 accrued this month (floored)
    _caps(alpha, spend=300)
    _usage(alpha, emails)
    # when
    guardrail = guardrails.guardrail_evaluate(tenant=alpha, now=NOW).guardrail
    # then: the charge so far, not the projection to the month's end
    assert (guardrail.spend_mtd_jpy, guardrail.spend_percent) == (spend, percent)
    severity = {79: [], 80: ["warning"], 99: ["warning"], 100: ["critical"]}[percent]
    assert [a[2] for a in _cap_alerts(alpha)] == severity


def test_usage_of_last_month_does_not_count(alpha):
    _caps(alpha, send=100)
    _usage(alpha, 500, day=dt.date(2026, 10, 31))
    _usage(alpha, 10)
    guardrail = guardrails.guardrail_evaluate(tenant=alpha, now=NOW).guardrail
    assert (guardrail.emails_mtd, guardrail.send_percent) == (10, 10)


def test_no_caps_means_nothing_to_evaluate(alpha):
    _usage(alpha, 10**6)
    assert guardrails.guardrail_evaluate(tenant=alpha, now=NOW).guardrail is None
    assert _cap_alerts(alpha) == []


# --- one alert and one mail per cause ------------------------------------------------------


def test_nothing_is_raised_twice_for_one_cause(alpha):
    # given: 85% used, evaluated once (warning alert + mail to the owner)
    _caps(alpha, send=100)
    _usage(alpha, 85)
    guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@alpha.example"]
    # when: evaluated again, and again after staff resolved the alert
    again = guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    Alert.objects.filter(tenant=alpha).update(state=Alert.State.RESOLVED)
    third = guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    # then: no new alert, no new mail
    assert (again.crossings, third.crossings) == ([], [])
    assert Alert.objects.filter(tenant=alpha).count() == 1
    assert len(mail.outbox) == 1
    # and crossing 100% is a new cause: one critical alert, one mail
    _usage(alpha, 100)
    guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    assert _cap_alerts(alpha) == [("guardrail.send_cap", "2026-11:100", "critical")]
    assert len(mail.outbox) == 2


def test_a_jump_past_100_raises_only_the_critical_alert(alpha):
    _caps(alpha, send=100)
    _usage(alpha, 150)
    result = guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    assert [(c.rule, c.threshold) for c in result.crossings] == [
        ("send", 80),
        ("send", 100),
    ]
    assert _cap_alerts(alpha) == [("guardrail.send_cap", "2026-11:100", "critical")]
    assert result.guardrail.notified == ["send:100", "send:80"]
    assert len(mail.outbox) == 1
    assert [line for line in mail.outbox[0].body.splitlines() if line[:2] == "- "] == [
        "- 月間送信数の上限に達しました：100 通 中 150 通（150%）"
    ]


def test_owner_mail_is_japanese_and_links_the_cap_page(alpha):
    _caps(alpha, send=100)
    _usage(alpha, 100)
    guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    message = mail.outbox[0]
    assert "利用上限" in message.subject
    assert "http://alpha.localhost" in message.body
    assert "/billing/caps/" in message.body


def test_a_new_month_starts_over_and_resolves_last_months_alerts(alpha):
    _caps(alpha, send=100)
    _usage(alpha, 90)
    guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    december = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    _usage(alpha, 85, day=dt.date(2026, 12, 1))
    result = guardrails.guardrail_evaluate(tenant=alpha, now=december)
    assert result.guardrail.period == dt.date(2026, 12, 1)
    assert _cap_alerts(alpha) == [("guardrail.send_cap", "2026-12:80", "warning")]
    assert len(mail.outbox) == 2


# --- bulk-send hold and lifting ---------------------------------------------------------


def test_pause_bulk_at_100_then_owner_lift_clears_it(alpha, personas):
    # given: the hard action is "pause bulk sends"
    _caps(alpha, send=100, action=Guardrail.HardAction.PAUSE_BULK)
    _usage(alpha, 100)
    # when: the cap is reached
    result = guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    # then: the flag the campaign workers read is set, recorded and audited
    alpha.refresh_from_db()
    assert result.enforced is True
    assert alpha.bulk_sends_blocked_reason.startswith("月間送信数の上限")
    action = GuardrailAction.objects.get()
    assert (action.kind, action.state, action.rule) == ("pause_bulk", "applied", "send")
    assert result.guardrail.state == "enforced"
    assert TenantSummary.objects.get(tenant=alpha).cap_enforced is True
    assert AuditEvent.objects.filter(action="guardrail.enforce").count() == 1
    with schema_context("alpha"):
        assert AuditEvent.objects.filter(action="guardrail.enforce").count() == 1
    # when: the owner lifts it on the tenant host
    owner = client_for(personas.host_a, personas.owner_a, schema="alpha")
    response = owner.post("/billing/caps/lift/", {"reason": "大口案件のため"})
    # then: cleared, audited in both logs, and it stays off for this month
    assert response.status_code == 302
    alpha.refresh_from_db()
    assert alpha.bulk_sends_blocked_reason == ""
    action.refresh_from_db()
    assert (action.state, action.lifted_by) == ("lifted", "owner@alpha.example")
    assert action.lift_reason == "大口案件のため"
    lift = AuditEvent.objects.get(action="guardrail.lift")
    assert (lift.actor_email, lift.target_id) == ("owner@alpha.example", str(alpha.pk))
    with schema_context("alpha"):
        assert AuditEvent.objects.filter(action="guardrail.lift").count() == 1
    again = guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    alpha.refresh_from_db()
    assert (again.enforced, alpha.bulk_sends_blocked_reason) == (False, "")
    assert again.guardrail.state == "reached"


def test_raising_the_cap_above_use_lifts_the_hold(alpha):
    _caps(alpha, send=100, action=Guardrail.HardAction.PAUSE_BULK)
    _usage(alpha, 120)
    guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    # when: staff raise the cap to 1,000
    guardrail = guardrails.guardrail_set_caps(
        ctx=STAFF_CTX,
        tenant=alpha,
        monthly_send_cap=1000,
        monthly_spend_cap_jpy=None,
        hard_action=Guardrail.HardAction.PAUSE_BULK,
    )
    # then
    alpha.refresh_from_db()
    assert alpha.bulk_sends_blocked_reason == ""
    assert guardrail.state == "ok"
    assert guardrail.lifted_period is None  # applies again at the new cap
    assert list(AuditEvent.objects.values_list("action", flat=True).order_by("pk")) == [
        "guardrail.enforce",
        "guardrail.caps",
        "guardrail.lift",
    ]


def test_lift_without_a_stop_is_refused(alpha):
    _caps(alpha, send=100)
    with pytest.raises(guardrails.ServiceError):
        guardrails.guardrail_lift(ctx=STAFF_CTX, tenant=alpha)
    viewer_ctx = AuditContext(actor_kind="user", role="viewer", actor_email="v@x")
    with pytest.raises(guardrails.ServiceError):
        guardrails.guardrail_lift(ctx=viewer_ctx, tenant=alpha)


def test_fan_out_evaluates_only_tenants_with_caps(alpha, personas):
    _caps(alpha, send=100, action=Guardrail.HardAction.PAUSE_BULK)
    _usage(alpha, 100)
    assert guardrails_evaluate_all_task() == 1  # beta has no caps
    with schema_context("alpha"):
        assert guardrail_evaluate_task() == "enforced"
    with schema_context("beta"):
        assert guardrail_evaluate_task() == ""


# --- staff console ------------------------------------------------------------------------


def _staff(personas, email: str, role: str):
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email, PASSWORD, role="viewer", is_staff=True, staff_role=role
        )
        TOTP.activate(user, TOTP_SECRET)
    return client_for(personas.public_host, user, schema="public")


def test_staff_set_caps_on_the_tenant_detail_page(alpha, personas, staff_client):
    _usage(alpha, 50)
    url = f"/staff/tenants/{alpha.pk}/"
    response = staff_client.post(
        f"{url}caps/",
        {
            "monthly_send_cap": "100",
            "monthly_spend_cap_jpy": "",
            "hard_action": "both",
        },
    )
    assert response.status_code == 302
    guardrail = Guardrail.objects.get(tenant=alpha)
    assert (guardrail.monthly_send_cap, guardrail.hard_action) == (100, "both")
    assert guardrail.send_percent == 50
    page = staff_client.get(url).content.decode()
    assert 'aria-valuenow="50"' in page
    assert "利用上限" in page
    audit = AuditEvent.objects.get(action="guardrail.caps")
    assert audit.after["monthly_send_cap"] == 100


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"monthly_send_cap": "1,000", "hard_action": "none"},
            "カンマを付けずに整数で入力してください。",
        ),
        (
            {"monthly_send_cap": "0", "hard_action": "none"},
            "1 以上を入力するか、上限なしの場合は空欄にしてください。",
        ),
        (
            {"hard_action": "disable_smtp"},
            "上限時の措置を有効にするには、送信数か利用金額の上限を設定してください。",
        ),
    ],
)
def test_invalid_caps_are_explained_in_japanese(alpha, staff_client, data, message):
    response = staff_client.post(f"/staff/tenants/{alpha.pk}/caps/", data, follow=True)
    assert message in response.content.decode()
    assert Guardrail.objects.count() == 0
    assert AuditEvent.objects.filter(action="guardrail.caps").count() == 0


def test_billing_staff_read_but_cannot_set_or_lift(alpha, personas):
    # given: a hold in force
    _caps(alpha, send=100, action=Guardrail.HardAction.PAUSE_BULK)
    _usage(alpha, 100)
    guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    billing = _staff(personas, "billing@msp.example", "billing")
    # then: the detail page shows the caps without the forms
    page = billing.get(f"/staff/tenants/{alpha.pk}/").content.decode()
    assert 'id="caps"' in page
    assert 'id="caps-form"' not in page
    assert 'id="lift-cap"' not in page
    # and writes are refused and change nothing
    url = f"/staff/tenants/{alpha.pk}/caps/"
    assert (
        billing.post(url, {"monthly_send_cap": "5", "hard_action": "none"}).status_code
        == 403
    )
    assert billing.post(f"{url}lift/").status_code == 403
    alpha.refresh_from_db()
    assert alpha.bulk_sends_blocked_reason != ""
    assert Guardrail.objects.get(tenant=alpha).monthly_send_cap == 100
    assert (
        AuditEvent.objects.filter(
            action__in=["guardrail.caps", "guardrail.lift"]
        ).count()
        == 0
    )


def test_support_staff_lift_from_the_tenant_detail(alpha, personas, staff_client):
    _caps(alpha, send=100, action=Guardrail.HardAction.PAUSE_BULK)
    _usage(alpha, 100)
    guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    page = staff_client.get(f"/staff/tenants/{alpha.pk}/").content.decode()
    assert 'id="lift-cap"' in page
    response = staff_client.post(
        f"/staff/tenants/{alpha.pk}/caps/lift/", {"reason": "チケット 123"}
    )
    assert response.status_code == 302
    alpha.refresh_from_db()
    assert alpha.bulk_sends_blocked_reason == ""
    event = AuditEvent.objects.get(action="guardrail.lift")
    assert (event.actor_email, event.actor_kind) == ("staff@msp.example", "staff")
    with schema_context("alpha"):
        tenant_event = AuditEvent.objects.get(action="guardrail.lift")
        assert tenant_event.after["reason"] == "チケット 123"


# --- tenant host: owner page and role matrix -----------------------------------------------


@pytest.fixture
def held(alpha):
    _caps(alpha, send=100, action=Guardrail.HardAction.PAUSE_BULK)
    _usage(alpha, 100)
    guardrails.guardrail_evaluate(tenant=alpha, now=NOW)
    return alpha


def test_owner_sees_the_cap_page_with_a_lift_button(held, owner_a_client):
    page = owner_a_client.get("/billing/caps/").content.decode()
    assert "上限により送信が停止" in page
    assert 'id="lift-cap"' in page
    assert 'aria-valuenow="100"' in page
    invoices = owner_a_client.get("/billing/").content.decode()
    assert 'id="caps-link"' in invoices


def test_viewer_cannot_see_or_lift(held, viewer_a_client):
    assert viewer_a_client.get("/billing/caps/").status_code == 403
    assert viewer_a_client.post("/billing/caps/lift/").status_code == 403
    held.refresh_from_db()
    assert held.bulk_sends_blocked_reason != ""


def test_admin_member_sees_but_cannot_lift(held, personas):
    with schema_context("alpha"):
        admin = User.objects.create_user("admin@alpha.example", PASSWORD, role="admin")
        TOTP.activate(admin, TOTP_SECRET)
    client = client_for(personas.host_a, admin, schema="alpha")
    page = client.get("/billing/caps/").content.decode()
    assert 'id="lift-cap"' not in page
    assert client.post("/billing/caps/lift/").status_code == 403
    assert GuardrailAction.objects.get().state == "applied"


def test_another_tenants_owner_cannot_lift(held, personas, owner_b_client):
    # beta's session is anonymous on alpha's host; on its own host it lifts beta only
    on_alpha = client_for(personas.host_a)
    on_alpha.cookies = owner_b_client.cookies
    response = on_alpha.post("/billing/caps/lift/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    response = owner_b_client.post("/billing/caps/lift/", follow=True)
    assert response.status_code == 200
    held.refresh_from_db()
    assert held.bulk_sends_blocked_reason != ""
    assert GuardrailAction.objects.get().state == "applied"
    assert AuditEvent.objects.filter(action="guardrail.lift").count() == 0


def test_staff_cannot_use_the_tenant_page(held, staff_client):
    assert staff_client.get("/billing/caps/").status_code == 404


def test_overview_shows_cap_use_without_extra_queries(held, staff_client):
    page = staff_client.get("/staff/tenants/").content.decode()
    with translation.override("ja"):
        assert "利用上限 100%" in page


def test_summary_refresh_copies_the_cap_columns(held):
    from tenants.summaries import summary_refresh

    row = summary_refresh(held, now=NOW)
    assert (row.cap_percent, row.cap_enforced) == (100, True)
    assert Customer.objects.get(pk=held.pk).summary.cap_percent == 100
    assert Decimal(row.cap_percent) == Decimal(100)


def test_an_evaluation_racing_a_lift_does_not_reapply(held):
    # given: the owner lifted the hold (it stays off this month)
    guardrails.guardrail_lift(ctx=STAFF_CTX, tenant=held)
    # when: an evaluation that saw the cap reached before the lift applies it
    guardrail = guardrails.guardrail_enforce(
        guardrail_id=Guardrail.objects.get(tenant=held).pk, rule="send"
    )
    # then: nothing is applied again
    held.refresh_from_db()
    assert held.bulk_sends_blocked_reason == ""
    assert GuardrailAction.objects.filter(state="applied").count() == 0
    assert guardrail.state != "enforced"
