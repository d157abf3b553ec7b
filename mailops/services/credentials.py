"""SMTP credentials for devices and applications.

Each credential = an Entra application (its client secrets are SMTP passwords) + an
ACS SMTP Username resource. Secrets are returned to the caller once and never
stored: only key id, hint and expiry are kept.
"""

from __future__ import annotations

import calendar
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mailops.models import CredentialSecret, SenderAddress, SmtpCredential
from mailops.services.common import azure_message, ready_footprint, ref, require
from portal.errors import ServiceError
from portal.integrations.azure import client
from portal.integrations.azure.errors import AzureError
from tenants.accounts.audit import AuditContext, audit_record
from tenants.accounts.models import User
from tenants.accounts.roles import Role
from tenants.alerts import alert_raise, alert_resolve
from tenants.guardrails import smtp_stopped_here


@dataclass(frozen=True)
class IssuedSecret:
    """A freshly issued SMTP password. Render it once; never store or log it."""

    credential: SmtpCredential
    secret: CredentialSecret
    password: str

    def __repr__(self) -> str:  # keep the password out of tracebacks and logs
        return (
            f"IssuedSecret(credential={self.credential.pk}, key={self.secret.key_id})"
        )


def add_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _expiry(months: int) -> datetime:
    if not 1 <= months <= settings.CREDENTIAL_MAX_MONTHS:
        raise ServiceError(
            _("Choose a lifetime between 1 and %(max)d months.")
            % {"max": settings.CREDENTIAL_MAX_MONTHS},
            field="months",
        )
    return add_months(timezone.now(), months)


def _app_name(credential: SmtpCredential) -> str:
    # Deterministic, so a retry finds the application created by a crashed attempt.
    return f"kakehashi-smtp-{connection.schema_name}-{credential.pk}"


def credential_create(
    *,
    ctx: AuditContext,
    label: str,
    sender: SenderAddress,
    kind: str = SmtpCredential.Kind.MFP,
    location: str = "",
    vendor: str = "",
    model: str = "",
    owner_name: str = "",
    months: int = 24,
) -> IssuedSecret:
    """Create a device credential and return its password (shown once).

    Raises ServiceError for bad input or when Azure refuses; the credential then
    stays "setup incomplete" with the reason, and ``credential_resume`` finishes it.
    """
    require(ctx, "mail.manage")
    expires_at = _expiry(months)
    label = label.strip()
    if not label:
        raise ServiceError(
            _("Enter a name for the device or application."), field="label"
        )
    domain = sender.domain
    if not (
        domain.is_verified
        and domain.linked
        and sender.state == SenderAddress.State.ACTIVE
    ):
        raise ServiceError(
            _(
                "Choose a sender address on a verified domain linked to your Communication Service."
            ),
            field="sender",
        )
    ready_footprint()
    if smtp_stopped_here():
        # A new SMTP Username would reopen SMTP while a usage-cap stop is in force.
        raise ServiceError(
            _(
                "SMTP sending is stopped because a usage cap was reached. New device credentials can be created once the stop is lifted."
            )
        )
    with transaction.atomic():
        credential = SmtpCredential.objects.create(
            label=label,
            location=location.strip(),
            kind=kind,
            vendor=vendor,
            model=model.strip(),
            owner_name=owner_name.strip(),
            sender_domain=domain,
            sender=sender,
            # Placeholders until the id is known; usernames stay short because some
            # printers accept only ~64 characters.
            username=f"pending-{timezone.now().timestamp()}",
            smtp_username_resource=f"pending-{timezone.now().timestamp()}",
        )
        credential.username = f"{kind}-{credential.pk:04d}@{domain.sender_domain}"
        credential.smtp_username_resource = f"{kind}-{credential.pk:04d}"
        credential.save(update_fields=["username", "smtp_username_resource"])
        audit_record(
            ctx=ctx,
            action="credential.create",
            target=credential,
            after={"label": label, "username": credential.username, "kind": kind},
        )
    return _finish_setup(ctx=ctx, credential=credential, expires_at=expires_at)


