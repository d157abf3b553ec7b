"""ACS provisioning runs on a real worker, retries a throttled ARM, and finishes."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from mailops.models import AcsFootprint
from mailops.services import footprint
from portal.celery import app as celery_app
from tests.mailops.conftest import OWNER_CTX

pytestmark = [pytest.mark.integration, pytest.mark.emulator]


@pytest.mark.django_db(transaction=True)
def test_provisioning_flow_on_a_real_worker(worker, personas, emulator_settings):
    emu = emulator_settings
    # given: ARM throttles the first calls hard enough to exhaust the SDK's own retries
    emu.admin("/faults", "POST", {"endpoint": "arm", "kind": "429", "count": 5})
    celery_app.conf.task_always_eager = False
    try:
        with schema_context("alpha"):
            fp = footprint.footprint_request(ctx=OWNER_CTX)
        deadline = time.monotonic() + 90
        state = None
        while time.monotonic() < deadline:
            with schema_context("alpha"):
                fp = AcsFootprint.objects.get(pk=fp.pk)
            state = fp.state
            if state in ("ready", "failed"):
                break
            time.sleep(0.5)
        log = worker.read_text()
        assert state == "ready", log[-3000:]
        assert fp.completed_steps == list(AcsFootprint.STEPS)
        # the task really was retried by Celery after the throttling
        assert "Retry in 1s" in log
        assert fp.attempts >= 2
    finally:
        emu.admin("/faults", "DELETE")
        celery_app.conf.task_always_eager = True
        connection.set_schema_to_public()
