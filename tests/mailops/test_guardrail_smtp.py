"""Spend-cap enforcement and reversal against the emulator: the SMTP Username
resource is really deleted in ARM (SMTP AUTH then fails with 535) and PUT back
with the same username, Entra application and tenant when the stop is lifted."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import IssuerSettings, UsageDay
from mailops.models import SenderAddress
from mailops.services import credentials, domains
from mailops.smtp_check import smtp_test
from portal.integrations.azure import client
from tenants import guardrails
from tenants.accounts.models import AuditEvent
from tenants.models import Alert, Guardrail, GuardrailAction
from tests.conftest import client_for
from tests.mailops.conftest import OWNER_CTX

pytestmark = pytest.mark.emulator


@pytest.fixture
def device(verified_domain):
    """A multifunction printer's credential, created through the mail services."""
    with schema_context("alpha"):
        sender = domains.sender_add(
            ctx=OWNER_CTX,
            domain=verified_domain,
            username="scan",
            display_name="複合機",
        )
        return credentials.credential_create(
            ctx=OWNER_CTX, label="3F 複合機", sender=sender, vendor="ricoh"
        )


def _smtp(issued):
    with schema_context("alpha"):
        sender = SenderAddress.objects.select_related("domain").get(
            pk=issued.credential.sender_id
        )
    return smtp_test(
        username=issued.credential.username,
        password=issued.password,
        sender=sender.address,
        recipient="check@example.jp",
    )


def _arm_get(fp, resource: str):
    """GET the SMTP Username resource through the SDK (raises on 404)."""
    return client.get_arm_client(fp.subscription_id).smtp_usernames.get(
        fp.resource_group, fp.communication_service_name, resource
    )


def _spend_over_the_cap(tenant) -> None:
    # ¥0.0375 per email at the fallback price: 8,000 emails = ¥300 = the cap.
    IssuerSettings.objects.all().delete()
    today = timezone.now().astimezone(guardrails.JST).date()
    UsageDay.objects.update_or_create(
        tenant=tenant, day=today, defaults={"billable_emails": 8000, "messages": 8000}
    )
    Guardrail.objects.create(
        tenant=tenant,
        monthly_spend_cap_jpy=300,
        hard_action=Guardrail.HardAction.BOTH,
    )


def test_spend_cap_disables_the_smtp_username_in_arm_and_lift_restores_it(
    device, acs, personas
):
    _emu, fp = acs
    tenant = personas.tenant_a
    resource = device.credential.smtp_username_resource
    assert _smtp(device).ok is True
    before = _arm_get(fp, resource)
    # given: the month's charge reaches the ¥300 spend cap
    _spend_over_the_cap(tenant)
    # when: the caps are evaluated
    result = guardrails.guardrail_evaluate(tenant=tenant)
    # then: the SMTP Username resource is gone in ARM and SMTP AUTH fails (535)
    assert result.guardrail.state == "enforced"
    with pytest.raises(ResourceNotFoundError):
        _arm_get(fp, resource)
    refused = _smtp(device)
    assert (refused.ok, refused.step, refused.detail[:3]) == (False, "auth", "535")
    # the bulk sends are held too, each action recorded with what it touched
    tenant.refresh_from_db()
    assert tenant.bulk_sends_blocked_reason.startswith("月間利用金額の上限")
    smtp_action = GuardrailAction.objects.get(kind="disable_smtp")
    assert smtp_action.state == "applied"
    assert smtp_action.rule == "spend"
    [item] = smtp_action.items
    assert (item["resource"], item["username"], item["state"]) == (
        resource,
        device.credential.username,
        "disabled",
    )
    alert = Alert.objects.get(tenant=tenant, kind="guardrail.spend_cap")
    assert (alert.severity, alert.cause_key[-4:]) == ("critical", ":100")
    assert AuditEvent.objects.filter(action="guardrail.enforce").count() == 2
    with schema_context("alpha"):
        assert AuditEvent.objects.filter(action="guardrail.enforce").count() == 2
    # and the tenant's credential pages say why devices cannot sign in
    owner = client_for(personas.host_a, personas.owner_a, schema="alpha")
    page = owner.get("/mail/credentials/").content.decode()
    assert 'id="cap-banner"' in page
    # a second evaluation changes nothing
    guardrails.guardrail_evaluate(tenant=tenant)
    assert GuardrailAction.objects.count() == 2
    # and no new device credential can reopen SMTP while the stop is in force
    with schema_context("alpha"):
        from mailops.models import SmtpCredential
        from portal.errors import ServiceError

        sender = SenderAddress.objects.get(pk=device.credential.sender_id)
        with pytest.raises(ServiceError, match="利用上限に達したため"):
            credentials.credential_create(ctx=OWNER_CTX, label="2F", sender=sender)
        assert SmtpCredential.objects.count() == 1
    # when: support staff lift it from the tenant detail page
    staff = client_for(personas.public_host, personas.staff, schema="public")
    response = staff.post(
        f"/staff/tenants/{tenant.pk}/caps/lift/", {"reason": "追加予算の承認"}
    )
    assert response.status_code == 302
    # then: the resource is back with the same username, application and tenant
    after = _arm_get(fp, resource)
    assert (after.username, after.entra_application_id, after.tenant_id) == (
        before.username,
        before.entra_application_id,
        before.tenant_id,
    )
    assert after.tenant_id == settings.AZURE_TENANT_ID
    assert _smtp(device).ok is True
    tenant.refresh_from_db()
    assert tenant.bulk_sends_blocked_reason == ""
    smtp_action.refresh_from_db()
    assert (smtp_action.state, smtp_action.lifted_by) == ("lifted", "staff@msp.example")
    assert smtp_action.items[0]["state"] == "restored"
    assert AuditEvent.objects.filter(action="guardrail.lift").count() == 1
    with schema_context("alpha"):
        lift = AuditEvent.objects.get(action="guardrail.lift")
        assert lift.after["reason"] == "追加予算の承認"
    assert 'id="cap-banner"' not in owner.get("/mail/credentials/").content.decode()
    # the rest of the month it stays lifted although the spend is still over
    again = guardrails.guardrail_evaluate(tenant=tenant)
    assert (again.enforced, again.guardrail.state) == (False, "reached")
    assert _arm_get(fp, resource).username == before.username


