from __future__ import annotations

from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import PASSWORD, TENANT_A, client_for


def test_session_from_tenant_a_is_anonymous_on_tenant_b(personas):
    # given: a signed-in session on tenant A's host
    client = client_for(personas.host_a, personas.owner_a, schema=TENANT_A)
    assert client.get("/", HTTP_HOST=personas.host_a).status_code == 200
    # when: the same cookie is sent to tenant B's host
    response = client.get("/", HTTP_HOST=personas.host_b)
    # then: B treats it as anonymous and asks for sign-in
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_tenant_a_credentials_do_not_sign_in_on_tenant_b(personas):
    client = Client(HTTP_HOST=personas.host_b)
    response = client.post(
        "/accounts/login/", {"login": "owner@alpha.example", "password": PASSWORD}
    )
    assert response.status_code == 200  # form re-rendered with an error
    assert "_auth_user_id" not in client.session


def test_staff_cannot_sign_in_on_a_tenant_host(personas):
    client = Client(HTTP_HOST=personas.host_a)
    client.post(
        "/accounts/login/", {"login": "staff@msp.example", "password": PASSWORD}
    )
    assert client.get("/").status_code == 302


def test_tenant_user_cannot_open_staff_console(personas):
    client = client_for(personas.host_a, personas.owner_a, schema=TENANT_A)
    # Staff URLs do not exist on tenant hosts at all.
    assert client.get("/staff/tenants/").status_code == 404


def test_unknown_host_is_404(db):
    assert Client(HTTP_HOST="nobody.localhost").get("/").status_code == 404


def test_anonymous_is_sent_to_sign_in(personas):
    response = Client(HTTP_HOST=personas.host_a).get("/members/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_users_live_only_in_their_schema(personas):
    from tenants.accounts.models import User

    with schema_context("beta"):
        assert not User.objects.filter(email="owner@alpha.example").exists()
    with schema_context("alpha"):
        assert User.objects.filter(email="owner@alpha.example").count() == 1
