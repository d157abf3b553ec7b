"""The staff alerts queue: filters, assign / acknowledge / resolve / notes, audit."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenants.accounts.models import AuditEvent, User
from tenants.alerts import alert_raise, alert_resolve
from tenants.models import Alert, AlertNote, TenantSummary
from tests.conftest import PASSWORD, TOTP_SECRET, client_for

QUEUE = "/staff/alerts/"


def _raise(schema: str, kind: str, cause: str, severity: str = "warning") -> Alert:
    with schema_context(schema):
        return alert_raise(
            kind=kind, cause_key=cause, severity=severity, title=f"{kind} {cause}"
        )


@pytest.fixture
def alerts(personas):
    a1 = _raise("alpha", "dns.drift", "alpha.example", "critical")
    a2 = _raise("alpha", "secret.expiring", "key-1", "info")
    b1 = _raise("beta", "dns.drift", "beta.example", "warning")
    return {"a1": a1, "a2": a2, "b1": b1}


def _other_staff() -> User:
    user = User.objects.filter(email="support2@msp.example").first()
    if user is None:
        user = User.objects.create_user(
            "support2@msp.example", PASSWORD, role="viewer", is_staff=True
        )
        TOTP.activate(user, TOTP_SECRET)  # staff pages need MFA enrolment
    return user


def _audit(action: str, alert: Alert) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            action=action, target_type="tenants.alert", target_id=str(alert.pk)
        )
    )


def _ids(response) -> list[int]:
    return [a.pk for a in response.context["page"].object_list]


def test_nothing_is_raised_twice_for_one_cause(personas):
    # given: the same cause raised three times
    first = _raise("alpha", "dns.drift", "x.example")
    again = _raise("alpha", "dns.drift", "x.example", "critical")
    _raise("alpha", "dns.drift", "x.example")
    # then: one alert, refreshed
    rows = Alert.objects.filter(kind="dns.drift", cause_key="x.example")
    assert rows.count() == 1
    assert first.pk == again.pk
    # and the database refuses a second live row for the cause
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(
            tenant=personas.tenant_a,
            kind="dns.drift",
            cause_key="x.example",
            severity="info",
            title="dup",
        )
    # a resolved alert does not block a new one for a recurring cause
    with schema_context("alpha"):
        alert_resolve(kind="dns.drift", cause_key="x.example")
    reopened = _raise("alpha", "dns.drift", "x.example")
    assert reopened.pk != first.pk
    assert rows.count() == 2


def test_queue_lists_every_tenants_live_alerts(staff_client, alerts):
    response = staff_client.get(QUEUE)
    assert response.status_code == 200
    assert set(_ids(response)) >= {a.pk for a in alerts.values()}
    body = response.content.decode()
    assert "dns.drift alpha.example" in body
    assert "dns.drift beta.example" in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tenant": "alpha"}, ["a2", "a1"]),
        ({"tenant": "beta"}, ["b1"]),
        ({"severity": "critical"}, ["a1"]),
        ({"kind": "secret.expiring"}, ["a2"]),
        ({"kind": "dns.drift", "tenant": "beta"}, ["b1"]),
        ({"state": "resolved", "tenant": "alpha"}, []),
    ],
)
def test_queue_filters(staff_client, alerts, params, expected):
    response = staff_client.get(QUEUE, params)
    assert _ids(response) == [alerts[k].pk for k in expected]


def test_assign_acknowledge_note_resolve_with_audit(staff_client, personas, alerts):
    alert = alerts["a1"]
    colleague = _other_staff()
    # assign
    response = staff_client.post(
        f"{QUEUE}{alert.pk}/assign/", {"assignee": colleague.pk}
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.assigned_to_id == colleague.pk
    [event] = _audit("alert.assign", alert)
    assert event.actor_email == personas.staff.email
    assert event.after["assignee"] == colleague.email
    assert event.after["tenant_id"] == personas.tenant_a.pk
    assert event.tenant_schema == "public"
    # the "assigned to me" filter (as the colleague)
    mine = client_for(personas.public_host, colleague, schema="public").get(
        QUEUE, {"assigned": "me"}
    )
    assert _ids(mine) == [alert.pk]
    # acknowledge (twice: idempotent, one audit row)
    staff_client.post(f"{QUEUE}{alert.pk}/acknowledge/")
    staff_client.post(f"{QUEUE}{alert.pk}/acknowledge/")
    alert.refresh_from_db()
    assert alert.state == Alert.State.ACKNOWLEDGED
    assert alert.acknowledged_at is not None
    assert len(_audit("alert.acknowledge", alert)) == 1
    # note
    staff_client.post(f"{QUEUE}{alert.pk}/note/", {"text": "Called the customer."})
    [note] = AlertNote.objects.filter(alert=alert)
    assert (note.text, note.author_email) == (
        "Called the customer.",
        "staff@msp.example",
    )
    assert len(_audit("alert.note", alert)) == 1
    # resolve with a note
    response = staff_client.post(
        f"{QUEUE}{alert.pk}/resolve/",
        {"note": "SPF fixed by customer.", "next": "/staff/alerts/?tenant=alpha"},
    )
    assert response["Location"] == "/staff/alerts/?tenant=alpha"
    alert.refresh_from_db()
    assert alert.state == Alert.State.RESOLVED
    assert alert.resolved_at is not None
    assert AlertNote.objects.filter(alert=alert).count() == 2
    assert len(_audit("alert.resolve", alert)) == 1
    # the summary's open-alert count follows
    assert TenantSummary.objects.get(tenant=personas.tenant_a).open_alerts == 1
    # resolved alerts cannot be reassigned or acknowledged
    staff_client.post(f"{QUEUE}{alert.pk}/assign/", {"assignee": ""})
    staff_client.post(f"{QUEUE}{alert.pk}/acknowledge/")
    alert.refresh_from_db()
    assert alert.assigned_to_id == colleague.pk
    assert alert.state == Alert.State.RESOLVED
    assert len(_audit("alert.assign", alert)) == 1


def test_cannot_assign_to_non_staff(staff_client, personas, alerts):
    clerk = User.objects.filter(email="clerk2@msp.example").first() or (
        User.objects.create_user(
            "clerk2@msp.example", PASSWORD, role="viewer", is_staff=False
        )
    )
    staff_client.post(f"{QUEUE}{alerts['a1'].pk}/assign/", {"assignee": clerk.pk})
    alerts["a1"].refresh_from_db()
    assert alerts["a1"].assigned_to_id is None
    assert _audit("alert.assign", alerts["a1"]) == []


def test_redirect_target_is_limited_to_the_queue(staff_client, alerts):
    response = staff_client.post(
        f"{QUEUE}{alerts['a2'].pk}/acknowledge/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == QUEUE


def test_htmx_post_answers_with_client_redirect(staff_client, alerts):
    response = staff_client.post(
        f"{QUEUE}{alerts['a2'].pk}/acknowledge/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == QUEUE


def test_unknown_alert_is_404(staff_client, alerts):
    assert staff_client.post(f"{QUEUE}999999/acknowledge/").status_code == 404


def test_tenant_detail_shows_summary_alerts_and_timeline(
    staff_client, personas, alerts, english
):
    staff_client.post(f"{QUEUE}{alerts['a1'].pk}/acknowledge/")
    response = staff_client.get(f"/staff/tenants/{personas.tenant_a.pk}/")
    assert response.status_code == 200
    open_ids = [a.pk for a in response.context["open_alerts"]]
    assert open_ids == [alerts["a2"].pk, alerts["a1"].pk]
    timeline = response.context["timeline"]
    texts = [item["text"] for item in timeline]
    assert "alert.acknowledge" in texts
    assert "Alert opened: dns.drift alpha.example" in texts
    assert texts[-1] == "Tenant created"
    stamps = [item["at"] for item in timeline]
    assert stamps == sorted(stamps, reverse=True)
    # beta's alert is not on alpha's page
    assert "dns.drift beta.example" not in response.content.decode()


# --- access --------------------------------------------------------------------------


def test_customer_users_cannot_act_on_alerts(owner_a_client, personas, alerts):
    alert = alerts["a1"]
    for action in ("acknowledge", "resolve", "note", "assign"):
        response = owner_a_client.post(f"{QUEUE}{alert.pk}/{action}/", {"text": "x"})
        assert response.status_code == 404
    anonymous = client_for(personas.public_host)
    assert anonymous.post(f"{QUEUE}{alert.pk}/resolve/").status_code == 302
    clerk = User.objects.filter(email="clerk3@msp.example").first() or (
        User.objects.create_user(
            "clerk3@msp.example", PASSWORD, role="viewer", is_staff=False
        )
    )
    clerk_client = client_for(personas.public_host, clerk, schema="public")
    assert clerk_client.post(f"{QUEUE}{alert.pk}/resolve/").status_code == 403
    # then: nothing changed
    alert.refresh_from_db()
    assert alert.state == Alert.State.OPEN
    assert AlertNote.objects.filter(alert=alert).count() == 0
    assert AuditEvent.objects.filter(target_type="tenants.alert").count() == 0


def test_billing_staff_can_read_the_queue_but_not_act(personas, alerts):
    # given: a staff member with the billing role
    billing = User.objects.filter(email="billing@msp.example").first()
    if billing is None:
        billing = User.objects.create_user(
            "billing@msp.example",
            PASSWORD,
            role="viewer",
            is_staff=True,
            staff_role="billing",
        )
        TOTP.activate(billing, TOTP_SECRET)
    client = client_for(personas.public_host, billing, schema="public")
    alert = alerts["a1"]
    # then: reads work, actions are refused and change nothing
    assert client.get(QUEUE).status_code == 200
    for action in ("acknowledge", "resolve", "note", "assign"):
        response = client.post(f"{QUEUE}{alert.pk}/{action}/", {"text": "x"})
        assert response.status_code == 403
    alert.refresh_from_db()
    assert (alert.state, alert.assigned_to_id) == (Alert.State.OPEN, None)
    assert AuditEvent.objects.filter(target_type="tenants.alert").count() == 0


def _queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(QUEUE, {"state": "all"})
    assert response.status_code == 200
    return len(
        [q for q in ctx.captured_queries if not q["sql"].startswith("SET search_path")]
    )


def test_queue_query_count_does_not_grow_with_alerts(staff_client, personas):
    # given: a few alerts with notes and an assignee
    colleague = _other_staff()

    def make(n: int, start: int) -> None:
        rows = Alert.objects.bulk_create(
            [
                Alert(
                    tenant=personas.tenant_a if i % 2 else personas.tenant_b,
                    kind="dns.drift",
                    cause_key=f"c{i}",
                    severity="warning",
                    title=f"t{i}",
                    assigned_to=colleague,
                )
                for i in range(start, start + n)
            ]
        )
        AlertNote.objects.bulk_create(
            [AlertNote(alert=a, author_email="s@msp.example", text="n") for a in rows]
        )

    make(3, 0)
    few = _queue_queries(staff_client)
    # when: many more (more than a page)
    make(120, 3)
    many = _queue_queries(staff_client)
    # then
    assert few == many


def test_tenant_detail_lists_invoices_metadata(staff_client, personas):
    # given: a draft invoice of alpha and one of beta
    import datetime as dt

    from billing.models import Invoice, IssuerSettings

    issuer = IssuerSettings.objects.create(
        name="MSP", registration_number="T1234567890123"
    )
    mine = Invoice.objects.create(
        issuer=issuer,
        tenant=personas.tenant_a,
        period=dt.date(2026, 10, 1),
        customer_name="alpha",
        total_jpy=38030,
    )
    Invoice.objects.create(
        issuer=issuer,
        tenant=personas.tenant_b,
        period=dt.date(2026, 10, 1),
        customer_name="beta",
        total_jpy=99999,
    )
    # when
    response = staff_client.get(f"/staff/tenants/{personas.tenant_a.pk}/")
    # then
    assert [i.pk for i in response.context["invoices"]] == [mine.pk]
    body = response.content.decode()
    assert "¥38,030" in body
    assert "¥99,999" not in body
