"""The sending engine: dispatcher runs that claim, send and record recipients.

One dispatcher run (a Celery task, ``tasks.campaign_dispatch_task``) works on one
campaign for a bounded time, then re-enqueues itself while work remains, so
workers stay fair and memory stays flat whatever the list size. Per sub-batch:

1. re-read the campaign's state and the tenant's bulk-send hold (pause, cancel
   and holds take effect within one sub-batch);
2. take send tokens from the resource's shared rate limiter;
3. claim that many queued recipients with ``FOR UPDATE SKIP LOCKED`` (several
   runs of one campaign, on several workers, never claim the same row);
4. send them concurrently over keep-alive connections (asyncio);
5. write every outcome back in one ``UPDATE … FROM (VALUES …)``.

Exactly once: a recipient's Operation-Id is fixed when the campaign is queued.
A row left in ``sending`` by a worker that died is re-queued after a lease and
sent again with the same id, which ACS (and the emulator) deduplicate. Outcome
writes are fenced by the claim time, so a worker that lost its rows to such a
reclaim never overwrites the newer state.

Several runs per campaign ("slots") run in parallel; each slot holds a lease in
Redis whose token travels with the task. A slot whose lease lapsed (its worker
died) is started again by the beat tick with a new token; a late task with an
old token stops at once, so a slot never has two live chains.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from mailops.campaigns import ratelimit, services
from mailops.campaigns import render as rendering
from mailops.campaigns import window as send_window
from mailops.models import AcsFootprint, Campaign, CampaignRecipient
from portal.integrations.azure import client
from portal.integrations.azure.errors import AzureError

logger = logging.getLogger(__name__)

# Recipients per sub-batch: about half a second of sending at the target rate,
# so a pause or a hold is seen within a second and one write covers many rows.
SUB_BATCH = 256
# A retryable error (5xx, reset, timeout) this many times in a row ends the
# recipient as failed; 429s are the limiter's business and do not count.
MAX_ATTEMPTS = 10
# How long a run waits in-process for tokens before handing back to Celery.
MAX_INLINE_WAIT = 3.0
# How often a held or windowed campaign is looked at again.
HOLD_RECHECK_SECONDS = 30
MAX_WINDOW_SLEEP = 15 * 60
LEASE_PREFIX = "kk:cmp"


# --- dispatcher slots (Redis leases) ----------------------------------------------------


def _lease_key(campaign_id: int, slot: int) -> str:
    return f"{LEASE_PREFIX}:{connection.schema_name}:{campaign_id}:{slot}"


def lease_seconds() -> int:
    # Longer than one run plus its last sub-batch, so a live run keeps its slot;
    # a lapsed lease (dead worker) is restarted by the next beat tick.
    return int(settings.CAMPAIGN_TASK_SECONDS) + 15


_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _lease_renew(campaign_id: int, slot: int, token: str) -> bool:
    r = ratelimit.connection()
    return bool(
        r.eval(_RENEW, 1, _lease_key(campaign_id, slot), token, lease_seconds())
    )


def _lease_release(campaign_id: int, slot: int, token: str) -> None:
    ratelimit.connection().eval(_RELEASE, 1, _lease_key(campaign_id, slot), token)


def campaign_kick(
    campaign_id: int, *, countdown: float = 0, only_missing: bool = False
) -> int:
    """Start the campaign's dispatcher slots (all, or those whose lease lapsed).

    Each start gets a new lease token; a previous chain of that slot stops at
    its next check. Returns how many runs were enqueued.
    """
    from mailops.campaigns.tasks import campaign_dispatch_task

    r = ratelimit.connection()
    started = 0
    for slot in range(int(settings.CAMPAIGN_DISPATCHERS)):
        key = _lease_key(campaign_id, slot)
        token = uuid.uuid4().hex
        ttl = int(countdown) + lease_seconds()
        if only_missing:
            if not r.set(key, token, ex=ttl, nx=True):
                continue
        else:
            r.set(key, token, ex=ttl)
        campaign_dispatch_task.apply_async(
            (campaign_id, slot, token), countdown=countdown or None
        )
        started += 1
    return started


def _continue(campaign_id: int, slot: int, token: str, countdown: float) -> bool:
    """Hand the slot to a fresh run (same token) after ``countdown`` seconds."""
    from mailops.campaigns.tasks import campaign_dispatch_task

    r = ratelimit.connection()
    key = _lease_key(campaign_id, slot)
    if r.get(key) != token.encode():
        return False
    r.expire(key, int(countdown) + lease_seconds())
    campaign_dispatch_task.apply_async(
        (campaign_id, slot, token), countdown=countdown or None
    )
    return True


# --- rows -------------------------------------------------------------------------------

_RECLAIM = """
UPDATE mailops_campaignrecipient SET state = 'queued', claimed_at = NULL
WHERE campaign_id = %s AND state = 'sending' AND claimed_at < now() - %s * interval '1 second'
"""

_CLAIM = """
UPDATE mailops_campaignrecipient SET state = 'sending', claimed_at = now()
WHERE id IN (
    SELECT id FROM mailops_campaignrecipient
    WHERE campaign_id = %s AND state = 'queued'
    ORDER BY seq LIMIT %s
    FOR UPDATE SKIP LOCKED)
