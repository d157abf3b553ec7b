"""A real Celery worker on the real Redis runs a tenant task in the sender's schema.

The flow under test: an owner invites someone → on commit the invitation task is
queued with the tenant's schema → a worker process picks it up, sends the mail
through ACS (the emulator) and marks the invitation as sent in that tenant's schema.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from portal.celery import app as celery_app
from portal.integrations.azure import client
from tenants.accounts import services
from tenants.accounts.audit import AuditContext
from tenants.accounts.models import Invitation

pytestmark = [pytest.mark.integration, pytest.mark.emulator]
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_invitation_task_runs_in_tenant_schema_on_a_real_worker(
    worker, personas, emulator_settings
):
    # given: the portal's ACS resource exists in the emulator
    resource = client.ensure_portal_mail_resource()
    emu = emulator_settings

    def outbox_addresses() -> list[str]:
        items = emu.admin(f"/outbox?resourceId={resource.resource_id}", "GET")["value"]
        return [r["address"] for item in items for r in item["recipients"]]

    start = len(outbox_addresses())
    owner = personas.owner_a
    ctx = AuditContext(
        actor_id=owner.pk, actor_email=owner.email, actor_kind="user", role="owner"
    )
    celery_app.conf.task_always_eager = False
    try:
        # when: an invitation is created (the task is queued on commit)
        with schema_context("alpha"):
            invitation = services.invitation_create(
                ctx=ctx, email="worker-test@alpha.example", role="viewer"
            )
        # then: the worker marks it sent in tenant alpha's schema...
        deadline = time.monotonic() + 60
        sent_at = None
        while time.monotonic() < deadline and sent_at is None:
            with schema_context("alpha"):
                sent_at = Invitation.objects.get(pk=invitation.pk).sent_at
            time.sleep(0.3)
        assert sent_at is not None, worker.read_text()[-3000:]
        # ...and the mail went through ACS exactly once
        addresses = outbox_addresses()
        assert addresses[start:] == ["worker-test@alpha.example"]
        assert "invitation_send_task" in worker.read_text()
    finally:
        celery_app.conf.task_always_eager = True
        connection.set_schema_to_public()