def credential_resume(
    *, ctx: AuditContext, credential: SmtpCredential, months: int = 24
) -> IssuedSecret:
    """Finish a credential whose setup stopped half-way; issues a fresh password."""
    require(ctx, "mail.manage")
    if credential.state not in (
        SmtpCredential.State.FAILED,
        SmtpCredential.State.CREATING,
    ):
        raise ServiceError(_("This credential does not need to be finished."))
    return _finish_setup(ctx=ctx, credential=credential, expires_at=_expiry(months))


def _finish_setup(
    *, ctx: AuditContext, credential: SmtpCredential, expires_at: datetime
) -> IssuedSecret:
    fp = ready_footprint()
    new: client.NewSecret | None = None
    try:
        if not credential.app_object_id:
            app = client.graph_app_ensure(_app_name(credential))
            credential.app_object_id, credential.app_id = app.object_id, app.app_id
            credential.save(update_fields=["app_object_id", "app_id"])
        new = client.graph_secret_add(
            credential.app_object_id, display_name="smtp", expires_at=expires_at
        )
        client.smtp_username_ensure(
            ref(fp),
            fp.communication_service_name,
            credential.smtp_username_resource,
            username=credential.username,
            application_id=credential.app_id,
        )
    except AzureError as exc:
        if new is not None:
            # Nobody will ever see this password: take it back out of Entra.
            with contextlib.suppress(AzureError):
                client.graph_secret_remove(credential.app_object_id, new.key_id)
        credential.state = SmtpCredential.State.FAILED
        credential.last_error = str(exc)[:2000]
        credential.save(update_fields=["state", "last_error"])
        raise ServiceError(azure_message(exc)) from exc
    with transaction.atomic():
        secret = CredentialSecret.objects.create(
            credential=credential,
            key_id=new.key_id,
            hint=new.hint,
            expires_at=new.expires_at,
        )
        credential.state = SmtpCredential.State.ACTIVE
        credential.last_error = ""
        credential.save(update_fields=["state", "last_error"])
        audit_record(
            ctx=ctx,
            action="credential.secret_issued",
            target=credential,
            after={
                "key_id": new.key_id,
                "hint": new.hint,
                "expires": new.expires_at.isoformat(),
            },
        )
    return IssuedSecret(credential=credential, secret=secret, password=new.secret_text)


def credential_rotate(
    *,
    ctx: AuditContext,
    credential: SmtpCredential,
    months: int = 24,
    revoke_old_after: datetime | None = None,
) -> IssuedSecret:
    """Issue a new password while the old one keeps working until it is retired.

    The old secrets are revoked at ``revoke_old_after`` (default: in 7 days) or
    earlier with ``credential_retire_old``.
    """
    require(ctx, "mail.manage")
    if credential.state != SmtpCredential.State.ACTIVE:
        raise ServiceError(_("Only active credentials can be rotated."))
    expires_at = _expiry(months)
    try:
        new = client.graph_secret_add(
            credential.app_object_id, display_name="smtp", expires_at=expires_at
        )
    except AzureError as exc:
        raise ServiceError(azure_message(exc)) from exc
    deadline = revoke_old_after or timezone.now() + timedelta(days=7)
    with transaction.atomic():
        old = list(
            credential.secrets.filter(state=CredentialSecret.State.ACTIVE).values_list(
                "key_id", flat=True
            )
        )
        credential.secrets.filter(state=CredentialSecret.State.ACTIVE).update(
            state=CredentialSecret.State.RETIRING, revoke_after=deadline
        )
        secret = CredentialSecret.objects.create(
            credential=credential,
            key_id=new.key_id,
            hint=new.hint,
            expires_at=new.expires_at,
        )
        audit_record(
            ctx=ctx,
            action="credential.rotate",
            target=credential,
            before={"key_ids": old},
            after={"key_id": new.key_id, "old_revoked_after": deadline.isoformat()},
        )
    return IssuedSecret(credential=credential, secret=secret, password=new.secret_text)


def _revoke_secret(credential: SmtpCredential, secret: CredentialSecret) -> None:
    client.graph_secret_remove(credential.app_object_id, secret.key_id)
    secret.state = CredentialSecret.State.REVOKED
    secret.revoked_at = timezone.now()
    secret.save(update_fields=["state", "revoked_at"])


