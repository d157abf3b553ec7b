from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from mailops.models import CredentialSecret, SenderAddress, SmtpCredential
from mailops.services import credentials, domains
from mailops.smtp_check import smtp_test
from portal.errors import ServiceError
from tenants.accounts.models import AuditEvent, User
from tenants.models import Alert
from tests.conftest import TENANT_A, client_for
from tests.mailops.conftest import OWNER_CTX

pytestmark = pytest.mark.emulator


@pytest.fixture
def sender(verified_domain):
    with schema_context("alpha"):
        return domains.sender_add(
            ctx=OWNER_CTX,
            domain=verified_domain,
            username="scan",
            display_name="複合機",
        )


def _create(sender, **kwargs):
    with schema_context("alpha"):
        return credentials.credential_create(
            ctx=OWNER_CTX,
            label=kwargs.pop("label", "3F 複合機"),
            sender=sender,
            location="本社3階",
            vendor="ricoh",
            model="IM C3000",
            **kwargs,
        )


def _login(issued, password=None) -> bool:
    with schema_context("alpha"):
        sender = SenderAddress.objects.select_related("domain").get(
            pk=issued.credential.sender_id
        )
    return smtp_test(
        username=issued.credential.username,
        password=password or issued.password,
        sender=sender.address,
        recipient="check@example.jp",
    ).ok


def _all_database_text() -> str:
    """Every row of every table in the public and alpha schemas, as text."""
    chunks = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('public', 'alpha') AND table_type = 'BASE TABLE'"
        )
        for schema, table in cursor.fetchall():
            cursor.execute(f'SELECT t::text FROM "{schema}"."{table}" t')
            chunks.extend(row[0] for row in cursor.fetchall())
    return "\n".join(chunks)


def test_created_secret_works_and_is_stored_nowhere(sender, caplog):
    caplog.set_level(logging.DEBUG)
    issued = _create(sender)
    assert issued.password not in repr(issued)
    credential = issued.credential
    assert credential.state == "active"
    assert credential.username == f"mfp-{credential.pk:04d}@mail.alpha.example"
    assert len(credential.username) <= 64
    # the password logs in to the SMTP relay and sends
    assert _login(issued) is True
    # and it is nowhere in the database or the logs
    assert issued.password not in _all_database_text()
    assert issued.password not in caplog.text
    with schema_context("alpha"):
        secret = CredentialSecret.objects.get(credential=credential)
        assert secret.hint == issued.password[:3]
        assert AuditEvent.objects.filter(action="credential.secret_issued").count() == 1


def test_lifetime_is_capped_at_24_months(sender):
    with pytest.raises(ServiceError):
        _create(sender, months=25)
    issued = _create(sender, months=24)
    lifetime = issued.secret.expires_at - timezone.now()
    assert timedelta(days=729) <= lifetime <= timedelta(days=732)


def test_rotation_overlaps_then_retires_the_old_password(sender):
    old = _create(sender)
    with schema_context("alpha"):
        new = credentials.credential_rotate(ctx=OWNER_CTX, credential=old.credential)
    assert new.password != old.password
    # both work during the overlap
    assert _login(old) is True
    assert _login(new) is True
    with schema_context("alpha"):
        assert old.secret.__class__.objects.get(pk=old.secret.pk).state == "retiring"
        assert (
            credentials.credential_retire_old(ctx=OWNER_CTX, credential=old.credential)
            == 1
        )
    assert _login(old) is False
    assert _login(new) is True


def test_scheduled_retirement_revokes_after_the_grace_period(sender):
    old = _create(sender)
    with schema_context("alpha"):
        credentials.credential_rotate(
            ctx=OWNER_CTX,
            credential=old.credential,
            revoke_old_after=timezone.now() - timedelta(seconds=1),
        )
        assert credentials.secrets_revoke_due() == 1
        assert credentials.secrets_revoke_due() == 0
    assert _login(old) is False


def test_revoke_stops_the_device_immediately(sender):
    issued = _create(sender)
    with schema_context("alpha"):
        credentials.credential_revoke(ctx=OWNER_CTX, credential=issued.credential)
        assert SmtpCredential.objects.get(pk=issued.credential.pk).state == "revoked"
    assert _login(issued) is False


def test_graph_failure_leaves_an_honest_state_and_resume_finishes(sender, acs):
    emu, _fp = acs
    emu.admin("/faults", "POST", {"endpoint": "graph", "kind": "500", "count": 1})
    try:
        with pytest.raises(ServiceError):
            _create(sender, label="アプリ")
    finally:
        emu.admin("/faults", "DELETE")
    with schema_context("alpha"):
        credential = SmtpCredential.objects.get(label="アプリ")
        assert credential.state == "failed"
        assert credential.last_error
        assert CredentialSecret.objects.filter(credential=credential).count() == 0
        issued = credentials.credential_resume(ctx=OWNER_CTX, credential=credential)
    assert issued.credential.state == "active"
    assert _login(issued) is True


