from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from portal.errors import ServiceError
from tenants import services
from tenants.accounts import services as account_services
from tenants.accounts.audit import AuditContext
from tenants.accounts.models import AuditEvent, Invitation
from tenants.models import Customer, Domain


def _schema_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [name])
        return cursor.fetchone() is not None


def _staff_ctx(personas) -> AuditContext:
    return AuditContext(
        actor_id=personas.staff.pk,
        actor_email=personas.staff.email,
        actor_kind="staff",
        is_staff=True,
    )


def test_create_tenant_makes_schema_host_and_owner_invitation(personas):
    tenant, invitation = services.tenant_create(
        ctx=_staff_ctx(personas),
        name="株式会社ガンマ",
        slug="gamma",
        owner_email="Boss@Gamma.example",
    )
    assert _schema_exists("gamma")
    assert Domain.objects.get(tenant=tenant).domain == "gamma.localhost"
    assert (
        AuditEvent.objects.filter(
            action="tenant.create", target_id=str(tenant.pk)
        ).count()
        == 1
    )
    with schema_context("gamma"):
        open_invites = list(Invitation.objects.pending().values_list("email", "role"))
        assert open_invites == [("boss@gamma.example", "owner")]
    # the new portal answers on its host
    assert (
        Client(HTTP_HOST="gamma.localhost").get("/accounts/login/").status_code == 200
    )


def test_failed_provisioning_leaves_nothing_behind(personas, monkeypatch):
    # given: the invitation step (the last one) fails
    def boom(**kwargs):
        raise RuntimeError("mail queue unavailable")

    monkeypatch.setattr(services, "invitation_create", boom)
    before_events = AuditEvent.objects.count()
    # when
    with pytest.raises(RuntimeError):
        services.tenant_create(
            ctx=_staff_ctx(personas),
            name="失敗テスト",
            slug="broken",
            owner_email="a@b.example",
        )
    # then: no schema, no tenant row, no domain, no audit row
    connection.set_schema_to_public()
    assert not _schema_exists("broken")
    assert not Customer.objects.filter(schema_name="broken").exists()
    assert not Domain.objects.filter(domain="broken.localhost").exists()
    assert AuditEvent.objects.count() == before_events


def test_duplicate_and_invalid_identifiers_are_refused(personas):
    ctx = _staff_ctx(personas)
    for slug in ["alpha", "Public", "a", "-bad", "日本語"]:
        with pytest.raises(ServiceError):
            services.tenant_create(
                ctx=ctx, name="x", slug=slug, owner_email="a@b.example"
            )
    assert (
        Customer.objects.exclude(
            schema_name__in=["public", "tenant_template", "alpha", "beta"]
        ).count()
        == 0
    )


def test_create_tenant_command(personas, capsys):
    call_command(
        "create_tenant", slug="delta", name="デルタ工業", owner_email="o@delta.example"
    )
    assert "delta.localhost" in capsys.readouterr().out
    assert Customer.objects.filter(schema_name="delta").exists()
    with pytest.raises(CommandError):
        call_command(
            "create_tenant", slug="delta", name="重複", owner_email="o@delta.example"
        )


def test_staff_creates_tenant_from_console(staff_client):
    response = staff_client.post(
        "/staff/tenants/new/",
        {
            "name": "イプシロン株式会社",
            "slug": "epsilon",
            "owner_email": "o@eps.example",
            "plan": "lite",
        },
    )
    assert response.status_code == 302
    tenant = Customer.objects.get(schema_name="epsilon")
    assert tenant.plan == "lite"


def test_staff_console_shows_clear_error_in_japanese(staff_client):
    response = staff_client.post(
        "/staff/tenants/new/",
        {"name": "重複", "slug": "alpha", "owner_email": "o@x.example", "plan": "lite"},
    )
    assert response.status_code == 400
    assert "この識別子はすでに使われています" in response.content.decode()


def test_tenant_users_cannot_reach_staff_console(owner_a_client, personas):
    client = Client(HTTP_HOST="localhost")
    assert client.get("/staff/tenants/").status_code == 302  # anonymous → sign-in


def test_suspended_tenant_shows_notice_and_keeps_data(
    staff_client, owner_a_client, personas
):
    response = staff_client.post(
        f"/staff/tenants/{personas.tenant_a.pk}/suspend/", {"reason": "未払い"}
    )
    assert response.status_code == 302
    page = owner_a_client.get("/")
    assert page.status_code == 403
    assert "一時停止" in page.content.decode()
    with schema_context("alpha"):
        from tenants.accounts.models import User

        assert User.objects.filter(email="owner@alpha.example").exists()
    staff_client.post(f"/staff/tenants/{personas.tenant_a.pk}/resume/")
    assert owner_a_client.get("/").status_code == 200
    with schema_context("public"):
        actions = list(
            AuditEvent.objects.filter(target_id=str(personas.tenant_a.pk)).values_list(
                "action", flat=True
            )
        )
    assert actions == ["tenant.resume", "tenant.suspend"]


def test_invitation_for_unknown_user_roles(personas):
    with pytest.raises(ServiceError), schema_context("alpha"):
        account_services.invitation_create(
            ctx=_staff_ctx(personas), email="x@alpha.example", role="superuser"
        )


def test_owner_invitation_mail_is_sent_from_the_new_tenant(
    personas, django_capture_on_commit_callbacks
):
    from django.core import mail

    # The on-commit hook runs after the tenant's schema context has exited; the
    # task must still run in the new tenant's schema and send the invitation.
    with django_capture_on_commit_callbacks(execute=True):
        tenant, invitation = services.tenant_create(
            ctx=_staff_ctx(personas),
            name="ゼータ株式会社",
            slug="zeta",
            owner_email="o@zeta.example",
        )
    assert [m.to for m in mail.outbox] == [["o@zeta.example"]]
    assert "http://zeta.localhost:8000/invitations/accept/" in mail.outbox[0].body
    with schema_context("zeta"):
        assert Invitation.objects.get(pk=invitation.pk).sent_at is not None
