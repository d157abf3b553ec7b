"""The campaign engine on real Celery workers (Redis broker, test database, emulator).

Worker processes are started and killed here (SIGKILL), so these tests own them
rather than using the one-worker ``worker`` fixture. Leases are short (a few
seconds) so a dead worker's recipients come back quickly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from mailops.campaigns.services import operation_id_for
from portal.celery import app as celery_app
from tests.mailops.campaign_data import (
    clear_limiter_keys,
    make_campaign,
    make_list,
    make_sender,
    outbox_ops,
    raise_limits,
    recipients_per_address,
)
from tests.mailops.conftest import OWNER_CTX, acs, verified_domain  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.emulator]

ROOT = Path(__file__).resolve().parents[2]


class Workers:
    """Celery worker processes of one test; every one is stopped at the end."""

    def __init__(self, emu, tmp_path: Path) -> None:
        db = settings.DATABASES["default"]
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.test_settings",
            "DATABASE_URL": (
                f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            ),
            "PORTAL_TEST_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "AZURE_TARGET": "emulator",
            "AZURE_EMULATOR_URL": emu.url,
            "AZURE_CA_BUNDLE": str(emu.ca_path),
            "EMULATOR_DNS": f"127.0.0.1:{emu.dns_port}",
            "EMULATOR_SMTP": f"127.0.0.1:{emu.smtp_port}",
            "PORTAL_TASK_RETRY_SECONDS": "1",
            "ANALYTICS_INGEST_LAG_SECONDS": "0",
            # Short runs and leases, so a killed worker's rows return in seconds.
            "CAMPAIGN_TASK_SECONDS": "2",
            "CAMPAIGN_SENDING_LEASE_SECONDS": "3",
            "CAMPAIGN_DISPATCHERS": "2",
        }
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp_path / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "-n",
                f"{name}@%h",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in self.tmp_path.glob("*.log")
        )

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            proc.wait(timeout=10)


@pytest.fixture
def workers(acs, verified_domain, tmp_path):  # noqa: F811
    emu, fp = acs
    # Drop tasks an earlier, aborted run may have left in the test queue.
    celery_app.connection_for_write().default_channel.client.delete("celery")
    clear_limiter_keys()
    with schema_context("alpha"):
        raise_limits(emu, fp)
        fp.refresh_from_db()
        sender = make_sender(verified_domain)
    group = Workers(emu, tmp_path)
    celery_app.conf.task_always_eager = False
    try:
        yield group, emu, fp, sender
    finally:
        celery_app.conf.task_always_eager = True
        group.stop()
        emu.admin("/faults", "DELETE")
        connection.set_schema_to_public()


def _counts(campaign_id: int) -> dict[str, int]:
    from mailops.models import CampaignRecipient

    with schema_context("alpha"):
        out: dict[str, int] = {}
        for state in CampaignRecipient.objects.filter(
            campaign_id=campaign_id
        ).values_list("state", flat=True):
            out[state] = out.get(state, 0) + 1
        return out


def _wait(predicate, timeout: float, workers: Workers, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{workers.log()}")


def _queue(sender, n: int, **kwargs):
    from mailops.campaigns import services

    with schema_context("alpha"):
        campaign = make_campaign(sender, make_list(n), **kwargs)
        return services.campaign_queue(campaign, OWNER_CTX)


def _queue_scheduled(sender, n: int):
    from mailops.campaigns import services

    with schema_context("alpha"):
        campaign = make_campaign(sender, make_list(n))
        return services.campaign_queue(
            campaign, OWNER_CTX, start_at=timezone.now() + timedelta(hours=1)
        )


def _state(campaign_id: int) -> str:
    from mailops.models import Campaign

    with schema_context("alpha"):
        return Campaign.objects.get(pk=campaign_id).state


def _assert_each_sent_once(emu, fp, campaign, n: int, accepted_before: int) -> None:
    counters = emu.admin("/counters")
    assert counters["accepted_sends"] - accepted_before == n
    ops = outbox_ops(emu, fp.communication_service_id, campaign.subject.split()[-1])
    per_address = recipients_per_address(ops)
    assert len(per_address) == n
    assert set(per_address.values()) == {1}


@pytest.mark.django_db(transaction=True)
def test_sigkill_mid_campaign_loses_and_duplicates_nothing(workers):
    from mailops.campaigns.tasks import campaigns_tick_all_task
    from mailops.models import CampaignRecipient

    group, emu, fp, sender = workers
    n = 400
    # Slow each send down (300 ms) so a worker always has a sub-batch in flight.
    emu.admin(
        "/faults",
        "POST",
        {"endpoint": "email.send", "kind": "delay", "rate": 1.0, "delay_ms": 300},
    )
    before = emu.admin("/counters")
    # One worker at first, so the rows in flight when it dies are its own.
    first = group.start("w1")
    campaign = _queue(sender, n, rate_cap_per_minute=2400)
    # when: the worker is killed while it has recipients in flight
    _wait(
        lambda: (
            _counts(campaign.pk).get("accepted", 0) >= 150
            and _counts(campaign.pk).get("sending", 0) > 0
        ),
        60,
        group,
        "the campaign to be half way",
    )
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = timezone.now()
    time.sleep(1.5)
    with schema_context("alpha"):
        orphans = CampaignRecipient.objects.filter(
            campaign=campaign,
            state="sending",
            claimed_at__lt=killed_at,
        ).count()
    # and started again, with a second worker beside it
    group.start("w1-again")
    group.start("w2")
    campaigns_tick_all_task.delay()
    # then: the campaign completes, every recipient accepted exactly once
    _wait(lambda: _state(campaign.pk) == "completed", 90, group, "completion")
    assert _counts(campaign.pk) == {"accepted": n}
    _assert_each_sent_once(emu, fp, campaign, n, before["accepted_sends"])
    after = emu.admin("/counters")
    # the killed worker held rows mid-batch; they were re-sent with their
    # Operation-Id, and ACS deduplicated whatever it had already accepted
    assert orphans > 0, group.log()
    assert (
        after["duplicate_operation_ids"] - before["duplicate_operation_ids"] <= orphans
    )


@pytest.mark.django_db(transaction=True)
def test_faults_429_500_and_resets_still_send_each_recipient_once(workers):
    group, emu, fp, sender = workers
    n = 300
    for kind, rate in (("429", 0.20), ("500", 0.05), ("reset", 0.02)):
        emu.admin(
            "/faults",
            "POST",
            {"endpoint": "email.send", "kind": kind, "rate": rate, "retry_after": 1},
        )
    before = emu.admin("/counters")
    group.start("w1")
    campaign = _queue(sender, n)
    _wait(lambda: _state(campaign.pk) == "completed", 90, group, "completion")
    faults = {r["kind"]: r["hits"] for r in emu.admin("/faults")["value"]}
    assert faults["429"] > 0 and faults["500"] > 0 and faults["reset"] > 0, faults
    assert _counts(campaign.pk) == {"accepted": n}
    _assert_each_sent_once(emu, fp, campaign, n, before["accepted_sends"])


@pytest.mark.django_db(transaction=True)
def test_pause_resume_and_cancel_take_effect_within_seconds(workers):
    from mailops.campaigns import services
    from mailops.models import Campaign

    group, emu, fp, sender = workers
    n = 300
    before = emu.admin("/counters")
    group.start("w1")
    campaign = _queue(sender, n, rate_cap_per_minute=1200)
    _wait(lambda: _counts(campaign.pk).get("accepted", 0) >= 130, 60, group, "sends")
    with schema_context("alpha"):
        services.campaign_pause(Campaign.objects.get(pk=campaign.pk), OWNER_CTX)
    time.sleep(2)
    paused = _counts(campaign.pk)
    assert paused.get("sending", 0) == 0, paused
    time.sleep(1.5)
    assert _counts(campaign.pk) == paused
    with schema_context("alpha"):
        services.campaign_resume(Campaign.objects.get(pk=campaign.pk), OWNER_CTX)
    _wait(
        lambda: _counts(campaign.pk).get("accepted", 0) >= paused["accepted"] + 20,
        30,
        group,
        "sending to resume",
    )
    with schema_context("alpha"):
        services.campaign_cancel(Campaign.objects.get(pk=campaign.pk), OWNER_CTX)
    time.sleep(2)
    final = _counts(campaign.pk)
    assert set(final) == {"accepted", "cancelled"}, final
    assert final["accepted"] + final["cancelled"] == n
    assert final["cancelled"] > 0
    time.sleep(1)
    assert _counts(campaign.pk) == final
    accepted = emu.admin("/counters")["accepted_sends"] - before["accepted_sends"]
    assert accepted == final["accepted"]


@pytest.mark.django_db(transaction=True)
def test_delivery_results_arrive_through_the_ingest_task(workers):
    from mailops.tasks import analytics_ingest_task

    group, emu, fp, sender = workers
    group.start("w1")
    campaign = _queue(sender, 30)
    _wait(lambda: _state(campaign.pk) == "completed", 60, group, "completion")
    with schema_context("alpha"):
        analytics_ingest_task.delay()
    _wait(
        lambda: _counts(campaign.pk) == {"delivered": 30},
        60,
        group,
        "delivery results",
    )


@pytest.mark.django_db(transaction=True)
def test_the_beat_tick_starts_a_due_scheduled_campaign(workers):
    from mailops.campaigns.tasks import campaigns_tick_all_task
    from mailops.models import Campaign

    group, emu, fp, sender = workers
    group.start("w1")
    campaign = _queue_scheduled(sender, 10)
    assert _state(campaign.pk) == "scheduled"
    with schema_context("alpha"):
        Campaign.objects.filter(pk=campaign.pk).update(
            scheduled_at=timezone.now() - timedelta(seconds=1)
        )
    # when: beat's tick runs (public schema)
    connection.set_schema_to_public()
    campaigns_tick_all_task.delay()
    # then: the campaign started and was sent
    _wait(lambda: _state(campaign.pk) == "completed", 60, group, "completion")
    assert _counts(campaign.pk) == {"accepted": 10}


@pytest.mark.django_db(transaction=True)
def test_an_event_grid_reconcile_runs_on_the_worker(workers):
    from django.db import transaction

    from mailops.campaigns.tasks import campaigns_reconcile_soon
    from mailops.models import RecipientEvent

    group, emu, fp, sender = workers
    group.start("w1")
    campaign = _queue(sender, 5)
    _wait(lambda: _state(campaign.pk) == "completed", 60, group, "completion")
    with schema_context("alpha"):
        # given: bounces arrived through Event Grid (as eventgrid_receive stores them)
        RecipientEvent.objects.bulk_create(
            RecipientEvent(
                message_id=str(operation_id_for(campaign.uuid, seq)),
                recipient=f"user{seq - 1}@delivered.example",
                recipient_domain="delivered.example",
                status="Bounced",
                status_at=timezone.now(),
                source="eventgrid",
            )
            for seq in (1, 2)
        )
        # when: the receiver asks for a reconcile (queued on commit)
        with transaction.atomic():
            campaigns_reconcile_soon()
    # then: the worker moved exactly those recipients
    _wait(
        lambda: _counts(campaign.pk) == {"bounced": 2, "accepted": 3},
        30,
        group,
        "the reconcile task",
    )
