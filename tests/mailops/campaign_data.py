"""Builders for campaign tests: a ready list, an active sender, a draft campaign,
and helpers that drive the engine in-process or read the emulator's outbox."""

from __future__ import annotations

import uuid
from collections import Counter

from django.utils import timezone
from django_tenants.utils import schema_context

from tests.mailops.conftest import OWNER_CTX

FIELDS = ["会社名", "担当者"]


def clear_limiter_keys() -> None:
    """Forget rate-limiter buckets, cooldowns and dispatcher leases of earlier
    tests (they share the test Redis database)."""
    from mailops.campaigns import ratelimit

    ratelimit.reset_connection()
    r = ratelimit.connection()
    for pattern in ("kk:rl:*", "kk:cmp:*"):
        keys = list(r.scan_iter(pattern, count=1000))
        if keys:
            r.delete(*keys)


def make_sender(verified_domain, username: str = "info"):
    from mailops.services import domains

    return domains.sender_add(
        ctx=OWNER_CTX, domain=verified_domain, username=username, display_name="通知"
    )


def make_list(n: int, *, domain: str = "delivered.example", name: str = "顧客"):
    from mailops.models import ListRecipient, RecipientList

    recipient_list = RecipientList.objects.create(
        name=name,
        state=RecipientList.State.READY,
        email_column="メール",
        fields=FIELDS,
        total_rows=n,
        valid_count=n,
        imported_at=timezone.now(),
    )
    ListRecipient.objects.bulk_create(
        ListRecipient(
            recipient_list=recipient_list,
            row_number=i + 2,
            email=f"user{i}@{domain}",
            email_key=f"user{i}@{domain}",
            data={"会社名": f"会社{i}", "担当者": f"担当{i}"},
        )
        for i in range(n)
    )
    return recipient_list


def make_campaign(sender, recipient_list, **kwargs):
    from mailops.models import Campaign

    defaults = {
        "name": "お知らせ",
        "subject": "{{ 会社名 }} 様へのお知らせ " + uuid.uuid4().hex[:8],
        "body_text": "{{会社名}} {{ 担当者 }} 様\nいつもありがとうございます。",
        "body_html": "<p>{{ 会社名 }} {{ 担当者 }} 様</p>",
    }
    defaults.update(kwargs)
    return Campaign.objects.create(
        sender=sender, recipient_list=recipient_list, **defaults
    )


def raise_limits(emu, fp, per_minute: int = 600_000, per_hour: int = 36_000_000):
    """Raise the resource's limits in the emulator and in the footprint alike."""
    from mailops.models import AcsFootprint

    emu.admin(
        "/rate-tier",
        "POST",
        {
            "resourceId": fp.communication_service_id,
            "perMinute": per_minute,
            "perHour": per_hour,
            "applyToManaged": True,
        },
    )
    AcsFootprint.objects.filter(pk=fp.pk).update(
        quota_tier="raised", quota_per_minute=per_minute, quota_per_hour=per_hour
    )


def run_inline(campaign, *, slot: int = 0, budget: float = 30):
    """Drive one dispatcher slot in this process until it stops; returns results."""
    from mailops.campaigns import ratelimit, sender

    token = uuid.uuid4().hex
    ratelimit.connection().set(sender._lease_key(campaign.pk, slot), token, ex=120)
    results = []
    while True:
        result = sender.campaign_dispatch(
            campaign_id=campaign.pk, slot=slot, token=token, budget_seconds=budget
        )
        results.append(result)
        if result.status != "again":
            return results


def outbox_ops(emu, resource_id: str, subject_marker: str) -> list[dict]:
    """Operations the emulator accepted for this resource whose subject has the
    marker (campaigns of other tests excluded)."""
    items = emu.admin(f"/outbox?resourceId={resource_id}&limit=1000000")["value"]
    return [op for op in items if subject_marker in (op.get("subject") or "")]


def recipients_per_address(ops: list[dict]) -> Counter:
    return Counter(address.lower() for op in ops for address in op["to"])


def in_alpha(fn):
    def wrapper(*args, **kwargs):
        with schema_context("alpha"):
            return fn(*args, **kwargs)

    return wrapper
