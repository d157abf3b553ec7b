"""Campaign services and the dispatcher, in-process against the emulator.

The worker flows (several processes, SIGKILL, faults) are in
tests/integration/test_campaign_worker.py.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tests.mailops.campaign_data import (
    clear_limiter_keys,
    make_campaign,
    make_list,
    make_sender,
    outbox_ops,
    raise_limits,
    recipients_per_address,
    run_inline,
)
from tests.mailops.conftest import OWNER_CTX

pytestmark = pytest.mark.emulator


@pytest.fixture
def env(acs, verified_domain):
    emu, fp = acs
    clear_limiter_keys()
    with schema_context("alpha"):
        raise_limits(emu, fp)
        fp.refresh_from_db()
        sender = make_sender(verified_domain)
    yield emu, fp, sender
    connection.set_schema_to_public()


def _counts(campaign) -> dict[str, int]:
    from mailops.models import CampaignRecipient

    out: dict[str, int] = {}
    for state in CampaignRecipient.objects.filter(campaign=campaign).values_list(
        "state", flat=True
    ):
        out[state] = out.get(state, 0) + 1
    return out


def _snapshot(campaign):
    from mailops.models import Campaign, CampaignRecipient
    from tenants.accounts.models import AuditEvent

    fresh = Campaign.objects.get(pk=campaign.pk)
    return (
        fresh.state,
        fresh.total_recipients,
        CampaignRecipient.objects.count(),
        AuditEvent.objects.count(),
    )


# --- checks -----------------------------------------------------------------------------


def test_bad_input_is_refused_and_changes_nothing(env, english):
    from mailops.campaigns import services
    from mailops.models import (
        CampaignAttachment,
        RecipientList,
        SenderAddress,
        SendingDomain,
    )

    emu, _fp, sender = env
    with schema_context("alpha"):
        ok_list = make_list(3)
        cases = []
        # a sender without a sender username in ACS
        pending = SenderAddress.objects.create(
            domain=sender.domain, username="pending", state="creating"
        )
        cases.append((make_campaign(pending, ok_list), "is not active in Azure yet"))
        # a sender on a domain that is not verified
        unverified = SendingDomain.objects.create(
            name="unverified.alpha.example",
            display_name="unverified.alpha.example",
            state="created",
        )
        other = SenderAddress.objects.create(
            domain=unverified, username="info", state="active"
        )
        cases.append((make_campaign(other, ok_list), "is not verified"))
        # merge fields missing from the list
        cases.append(
            (
                make_campaign(sender, ok_list, body_text="{{ 住所 }} {{会社名}}"),
                "{{ 住所 }}",
            )
        )
        # a list that is not imported, and an empty one
        draft_list = make_list(2, name="未確定")
        RecipientList.objects.filter(pk=draft_list.pk).update(state="validated")
        draft_list.refresh_from_db()
        cases.append((make_campaign(sender, draft_list), "has not been imported"))
        cases.append((make_campaign(sender, make_list(0)), "has no recipients"))
        # over 10 MB with the attachment in base64 (8 MB raw)
        big = make_campaign(sender, ok_list)
        CampaignAttachment.objects.create(
            campaign=big,
            name="資料.pdf",
            content_type="application/pdf",
            size=8 * 1024 * 1024,
            content=b"0" * (8 * 1024 * 1024),
        )
        cases.append((big, "at most 10 MB"))
        # not a draft
        done = make_campaign(sender, ok_list, state="completed")
        cases.append((done, "Only a draft campaign"))
        sent_before = emu.admin("/counters")["accepted_sends"]
        for campaign, expected in cases:
            before = _snapshot(campaign)
            errors = services.campaign_check(campaign)
            assert any(expected in e for e in errors), (expected, errors)
            with pytest.raises(services.CampaignRefused) as refused:
                services.campaign_queue(campaign, OWNER_CTX)
            assert refused.value.errors == errors
            assert _snapshot(campaign) == before
        assert emu.admin("/counters")["accepted_sends"] == sent_before


def test_test_send_to_more_than_fifty_is_refused(env, english):
    from mailops.campaigns import services

    emu, _fp, sender = env
    with schema_context("alpha"):
        campaign = make_campaign(sender, make_list(2))
        sent_before = emu.admin("/counters")["accepted_sends"]
        addresses = [f"t{i}@delivered.example" for i in range(51)]
        with pytest.raises(services.CampaignRefused) as refused:
            services.campaign_send_test(campaign, addresses, OWNER_CTX)
        assert refused.value.errors == [
            "ACS accepts at most 50 recipients in one message; you entered 51."
        ]
        assert emu.admin("/counters")["accepted_sends"] == sent_before


def test_test_send_renders_the_first_row_with_a_prefix(env, english):
    from mailops.campaigns import services

    emu, fp, sender = env
    with schema_context("alpha"):
        campaign = make_campaign(sender, make_list(2))
        op_id = services.campaign_send_test(
            campaign, ["me@delivered.example", "boss@delivered.example"], OWNER_CTX
        )
        op = emu.admin(f"/outbox/{op_id}")
        marker = campaign.subject.split()[-1]
        assert op["subject"] == f"[TEST] 会社0 様へのお知らせ {marker}"
        assert op["to"] == ["me@delivered.example", "boss@delivered.example"]
        assert op["html"] == "<p>会社0 担当0 様</p>"
        # a test send is not a campaign send: the campaign stays a draft
        campaign.refresh_from_db()
        assert campaign.state == "draft"


# --- queueing ---------------------------------------------------------------------------


def test_queue_copies_the_list_in_one_statement(env):
    from mailops.campaigns import services
    from mailops.models import CampaignRecipient
    from tenants.accounts.models import AuditEvent

    _emu, _fp, sender = env
    with schema_context("alpha"):
        campaign = make_campaign(sender, make_list(5))
        campaign = services.campaign_queue(campaign, OWNER_CTX)
        assert campaign.state == "running"
        assert campaign.total_recipients == 5
        rows = list(CampaignRecipient.objects.filter(campaign=campaign).order_by("seq"))
        assert [(r.seq, r.email) for r in rows] == [
            (i + 1, f"user{i}@delivered.example") for i in range(5)
        ]
        # deterministic Operation-Ids, the same in SQL and Python
        assert [r.operation_id for r in rows] == [
            uuid.uuid3(campaign.uuid, str(i + 1)) for i in range(5)
        ]
        assert rows[0].data == {
            "会社名": "会社0",
            "担当者": "担当0",
            "メール": "user0@delivered.example",
        }
        assert {r.state for r in rows} == {"queued"}
        event = AuditEvent.objects.get(action="campaign.queue")
        assert event.after == {
            "state": "running",
            "recipients": 5,
            "scheduled_at": None,
        }


def test_a_scheduled_campaign_starts_when_due(env):
    from mailops.campaigns import services
    from mailops.models import Campaign

    _emu, _fp, sender = env
    with schema_context("alpha"):
        campaign = make_campaign(sender, make_list(2))
        later = timezone.now() + timedelta(hours=1)
        campaign = services.campaign_queue(campaign, OWNER_CTX, start_at=later)
        assert campaign.state == "scheduled"
        assert services.campaign_start_due(campaign.pk) is False
        assert run_inline(campaign)[-1].note == "scheduled"
        Campaign.objects.filter(pk=campaign.pk).update(
            scheduled_at=timezone.now() - timedelta(seconds=1)
        )
        assert services.campaign_start_due(campaign.pk) is True
        assert Campaign.objects.get(pk=campaign.pk).state == "running"


# --- the dispatcher ---------------------------------------------------------------------


def test_every_recipient_is_sent_exactly_once(env):
    from mailops.campaigns import services
    from mailops.models import Campaign

    emu, fp, sender = env
    with schema_context("alpha"):
        campaign = make_campaign(
            sender,
            make_list(40),
            body_html="<p>{{ 会社名 }}</p>",
        )
        from mailops.models import ListRecipient

        ListRecipient.objects.filter(email="user3@delivered.example").update(
            data={"会社名": "<script>alert(1)</script>", "担当者": ""}
        )
        campaign = services.campaign_queue(campaign, OWNER_CTX)
        results = run_inline(campaign)
        assert results[-1].status == "done"
        assert sum(r.sent for r in results) == 40
        assert _counts(campaign) == {"accepted": 40}
        assert Campaign.objects.get(pk=campaign.pk).state == "completed"
        marker = campaign.subject.split()[-1]
        ops = outbox_ops(emu, fp.communication_service_id, marker)
        per_address = recipients_per_address(ops)
        assert len(per_address) == 40
        assert set(per_address.values()) == {1}
        by_to = {op["to"][0]: op for op in ops}
        assert by_to["user3@delivered.example"]["html"] == (
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
        )
        assert {op["id"] for op in ops} == {
            str(uuid.uuid3(campaign.uuid, str(i + 1))) for i in range(40)
        }
        # running again sends nothing more
        assert run_inline(campaign)[-1].sent == 0
        assert len(outbox_ops(emu, fp.communication_service_id, marker)) == 40


def test_rows_of_a_dead_worker_are_resent_with_the_same_operation_id(env, settings):
    from mailops.campaigns import services
    from mailops.models import Campaign, CampaignRecipient

    emu, fp, sender = env
    with schema_context("alpha"):
        campaign = services.campaign_queue(
            make_campaign(sender, make_list(10)), OWNER_CTX
        )
        run_inline(campaign)
        # given: three rows look claimed by a worker killed after ACS accepted them
        stale = timezone.now() - timedelta(minutes=5)
        CampaignRecipient.objects.filter(campaign=campaign, seq__lte=3).update(
            state="sending", claimed_at=stale, accepted_at=None
        )
        Campaign.objects.filter(pk=campaign.pk).update(state="running")
        counters = emu.admin("/counters")
        # when: a dispatcher runs again
        run_inline(campaign)
        # then: ACS saw the same Operation-Ids again and sent nothing twice
        after = emu.admin("/counters")
        assert after["accepted_sends"] == counters["accepted_sends"]
        assert (
            after["duplicate_operation_ids"] == counters["duplicate_operation_ids"] + 3
        )
        assert _counts(campaign) == {"accepted": 10}
        marker = campaign.subject.split()[-1]
        per_address = recipients_per_address(
            outbox_ops(emu, fp.communication_service_id, marker)
        )
        assert sorted(per_address.values()) == [1] * 10


def test_pause_resume_and_cancel(env):
    from mailops.campaigns import services
    from mailops.models import Campaign, CampaignRecipient

    emu, _fp, sender = env
    with schema_context("alpha"):
        campaign = services.campaign_queue(
            make_campaign(sender, make_list(30)), OWNER_CTX
        )
        # paused: a dispatcher stops before sending anything
        services.campaign_pause(campaign, OWNER_CTX)
        result = run_inline(campaign)[-1]
        assert (result.status, result.sent, result.note) == ("done", 0, "paused")
        assert _counts(campaign) == {"queued": 30}
        with pytest.raises(services.CampaignRefused):
            services.campaign_pause(campaign, OWNER_CTX)
        # resumed: the first ten go out, then the user cancels
        services.campaign_resume(campaign, OWNER_CTX)
        CampaignRecipient.objects.filter(campaign=campaign, seq__gt=10).update(
            state="sending", claimed_at=timezone.now()
        )
        run_inline(campaign)
        CampaignRecipient.objects.filter(campaign=campaign, state="sending").update(
            state="queued", claimed_at=None
        )
        assert _counts(campaign) == {"accepted": 10, "queued": 20}
        services.campaign_cancel(campaign, OWNER_CTX)
        assert _counts(campaign) == {"accepted": 10, "cancelled": 20}
        assert Campaign.objects.get(pk=campaign.pk).state == "cancelled"
        with pytest.raises(services.CampaignRefused):
            services.campaign_resume(campaign, OWNER_CTX)
        from tenants.accounts.models import AuditEvent

        assert list(
            AuditEvent.objects.filter(target_id=str(campaign.pk))
            .order_by("pk")
            .values_list("action", flat=True)
        ) == ["campaign.queue", "campaign.pause", "campaign.resume", "campaign.cancel"]


def test_a_bulk_send_hold_stops_sending_and_shows_why(env, english):
    from mailops.campaigns import services
    from mailops.models import Campaign
    from tenants.models import Customer

    _emu, _fp, sender = env
    with schema_context("alpha"):
        campaign = services.campaign_queue(
            make_campaign(sender, make_list(5)), OWNER_CTX
        )
        Customer.objects.filter(schema_name="alpha").update(
            bulk_sends_blocked_reason="月間送信上限に達しました"
        )
        result = run_inline(campaign)[-1]
        assert (result.status, result.sent, result.note) == ("later", 0, "blocked")
        campaign = Campaign.objects.get(pk=campaign.pk)
        assert campaign.pause_reason == "月間送信上限に達しました"
        assert services.campaign_progress(campaign).note == (
            "Sending is on hold: 月間送信上限に達しました"
        )
        # lifted: sending resumes by itself
        Customer.objects.filter(schema_name="alpha").update(
            bulk_sends_blocked_reason=""
        )
        assert sum(r.sent for r in run_inline(campaign)) == 5
        assert Campaign.objects.get(pk=campaign.pk).pause_reason == ""


def test_outside_the_send_window_nothing_is_sent(env, english):
    from mailops.campaigns import services, window

    _emu, _fp, sender = env
    now_jst = window.jst(timezone.now())
    closed_from = (now_jst.hour + 1) % 24
    with schema_context("alpha"):
        campaign = make_campaign(
            sender,
            make_list(3),
            window_start_hour=closed_from,
            window_end_hour=(closed_from + 1) % 24,
        )
        campaign = services.campaign_queue(campaign, OWNER_CTX)
        result = run_inline(campaign)[-1]
        assert (result.status, result.sent, result.note) == ("later", 0, "window")
        assert 0 < result.countdown <= 3601
        assert services.campaign_progress(campaign).note.startswith(
            "Outside the send window; resumes at"
        )


def test_progress_counts_rate_and_eta(env):
    from mailops.campaigns import services
    from mailops.models import CampaignRecipient

    _emu, _fp, sender = env
    with schema_context("alpha"):
        campaign = services.campaign_queue(
            make_campaign(sender, make_list(30)), OWNER_CTX
        )
        started = timezone.now() - timedelta(seconds=10)
        type(campaign).objects.filter(pk=campaign.pk).update(started_at=started)
        campaign.refresh_from_db()
        CampaignRecipient.objects.filter(campaign=campaign, seq__lte=20).update(
            state="accepted", accepted_at=timezone.now()
        )
        CampaignRecipient.objects.filter(campaign=campaign, seq=1).update(
            state="delivered"
        )
        with CaptureQueriesContext(connection) as captured:
            progress = services.campaign_progress(campaign)
        statements = [
            q["sql"] for q in captured if not q["sql"].startswith("SET search_path")
        ]
        assert len(statements) == 2  # the GROUP BY + the tenant's hold
        assert progress.counts["queued"] == 10
        assert progress.counts["accepted"] == 19
        assert progress.counts["delivered"] == 1
        assert (progress.total, progress.sent, progress.percent) == (30, 20, 66)
        assert 1.9 <= progress.current_rate <= 2.0
        assert 5 <= progress.eta_seconds <= 6


def test_delivery_results_and_usage_come_from_analytics(env):
    from billing.models import UsageDay
    from mailops.analytics.ingest import ingest_tenant, jst_day
    from mailops.campaigns import services
    from mailops.models import Campaign, MessageRecord

    emu, _fp, sender = env
    with schema_context("alpha"):
        recipient_list = make_list(6)
        from mailops.models import ListRecipient

        for i in (1, 4):
            ListRecipient.objects.filter(email=f"user{i}@delivered.example").update(
                email=f"user{i}@bounce.example"
            )
        campaign = services.campaign_queue(
            make_campaign(sender, recipient_list), OWNER_CTX
        )
        run_inline(campaign)
        assert _counts(campaign) == {"accepted": 6}
        # when: analytics ingests the resource's logs (the hook reconciles)
        ingest_tenant(until=timezone.now() + timedelta(minutes=1), sleep=lambda s: None)
        moved = services.campaigns_reconcile_active()
        # then: recipients carry their delivery results
        assert moved == 6
        assert _counts(campaign) == {"delivered": 4, "bounced": 2}
        assert Campaign.objects.get(pk=campaign.pk).state == "completed"
        # and every send is in the usage ledger like any other mail
        op_ids = [str(uuid.uuid3(campaign.uuid, str(i + 1))) for i in range(6)]
        records = MessageRecord.objects.filter(message_id__in=op_ids)
        assert records.count() == 6
        today = jst_day(timezone.now())
        usage = UsageDay.objects.get(tenant__schema_name="alpha", day=today)
        day_records = [
            r for r in MessageRecord.objects.all() if jst_day(r.sent_at) == today
        ]
        assert usage.billable_emails == sum(r.unique_recipients for r in day_records)
        assert usage.billable_emails >= 6
        assert emu is not None


def test_a_refused_message_fails_without_retries(env):
    from mailops.campaigns import services
    from mailops.models import CampaignRecipient, ListRecipient

    emu, _fp, sender = env
    with schema_context("alpha"):
        recipient_list = make_list(3)
        # An address the list import would have refused; ACS answers 400.
        ListRecipient.objects.filter(email="user1@delivered.example").update(
            email="not an address"
        )
        campaign = services.campaign_queue(
            make_campaign(sender, recipient_list), OWNER_CTX
        )
        run_inline(campaign)
        assert _counts(campaign) == {"accepted": 2, "failed": 1}
        failed = CampaignRecipient.objects.get(campaign=campaign, state="failed")
        assert failed.attempts == 1
        assert failed.error_code != ""
        assert failed.accepted_at is None


def test_an_event_grid_batch_reconciles_campaign_recipients(
    env, django_capture_on_commit_callbacks
):
    from mailops.analytics.eventgrid import eventgrid_receive
    from mailops.campaigns import services
    from mailops.models import CampaignRecipient

    _emu, _fp, sender = env
    with schema_context("alpha"):
        campaign = services.campaign_queue(
            make_campaign(sender, make_list(2)), OWNER_CTX
        )
        run_inline(campaign)
        op = str(uuid.uuid3(campaign.uuid, "2"))
        at = timezone.now()
        event = {
            "id": str(uuid.uuid4()),
            "topic": "/subscriptions/x/resourceGroups/rg/providers/"
            "Microsoft.Communication/communicationServices/acs-alpha",
            "subject": f"sender/{sender.address}/message/{op}",
            "eventType": "Microsoft.Communication.EmailDeliveryReportReceived",
            "eventTime": at.isoformat(),
            "dataVersion": "1.0",
            "metadataVersion": "1",
            "data": {
                "sender": sender.address,
                "recipient": "user1@delivered.example",
                "messageId": op,
                "status": "Bounced",
                "deliveryStatusDetails": {"statusMessage": "550 5.1.1 no such user"},
                "deliveryAttemptTimeStamp": at.isoformat().replace("+00:00", "Z"),
            },
        }
        # when: the webhook applies a batch (the reconcile is queued on commit)
        with django_capture_on_commit_callbacks(execute=True):
            assert eventgrid_receive([event]) == 1
        # then
        row = CampaignRecipient.objects.get(campaign=campaign, seq=2)
        assert (row.state, row.delivery_status) == ("bounced", "Bounced")
        assert _counts(campaign) == {"accepted": 1, "bounced": 1}