RETURNING id, email, data, operation_id, attempts, claimed_at
"""


def in_flight_wait(campaign_id: int) -> float:
    """Seconds until the oldest row being sent elsewhere may be reclaimed."""
    oldest = (
        CampaignRecipient.objects.filter(
            campaign_id=campaign_id, state=CampaignRecipient.State.SENDING
        )
        .order_by("claimed_at")
        .values_list("claimed_at", flat=True)
        .first()
    )
    if oldest is None:
        return 1.0
    lease = float(settings.CAMPAIGN_SENDING_LEASE_SECONDS)
    left = lease - (timezone.now() - oldest).total_seconds()
    return max(1.0, min(left + 0.5, lease))


def reclaim_stale(campaign_id: int) -> int:
    """Re-queue rows claimed by a worker that stopped (lease over); returns count.

    They keep their Operation-Id, so a resend of one ACS did accept is a no-op.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _RECLAIM, [campaign_id, int(settings.CAMPAIGN_SENDING_LEASE_SECONDS)]
        )
        return int(cursor.rowcount)


@dataclass(frozen=True)
class Claimed:
    id: int
    email: str
    data: dict[str, Any]
    operation_id: str
    attempts: int
    claimed_at: datetime


def claim(campaign_id: int, limit: int) -> list[Claimed]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM, [campaign_id, limit])
        rows = cursor.fetchall()
    return [
        Claimed(
            id=row[0],
            email=row[1],
            data=json.loads(row[2]) if isinstance(row[2], str) else row[2],
            operation_id=str(row[3]),
            attempts=int(row[4]),
            claimed_at=row[5],
        )
        for row in rows
    ]


