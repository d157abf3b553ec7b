"""Campaign state transitions, checks, test sends, progress and delivery results.

Every transition is one transaction with its AuditEvent. Workers pick the change up
between two small sub-batches (see ``sender.py``), so pause, resume and cancel take
effect within a second or two.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mailops.campaigns import render as rendering
from mailops.campaigns import window as send_window
from mailops.models import (
    AcsFootprint,
    Campaign,
    CampaignAttachment,
    CampaignRecipient,
    ListRecipient,
    RecipientList,
    SenderAddress,
)
from mailops.services.common import ref, require
from portal.errors import ServiceError
from portal.integrations.azure import client
from portal.integrations.azure.errors import AzureError
from portal.tasks import enqueue_on_commit
from tenants.accounts.audit import AuditContext, audit_record

# ACS limits (azure-facts §3): the whole request, attachments in base64 included,
# and the recipients of one message (to + cc + bcc).
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_RECIPIENTS_PER_MESSAGE = 50
# Campaigns whose recipients still get delivery results after they finished.
RECONCILE_AFTER_FINISH = timedelta(days=3)
# Delivery statuses from the analytics pipeline -> recipient state.
FINAL_STATUSES = {
    "Delivered": CampaignRecipient.State.DELIVERED,
    "Bounced": CampaignRecipient.State.BOUNCED,
    "Suppressed": CampaignRecipient.State.SUPPRESSED,
    "Failed": CampaignRecipient.State.FAILED,
    "FilteredSpam": CampaignRecipient.State.FAILED,
    "Quarantined": CampaignRecipient.State.FAILED,
}
SYSTEM = AuditContext.system("campaigns")


class CampaignRefused(ServiceError):
    """The campaign cannot do what was asked; ``errors`` lists every reason."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(" ".join(errors))
        self.errors = errors


# --- checks -----------------------------------------------------------------------------


