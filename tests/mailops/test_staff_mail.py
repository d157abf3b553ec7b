from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from mailops.models import AcsFootprint
from mailops.services import footprint
from tests.mailops.conftest import OWNER_CTX

pytestmark = pytest.mark.emulator


def test_staff_see_provisioning_state_and_error(
    staff_client, personas, emulator_settings
):
    with schema_context("alpha"):
        fp = footprint.footprint_request(ctx=OWNER_CTX)
        footprint.footprint_failed(footprint_id=fp.pk, error="InvalidParameter: quota")
    page = staff_client.get(
        f"/staff/tenants/{personas.tenant_a.pk}/mail/"
    ).content.decode()
    assert 'data-state="failed"' in page
    assert "InvalidParameter: quota" in page


def test_staff_request_with_custom_resource_group_and_record_quota(
    staff_client, personas, emulator_settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/staff/tenants/{personas.tenant_b.pk}/mail/request/",
            {"resource_group": "rg-beta-dedicated", "subscription_id": ""},
        )
    assert response.status_code == 302
    with schema_context("beta"):
        fp = AcsFootprint.objects.get()
        assert (fp.resource_group, fp.state, fp.with_managed_domain) == (
            "rg-beta-dedicated",
            "ready",
            False,
        )
    staff_client.post(
        f"/staff/tenants/{personas.tenant_b.pk}/mail/quota/",
        {"tier": "raised", "per_minute": 1800, "per_hour": 1000000},
    )
    with schema_context("beta"):
        fp = AcsFootprint.objects.get()
        assert (fp.quota_tier, fp.quota_per_minute, fp.quota_per_hour) == (
            "raised",
            1800,
            1000000,
        )


def test_tenant_users_cannot_reach_the_staff_mail_page(owner_a_client, personas):
    assert (
        owner_a_client.get(f"/staff/tenants/{personas.tenant_a.pk}/mail/").status_code
        == 404
    )