def credential_retire_old(*, ctx: AuditContext, credential: SmtpCredential) -> int:
    """Revoke the retiring (old) secrets now, after the device has the new one."""
    require(ctx, "mail.manage")
    retiring = list(credential.secrets.filter(state=CredentialSecret.State.RETIRING))
    try:
        for secret in retiring:
            _revoke_secret(credential, secret)
    except AzureError as exc:
        raise ServiceError(azure_message(exc)) from exc
    audit_record(
        ctx=ctx,
        action="credential.retire_old",
        target=credential,
        after={"revoked": [s.key_id for s in retiring]},
    )
    return len(retiring)


def credential_revoke(
    *, ctx: AuditContext, credential: SmtpCredential
) -> SmtpCredential:
    """Stop the credential at once: remove every secret and the SMTP username."""
    require(ctx, "mail.manage")
    if credential.state == SmtpCredential.State.REVOKED:
        return credential
    fp = ready_footprint()
    try:
        for secret in credential.secrets.exclude(state=CredentialSecret.State.REVOKED):
            _revoke_secret(credential, secret)
        client.smtp_username_delete(
            ref(fp), fp.communication_service_name, credential.smtp_username_resource
        )
    except AzureError as exc:
        raise ServiceError(azure_message(exc)) from exc
    with transaction.atomic():
        credential.state = SmtpCredential.State.REVOKED
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["state", "revoked_at"])
        audit_record(ctx=ctx, action="credential.revoke", target=credential)
        alert_resolve(kind="credential_expiring", cause_key=credential.username)
    return credential


# --- scheduled work ---------------------------------------------------------------------


def secrets_revoke_due() -> int:
    """Revoke retiring secrets whose grace period has ended (beat, idempotent)."""
    count = 0
    due = CredentialSecret.objects.filter(
        state=CredentialSecret.State.RETIRING, revoke_after__lte=timezone.now()
    ).select_related("credential")
    for secret in due:
        _revoke_secret(secret.credential, secret)
        audit_record(
            ctx=AuditContext.system("rotation"),
            action="credential.retire_old",
            target=secret.credential,
            after={"revoked": [secret.key_id]},
        )
        count += 1
    return count


def secrets_remind() -> int:
    """Email admins at 60/30/7 days before a secret expires, once per threshold,
    and keep an alert open for staff; flag expired credentials."""
    sent = 0
    now = timezone.now()
    admins = list(
        User.objects.filter(
            role__in=[Role.OWNER, Role.ADMIN], is_active=True
        ).values_list("email", flat=True)
    )
    secrets = CredentialSecret.objects.filter(
        state=CredentialSecret.State.ACTIVE
    ).select_related("credential")
    for secret in secrets:
        days = (secret.expires_at - now).days
        credential = secret.credential
        if days < 0:
            alert_raise(
                kind="credential_expired",
                cause_key=credential.username,
                severity="critical",
                title=_("SMTP credential %(label)s has expired")
                % {"label": credential.label},
            )
            continue
        due = [d for d in settings.CREDENTIAL_REMINDER_DAYS if days <= d]
        if not due:
            continue
        threshold = min(due)
        if threshold in secret.reminded_days:
            continue
        alert_raise(
            kind="credential_expiring",
            cause_key=credential.username,
            severity="critical" if threshold <= 7 else "warning",
            title=_("SMTP credential %(label)s expires in %(days)s days")
            % {"label": credential.label, "days": days},
        )
        if admins:
            send_mail(
                _("SMTP credential %(label)s expires in %(days)d days")
                % {"label": credential.label, "days": days},
                _(
                    "The password of %(label)s (%(username)s) expires on %(date)s. "
                    "Rotate it in the portal and update the device before then."
                )
                % {
                    "label": credential.label,
                    "username": credential.username,
                    "date": timezone.localtime(secret.expires_at).strftime("%Y-%m-%d"),
                },
                None,
                admins,
            )
        secret.reminded_days = sorted({*secret.reminded_days, threshold})
        secret.save(update_fields=["reminded_days"])
        sent += 1
    return sent