def record(rows: list[Claimed], outcomes: list[client.BatchOutcome]) -> dict[str, int]:
    """Write a sub-batch's outcomes in one UPDATE; returns counts per new state.

    Only rows still ``sending`` under this claim are touched (fencing).
    """
    values = []
    params: list[Any] = []
    counts: dict[str, int] = {}
    for row, outcome in zip(rows, outcomes, strict=True):
        if outcome.kind == "accepted":
            state, code, message = CampaignRecipient.State.ACCEPTED, "", ""
        elif outcome.kind == "retryable" and (
            outcome.code == "TooManyRequests"
            or outcome.retry_after
            or row.attempts + 1 < MAX_ATTEMPTS
        ):
            state, code, message = (
                CampaignRecipient.State.QUEUED,
                outcome.code,
                outcome.message,
            )
        else:
            state, code, message = (
                CampaignRecipient.State.FAILED,
                outcome.code,
                outcome.message,
            )
        counts[state] = counts.get(state, 0) + 1
        values.append("(%s, %s, %s, %s)")
        params += [row.id, state, code[:64], message[:400]]
    claimed_at = rows[0].claimed_at
    sql = f"""
        UPDATE mailops_campaignrecipient r SET
            state = v.state,
            attempts = r.attempts + 1,
            accepted_at = CASE WHEN v.state = 'accepted' THEN now()
                ELSE r.accepted_at END,
            claimed_at = CASE WHEN v.state = 'queued' THEN NULL
                ELSE r.claimed_at END,
            error_code = v.code,
            error_message = v.message
        FROM (VALUES {", ".join(values)}) AS v(id, state, code, message)
        WHERE r.id = v.id::bigint AND r.state = 'sending' AND r.claimed_at = %s
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [*params, claimed_at])
    return counts


# --- one run ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DispatchResult:
    """How a run ended: ``again`` (more work, continue now), ``later`` (wait
    ``countdown`` s), ``done`` (nothing left for this slot) or ``superseded``."""

    status: str
    countdown: float = 0.0
    sent: int = 0
    note: str = ""


@dataclass
class _Gate:
    state: str
    blocked: str
    wait: float = 0.0
    note: str = ""


def _gate(campaign: Campaign) -> _Gate:
    """Whether the campaign may send now (re-read before every sub-batch)."""
    campaign.refresh_from_db(
        fields=[
            "state",
            "pause_reason",
            "scheduled_at",
            "window_start_hour",
            "window_end_hour",
            "window_weekdays",
            "rate_cap_per_minute",
        ]
    )
    blocked = services.blocked_reason()
    gate = _Gate(state=campaign.state, blocked=blocked)
    if campaign.state != Campaign.State.RUNNING:
        return gate
    # A guardrail hold shows on the campaign and lifts by itself.
    if blocked != campaign.pause_reason:
        Campaign.objects.filter(pk=campaign.pk, state=Campaign.State.RUNNING).update(
            pause_reason=blocked[:200]
        )
        campaign.pause_reason = blocked[:200]
    if blocked:
        gate.wait, gate.note = HOLD_RECHECK_SECONDS, "blocked"
        return gate
    now = timezone.now()
    opens = send_window.next_open(campaign, now)
    if opens is None:
        gate.wait, gate.note = MAX_WINDOW_SLEEP, "window"
    elif opens > now:
        gate.wait = min(MAX_WINDOW_SLEEP, (opens - now).total_seconds() + 1)
        gate.note = "window"
    return gate


def _limiter(campaign: Campaign, fp: AcsFootprint) -> ratelimit.Limiter:
    return ratelimit.Limiter(
        resource_id=fp.communication_service_id,
        per_minute=fp.quota_per_minute,
        per_hour=fp.quota_per_hour,
        campaign_key=f"{connection.schema_name}:{campaign.pk}",
        campaign_per_minute=campaign.rate_cap_per_minute,
    )


class _Run:
    """State of one dispatcher run: event loop, SDK client, template, limiter."""

    def __init__(self, campaign: Campaign, fp: AcsFootprint) -> None:
        self.campaign = campaign
        self.limiter = _limiter(campaign, fp)
        self.message = rendering.compile_campaign(campaign)
        self.attachments = services.attachments_payload(campaign)
        self.loop = asyncio.new_event_loop()
        self.sender = client.BatchSender(
            services._connection_string(fp),
            concurrency=int(settings.CAMPAIGN_SEND_CONCURRENCY),
        )
        self.loop.run_until_complete(self.sender.__aenter__())

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.sender.__aexit__(None, None, None))
        finally:
            self.loop.close()

    def send(self, rows: list[Claimed]) -> list[client.BatchOutcome]:
        batch = []
        for row in rows:
            rendered = self.message.render(row.data)
            batch.append(
                client.BatchMessage(
                    operation_id=row.operation_id,
                    message=services.acs_message(
                        self.campaign, rendered, [row.email], self.attachments
                    ),
                )
            )
        return self.loop.run_until_complete(self.sender.send(batch))


def campaign_dispatch(
    *, campaign_id: int, slot: int, token: str, budget_seconds: float | None = None
) -> DispatchResult:
    """Send the campaign's queued recipients for up to ``budget_seconds``.

    Returns what the caller (the task) should do next; see DispatchResult.
    Raises AzureError only when the connection string cannot be read.
    """
    if not _lease_renew(campaign_id, slot, token):
        return DispatchResult("superseded")
    budget = float(budget_seconds or settings.CAMPAIGN_TASK_SECONDS)
    deadline = time.monotonic() + budget
    campaign = (
        Campaign.objects.select_related("sender__domain").filter(pk=campaign_id).first()
    )
    if campaign is None:
        return DispatchResult("done")
    if campaign.state == Campaign.State.SCHEDULED:
        services.campaign_start_due(campaign_id)
        campaign.refresh_from_db()
        if campaign.state == Campaign.State.SCHEDULED:
            return DispatchResult("done", note="scheduled")
    reclaim_stale(campaign_id)
    fp = services.ready_footprint_or_none()
    if fp is None:
        return DispatchResult("later", HOLD_RECHECK_SECONDS, note="footprint")
    run: _Run | None = None
    sent = 0
    try:
        while True:
            gate = _gate(campaign)
            if gate.state == Campaign.State.CANCELLED:
                services.sweep_cancelled(campaign_id)
                return DispatchResult("done", sent=sent, note="cancelled")
            if gate.state != Campaign.State.RUNNING:
                return DispatchResult("done", sent=sent, note=gate.state)
            if gate.wait:
                return DispatchResult("later", gate.wait, sent=sent, note=gate.note)
            if time.monotonic() >= deadline:
                return DispatchResult("again", sent=sent)
            if not _lease_renew(campaign_id, slot, token):
                return DispatchResult("superseded", sent=sent)
            if run is None:
                try:
                    run = _Run(campaign, fp)
                except AzureError as exc:
                    # listKeys failed (throttled or down): try again shortly.
                    return DispatchResult(
                        "later", HOLD_RECHECK_SECONDS, sent=sent, note=str(exc)[:200]
                    )
            granted, wait = run.limiter.acquire(SUB_BATCH)
            if not granted:
                if wait > MAX_INLINE_WAIT:
                    return DispatchResult("later", wait, sent=sent, note="rate")
                time.sleep(wait)
                continue
            rows = claim(campaign_id, granted)
            if len(rows) < granted:
                run.limiter.release(granted - len(rows))
            if not rows:
                if services.campaign_finish_if_done(campaign_id):
                    return DispatchResult("done", sent=sent, note="completed")
                # Rows are in flight elsewhere; if their worker died, they come
                # back when their lease ends: look again then, so the campaign
                # finishes without waiting for the beat tick.
                return DispatchResult(
                    "later", in_flight_wait(campaign_id), sent=sent, note="in flight"
                )
            outcomes = run.send(rows)
            counts = record(rows, outcomes)
            sent += counts.get(CampaignRecipient.State.ACCEPTED, 0)
            throttled = [o.retry_after for o in outcomes if o.retry_after]
            if throttled:
                run.limiter.cool_down(max(throttled))
    finally:
        if run is not None:
            run.close()


def campaign_dispatch_step(*, campaign_id: int, slot: int, token: str) -> str:
    """Run once and arrange what follows (continue, sleep or stop); returns the
    run's status. Used by the task."""
    result = campaign_dispatch(campaign_id=campaign_id, slot=slot, token=token)
    if result.status == "again":
        _continue(campaign_id, slot, token, 0)
    elif result.status == "later":
        _continue(campaign_id, slot, token, result.countdown)
    elif result.status == "done":
        _lease_release(campaign_id, slot, token)
    logger.info(
        "campaign %s slot %s: %s (%s sent) %s",
        campaign_id,
        slot,
        result.status,
        result.sent,
        result.note,
    )
    return result.status


