from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.errors import ServiceError
from tenants.accounts import services
from tenants.accounts.audit import AuditContext
from tenants.accounts.models import AuditEvent, Invitation, User
from tenants.accounts.roles import Role
from tests.conftest import TENANT_A


def _owner_ctx(user) -> AuditContext:
    return AuditContext(
        actor_id=user.pk, actor_email=user.email, actor_kind="user", role=user.role
    )


def test_owner_invites_and_mail_carries_a_working_link(
    owner_a_client, personas, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_a_client.post(
            "/members/invite/", {"email": "new@alpha.example", "role": "admin"}
        )
    # then
    assert response.status_code == 302
    with schema_context(TENANT_A):
        invitation = Invitation.objects.get(email="new@alpha.example")
        assert invitation.role == "admin"
        assert invitation.sent_at is not None
        assert AuditEvent.objects.filter(action="invitation.create").count() == 1
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert "http://alpha.localhost:8000/invitations/accept/" in body
    path = body.split("http://alpha.localhost:8000")[1].split()[0]
    # and the link opens the accept form on the tenant host
    from django.test import Client

    assert Client(HTTP_HOST=personas.host_a).get(path).status_code == 200


def test_viewer_cannot_invite(viewer_a_client, personas):
    response = viewer_a_client.post(
        "/members/invite/", {"email": "sneaky@alpha.example", "role": "owner"}
    )
    assert response.status_code == 403
    with schema_context(TENANT_A):
        assert Invitation.objects.count() == 0
        assert AuditEvent.objects.filter(action="invitation.create").count() == 0
    assert mail.outbox == []


def test_viewer_cannot_see_members_page(viewer_a_client):
    assert viewer_a_client.get("/members/").status_code == 403


def test_viewer_cannot_change_roles(viewer_a_client, personas):
    response = viewer_a_client.post(
        f"/members/{personas.viewer_a.pk}/role/", {"role": "owner"}
    )
    assert response.status_code == 403
    with schema_context(TENANT_A):
        assert User.objects.get(pk=personas.viewer_a.pk).role == "viewer"


def test_owner_of_b_cannot_touch_members_of_a(owner_b_client, personas):
    # Tenant A's member id does not exist in B's schema: 404, nothing changes.
    response = owner_b_client.post(f"/members/{personas.viewer_a.pk}/remove/")
    assert response.status_code == 404
    with schema_context(TENANT_A):
        assert User.objects.filter(pk=personas.viewer_a.pk).exists()


def test_last_owner_cannot_be_removed(owner_a_client, personas):
    response = owner_a_client.post(f"/members/{personas.owner_a.pk}/remove/")
    assert response.status_code == 302
    with schema_context(TENANT_A):
        assert User.objects.filter(pk=personas.owner_a.pk, role="owner").exists()
        assert AuditEvent.objects.filter(action="member.remove").count() == 0


def test_last_owner_cannot_be_demoted(personas):
    with schema_context(TENANT_A):
        with pytest.raises(ServiceError):
            services.member_change_role(
                ctx=_owner_ctx(personas.owner_a), member=personas.owner_a, role="viewer"
            )
        assert User.objects.get(pk=personas.owner_a.pk).role == "owner"


def test_second_owner_can_be_removed(owner_a_client, personas):
    with schema_context(TENANT_A):
        other = User.objects.create_user(
            "co-owner@alpha.example", "x" * 12, role="owner"
        )
    response = owner_a_client.post(f"/members/{other.pk}/remove/")
    assert response.status_code == 302
    with schema_context(TENANT_A):
        assert not User.objects.filter(pk=other.pk).exists()
        event = AuditEvent.objects.get(action="member.remove")
        assert event.before == {"email": "co-owner@alpha.example", "role": "owner"}
        assert event.actor_email == "owner@alpha.example"


def test_admin_cannot_create_owner(personas):
    with schema_context(TENANT_A):
        admin = User.objects.create_user("admin@alpha.example", "x" * 12, role="admin")
        with pytest.raises(ServiceError):
            services.invitation_create(
                ctx=_owner_ctx(admin), email="boss@alpha.example", role=Role.OWNER
            )
        assert Invitation.objects.count() == 0


def test_invitation_accept_creates_verified_member(personas):
    with schema_context(TENANT_A):
        invitation = services.invitation_create(
            ctx=_owner_ctx(personas.owner_a), email="hana@alpha.example", role="billing"
        )
        token = services.invitation_token(invitation)
    from django.test import Client

    client = Client(HTTP_HOST=personas.host_a)
    response = client.post(
        f"/invitations/accept/{token}/",
        {
            "full_name": "山田 花子",
            "password": "Sakura-blossom-42",
            "password_again": "Sakura-blossom-42",
        },
    )
    assert response.status_code == 302
    with schema_context(TENANT_A):
        user = User.objects.get(email="hana@alpha.example")
        assert user.role == "billing"
        assert user.emailaddress_set.get().verified is True
        assert Invitation.objects.get(pk=invitation.pk).accepted_at is not None
    # the same link cannot be used twice
    again = Client(HTTP_HOST=personas.host_a).get(f"/invitations/accept/{token}/")
    assert again.status_code == 410


def test_new_member_enrols_totp_without_typing_the_password_again(personas):
    with schema_context(TENANT_A):
        invitation = services.invitation_create(
            ctx=_owner_ctx(personas.owner_a), email="ken@alpha.example", role="admin"
        )
        token = services.invitation_token(invitation)
    from django.test import Client

    client = Client(HTTP_HOST=personas.host_a)
    client.post(
        f"/invitations/accept/{token}/",
        {
            "full_name": "佐藤 健",
            "password": "Sakura-blossom-42",
            "password_again": "Sakura-blossom-42",
        },
    )
    response = client.get("/accounts/2fa/totp/activate/")
    # allauth redirects to /accounts/reauthenticate/ when it has no record of
    # how this session signed in.
    assert response.status_code == 200
    assert "reauthenticate" not in response.headers.get("Location", "")


def test_expired_invitation_is_refused(personas):
    with schema_context(TENANT_A):
        invitation = services.invitation_create(
            ctx=_owner_ctx(personas.owner_a), email="late@alpha.example", role="viewer"
        )
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        token = services.invitation_token(invitation)
    from django.test import Client

    response = Client(HTTP_HOST=personas.host_a).post(
        f"/invitations/accept/{token}/",
        {
            "full_name": "x",
            "password": "Sakura-blossom-42",
            "password_again": "Sakura-blossom-42",
        },
    )
    assert response.status_code == 410
    with schema_context(TENANT_A):
        assert not User.objects.filter(email="late@alpha.example").exists()


def test_forged_invitation_token_is_404(personas):
    from django.test import Client

    response = Client(HTTP_HOST=personas.host_a).get(
        "/invitations/accept/forged-token/"
    )
    assert response.status_code == 404


def test_invitation_token_of_tenant_a_is_useless_on_tenant_b(personas):
    with schema_context(TENANT_A):
        invitation = services.invitation_create(
            ctx=_owner_ctx(personas.owner_a), email="cross@alpha.example", role="viewer"
        )
        token = services.invitation_token(invitation)
    from django.test import Client

    # B's schema has no invitation with that id and nonce.
    assert (
        Client(HTTP_HOST=personas.host_b)
        .get(f"/invitations/accept/{token}/")
        .status_code
        == 404
    )
