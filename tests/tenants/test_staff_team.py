from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from portal.errors import ServiceError
from tenants.accounts import services, staff
from tenants.accounts.audit import AuditContext
from tenants.accounts.models import AuditEvent, Invitation, User
from tests.conftest import client_for


@pytest.fixture
def admin_staff(personas):
    user = User.objects.create_user(
        "boss@msp.example", "x" * 12, is_staff=True, staff_role="admin"
    )
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.conftest import TOTP_SECRET

    TOTP.activate(user, TOTP_SECRET)
    return user


def _ctx(user) -> AuditContext:
    return AuditContext(
        actor_id=user.pk, actor_email=user.email, actor_kind="staff", is_staff=True
    )


def test_admin_invites_staff_who_accepts_on_the_public_host(
    admin_staff, django_capture_on_commit_callbacks
):
    client = client_for("localhost", admin_staff, schema="public")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/staff/team/invite/", {"email": "new@msp.example", "staff_role": "billing"}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = mail.outbox[0].body.split("http://localhost:8000")[1].split()[0]
    accept = Client(HTTP_HOST="localhost").post(
        link,
        {
            "full_name": "経理 次郎",
            "password": "Billing-desk-2026",
            "password_again": "Billing-desk-2026",
        },
    )
    assert accept.status_code == 302
    member = User.objects.get(email="new@msp.example")
    assert (member.is_staff, member.staff_role) == (True, "billing")
    assert AuditEvent.objects.filter(action="staff.invite").count() == 1


def test_support_staff_cannot_manage_staff(personas):
    # the default persona is plain support staff
    client = client_for("localhost", personas.staff, schema="public")
    assert client.get("/staff/team/").status_code == 403
    response = client.post(
        "/staff/team/invite/", {"email": "x@msp.example", "staff_role": "admin"}
    )
    assert response.status_code == 403
    assert not Invitation.objects.filter(email="x@msp.example").exists()


def test_last_admin_stays_admin(admin_staff):
    with pytest.raises(ServiceError):
        staff.staff_change_role(
            ctx=_ctx(admin_staff), member=admin_staff, staff_role="support"
        )
    with pytest.raises(ServiceError):
        staff.staff_deactivate(ctx=_ctx(admin_staff), member=admin_staff)
    assert User.objects.get(pk=admin_staff.pk).staff_role == "admin"


def test_deactivated_staff_cannot_sign_in(admin_staff, personas):
    staff.staff_deactivate(ctx=_ctx(admin_staff), member=personas.staff)
    client = Client(HTTP_HOST="localhost")
    client.post(
        "/accounts/login/",
        {"login": "staff@msp.example", "password": "Correct-horse-battery-9"},
    )
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="staff.deactivate").count() == 1


def test_tenant_invitations_never_make_staff(personas):
    from django_tenants.utils import schema_context

    with schema_context("alpha"):
        invitation = services.invitation_create(
            ctx=AuditContext(actor_kind="system"), email="t@alpha.example", role="admin"
        )
        user = services.invitation_accept(
            ctx=AuditContext(),
            invitation=invitation,
            full_name="t",
            password="Tenant-user-2026",
        )
        assert (user.is_staff, user.staff_role) == (False, "")


def test_billing_staff_cannot_create_tenants_or_open_support(personas):
    billing = User.objects.create_user(
        "ledger@msp.example", "x" * 12, is_staff=True, staff_role="billing"
    )
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.conftest import TOTP_SECRET

    TOTP.activate(billing, TOTP_SECRET)
    client = client_for("localhost", billing, schema="public")
    assert client.get("/staff/tenants/").status_code == 200  # reading is fine
    response = client.post(
        "/staff/tenants/new/",
        {
            "name": "x",
            "slug": "billing-made",
            "owner_email": "o@x.example",
            "plan": "lite",
        },
    )
    assert response.status_code == 403
    assert (
        client.post(f"/staff/tenants/{personas.tenant_a.pk}/support/").status_code
        == 403
    )
    assert (
        client.post(
            f"/staff/tenants/{personas.tenant_a.pk}/suspend/", {"reason": "x"}
        ).status_code
        == 403
    )
    from tenants.models import Customer

    assert not Customer.objects.filter(schema_name="billing_made").exists()
    assert Customer.objects.get(pk=personas.tenant_a.pk).status == "active"
