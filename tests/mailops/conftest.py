"""Fixtures for mail operations: tenant alpha with ACS resources in the emulator."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenants.accounts.audit import AuditContext

OWNER_CTX = AuditContext(
    actor_id=1, actor_email="owner@alpha.example", actor_kind="user", role="owner"
)


def publish(emu, domain) -> None:
    """Stand in for the customer's DNS host: publish what ACS asked for."""
    from tenants.demo_mail import publish_dns

    publish_dns(emu.admin, domain)


@pytest.fixture
def acs(personas, emulator_settings, settings):
    """Tenant alpha's footprint, provisioned for real against the emulator."""
    from mailops.models import AcsFootprint
    from mailops.services import footprint

    emulator_settings.admin(
        "/delays", "POST", {"send_delay_ms": 0, "delivery_delay_ms": 0}
    )
    with schema_context("alpha"):
        fp = footprint.footprint_request(ctx=OWNER_CTX)
        footprint.footprint_provision(footprint_id=fp.pk)
        fp = AcsFootprint.objects.get()
    return emulator_settings, fp


@pytest.fixture
def verified_domain(acs):
    """A custom domain that is created, published in DNS, verified and linked."""
    from mailops.services import domains

    emu, _fp = acs
    with schema_context("alpha"):
        domain = domains.domain_add(ctx=OWNER_CTX, name="mail.alpha.example")
        domain = domains.domain_create(domain_id=domain.pk)
        publish(emu, domain)
        domain = domains.domain_run_verification(domain_id=domain.pk)
        assert domain.state == "verified", domain.verification
        domain = domains.domain_set_link(ctx=OWNER_CTX, domain=domain, linked=True)
    return domain
