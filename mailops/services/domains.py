"""Sending domains: add, create in ACS, verify, link, DNS checks, senders.

Azure calls run outside database transactions. The row's state says what was
requested; it moves on only when Azure has confirmed.
"""

from __future__ import annotations

import hashlib
import json
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mailops.models import DnsCheck, SenderAddress, SendingDomain
from mailops.services.common import azure_message, ready_footprint, ref, require
from portal.errors import ServiceError
from portal.integrations.azure import client
from portal.integrations.azure.errors import AzureError
from portal.tasks import enqueue_on_commit
from tenants.accounts.audit import AuditContext, audit_record
from tenants.alerts import alert_raise, alert_resolve

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# ACS sender usernames: letters, digits and . _ - ; no leading/trailing or double dots.
_SENDER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$")


def normalise_domain(raw: str) -> tuple[str, str]:
    """Return (punycode name, display name) or raise ServiceError with the reason."""
    display = raw.strip().rstrip(".").lower()
    display = display.replace("\u3002", ".").replace(
        "\uff0e", "."
    )  # 。 and ． typed in IME
    if not display:
        raise ServiceError(_("Enter a domain name."), field="name")
    if "@" in display or "/" in display or " " in display:
        raise ServiceError(
            _("Enter only the domain name, for example mail.example.co.jp."),
            field="name",
        )
    try:
        ascii_name = display.encode("idna").decode("ascii")
    except UnicodeError:
        raise ServiceError(
            _("This is not a valid domain name."), field="name"
        ) from None
    labels = ascii_name.split(".")
    if (
        len(labels) < 2
        or len(ascii_name) > 253
        or not all(_LABEL.match(x) for x in labels)
    ):
        raise ServiceError(_("This is not a valid domain name."), field="name")
    if labels[-1].isdigit():
        raise ServiceError(_("This is not a valid domain name."), field="name")
    if ascii_name.endswith(".azurecomm.net"):
        raise ServiceError(
            _("Azure-managed domains are created with the ACS resources."), field="name"
        )
    return ascii_name, display


def domain_add(*, ctx: AuditContext, name: str) -> SendingDomain:
    """Record a new custom domain and queue its creation in ACS.

    Raises ServiceError for an invalid or duplicate name, or when the tenant's ACS
    resources are not ready.
    """
    require(ctx, "mail.manage")
    ascii_name, display = normalise_domain(name)
    ready_footprint()
    with transaction.atomic():
        if SendingDomain.objects.filter(name=ascii_name).exists():
            raise ServiceError(_("This domain has already been added."), field="name")
        domain = SendingDomain.objects.create(name=ascii_name, display_name=display)
        audit_record(
            ctx=ctx, action="domain.add", target=domain, after={"name": ascii_name}
        )
        from mailops.tasks import domain_create_task

        enqueue_on_commit(domain_create_task, domain.pk)
    return domain


def _apply_info(domain: SendingDomain, info: client.DomainInfo) -> None:
    domain.resource_id = info.resource_id
    domain.from_sender_domain = info.from_sender_domain
    domain.records = [
        {
            "kind": r.kind,
            "record_type": r.record_type,
            "name": r.name,
            "value": r.value,
            "ttl": r.ttl,
        }
        for r in info.records
    ]
    domain.verification = info.states
    required = domain.required_kinds()
    if all(info.states.get(kind) == "Verified" for kind in required):
        domain.state = SendingDomain.State.VERIFIED
    elif any(info.states.get(kind) == "VerificationRequested" for kind in required):
        domain.state = SendingDomain.State.VERIFYING
    elif domain.state in (SendingDomain.State.CREATING, SendingDomain.State.VERIFYING):
        domain.state = SendingDomain.State.CREATED


def domain_create(*, domain_id: int) -> SendingDomain:
    """Create the domain in ACS (idempotent PUT) and store the records to publish."""
    domain = SendingDomain.objects.get(pk=domain_id)
    if domain.state != SendingDomain.State.CREATING:
        return domain
    fp = ready_footprint()
    try:
        info = client.domain_ensure(
            ref(fp), fp.email_service_name, domain.name, managed=False
        )
    except AzureError as exc:
        domain.last_error = str(exc)[:2000]
        if not exc.retryable:
            domain.state = SendingDomain.State.FAILED
        domain.save(update_fields=["last_error", "state", "updated_at"])
        raise
    with transaction.atomic():
        _apply_info(domain, info)
        domain.last_error = ""
        domain.save()
        audit_record(
            ctx=AuditContext.system("provisioning"),
            action="domain.created",
            target=domain,
            after={"resource_id": info.resource_id},
        )
        if domain.is_verified:
            # The domain already existed in ACS and was verified there.
            audit_record(
                ctx=AuditContext.system("verification"),
                action="domain.verified",
                target=domain,
                after=info.states,
            )
    return domain