def test_an_interrupted_disable_resumes_on_the_next_run(device, acs, personas):
    emu, fp = acs
    tenant = personas.tenant_a
    resource = device.credential.smtp_username_resource
    _spend_over_the_cap(tenant)
    # given: ARM fails (500) while the username is being deleted
    emu.admin("/faults", "POST", {"endpoint": "arm", "kind": "500", "count": 10})
    try:
        guardrails.guardrail_evaluate(tenant=tenant)
    finally:
        emu.admin("/faults", "DELETE")
    action = GuardrailAction.objects.get(kind="disable_smtp")
    assert action.state == "applying"
    assert action.items[0]["state"] == "active"
    assert action.last_error != ""
    assert _arm_get(fp, resource).username == device.credential.username
    # when: the next evaluation runs
    guardrails.guardrail_evaluate(tenant=tenant)
    # then: it finishes the same action
    action.refresh_from_db()
    assert (action.state, action.items[0]["state"], action.last_error) == (
        "applied",
        "disabled",
        "",
    )
    assert GuardrailAction.objects.filter(kind="disable_smtp").count() == 1
    with pytest.raises(ResourceNotFoundError):
        _arm_get(fp, resource)
    # and the owner's lift restores it
    owner = client_for(personas.host_a, personas.owner_a, schema="alpha")
    assert owner.post("/billing/caps/lift/").status_code == 302
    assert _smtp(device).ok is True


def test_raising_the_spend_cap_restores_smtp(device, acs, personas):
    _emu, fp = acs
    tenant = personas.tenant_a
    _spend_over_the_cap(tenant)
    guardrails.guardrail_evaluate(tenant=tenant)
    assert _smtp(device).ok is False
    staff = client_for(personas.public_host, personas.staff, schema="public")
    response = staff.post(
        f"/staff/tenants/{tenant.pk}/caps/",
        {"monthly_spend_cap_jpy": "10000", "hard_action": "both"},
    )
    assert response.status_code == 302
    assert _smtp(device).ok is True
    assert _arm_get(fp, device.credential.smtp_username_resource)
    assert Guardrail.objects.get(tenant=tenant).state == "ok"
    assert list(
        AuditEvent.objects.filter(action__startswith="guardrail.")
        .order_by("pk")
        .values_list("action", flat=True)
    ) == [
        "guardrail.enforce",
        "guardrail.enforce",
        "guardrail.caps",
        "guardrail.lift",
    ]
