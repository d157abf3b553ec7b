from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import AuditEvent


@pytest.mark.parametrize("schema", ["public", "alpha"])
def test_database_refuses_update_and_delete(personas, schema):
    with schema_context(schema):
        event = audit_record(ctx=AuditContext.system(), action="test.event")
        for sql in (
            "UPDATE accounts_auditevent SET action = 'forged' WHERE id = %s",
            "DELETE FROM accounts_auditevent WHERE id = %s",
        ):
            with (
                pytest.raises(DatabaseError),
                transaction.atomic(),
                connection.cursor() as cursor,
            ):
                cursor.execute(sql, [event.pk])
        assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


def test_app_refuses_to_edit_events(personas):
    event = audit_record(ctx=AuditContext.system(), action="test.event")
    event.action = "changed"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_audit_page_lists_and_filters(owner_a_client, personas):
    with schema_context("alpha"):
        audit_record(
            ctx=AuditContext.system("cli"), action="member.remove", target_label="a@x"
        )
        audit_record(
            ctx=AuditContext.system("cli"),
            action="invitation.create",
            target_label="b@x",
        )
    page = owner_a_client.get("/audit/", {"action": "member"}).content.decode()
    assert "member.remove" in page
    assert "invitation.create" not in page
    fragment = owner_a_client.get("/audit/", {"q": "b@x"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    body = fragment.content.decode()
    assert body.lstrip().startswith('<div id="events">')
    assert "invitation.create" in body


def test_viewer_cannot_read_audit(viewer_a_client):
    assert viewer_a_client.get("/audit/").status_code == 403


def test_audit_records_ip_and_user_agent(owner_a_client, personas):
    owner_a_client.post(
        "/members/invite/",
        {"email": "ua@alpha.example", "role": "viewer"},
        HTTP_USER_AGENT="pytest-agent/1.0",
        REMOTE_ADDR="192.0.2.10",
    )
    with schema_context("alpha"):
        event = AuditEvent.objects.get(action="invitation.create")
    assert event.user_agent == "pytest-agent/1.0"
    assert event.ip_address == "192.0.2.10"
    assert event.actor_email == "owner@alpha.example"
    assert event.tenant_schema == "alpha"


def test_staff_audit_page(staff_client):
    assert staff_client.get("/staff/audit/").status_code == 200