def campaigns_tick() -> dict[str, int]:
    """Beat housekeeping of one tenant: start scheduled campaigns whose time has
    come, re-queue rows of dead workers, restart slots whose lease lapsed, and
    sweep cancelled campaigns."""
    now = timezone.now()
    started = 0
    for pk in Campaign.objects.filter(
        state=Campaign.State.SCHEDULED, scheduled_at__lte=now
    ).values_list("pk", flat=True):
        started += int(services.campaign_start_due(pk))
    reclaimed = kicked = 0
    for pk in Campaign.objects.filter(state=Campaign.State.RUNNING).values_list(
        "pk", flat=True
    ):
        reclaimed += reclaim_stale(pk)
        kicked += campaign_kick(pk, only_missing=True)
    for pk in (
        CampaignRecipient.objects.filter(
            campaign__state=Campaign.State.CANCELLED,
            state=CampaignRecipient.State.QUEUED,
        )
        .values_list("campaign_id", flat=True)
        .distinct()
    ):
        services.sweep_cancelled(pk)
    return {"started": started, "reclaimed": reclaimed, "kicked": kicked}


def has_live_campaigns() -> bool:
    return Campaign.objects.filter(
        state__in=[Campaign.State.RUNNING, Campaign.State.SCHEDULED]
    ).exists()
