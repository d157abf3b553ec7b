"""Bulk-notification pages: lists, compose, preview, schedule, confirm, watch, results."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django_tenants.utils import schema_context

from mailops.campaigns import lists
from mailops.models import (
    AcsFootprint,
    Campaign,
    CampaignAttachment,
    CampaignRecipient,
    ListRecipient,
    RecipientEvent,
    RecipientList,
    SenderAddress,
    SendingDomain,
)
from tests.conftest import TENANT_A
from tests.mailops.conftest import OWNER_CTX

pytestmark = pytest.mark.django_db

CSV = (
    "メールアドレス,会社名,氏名\r\n"
    "taro@example.co.jp,株式会社山田商店,山田 太郎\r\n"
    "bad-address,壊れ商事,壊 次郎\r\n"
    "hanako@example.co.jp,<b>髙橋</b>工業㈱,髙橋 花子\r\n"
    "taro@EXAMPLE.co.jp,重複商事,重複 三郎\r\n"
)


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path, personas):
    settings.PORTAL_PRIVATE_MEDIA_DIR = tmp_path / "private"
    with schema_context(TENANT_A):
        CampaignRecipient.objects.all().delete()
        CampaignAttachment.objects.all().delete()
        Campaign.objects.all().delete()
        ListRecipient.objects.all().delete()
        RecipientList.objects.all().delete()
        RecipientEvent.objects.all().delete()
        SenderAddress.objects.all().delete()
        SendingDomain.objects.all().delete()
        AcsFootprint.objects.all().delete()
        yield


def make_sender() -> SenderAddress:
    AcsFootprint.objects.create(
        subscription_id="sub",
        resource_group="rg",
        email_service_name="es",
        communication_service_name="acs",
        state="ready",
        quota_per_minute=30,
        quota_per_hour=100,
    )
    domain = SendingDomain.objects.create(
        name="mail.alpha.example",
        display_name="mail.alpha.example",
        state="verified",
        linked=True,
    )
    return SenderAddress.objects.create(
        domain=domain, username="info", display_name="アルファ", state="active"
    )


def make_ready_list() -> RecipientList:
    upload = SimpleUploadedFile("list.csv", CSV.encode("cp932"))
    rl = lists.recipient_list_upload(ctx=OWNER_CTX, name="顧客", upload=upload)
    rl = lists.recipient_list_confirm(
        ctx=OWNER_CTX,
        recipient_list=rl,
        encoding="cp932",
        email_column="メールアドレス",
    )
    return lists.recipient_list_import(ctx=OWNER_CTX, recipient_list=rl)


def make_draft(**extra) -> Campaign:
    sender = make_sender()
    rl = make_ready_list()
    return Campaign.objects.create(
        name="価格改定のお知らせ",
        sender=sender,
        recipient_list=rl,
        subject="{{ 会社名 }} 様へ価格改定のお知らせ",
        body_text="{{ 氏名 }} 様\n来月から価格が変わります。",
        body_html="<p>{{ 氏名 }} 様</p><p>{{ 会社名 }}</p>",
        **extra,
    )


def test_upload_page_flow_in_japanese(owner_a_client):
    # when a CP932 file is uploaded through the page
    response = owner_a_client.post(
        "/campaigns/lists/upload/",
        {"name": "顧客", "file": SimpleUploadedFile("顧客.csv", CSV.encode("cp932"))},
    )
    assert response.status_code == 302
    detail = owner_a_client.get(response["Location"])
    body = detail.content.decode()
    # then the guess and decoded rows are shown
    assert "Shift_JIS (CP932)" in body
    assert "株式会社山田商店" in body
    assert 'id="list-confirm"' in body
    # and another encoding can be tried (garbled rows are flagged)
    garbled = owner_a_client.get(response["Location"] + "?encoding=utf-8")
    assert "�" in garbled.content.decode()
    # when confirmed, the counts and rejected rows show
    with schema_context(TENANT_A):
        rl = RecipientList.objects.get()
    confirmed = owner_a_client.post(
        f"/campaigns/lists/{rl.pk}/confirm/",
        {"encoding": "cp932", "email_column": "メールアドレス"},
        follow=True,
    )
    body = confirmed.content.decode()
    assert 'data-count="valid">2<' in body
    assert 'data-count="invalid">1<' in body
    assert 'data-count="duplicate">1<' in body
    assert "bad-address" in body
    assert "有効な 2 行を取り込む" in body or "Import the 2 valid rows" in body
    # the rejected rows download as Excel-friendly CSV
    export = owner_a_client.get(f"/campaigns/lists/{rl.pk}/rejections/export/")
    data = b"".join(export.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    assert "bad-address" in data.decode("utf-8-sig")
    # when imported
    owner_a_client.post(f"/campaigns/lists/{rl.pk}/import/")
    with schema_context(TENANT_A):
        assert RecipientList.objects.get().state == "ready"


def test_compose_offers_only_verified_active_senders_and_ready_lists(owner_a_client):
    with schema_context(TENANT_A):
        sender = make_sender()
        other = SendingDomain.objects.create(
            name="pending.example", display_name="pending.example", state="created"
        )
        SenderAddress.objects.create(domain=other, username="no", state="active")
        rl = make_ready_list()
        RecipientList.objects.create(name="未確認リスト", state="validated")
    page = owner_a_client.get("/campaigns/new/").content.decode()
    assert sender.address in page
    assert "no@pending.example" not in page
    assert "未確認リスト" not in page
    assert 'data-insert="{{ 会社名 }}"' in page
    # when a draft is saved with a script in the HTML body
    response = owner_a_client.post(
        "/campaigns/new/",
        {
            "name": "お知らせ",
            "recipient_list": rl.pk,
            "sender": sender.pk,
            "subject": "{{ 会社名 }} 様",
            "body_text": "{{ 氏名 }} 様",
            "body_html": "<p onclick='x()'>{{ 氏名 }}</p><script>alert(1)</script>",
            "attachments": [SimpleUploadedFile("案内.pdf", b"%PDF-1.4 test")],
        },
    )
    assert response.status_code == 302
    with schema_context(TENANT_A):
        campaign = Campaign.objects.get()
        assert campaign.body_html == "<p>{{ 氏名 }}</p>"
        assert campaign.attachments.get().content_type == "application/pdf"


def test_compose_refuses_exe_and_oversized_attachments(owner_a_client):
    with schema_context(TENANT_A):
        sender = make_sender()
        rl = make_ready_list()
    base = {
        "name": "x",
        "recipient_list": rl.pk,
        "sender": sender.pk,
        "subject": "s",
        "body_text": "b",
    }
    with translation.override("en"):
        response = owner_a_client.post(
            "/campaigns/new/",
            {**base, "attachments": [SimpleUploadedFile("setup.exe", b"MZ")]},
            HTTP_ACCEPT_LANGUAGE="en",
        )
    assert response.status_code == 400
    assert ".exe" in response.content.decode()
    big = SimpleUploadedFile("big.pdf", b"0" * (8 * 1024 * 1024))
    response = owner_a_client.post("/campaigns/new/", {**base, "attachments": [big]})
    assert response.status_code == 400
    assert "10 MB" in response.content.decode()
    with schema_context(TENANT_A):
        assert Campaign.objects.count() == 0


def test_preview_escapes_merge_data_and_sandboxes_html(owner_a_client):
    with schema_context(TENANT_A):
        campaign = make_draft()
    page = owner_a_client.get(f"/campaigns/{campaign.pk}/preview/?row=2")
    body = page.content.decode()
    assert "hanako@example.co.jp" in body
    # "<b>髙橋</b>工業㈱" is data: escaped in the HTML body, then again in srcdoc
    assert 'sandbox=""' in body
    assert "&amp;lt;b&amp;gt;髙橋&amp;lt;/b&amp;gt;工業㈱" in body
    assert "<b>髙橋</b>" not in body
    found = owner_a_client.get(f"/campaigns/{campaign.pk}/preview/?q=taro@")
    assert 'data-index="1"' in found.content.decode()


def test_schedule_confirm_and_queue(owner_a_client, django_capture_on_commit_callbacks):
    with schema_context(TENANT_A):
        campaign = make_draft()
    # a cap above the resource's 30/min is refused
    response = owner_a_client.post(
        f"/campaigns/{campaign.pk}/schedule/",
        {"window": "business", "start": "now", "rate_cap_per_minute": "100"},
    )
    assert response.status_code == 400
    assert "30" in response.content.decode()
    response = owner_a_client.post(
        f"/campaigns/{campaign.pk}/schedule/",
        {
            "window": "custom",
            "start_hour": "8",
            "end_hour": "20",
            "weekdays": ["0", "1", "2", "3", "4", "5"],
            "start": "now",
            "rate_cap_per_minute": "20",
        },
    )
    assert response.status_code == 302
    with schema_context(TENANT_A):
        campaign.refresh_from_db()
        assert (campaign.window_start_hour, campaign.window_end_hour) == (8, 20)
        assert campaign.window_weekdays == [0, 1, 2, 3, 4, 5]
        assert campaign.rate_cap_per_minute == 20
    confirm = owner_a_client.get(f"/campaigns/{campaign.pk}/confirm/")
    body = confirm.content.decode()
    assert 'data-recipients="2"' in body
    assert "¥" in body
    assert 'id="send-button"' in body
    # when confirmed (workers are not run here: on-commit callbacks are dropped)
    response = owner_a_client.post(f"/campaigns/{campaign.pk}/confirm/")
    assert response.status_code == 302
    with schema_context(TENANT_A):
        campaign.refresh_from_db()
        assert campaign.state == "running"
        assert CampaignRecipient.objects.filter(campaign=campaign).count() == 2
    page = owner_a_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'id="progress"' in page
    assert 'hx-trigger="every 2s"' in page
    assert 'data-count="queued">2<' in page
    partial = owner_a_client.get(
        f"/campaigns/{campaign.pk}/?part=progress", HTTP_HX_REQUEST="true"
    )
    assert partial.content.decode().lstrip().startswith('<section id="progress"')
    # pause / resume / cancel
    owner_a_client.post(f"/campaigns/{campaign.pk}/pause/")
    with schema_context(TENANT_A):
        assert Campaign.objects.get().state == "paused"
    with django_capture_on_commit_callbacks(execute=False):
        owner_a_client.post(f"/campaigns/{campaign.pk}/resume/")
    with schema_context(TENANT_A):
        assert Campaign.objects.get().state == "running"
    owner_a_client.post(f"/campaigns/{campaign.pk}/cancel/")
    with schema_context(TENANT_A):
        assert Campaign.objects.get().state == "cancelled"
        assert set(CampaignRecipient.objects.values_list("state", flat=True)) == {
            "cancelled"
        }


def test_confirm_shows_engine_refusals(owner_a_client):
    with schema_context(TENANT_A):
        campaign = make_draft()
        Campaign.objects.filter(pk=campaign.pk).update(subject="{{ 存在しない列 }}")
    response = owner_a_client.get(f"/campaigns/{campaign.pk}/confirm/")
    body = response.content.decode()
    assert 'id="check-errors"' in body
    assert "存在しない列" in body
    assert 'id="send-button"' not in body
    response = owner_a_client.post(f"/campaigns/{campaign.pk}/confirm/")
    assert response.status_code == 400
    with schema_context(TENANT_A):
        assert Campaign.objects.get().state == "draft"
        assert CampaignRecipient.objects.count() == 0


def test_results_explain_bounces_and_export(owner_a_client):
    import datetime as dt

    from django.utils import timezone

    with schema_context(TENANT_A):
        campaign = make_draft()
        from mailops.campaigns import services as engine

        engine.campaign_queue(campaign, OWNER_CTX)
        first, second = CampaignRecipient.objects.order_by("seq")
        now = timezone.now()
        CampaignRecipient.objects.filter(pk__in=[first.pk, second.pk]).update(
            state="accepted", accepted_at=now
        )
        RecipientEvent.objects.create(
            message_id=str(second.operation_id),
            recipient=second.email,
            recipient_domain="example.co.jp",
            status="Bounced",
            status_at=now + dt.timedelta(seconds=5),
            enhanced_code="5.1.1",
            smtp_code="550",
            is_hard_bounce=True,
        )
        RecipientEvent.objects.create(
            message_id=str(first.operation_id),
            recipient=first.email,
            recipient_domain="example.co.jp",
            status="Delivered",
            status_at=now + dt.timedelta(seconds=5),
        )
        engine.campaign_reconcile_statuses(campaign.pk)
    page = owner_a_client.get(f"/campaigns/{campaign.pk}/recipients/?state=bounced")
    body = page.content.decode()
    assert 'data-state="bounced"' in body
    assert 'data-state="delivered"' not in body
    assert "5.1.1" in body
    export = owner_a_client.get(f"/campaigns/{campaign.pk}/recipients/export/")
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert len(lines) == 3
    assert "hanako@example.co.jp" in text
    listing = owner_a_client.get("/campaigns/").content.decode()
    assert "価格改定のお知らせ" in listing


def _queries(client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_list_pages_use_a_fixed_number_of_queries(owner_a_client):
    from mailops.campaigns import services as engine

    with schema_context(TENANT_A):
        campaign = make_draft()
        engine.campaign_queue(campaign, OWNER_CTX)
    results = f"/campaigns/{campaign.pk}/recipients/"
    one = (_queries(owner_a_client, "/campaigns/"), _queries(owner_a_client, results))
    # when there are more campaigns, and more recipients with delivery events
    with schema_context(TENANT_A):
        for i in range(3):
            extra = Campaign.objects.create(
                name=f"c{i}",
                sender=campaign.sender,
                recipient_list=campaign.recipient_list,
                subject="s",
                body_text="b",
            )
            engine.campaign_queue(extra, OWNER_CTX)
        for r in CampaignRecipient.objects.filter(campaign=campaign):
            RecipientEvent.objects.create(
                message_id=str(r.operation_id),
                recipient=r.email,
                recipient_domain="example.co.jp",
                status="Delivered",
                status_at=r.campaign.queued_at,
            )
    # then the pages run the same number of queries
    many = (_queries(owner_a_client, "/campaigns/"), _queries(owner_a_client, results))
    assert many == one


def test_test_send_refuses_more_than_50_addresses(owner_a_client):
    with schema_context(TENANT_A):
        campaign = make_draft()
    extra = "\n".join(f"user{i}@example.jp" for i in range(50))
    response = owner_a_client.post(
        f"/campaigns/{campaign.pk}/test/", {"row": "1", "extra": extra}
    )
    assert response.status_code == 400
    assert "50" in response.content.decode()
    bad = owner_a_client.post(
        f"/campaigns/{campaign.pk}/test/", {"row": "1", "extra": "not-an-address"}
    )
    assert bad.status_code == 400
    assert "not-an-address" in bad.content.decode()


def test_draft_of_another_state_cannot_be_edited(owner_a_client):
    with schema_context(TENANT_A):
        campaign = make_draft()
        from mailops.campaigns import services as engine

        engine.campaign_queue(campaign, OWNER_CTX)
    response = owner_a_client.post(
        f"/campaigns/{campaign.pk}/edit/", {"name": "changed"}
    )
    assert response.status_code == 302
    with schema_context(TENANT_A):
        assert Campaign.objects.get().name == "価格改定のお知らせ"


def test_oversized_upload_is_refused_before_it_is_stored(owner_a_client, settings):
    # given a limit of 1 KiB (the declared size gets 1 MB of slack for the framing)
    settings.RECIPIENT_LIST_MAX_BYTES = 1024
    body = ("email\r\n" + "a@example.jp\r\n" * 8000).encode()
    # when a 100 KB file arrives, the upload handler stops reading it
    response = owner_a_client.post(
        "/campaigns/lists/upload/",
        {"name": "big", "file": SimpleUploadedFile("big.csv", body)},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="list-upload"' in page
    assert "MB" in page.split('id="list-upload"', 1)[1]  # the size message
    # and a declared size far over the limit is refused before anything is read
    response = owner_a_client.post(
        "/campaigns/lists/upload/", {"name": "x"}, CONTENT_LENGTH=str(5 * 1024 * 1024)
    )
    assert response.status_code == 302
    with schema_context(TENANT_A):
        assert RecipientList.objects.count() == 0
    assert not list((settings.PORTAL_PRIVATE_MEDIA_DIR).rglob("*.csv"))


def test_upload_still_needs_the_csrf_token(personas):
    from django.test import Client

    from tests.conftest import client_for

    signed_in = client_for(personas.host_a, personas.owner_a, schema=TENANT_A)
    client = Client(HTTP_HOST=personas.host_a, enforce_csrf_checks=True)
    client.cookies = signed_in.cookies
    response = client.post(
        "/campaigns/lists/upload/",
        {"name": "x", "file": SimpleUploadedFile("x.csv", CSV.encode("cp932"))},
    )
    assert response.status_code == 403
    with schema_context(TENANT_A):
        assert RecipientList.objects.count() == 0
