"""Beat's usage-cap fan-out on a real worker: the tenant over its cap is
evaluated in its own schema, alerted once and its bulk sends are held."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from billing.models import IssuerSettings, UsageDay
from portal.celery import app as celery_app
from tenants.guardrail_tasks import guardrails_evaluate_all_task
from tenants.guardrails import JST
from tenants.models import Alert, Customer, Guardrail, GuardrailAction

pytestmark = [pytest.mark.integration, pytest.mark.emulator]


@pytest.mark.django_db(transaction=True)
def test_beat_fan_out_enforces_the_cap_on_a_real_worker(worker, personas):
    # given: alpha has sent its 100-email cap this month; beta has no caps
    IssuerSettings.objects.all().delete()
    today = timezone.now().astimezone(JST).date()
    UsageDay.objects.create(
        tenant=personas.tenant_a, day=today, billable_emails=100, messages=100
    )
    Guardrail.objects.create(
        tenant=personas.tenant_a,
        monthly_send_cap=100,
        hard_action=Guardrail.HardAction.PAUSE_BULK,
    )
    celery_app.conf.task_always_eager = False
    try:
        # when: the beat task runs in the public schema and fans out
        queued = guardrails_evaluate_all_task()
        # then: the worker evaluated alpha in its schema and held its bulk sends
        deadline = time.monotonic() + 60
        state = ""
        while time.monotonic() < deadline and state != "enforced":
            state = Guardrail.objects.get(tenant=personas.tenant_a).state
            time.sleep(0.3)
        assert state == "enforced", worker.read_text()[-3000:]
        assert queued == 1
        alpha = Customer.objects.get(pk=personas.tenant_a.pk)
        assert alpha.bulk_sends_blocked_reason != ""
        assert GuardrailAction.objects.get().kind == "pause_bulk"
        alerts = Alert.objects.filter(tenant=alpha, kind="guardrail.send_cap")
        assert list(alerts.values_list("cause_key", "severity")) == [
            (f"{today:%Y-%m}:100", "critical")
        ]
        # and a second round (wait until the worker has re-evaluated) adds nothing
        first = Guardrail.objects.get(tenant=alpha).evaluated_at
        guardrails_evaluate_all_task()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if Guardrail.objects.get(tenant=alpha).evaluated_at != first:
                break
            time.sleep(0.3)
        assert Guardrail.objects.get(tenant=alpha).evaluated_at != first
        assert alerts.count() == 1
        assert GuardrailAction.objects.count() == 1
    finally:
        celery_app.conf.task_always_eager = True
