"""Provisioning a tenant's ACS footprint, step by step and idempotently.

Each step is an ARM PUT, which is idempotent; ``completed_steps`` records what Azure
confirmed, so a re-run after a crash at any step continues where it stopped and
creates no duplicates.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mailops.models import (
    QUOTA_LIMITS,
    AcsFootprint,
    QuotaTier,
    SenderAddress,
    SendingDomain,
)
from mailops.services.common import default_names, ref, require
from portal.errors import ServiceError
from portal.integrations.azure import client
from portal.integrations.azure.errors import AzureError
from portal.tasks import enqueue_on_commit
from tenants.accounts.audit import AuditContext, audit_record
from tenants.alerts import alert_raise, alert_resolve

MANAGED_DOMAIN = "AzureManagedDomain"


def footprint_request(
    *,
    ctx: AuditContext,
    with_managed_domain: bool = True,
    subscription_id: str = "",
    resource_group: str = "",
) -> AcsFootprint:
    """Record the request for the tenant's ACS resources and queue the flow.

    Idempotent: a second request returns the existing footprint (re-queued if it
    failed). Subscription and resource group default to the MSP's.
    """
    require(ctx, "mail.manage")
    names = default_names()
    with transaction.atomic():
        fp = AcsFootprint.objects.select_for_update().first()
        if fp is None:
            fp = AcsFootprint.objects.create(
                subscription_id=subscription_id or names["subscription_id"],
                resource_group=resource_group or names["resource_group"],
                email_service_name=names["email_service_name"],
                communication_service_name=names["communication_service_name"],
                with_managed_domain=with_managed_domain,
            )
            audit_record(
                ctx=ctx,
                action="acs.request",
                target=fp,
                after={
                    "subscription": fp.subscription_id,
                    "resource_group": fp.resource_group,
                    "managed_domain": with_managed_domain,
                },
            )
        elif fp.state == AcsFootprint.State.FAILED:
            fp.state = AcsFootprint.State.PENDING
            fp.save(update_fields=["state", "updated_at"])
            audit_record(ctx=ctx, action="acs.retry", target=fp)
        elif fp.state == AcsFootprint.State.READY:
            return fp
        _queue(fp.pk)
    return fp


def _queue(footprint_id: int) -> None:
    from mailops.tasks import footprint_provision_task

    enqueue_on_commit(footprint_provision_task, footprint_id)


def _mark(fp: AcsFootprint, **fields: object) -> None:
    for name, value in fields.items():
        setattr(fp, name, value)
    fp.save(update_fields=[*fields, "updated_at"])


def footprint_provision(*, footprint_id: int) -> AcsFootprint:
    """Run every step not yet confirmed. Raises AzureError (retryable or not) when a
    step fails; the error and the steps already done stay recorded."""
    fp = AcsFootprint.objects.get(pk=footprint_id)
    if fp.state == AcsFootprint.State.READY:
        return fp
    _mark(fp, state=AcsFootprint.State.PROVISIONING, attempts=fp.attempts + 1)
    rg = ref(fp)
    try:
        for step in AcsFootprint.STEPS:
            if step in fp.completed_steps:
                continue
            _run_step(fp, step, rg)
            # Confirmed by Azure: record it before the next call.
            _mark(fp, completed_steps=[*fp.completed_steps, step], last_error="")
    except AzureError as exc:
        _mark(
            fp,
            state=AcsFootprint.State.PENDING
            if exc.retryable
            else AcsFootprint.State.FAILED,
            last_error=str(exc)[:2000],
        )
        raise
    with transaction.atomic():
        _mark(fp, state=AcsFootprint.State.READY, ready_at=timezone.now())
        audit_record(
            ctx=AuditContext.system("provisioning"),
            action="acs.ready",
            target=fp,
            after={"communication_service": fp.communication_service_id},
        )
        alert_resolve(kind="provisioning_failed", cause_key="acs")
    return fp


def _run_step(fp: AcsFootprint, step: str, rg: client.ResourceGroupRef) -> None:
    if step == "email_service":
        fp.email_service_id = client.email_service_ensure(rg, fp.email_service_name)
        fp.save(update_fields=["email_service_id"])
    elif step == "managed_domain":
        if not fp.with_managed_domain:
            return
        info = client.domain_ensure(
            rg, fp.email_service_name, MANAGED_DOMAIN, managed=True
        )
        managed, _created = SendingDomain.objects.update_or_create(
            name=MANAGED_DOMAIN.lower(),
            defaults={
                "display_name": info.from_sender_domain,
                "management": SendingDomain.Management.AZURE,
                "state": SendingDomain.State.VERIFIED,
                "resource_id": info.resource_id,
                "from_sender_domain": info.from_sender_domain,
                "verification": info.states,
            },
        )
        # The managed domain sends only as DoNotReply, which exists without an
        # ARM sender-username resource.
        SenderAddress.objects.get_or_create(
            domain=managed,
            username="DoNotReply",
            defaults={"display_name": "", "state": SenderAddress.State.ACTIVE},
        )
    elif step == "communication_service":
        info = client.communication_service_ensure(rg, fp.communication_service_name)
        fp.communication_service_id = info.resource_id
        fp.host_name = info.host_name
        fp.save(update_fields=["communication_service_id", "host_name"])
    elif step == "link":
        managed = SendingDomain.objects.filter(
            management=SendingDomain.Management.AZURE
        ).first()
        if managed is None:
            return
        current = client.communication_service_ensure(rg, fp.communication_service_name)
        if managed.resource_id not in current.linked_domains:
            client.communication_service_set_links(
                rg,
                fp.communication_service_name,
                [*current.linked_domains, managed.resource_id],
            )
        managed.linked = True
        managed.save(update_fields=["linked"])
        fp.quota_tier = QuotaTier.MANAGED
        fp.quota_per_minute, fp.quota_per_hour = QUOTA_LIMITS[QuotaTier.MANAGED]
        fp.save(update_fields=["quota_tier", "quota_per_minute", "quota_per_hour"])


def footprint_failed(*, footprint_id: int, error: str) -> None:
    """Called when retries are exhausted: mark it failed and alert staff."""
    fp = AcsFootprint.objects.get(pk=footprint_id)
    _mark(fp, state=AcsFootprint.State.FAILED, last_error=error[:2000])
    alert_raise(
        kind="provisioning_failed",
        cause_key="acs",
        severity="critical",
        title=_("ACS provisioning failed"),
        detail=error[:2000],
    )


def footprint_set_quota(
    *, ctx: AuditContext, tier: str, per_minute: int, per_hour: int
) -> AcsFootprint:
    """Record the quota tier Microsoft approved (staff only)."""
    if not ctx.is_staff:
        raise ServiceError("staff only")
    with transaction.atomic():
        fp = AcsFootprint.objects.select_for_update().get()
        before = {
            "tier": fp.quota_tier,
            "per_minute": fp.quota_per_minute,
            "per_hour": fp.quota_per_hour,
        }
        fp.quota_tier = tier
        fp.quota_per_minute = per_minute
        fp.quota_per_hour = per_hour
        fp.save(
            update_fields=[
                "quota_tier",
                "quota_per_minute",
                "quota_per_hour",
                "updated_at",
            ]
        )
        audit_record(
            ctx=ctx,
            action="acs.quota",
            target=fp,
            before=before,
            after={"tier": tier, "per_minute": per_minute, "per_hour": per_hour},
        )
    return fp
