"""Support access with the customer's consent: the grant/expiry/revocation matrix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.errors import ServiceError
from tenants.accounts import support
from tenants.accounts.audit import AuditContext
from tenants.accounts.models import AuditEvent, SupportGrant, User


def _owner_ctx(personas) -> AuditContext:
    return AuditContext(
        actor_id=personas.owner_a.pk,
        actor_email=personas.owner_a.email,
        actor_kind="user",
        role="owner",
    )


def _grant(personas, scope="read", hours=2) -> SupportGrant:
    with schema_context("alpha"):
        return support.grant_create(
            ctx=_owner_ctx(personas), scope=scope, hours=hours, ticket_ref="#4711"
        )


def _enter_as_staff(staff_client) -> Client:
    """Staff click "open as support" on the console and follow the handoff."""
    response = staff_client.post(f"/staff/tenants/{_tenant_pk()}/support/")
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    assert location.startswith("http://alpha.localhost:8000/support/enter/")
    tenant_client = Client(HTTP_HOST="alpha.localhost")
    entered = tenant_client.get(location.split("8000", 1)[1])
    assert entered.status_code == 302, entered.content[:500]
    return tenant_client


def _tenant_pk() -> int:
    from tenants.models import Customer

    return Customer.objects.get(schema_name="alpha").pk


def test_without_a_grant_staff_cannot_open_the_portal(staff_client, personas):
    response = staff_client.post(f"/staff/tenants/{personas.tenant_a.pk}/support/")
    assert response.status_code == 302
    assert response["Location"] == f"/staff/tenants/{personas.tenant_a.pk}/"
    # and a forged handoff link gets nowhere
    forged = Client(HTTP_HOST="alpha.localhost").get("/support/enter/forged/")
    assert forged.status_code == 403
    with schema_context("alpha"):
        assert not User.objects.filter(is_support=True).exists()


def test_read_only_grant_reads_and_cannot_write(staff_client, personas):
    _grant(personas, scope="read")
    client = _enter_as_staff(staff_client)
    assert client.get("/").status_code == 200
    assert client.get("/members/").status_code == 403  # viewer role: no member admin
    page = client.get("/mail/")
    assert page.status_code == 200
    write = client.post(
        "/members/invite/", {"email": "x@alpha.example", "role": "viewer"}
    )
    assert write.status_code == 403
    with schema_context("alpha"):
        assert not User.objects.filter(email="x@alpha.example").exists()
        views = list(
            AuditEvent.objects.filter(action="support.view").values_list(
                "actor_email", "target_label"
            )
        )
        assert ("staff@msp.example", "/mail/") in views
        assert AuditEvent.objects.filter(action="support.denied").count() == 1
        assert (
            AuditEvent.objects.get(action="support.enter").actor_email
            == "staff@msp.example"
        )


def test_write_grant_can_act_and_actions_name_the_staff_member(staff_client, personas):
    _grant(personas, scope="write")
    client = _enter_as_staff(staff_client)
    response = client.post(
        "/members/invite/", {"email": "help@alpha.example", "role": "viewer"}
    )
    assert response.status_code == 302
    with schema_context("alpha"):
        event = AuditEvent.objects.get(action="invitation.create")
        assert (event.actor_email, event.actor_kind) == ("staff@msp.example", "support")


def test_access_ends_exactly_at_expiry(staff_client, personas):
    grant = _grant(personas, scope="read", hours=1)
    client = _enter_as_staff(staff_client)
    assert client.get("/").status_code == 200
    # the boundary: active one microsecond before, inactive at expires_at
    assert grant.is_active(at=grant.expires_at - timedelta(microseconds=1)) is True
    assert grant.is_active(at=grant.expires_at) is False
    with schema_context("alpha"):
        SupportGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    response = client.get("/")
    assert response.status_code == 403
    # signed out: the next request is anonymous
    assert client.get("/").status_code == 302


def test_access_ends_at_revocation_and_owner_sees_the_audit(
    staff_client, owner_a_client, personas
):
    grant = _grant(personas, scope="write")
    client = _enter_as_staff(staff_client)
    assert client.get("/mail/").status_code == 200
    owner_a_client.post(f"/support-access/{grant.pk}/revoke/")
    assert client.get("/mail/").status_code == 403
    assert client.post(
        "/members/invite/", {"email": "y@alpha.example", "role": "viewer"}
    ).status_code in (302, 403)
    with schema_context("alpha"):
        assert not User.objects.filter(email="y@alpha.example").exists()
    page = owner_a_client.get("/support-access/").content.decode()
    assert "staff@msp.example" in page
    assert "support.view" in page


def test_only_owners_grant(viewer_a_client, personas):
    assert (
        viewer_a_client.post(
            "/support-access/grant/", {"scope": "write", "hours": 2, "ticket_ref": "x"}
        ).status_code
        == 403
    )
    with schema_context("alpha"):
        admin = User.objects.create_user("adm@alpha.example", "x" * 12, role="admin")
        with pytest.raises(ServiceError):
            support.grant_create(
                ctx=AuditContext(actor_id=admin.pk, actor_kind="user", role="admin"),
                scope="write",
                hours=2,
                ticket_ref="x",
            )
        assert SupportGrant.objects.count() == 0


def test_handoff_for_tenant_a_does_not_open_tenant_b(staff_client, personas):
    _grant(personas)
    response = staff_client.post(f"/staff/tenants/{personas.tenant_a.pk}/support/")
    path = response["Location"].split("8000", 1)[1]
    other = Client(HTTP_HOST="beta.localhost").get(path)
    assert other.status_code == 403
    with schema_context("beta"):
        assert not User.objects.filter(is_support=True).exists()


def test_handoff_link_expires(personas, monkeypatch):
    _grant(personas)
    with schema_context("public"):
        token = support.handoff_token(staff=personas.staff, schema="alpha")
    # An old link: as if more than HANDOFF_SECONDS had passed since it was made.
    monkeypatch.setattr(support, "HANDOFF_SECONDS", -1)
    response = Client(HTTP_HOST="alpha.localhost").get(f"/support/enter/{token}/")
    assert response.status_code == 403
    with schema_context("alpha"):
        assert not User.objects.filter(is_support=True).exists()


def test_customer_users_never_reach_the_staff_console(owner_a_client, personas):
    public = Client(HTTP_HOST="localhost")
    public.cookies = owner_a_client.cookies
    response = public.get("/staff/tenants/")
    assert response.status_code == 302  # anonymous there: sign-in page
    assert owner_a_client.get("/staff/tenants/").status_code == 404