def domain_refresh(*, domain_id: int) -> SendingDomain:
    """Read the verification states back from ACS."""
    domain = SendingDomain.objects.get(pk=domain_id)
    if not domain.resource_id:
        return domain
    fp = ready_footprint()
    info = client.domain_get(ref(fp), fp.email_service_name, domain.name)
    was_verified = domain.is_verified
    with transaction.atomic():
        _apply_info(domain, info)
        domain.save()
        if domain.is_verified and not was_verified:
            audit_record(
                ctx=AuditContext.system("verification"),
                action="domain.verified",
                target=domain,
                after=info.states,
            )
    return domain


def domain_verify(*, ctx: AuditContext, domain: SendingDomain) -> SendingDomain:
    """Ask ACS to verify every record that is not verified yet (queued)."""
    require(ctx, "mail.manage")
    if domain.state in (SendingDomain.State.CREATING, SendingDomain.State.DELETING):
        raise ServiceError(_("The domain is not ready for verification yet."))
    if domain.management == SendingDomain.Management.AZURE:
        raise ServiceError(_("Azure-managed domains are verified already."))
    with transaction.atomic():
        domain.state = SendingDomain.State.VERIFYING
        domain.save(update_fields=["state", "updated_at"])
        audit_record(ctx=ctx, action="domain.verify", target=domain)
        from mailops.tasks import domain_verify_task

        enqueue_on_commit(domain_verify_task, domain.pk)
    return domain


def domain_run_verification(*, domain_id: int) -> SendingDomain:
    domain = SendingDomain.objects.get(pk=domain_id)
    fp = ready_footprint()
    for kind in [*domain.required_kinds(), "DMARC"]:
        if domain.verification.get(kind) == "Verified":
            continue
        if kind == "DMARC" and not any(r["kind"] == "DMARC" for r in domain.records):
            continue
        client.domain_verification_start(
            ref(fp), fp.email_service_name, domain.name, kind
        )
    domain = domain_refresh(domain_id=domain.pk)
    if domain.state == SendingDomain.State.VERIFYING:
        # Every request has been answered; nothing is still in progress.
        domain.state = SendingDomain.State.CREATED
        domain.save(update_fields=["state", "updated_at"])
    return domain


def _linked_ids(fp_name: str, rg: client.ResourceGroupRef) -> list[str]:
    return list(client.communication_service_ensure(rg, fp_name).linked_domains)


def domain_set_link(
    *, ctx: AuditContext, domain: SendingDomain, linked: bool
) -> SendingDomain:
    """Link (or unlink) a verified domain to the Communication Service.

    The flag changes only after ARM confirms. Raises ServiceError on refusal.
    """
    require(ctx, "mail.manage")
    if linked and not domain.is_verified:
        raise ServiceError(_("Only verified domains can be linked."))
    if not linked and domain.credentials.exclude(state="revoked").exists():
        raise ServiceError(_("Revoke the SMTP credentials that use this domain first."))
    fp = ready_footprint()
    rg = ref(fp)
    try:
        current = _linked_ids(fp.communication_service_name, rg)
        wanted = [d for d in current if d.lower() != domain.resource_id.lower()]
        if linked:
            wanted.append(domain.resource_id)
        client.communication_service_set_links(
            rg, fp.communication_service_name, wanted
        )
    except AzureError as exc:
        raise ServiceError(azure_message(exc)) from exc
    with transaction.atomic():
        domain.linked = linked
        domain.save(update_fields=["linked", "updated_at"])
        audit_record(
            ctx=ctx,
            action="domain.link" if linked else "domain.unlink",
            target=domain,
            before={"linked": not linked},
            after={"linked": linked},
        )
    return domain


def domain_remove(*, ctx: AuditContext, domain: SendingDomain) -> None:
    """Delete a custom domain from ACS and the portal; refused while in use."""
    require(ctx, "mail.manage")
    if domain.management == SendingDomain.Management.AZURE:
        raise ServiceError(_("The Azure-managed domain cannot be removed here."))
    if domain.senders.exists() or domain.credentials.exclude(state="revoked").exists():
        raise ServiceError(_("Remove its sender addresses and credentials first."))
    if domain.linked:
        domain_set_link(ctx=ctx, domain=domain, linked=False)
    with transaction.atomic():
        domain.state = SendingDomain.State.DELETING
        domain.save(update_fields=["state", "updated_at"])
    fp = ready_footprint()
    try:
        client.domain_delete(ref(fp), fp.email_service_name, domain.name)
    except AzureError as exc:
        raise ServiceError(azure_message(exc)) from exc
    with transaction.atomic():
        audit_record(
            ctx=ctx, action="domain.remove", target=domain, before={"name": domain.name}
        )
        domain.delete()


