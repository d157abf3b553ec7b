from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from mailops.models import AcsFootprint, SenderAddress, SendingDomain
from mailops.services import footprint
from portal.integrations.azure.errors import AzureError
from tenants.accounts.models import AuditEvent
from tenants.models import Alert
from tests.mailops.conftest import OWNER_CTX

pytestmark = pytest.mark.emulator


def test_provisioning_creates_every_resource(acs):
    emu, fp = acs
    assert fp.state == "ready"
    assert fp.completed_steps == list(AcsFootprint.STEPS)
    assert fp.communication_service_id.endswith("/communicationServices/acs-alpha")
    assert fp.quota_tier == "managed"
    assert (fp.quota_per_minute, fp.quota_per_hour) == (5, 10)
    with schema_context("alpha"):
        managed = SendingDomain.objects.get(management="AzureManaged")
        assert managed.linked is True
        assert managed.from_sender_domain.endswith(".azurecomm.net")
        assert SenderAddress.objects.get(domain=managed).address.startswith(
            "DoNotReply@"
        )
        assert (
            AuditEvent.objects.filter(action__in=["acs.request", "acs.ready"]).count()
            == 2
        )


def test_rerun_after_a_crash_finishes_without_duplicates(personas, emulator_settings):
    emu = emulator_settings
    with schema_context("alpha"):
        fp = footprint.footprint_request(ctx=OWNER_CTX)
        # given: ARM fails in the middle (the 2nd and 3rd ARM calls answer 500)
        emu.admin("/faults", "POST", {"endpoint": "arm", "kind": "500", "count": 8})
        try:
            with pytest.raises(AzureError) as info:
                footprint.footprint_provision(footprint_id=fp.pk)
        finally:
            emu.admin("/faults", "DELETE")
        assert info.value.retryable is True
        fp.refresh_from_db()
        assert fp.state == "pending"
        assert fp.last_error
        done_before = list(fp.completed_steps)
        assert len(done_before) < len(AcsFootprint.STEPS)
        # when: the flow runs again
        fp = footprint.footprint_provision(footprint_id=fp.pk)
        # then: it finished and nothing exists twice
        assert fp.state == "ready"
        assert fp.completed_steps == list(AcsFootprint.STEPS)
        assert SendingDomain.objects.filter(management="AzureManaged").count() == 1
    from portal.integrations.azure.client import get_arm_client

    services = list(
        get_arm_client().communication_services.list_by_resource_group("rg-mail-alpha")
    )
    assert [s.name for s in services] == ["acs-alpha"]


def test_terminal_failure_is_recorded_and_alerted(personas, emulator_settings):
    with schema_context("alpha"):
        fp = footprint.footprint_request(ctx=OWNER_CTX)
        footprint.footprint_failed(footprint_id=fp.pk, error="quota exceeded")
        fp.refresh_from_db()
        assert fp.state == "failed"
    alert = Alert.objects.get(tenant__schema_name="alpha", kind="provisioning_failed")
    assert alert.severity == "critical"
    assert "quota exceeded" in alert.detail
    # raising again for the same cause does not duplicate it
    with schema_context("alpha"):
        footprint.footprint_failed(footprint_id=fp.pk, error="quota exceeded again")
    assert (
        Alert.objects.filter(
            tenant__schema_name="alpha", kind="provisioning_failed"
        ).count()
        == 1
    )


def test_viewer_cannot_request_resources(personas, viewer_a_client):
    response = viewer_a_client.post("/mail/setup/")
    assert response.status_code == 403
    with schema_context("alpha"):
        assert AcsFootprint.objects.count() == 0


def test_overview_page_shows_progress(owner_a_client, acs):
    page = owner_a_client.get("/mail/").content.decode()
    assert "acs-alpha" in page
    assert "es-alpha" in page
    assert "5 通/分、10 通/時" in page
