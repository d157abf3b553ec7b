"""Tenant isolation and role matrix for every bulk-notification page (STYLE rule 37)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from mailops.campaigns import services as engine
from mailops.models import Campaign, CampaignRecipient, ListRecipient, RecipientList
from tests.conftest import TENANT_A, TENANT_B, client_for
from tests.mailops.conftest import OWNER_CTX
from tests.mailops.test_campaign_views import _isolated, make_draft  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def alpha(personas):
    """A draft and a running campaign of tenant A, both on one imported list."""
    with schema_context(TENANT_A):
        draft = make_draft()
        running = Campaign.objects.create(
            name="alpha-secret-campaign",
            sender=draft.sender,
            recipient_list=draft.recipient_list,
            subject="alpha-secret-subject",
            body_text="本文",
        )
        engine.campaign_queue(running, OWNER_CTX)
    return draft, running, draft.recipient_list


def _reads(draft, running, rl) -> list[str]:
    return [
        f"/campaigns/lists/{rl.pk}/",
        f"/campaigns/lists/{rl.pk}/rejections/export/",
        f"/campaigns/{draft.pk}/",
        f"/campaigns/{draft.pk}/preview/",
        f"/campaigns/{running.pk}/",
        f"/campaigns/{running.pk}/?part=progress",
        f"/campaigns/{running.pk}/recipients/",
        f"/campaigns/{running.pk}/recipients/export/",
    ]


LIST_PAGES = ["/campaigns/", "/campaigns/lists/"]


def _writes(draft, running, rl) -> list[tuple[str, dict]]:
    return [
        ("/campaigns/lists/upload/", {"name": "x"}),
        (f"/campaigns/lists/{rl.pk}/confirm/", {"encoding": "cp932"}),
        (f"/campaigns/lists/{rl.pk}/import/", {}),
        (f"/campaigns/lists/{rl.pk}/discard/", {}),
        ("/campaigns/new/", {"name": "x", "subject": "s", "body_text": "b"}),
        (f"/campaigns/{draft.pk}/edit/", {"name": "changed"}),
        (f"/campaigns/{draft.pk}/test/", {"row": "1"}),
        (f"/campaigns/{draft.pk}/schedule/", {"window": "any", "start": "now"}),
        (f"/campaigns/{draft.pk}/confirm/", {}),
        (f"/campaigns/{running.pk}/pause/", {}),
        (f"/campaigns/{running.pk}/resume/", {}),
        (f"/campaigns/{running.pk}/cancel/", {}),
    ]


def _manage_pages(draft) -> list[str]:
    return [
        "/campaigns/new/",
        f"/campaigns/{draft.pk}/edit/",
        f"/campaigns/{draft.pk}/schedule/",
        f"/campaigns/{draft.pk}/confirm/",
    ]


def _state() -> tuple:
    from tenants.accounts.models import AuditEvent

    with schema_context(TENANT_A):
        return (
            list(RecipientList.objects.values_list("pk", "state", "name")),
            list(
                Campaign.objects.values_list("pk", "state", "name", "window_weekdays")
            ),
            list(CampaignRecipient.objects.values_list("pk", "state")),
            ListRecipient.objects.count(),
            AuditEvent.objects.count(),
            len(mail.outbox),
        )


def test_anonymous_is_sent_to_sign_in_and_changes_nothing(personas, alpha):
    client = client_for(personas.host_a)
    for url in LIST_PAGES + _reads(*alpha):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]
    before = _state()
    for url, data in _writes(*alpha):
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert "/accounts/login/" in response["Location"]
    assert _state() == before


def test_viewer_reads_everything(viewer_a_client, alpha):
    for url in LIST_PAGES + _reads(*alpha):
        assert viewer_a_client.get(url).status_code == 200, url
    page = viewer_a_client.get(f"/campaigns/{alpha[1].pk}/").content.decode()
    assert 'id="pause-button"' not in page
    assert 'id="cancel-button"' not in page


def test_viewer_gets_403_on_every_write(viewer_a_client, alpha):
    before = _state()
    for url, data in _writes(*alpha):
        assert viewer_a_client.post(url, data).status_code == 403, url
    for url in _manage_pages(alpha[0]):
        assert viewer_a_client.get(url).status_code == 403, url
    upload = viewer_a_client.post(
        "/campaigns/lists/upload/",
        {"name": "x", "file": SimpleUploadedFile("x.csv", b"email\r\na@b.jp\r\n")},
    )
    assert upload.status_code == 403
    assert _state() == before


def test_billing_role_sees_nothing(billing_a_client, alpha):
    before = _state()
    for url in LIST_PAGES + _reads(*alpha):
        assert billing_a_client.get(url).status_code == 403, url
    for url, data in _writes(*alpha):
        assert billing_a_client.post(url, data).status_code == 403, url
    assert _state() == before
    assert "/campaigns/" not in billing_a_client.get("/").content.decode()


def test_other_tenant_gets_404_on_every_alpha_object(owner_b_client, alpha):
    before = _state()
    for url in _reads(*alpha) + _manage_pages(alpha[0])[1:]:
        assert owner_b_client.get(url).status_code == 404, url
    for url, data in _writes(*alpha):
        if url in ("/campaigns/new/", "/campaigns/lists/upload/"):
            continue  # no object in the URL: these create in tenant B's own schema
        assert owner_b_client.post(url, data).status_code == 404, url
    assert _state() == before


def test_other_tenant_lists_show_none_of_alpha(owner_b_client, alpha):
    for url in LIST_PAGES + ["/campaigns/new/"]:
        body = owner_b_client.get(url).content.decode()
        for secret in ("alpha-secret-campaign", "alpha-secret-subject", "顧客"):
            assert secret not in body, (url, secret)
    with schema_context(TENANT_B):
        assert Campaign.objects.count() == 0


def test_alpha_session_is_anonymous_on_beta_host(personas, alpha):
    client = client_for(personas.host_a, personas.owner_a, schema=TENANT_A)
    client.defaults["HTTP_HOST"] = personas.host_b
    response = client.get("/campaigns/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_public_host_has_no_campaign_pages(staff_client, alpha):
    assert staff_client.get("/campaigns/").status_code == 404


def test_read_only_support_session_cannot_write(staff_client, personas, alpha):
    from tests.tenants.test_support_access import _enter_as_staff, _grant

    _grant(personas, scope="read")
    client = _enter_as_staff(staff_client)
    assert client.get("/campaigns/").status_code == 200
    before = _state()
    for url, data in _writes(*alpha):
        assert client.post(url, data).status_code == 403, url
    after = _state()
    # Only the middleware's "support.denied" audit rows were added.
    assert after[:4] == before[:4]
    assert after[5] == before[5]
