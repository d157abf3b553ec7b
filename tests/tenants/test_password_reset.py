from __future__ import annotations

from django.core import mail
from django.test import Client


def test_password_reset_mail_links_to_the_tenant_host(personas):
    client = Client(HTTP_HOST=personas.host_a)
    response = client.post(
        "/accounts/password/reset/", {"email": "viewer@alpha.example"}
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["viewer@alpha.example"]
    assert "http://alpha.localhost/accounts/password/reset/key/" in mail.outbox[0].body


def test_password_reset_on_another_tenant_sends_nothing(personas):
    # The address belongs to tenant A; tenant B knows no such user.
    client = Client(HTTP_HOST=personas.host_b)
    client.post("/accounts/password/reset/", {"email": "viewer@alpha.example"})
    assert all("reset/key" not in m.body for m in mail.outbox)