def _attachments_base64_size(campaign: Campaign) -> int:
    if campaign.pk is None:
        return 0
    sizes = CampaignAttachment.objects.filter(campaign=campaign).values_list(
        "size", flat=True
    )
    return sum(4 * ((size + 2) // 3) for size in sizes)


def message_size(campaign: Campaign, data: dict[str, Any] | None = None) -> int:
    """Bytes of the request ACS receives for one recipient (JSON, base64 files)."""
    rendered = rendering.render(campaign, data or {})
    body = {
        "senderAddress": "x" * 320,
        "content": {
            "subject": rendered.subject,
            "plainText": rendered.text,
            "html": rendered.html,
        },
        "recipients": {"to": [{"address": "x" * 320}]},
    }
    return len(json.dumps(body).encode()) + _attachments_base64_size(campaign)


def _sender_errors(sender: SenderAddress) -> list[str]:
    errors = []
    domain = sender.domain
    if not domain.is_verified or not domain.linked:
        errors.append(
            _(
                "The sender's domain %(domain)s is not verified and linked to your "
                "Communication Service yet."
            )
            % {"domain": domain.display_name or domain.name}
        )
    if sender.state != SenderAddress.State.ACTIVE:
        errors.append(
            _(
                "The sender address %(address)s is not active in Azure yet (no sender "
                "username). Add it on the domain page first."
            )
            % {"address": sender.address}
        )
    return errors


def _size_errors(campaign: Campaign, data: dict[str, Any] | None) -> list[str]:
    size = message_size(campaign, data)
    if size > MAX_MESSAGE_BYTES:
        return [
            _(
                "The message is %(size)s MB with its attachments (in base64); ACS "
                "accepts at most 10 MB per message."
            )
            % {"size": f"{size / 1024 / 1024:.1f}"}
        ]
    return []


def _list_errors(campaign: Campaign) -> list[str]:
    recipient_list = campaign.recipient_list
    if recipient_list is None:
        return [_("Choose a recipient list.")]
    errors = []
    if recipient_list.state != RecipientList.State.READY:
        errors.append(
            _("The recipient list %(name)s has not been imported yet.")
            % {"name": recipient_list.name}
        )
    elif not ListRecipient.objects.filter(recipient_list=recipient_list).exists():
        errors.append(
            _("The recipient list %(name)s has no recipients.")
            % {"name": recipient_list.name}
        )
    known = set(recipient_list.fields or []) | {recipient_list.email_column}
    missing = sorted(rendering.merge_fields(campaign) - known)
    if missing:
        errors.append(
            _("These merge fields are not columns of the recipient list: %(fields)s.")
            % {"fields": "、".join(f"{{{{ {name} }}}}" for name in missing)}
        )
    return errors


def _first_row(campaign: Campaign) -> dict[str, Any]:
    recipient_list = campaign.recipient_list
    if recipient_list is None:
        return {}
    first = (
        ListRecipient.objects.filter(recipient_list=recipient_list)
        .order_by("row_number")
        .values_list("email", "data")
        .first()
    )
    if first is None:
        return {}
    return rendering.recipient_data(first[0], first[1], recipient_list.email_column)


def campaign_check(campaign: Campaign) -> list[str]:
    """Every reason the campaign cannot be queued now (empty: it can).

    Reads only; nothing changes. Messages are translated.
    """
    errors = []
    if campaign.state != Campaign.State.DRAFT:
        errors.append(_("Only a draft campaign can be sent."))
    errors += _sender_errors(campaign.sender)
    errors += _list_errors(campaign)
    errors += _size_errors(campaign, _first_row(campaign))
    return errors


# --- queueing ---------------------------------------------------------------------------

# One INSERT … SELECT copies the list: seq follows the file's row order, and the
# Operation-Id is UUID v3 of (campaign uuid, seq) computed here (PostgreSQL has md5
# but no sha1 without pgcrypto); ``operation_id_for`` is the same in Python.
_COPY_RECIPIENTS = """
INSERT INTO mailops_campaignrecipient (
    campaign_id, seq, email, data, state, operation_id, attempts,
    delivery_status, error_code, error_message)
SELECT %(campaign)s, n.seq, n.email, n.data, 'queued',
    encode(set_byte(set_byte(n.h, 6, (get_byte(n.h, 6) & 15) | 48),
                    8, (get_byte(n.h, 8) & 63) | 128), 'hex')::uuid,
    0, '', '', ''
FROM (
    SELECT r.seq, r.email, r.data,
        decode(md5(%(namespace)s::bytea || convert_to(r.seq::text, 'UTF8')), 'hex')
            AS h
    FROM (
        SELECT row_number() OVER (ORDER BY row_number, id) AS seq, email,
            CASE WHEN %(email_column)s <> '' THEN
                jsonb_build_object(%(email_column)s, email) || data
            ELSE data END AS data
        FROM mailops_listrecipient
        WHERE recipient_list_id = %(list)s
    ) r
) n
"""


def operation_id_for(campaign_uuid: uuid.UUID, seq: int) -> uuid.UUID:
    """The Operation-Id of recipient ``seq``: never changes, so ACS deduplicates
    every resend of it."""
    return uuid.uuid3(campaign_uuid, str(seq))


def _kick_on_commit(campaign: Campaign) -> None:
    from mailops.campaigns.tasks import campaign_kick_task

    enqueue_on_commit(campaign_kick_task, campaign.pk)


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


@transaction.atomic
def campaign_queue(
    campaign: Campaign, actor: AuditContext, *, start_at: datetime | None = None
) -> Campaign:
    """Freeze the list into the campaign's recipients and start (or schedule) it.

    Raises CampaignRefused (nothing changes) when ``campaign_check`` finds a
    problem. Returns the campaign, ``running`` or ``scheduled`` (``start_at`` in
    the future). Workers are started after commit.
    """
    require(actor, "campaigns.manage")
    campaign = _locked(campaign)
    errors = campaign_check(campaign)
    if errors:
        raise CampaignRefused(errors)
    recipient_list = campaign.recipient_list
    assert recipient_list is not None
    with connection.cursor() as cursor:
        cursor.execute(
            _COPY_RECIPIENTS,
            {
                "campaign": campaign.pk,
                "namespace": campaign.uuid.bytes,
                "list": recipient_list.pk,
                "email_column": recipient_list.email_column or "",
            },
        )
        total = cursor.rowcount
    now = timezone.now()
    campaign.total_recipients = total
    campaign.queued_at = now
    if start_at is not None and start_at > now:
        campaign.state = Campaign.State.SCHEDULED
        campaign.scheduled_at = start_at
    else:
        campaign.state = Campaign.State.RUNNING
        campaign.started_at = now
    campaign.save(
        update_fields=[
            "total_recipients",
            "queued_at",
            "state",
            "scheduled_at",
            "started_at",
        ]
    )
    audit_record(
        ctx=actor,
        action="campaign.queue",
        target=campaign,
        after={
            "state": campaign.state,
            "recipients": total,
            "scheduled_at": start_at.isoformat() if start_at else None,
        },
    )
    if campaign.state == Campaign.State.RUNNING:
        _kick_on_commit(campaign)
    return campaign


def _transition(
    campaign: Campaign,
    actor: AuditContext,
    *,
    action: str,
    allowed_from: tuple[str, ...],
    to: str,
    refusal: str,
    **changes: Any,
) -> Campaign:
    require(actor, "campaigns.manage")
    campaign = _locked(campaign)
    if campaign.state not in allowed_from:
        raise CampaignRefused([refusal])
    before = campaign.state
    campaign.state = to
    for name, value in changes.items():
        setattr(campaign, name, value)
    campaign.save(update_fields=["state", *changes])
    audit_record(
        ctx=actor,
        action=action,
        target=campaign,
        before={"state": before},
        after={"state": to},
    )
    return campaign


@transaction.atomic
def campaign_pause(campaign: Campaign, actor: AuditContext) -> Campaign:
    """Stop sending; workers finish the sub-batch in flight (a second or two).

    Raises CampaignRefused unless the campaign is running or scheduled.
    """
    return _transition(
        campaign,
        actor,
        action="campaign.pause",
        allowed_from=(Campaign.State.RUNNING, Campaign.State.SCHEDULED),
        to=Campaign.State.PAUSED,
        refusal=_("Only a running or scheduled campaign can be paused."),
        paused_at=timezone.now(),
        pause_reason="",
    )


@transaction.atomic
def campaign_resume(campaign: Campaign, actor: AuditContext) -> Campaign:
    """Continue a paused campaign where it stopped (no recipient is sent twice).

    Raises CampaignRefused unless the campaign is paused.
    """
    campaign = _transition(
        campaign,
        actor,
        action="campaign.resume",
        allowed_from=(Campaign.State.PAUSED,),
        to=Campaign.State.RUNNING,
        refusal=_("Only a paused campaign can be resumed."),
        pause_reason="",
        started_at=campaign.started_at or timezone.now(),
    )
    _kick_on_commit(campaign)
    return campaign


def sweep_cancelled(campaign_id: int) -> int:
    """Mark the still-queued recipients of a cancelled campaign cancelled."""
    return CampaignRecipient.objects.filter(
        campaign_id=campaign_id, state=CampaignRecipient.State.QUEUED
    ).update(state=CampaignRecipient.State.CANCELLED)


@transaction.atomic
def campaign_cancel(campaign: Campaign, actor: AuditContext) -> Campaign:
    """Cancel for good: queued recipients become cancelled, accepted ones stay.

    Raises CampaignRefused for a draft, completed or cancelled campaign.
    """
    campaign = _transition(
        campaign,
        actor,
        action="campaign.cancel",
        allowed_from=(
            Campaign.State.RUNNING,
            Campaign.State.SCHEDULED,
            Campaign.State.PAUSED,
        ),
        to=Campaign.State.CANCELLED,
        refusal=_("This campaign can no longer be cancelled."),
        finished_at=timezone.now(),
    )
    sweep_cancelled(campaign.pk)
    return campaign


def _system_move(
    campaign_id: int, *, action: str, to: str, when: str, **conditions: Any
) -> Campaign | None:
    """Move a campaign that matches ``conditions`` to ``to`` (stamping ``when``)
    and audit it as the system; None when it did not match (someone was first).
    Call inside a transaction."""
    campaign = (
        Campaign.objects.select_for_update()
        .filter(pk=campaign_id, **conditions)
        .first()
    )
    if campaign is None:
        return None
    before = campaign.state
    campaign.state = to
    setattr(campaign, when, timezone.now())
    campaign.save(update_fields=["state", when])
    audit_record(
        ctx=SYSTEM,
        action=action,
        target=campaign,
        before={"state": before},
        after={"state": to},
    )
    return campaign


def campaign_start_due(campaign_id: int) -> bool:
    """Start a scheduled campaign whose time has come; True if it started."""
    with transaction.atomic():
        campaign = _system_move(
            campaign_id,
            action="campaign.start",
            to=Campaign.State.RUNNING,
            when="started_at",
            state=Campaign.State.SCHEDULED,
            scheduled_at__lte=timezone.now(),
        )
        if campaign is None:
            return False
        _kick_on_commit(campaign)
    return True


def campaign_finish_if_done(campaign_id: int) -> bool:
    """Complete a running campaign once no recipient is queued or being sent.

    Accepted recipients may still be waiting for their delivery status; that
    does not keep the campaign running. Returns True if it completed now.
    """
    with transaction.atomic():
        if CampaignRecipient.objects.filter(
            campaign_id=campaign_id,
            state__in=[
                CampaignRecipient.State.QUEUED,
                CampaignRecipient.State.SENDING,
            ],
        ).exists():
            return False
        campaign = _system_move(
            campaign_id,
            action="campaign.complete",
            to=Campaign.State.COMPLETED,
            when="finished_at",
            state=Campaign.State.RUNNING,
        )
    return campaign is not None


# --- test send --------------------------------------------------------------------------


def _connection_string(fp: AcsFootprint) -> str:
    return client.communication_service_connection_string(
        ref(fp), fp.communication_service_name
    )


def ready_footprint_or_none() -> AcsFootprint | None:
    return (
        AcsFootprint.objects.filter(state=AcsFootprint.State.READY)
        .exclude(communication_service_id="")
        .order_by("pk")
        .first()
    )


def attachments_payload(campaign: Campaign) -> list[dict[str, str]]:
    return [
        {
            "name": a.name,
            "contentType": a.content_type,
            "contentInBase64": base64.b64encode(bytes(a.content)).decode(),
        }
        for a in CampaignAttachment.objects.filter(campaign=campaign).order_by("pk")
    ]


def acs_message(
    campaign: Campaign,
    rendered: rendering.Rendered,
    to: list[str],
    attachments: list[dict[str, str]],
) -> dict[str, Any]:
    """The ACS request body (REST camelCase keys) of one rendered message."""
    content: dict[str, str] = {"subject": rendered.subject, "plainText": rendered.text}
    if rendered.html:
        content["html"] = rendered.html
    message: dict[str, Any] = {
        "senderAddress": campaign.sender.address,
        "content": content,
        "recipients": {"to": [{"address": address} for address in to]},
    }
    if campaign.reply_to:
        message["replyTo"] = [{"address": campaign.reply_to}]
    if attachments:
        message["attachments"] = attachments
    return message


def campaign_send_test(
    campaign: Campaign,
    to_addresses: list[str],
    actor: AuditContext,
    *,
    row: dict[str, Any] | None = None,
) -> str:
    """Send one test message, subject prefixed "[テスト]", to ``to_addresses``.

    Merged with ``row`` or else the list's first recipient. Waits until ACS
    accepted and finished the operation. Returns the operation id. Raises
    CampaignRefused (nothing sent) for bad input and ServiceError when Azure
    refuses.
    """
    require(actor, "campaigns.manage")
    addresses = [a.strip() for a in to_addresses if a.strip()]
    errors = []
    if not addresses:
        errors.append(_("Enter at least one address for the test."))
    if len(addresses) > MAX_RECIPIENTS_PER_MESSAGE:
        errors.append(
            _(
                "ACS accepts at most %(max)d recipients in one message; you entered %(n)d."
            )
            % {"max": MAX_RECIPIENTS_PER_MESSAGE, "n": len(addresses)}
        )
    errors += _sender_errors(campaign.sender)
    data = row if row is not None else _first_row(campaign)
    if campaign.recipient_list is not None:
        errors += [e for e in _list_errors(campaign) if "{{" in e]
    errors += _size_errors(campaign, data)
    fp = ready_footprint_or_none()
    if fp is None:
        errors.append(_("ACS resources are still being prepared. Try again shortly."))
    if errors:
        raise CampaignRefused(errors)
    assert fp is not None
    rendered = rendering.render(campaign, data)
    rendered = rendering.Rendered(
        subject=f"{_('[TEST]')} {rendered.subject}",
        text=rendered.text,
        html=rendered.html,
    )
    operation_id = str(uuid.uuid4())
    message = acs_message(campaign, rendered, addresses, attachments_payload(campaign))
    try:
        client.send_email(
            connection_string=_connection_string(fp),
            message=message,
            operation_id=operation_id,
        )
    except AzureError as exc:
        from mailops.services.common import azure_message

        raise ServiceError(azure_message(exc)) from exc
    with transaction.atomic():
        audit_record(
            ctx=actor,
            action="campaign.test_send",
            target=campaign,
            after={
                "to": addresses[:MAX_RECIPIENTS_PER_MESSAGE],
                "operation": operation_id,
            },
        )
    return operation_id


# --- progress ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where a campaign stands, for the progress bar (one GROUP BY query)."""

    state: str
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    sent: int = 0  # accepted by ACS (whatever happened after)
    current_rate: float = 0.0  # messages per second over the last minute
    eta_seconds: int | None = None
    note: str = ""

    @property
    def remaining(self) -> int:
        return self.counts.get("queued", 0) + self.counts.get("sending", 0)

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(100, int(100 * (self.total - self.remaining) / self.total))


RATE_WINDOW_SECONDS = 60


def blocked_reason() -> str:
    """The tenant's hold on bulk sends (set by spend/send-cap guardrails)."""
    from tenants.models import Customer

    reason = (
        Customer.objects.filter(schema_name=connection.schema_name)
        .values_list("bulk_sends_blocked_reason", flat=True)
        .first()
    )
    return reason or ""


def progress_note(campaign: Campaign, *, blocked: str | None = None) -> str:
    """Why a live campaign is not sending right now ("" when it is)."""
    if campaign.state not in (Campaign.State.RUNNING, Campaign.State.SCHEDULED):
        if campaign.state == Campaign.State.PAUSED and campaign.pause_reason:
            return campaign.pause_reason
        return ""
    blocked = blocked_reason() if blocked is None else blocked
    if blocked:
        return _("Sending is on hold: %(reason)s") % {"reason": blocked}
    now = timezone.now()
    if campaign.state == Campaign.State.SCHEDULED and campaign.scheduled_at:
        return _("Starts at %(when)s (JST).") % {
            "when": send_window.jst(campaign.scheduled_at).strftime("%Y-%m-%d %H:%M")
        }
    opens = send_window.next_open(campaign, now)
    if opens is not None and opens > now:
        return _("Outside the send window; resumes at %(when)s (JST).") % {
            "when": send_window.jst(opens).strftime("%Y-%m-%d %H:%M")
        }
    return ""


def campaign_progress(campaign: Campaign) -> Progress:
    """Counts per recipient state, messages sent, the rate over the last minute
    and the time left at that rate."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT state, count(*), count(accepted_at),
                count(*) FILTER (WHERE accepted_at >= now() - %s * interval '1 second')
            FROM mailops_campaignrecipient WHERE campaign_id = %s GROUP BY state
            """,
            [RATE_WINDOW_SECONDS, campaign.pk],
        )
        rows = cursor.fetchall()
    counts = dict.fromkeys(CampaignRecipient.State.values, 0)
    sent = recent = 0
    for state, count, accepted, last_minute in rows:
        counts[state] = int(count)
        sent += int(accepted)
        recent += int(last_minute)
    total = sum(counts.values()) or campaign.total_recipients
    window = RATE_WINDOW_SECONDS
    if campaign.started_at is not None:
        # A campaign that started 10 s ago has a 10 s window, not a minute.
        elapsed = (timezone.now() - campaign.started_at).total_seconds()
        window = max(1.0, min(window, elapsed))
    rate = recent / window
    remaining = counts["queued"] + counts["sending"]
    eta = int(remaining / rate) if rate > 0 and remaining else None
    if not remaining:
        eta = 0
    return Progress(
        state=campaign.state,
        counts=counts,
        total=total,
        sent=sent,
        current_rate=round(rate, 1),
        eta_seconds=eta,
        note=progress_note(campaign),
    )


# --- delivery results from the analytics pipeline ---------------------------------------

_RECONCILE = """
UPDATE mailops_campaignrecipient r SET
    state = CASE e.status
        WHEN 'Delivered' THEN 'delivered'
        WHEN 'Bounced' THEN 'bounced'
        WHEN 'Suppressed' THEN 'suppressed'
        ELSE 'failed' END,
    delivery_status = e.status,
    status_at = e.status_at,
    error_code = left(coalesce(nullif(e.enhanced_code, ''), e.smtp_code), 64),
    error_message = left(e.failure_reason, 400)
FROM mailops_recipientevent e
WHERE r.campaign_id = %(campaign)s
  AND r.state = 'accepted'
  AND e.message_id = r.operation_id::text
  AND lower(e.recipient) = lower(r.email)
  AND e.status = ANY(%(final)s)
"""


def campaign_reconcile_statuses(campaign_id: int) -> int:
    """Move accepted recipients to delivered / bounced / failed / suppressed from
    the analytics pipeline's RecipientEvent rows (message id = Operation-Id), in
    one UPDATE. Idempotent. Returns how many recipients moved."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _RECONCILE, {"campaign": campaign_id, "final": list(FINAL_STATUSES)}
        )
        moved = cursor.rowcount
    campaign_finish_if_done(campaign_id)
    return moved


def campaigns_reconcile_active() -> int:
    """Reconcile every campaign that is sending or finished recently; returns the
    recipients that moved. Called after each analytics ingest run and Event Grid
    batch of the tenant."""
    cutoff = timezone.now() - RECONCILE_AFTER_FINISH
    ids = Campaign.objects.filter(
        state__in=[
            Campaign.State.RUNNING,
            Campaign.State.PAUSED,
            Campaign.State.COMPLETED,
            Campaign.State.CANCELLED,
        ]
    ).exclude(finished_at__lt=cutoff)
    return sum(
        campaign_reconcile_statuses(pk) for pk in ids.values_list("pk", flat=True)
    )
