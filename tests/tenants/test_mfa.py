from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.test import override_settings
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tests.conftest import TENANT_A, client_for


def test_owner_without_totp_must_enrol(personas):
    with schema_context(TENANT_A):
        owner = User.objects.create_user(
            "fresh-owner@alpha.example", "x" * 12, role="owner"
        )
    client = client_for(personas.host_a, owner, schema=TENANT_A)
    response = client.get("/members/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    # the enrolment page is reachable (allauth first asks a fresh sign-in to
    # confirm, since force_login left no recent-authentication mark)
    enrol = client.get("/accounts/2fa/totp/activate/")
    assert enrol.status_code == 302
    assert enrol["Location"].startswith("/accounts/reauthenticate/")


def test_viewer_is_not_forced_to_enrol(viewer_a_client):
    assert viewer_a_client.get("/").status_code == 200


def test_staff_without_totp_must_enrol(personas):
    staff = User.objects.create_user("new-staff@msp.example", "x" * 12, is_staff=True)
    client = client_for("localhost", staff, schema="public")
    response = client.get("/staff/tenants/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_setting_relaxes_mfa_for_demo(personas):
    with schema_context(TENANT_A):
        owner = User.objects.create_user(
            "demo-owner@alpha.example", "x" * 12, role="owner"
        )
    client = client_for(personas.host_a, owner, schema=TENANT_A)
    with override_settings(PORTAL_MFA_REQUIRED=False):
        assert client.get("/members/").status_code == 200


def test_login_with_totp_requires_code(personas):
    from django.test import Client

    from tests.conftest import PASSWORD

    client = Client(HTTP_HOST=personas.host_a)
    response = client.post(
        "/accounts/login/", {"login": "owner@alpha.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    with schema_context(TENANT_A):
        assert (
            Authenticator.objects.filter(user__email="owner@alpha.example").count() == 1
        )