def test_expiry_reminders_go_once_per_threshold(sender, settings):
    issued = _create(sender)
    with schema_context("alpha"):
        CredentialSecret.objects.filter(pk=issued.secret.pk).update(
            expires_at=timezone.now() + timedelta(days=25)
        )
        assert credentials.secrets_remind() == 1
        assert credentials.secrets_remind() == 0
        admins = sorted(
            User.objects.filter(role__in=["owner", "admin"]).values_list(
                "email", flat=True
            )
        )
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == admins
    alert = Alert.objects.get(tenant__schema_name="alpha", kind="credential_expiring")
    assert alert.severity == "warning"
    with schema_context("alpha"):
        CredentialSecret.objects.filter(pk=issued.secret.pk).update(
            expires_at=timezone.now() + timedelta(days=5)
        )
        assert credentials.secrets_remind() == 1
    assert len(mail.outbox) == 2
    assert (
        Alert.objects.get(
            tenant__schema_name="alpha", kind="credential_expiring"
        ).severity
        == "critical"
    )


def test_create_page_shows_password_once_then_never(owner_a_client, sender):
    response = owner_a_client.post(
        "/mail/credentials/new/",
        {
            "label": "受付PC",
            "kind": "app",
            "vendor": "",
            "sender": sender.pk,
            "months": 12,
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    with schema_context("alpha"):
        credential = SmtpCredential.objects.get(label="受付PC")
    import re

    password = re.search(r'id="smtp-password">([^<]+)<', body).group(1)
    assert len(password) >= 16
    detail = owner_a_client.get(f"/mail/credentials/{credential.pk}/").content.decode()
    sheet = owner_a_client.get(
        f"/mail/credentials/{credential.pk}/sheet/"
    ).content.decode()
    assert password not in detail
    assert password not in sheet
    # the SMTP test from the one-time page works with the password still on screen
    result = owner_a_client.post(
        f"/mail/credentials/{credential.pk}/smtp-test/",
        {"password": password, "recipient": "owner@alpha.example"},
    ).content.decode()
    assert 'data-ok="1"' in result
    wrong = owner_a_client.post(
        f"/mail/credentials/{credential.pk}/smtp-test/",
        {"password": "wrong-password", "recipient": "owner@alpha.example"},
    ).content.decode()
    assert 'data-ok="0"' in wrong
    assert "ユーザー名とパスワード" in wrong


def test_roles_for_credentials(viewer_a_client, owner_b_client, personas, sender):
    issued = _create(sender)
    pk = issued.credential.pk
    # viewer: reads, cannot change
    assert viewer_a_client.get("/mail/credentials/").status_code == 200
    assert (
        viewer_a_client.post("/mail/credentials/new/", {"label": "x"}).status_code
        == 403
    )
    assert viewer_a_client.post(f"/mail/credentials/{pk}/revoke/").status_code == 403
    assert (
        viewer_a_client.post(
            f"/mail/credentials/{pk}/rotate/", {"months": 1, "grace_days": 0}
        ).status_code
        == 403
    )
    # billing users do not see credentials at all
    with schema_context(TENANT_A):
        billing = User.objects.create_user(
            "billing@alpha.example", "x" * 12, role="billing"
        )
    billing_client = client_for(personas.host_a, billing, schema=TENANT_A)
    assert billing_client.get("/mail/credentials/").status_code == 403
    assert billing_client.get(f"/mail/credentials/{pk}/").status_code == 403
    # another tenant's owner cannot reach it
    assert owner_b_client.get(f"/mail/credentials/{pk}/").status_code == 404
    assert owner_b_client.post(f"/mail/credentials/{pk}/revoke/").status_code == 404
    with schema_context("alpha"):
        assert SmtpCredential.objects.get(pk=pk).state == "active"
    assert _login(issued) is True


def test_managed_domain_sender_can_back_a_credential(acs):
    with schema_context("alpha"):
        sender = SenderAddress.objects.get(username="DoNotReply")
        issued = credentials.credential_create(
            ctx=OWNER_CTX, label="テスト", sender=sender
        )
    assert issued.credential.username.endswith(".azurecomm.net")
    assert _login(issued) is True


def test_graph_timeout_mid_creation_changes_nothing_visible(sender, acs, settings):
    emu, _fp = acs
    settings.AZURE_TIMEOUT_SECONDS = 1
    emu.admin(
        "/faults",
        "POST",
        {"endpoint": "graph", "kind": "delay", "delay_ms": 2500, "count": 1},
    )
    try:
        with pytest.raises(ServiceError) as info:
            _create(sender, label="遅延テスト")
    finally:
        emu.admin("/faults", "DELETE")
    assert "Azure" in info.value.message
    with schema_context("alpha"):
        credential = SmtpCredential.objects.get(label="遅延テスト")
        assert credential.state == "failed"
        assert CredentialSecret.objects.filter(credential=credential).count() == 0