# --- DNS checks -------------------------------------------------------------------------


def _expected(domain: SendingDomain) -> list[object]:
    from mailops.dnslint import ExpectedRecord

    return [
        ExpectedRecord(
            kind=r["kind"],
            record_type=r["record_type"],
            name=r["name"],
            value=r["value"],
        )
        for r in domain.records
    ]


def domain_check_dns(*, domain_id: int) -> DnsCheck:
    """Run the DNS linter, keep the result as history, alert on drift or breakage."""
    from mailops.dnslint import lint_domain

    domain = SendingDomain.objects.get(pk=domain_id)
    report = lint_domain(
        domain.name,
        _expected(domain),  # type: ignore[arg-type]
        nameservers=settings.DNS_NAMESERVERS,
        port=settings.DNS_PORT,
    )
    data = report.to_json()
    fingerprint = hashlib.sha256(
        json.dumps(
            [(f["kind"], f["code"], f.get("found", "")) for f in data["findings"]],
            sort_keys=True,
        ).encode()
    ).hexdigest()
    previous = domain.checks.first()
    drifted = previous is not None and previous.fingerprint != fingerprint
    with transaction.atomic():
        check = DnsCheck.objects.create(
            domain=domain,
            ok=report.ok,
            report=data,
            fingerprint=fingerprint,
            drifted=drifted,
        )
        domain.dns_ok = report.ok
        domain.last_checked_at = check.checked_at
        domain.save(update_fields=["dns_ok", "last_checked_at", "updated_at"])
    if domain.is_verified and not report.ok:
        problems = ", ".join(
            f"{f['kind']}: {f['code']}"
            for f in data["findings"]
            if f["severity"] == "error"
        )
        alert_raise(
            kind="dns_broken",
            cause_key=domain.name,
            severity="critical",
            title=_("DNS records of %(domain)s are broken") % {"domain": domain.name},
            detail=problems,
        )
    elif report.ok:
        alert_resolve(kind="dns_broken", cause_key=domain.name)
    if drifted and domain.is_verified:
        alert_raise(
            kind="dns_drift",
            cause_key=domain.name,
            severity="warning",
            title=_("DNS records of %(domain)s changed") % {"domain": domain.name},
            detail=_("They differ from the check of %(when)s.")
            % {"when": f"{timezone.localtime(previous.checked_at):%Y-%m-%d %H:%M}"},
        )
    return check


# --- sender addresses -------------------------------------------------------------------


def sender_add(
    *, ctx: AuditContext, domain: SendingDomain, username: str, display_name: str
) -> SenderAddress:
    """Create a sender address (ACS sender username) on a verified domain."""
    require(ctx, "mail.manage")
    username = username.strip()
    if not _SENDER.match(username) or ".." in username:
        raise ServiceError(
            _(
                "Use 1–64 letters, digits, dots, hyphens or underscores; start and end "
                "with a letter or digit."
            ),
            field="username",
        )
    if not domain.is_verified:
        raise ServiceError(
            _("Sender addresses need a verified domain."), field="domain"
        )
    with transaction.atomic():
        if SenderAddress.objects.filter(
            domain=domain, username__iexact=username
        ).exists():
            raise ServiceError(
                _("This sender address already exists."), field="username"
            )
        sender = SenderAddress.objects.create(
            domain=domain, username=username, display_name=display_name.strip()
        )
    fp = ready_footprint()
    try:
        client.sender_username_ensure(
            ref(fp), fp.email_service_name, domain.name, username, sender.display_name
        )
    except AzureError as exc:
        # Nothing exists in Azure for it; drop the request so it can be retried.
        sender.delete()
        raise ServiceError(azure_message(exc)) from exc
    with transaction.atomic():
        sender.state = SenderAddress.State.ACTIVE
        sender.save(update_fields=["state"])
        audit_record(
            ctx=ctx,
            action="sender.add",
            target=sender,
            after={"address": sender.address, "display_name": sender.display_name},
        )
    return sender


def sender_remove(*, ctx: AuditContext, sender: SenderAddress) -> None:
    require(ctx, "mail.manage")
    fp = ready_footprint()
    try:
        client.sender_username_delete(
            ref(fp), fp.email_service_name, sender.domain.name, sender.username
        )
    except AzureError as exc:
        raise ServiceError(azure_message(exc)) from exc
    with transaction.atomic():
        audit_record(
            ctx=ctx,
            action="sender.remove",
            target=sender,
            before={"address": sender.address},
        )
        sender.delete()
