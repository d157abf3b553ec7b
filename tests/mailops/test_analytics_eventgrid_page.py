"""Owner page for the Event Grid subscription URL: issue/rotate, roles, isolation."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import TENANT_A, TENANT_B

pytestmark = pytest.mark.django_db

PAGE = "/mail/analytics/eventgrid/"
ISSUE = "/mail/analytics/eventgrid/issue/"
URL_RE = re.compile(r"https?://[^\s<\"]+/hooks/eventgrid/([A-Za-z0-9_\-]+)/")


def _issued_url(response) -> str:
    match = URL_RE.search(response.content.decode())
    assert match, "the page shows the subscription URL"
    return match.group(0)


def _hook(url: str, host: str) -> int:
    path = "/" + url.split("/", 3)[3]
    return (
        Client(HTTP_HOST=host)
        .post(
            path,
            data=json.dumps([]),
            content_type="application/json",
            HTTP_AEG_EVENT_TYPE="Notification",
        )
        .status_code
    )


def _stored_hash(schema: str) -> str:
    from mailops.models import AnalyticsSettings

    with schema_context(schema):
        row = AnalyticsSettings.objects.order_by("pk").first()
        return row.eventgrid_secret_hash if row else ""


def test_owner_sees_instructions_and_no_url_before_issuing(owner_a_client):
    response = owner_a_client.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Microsoft.Communication.EmailDeliveryReportReceived" in body
    assert "Microsoft.Communication.EmailEngagementTrackingReportReceived" in body
    assert not URL_RE.search(body)
    assert 'data-received="no"' in body
    assert 'data-issued="no"' in body


def test_issue_shows_the_url_once_and_stores_only_its_hash(owner_a_client, personas):
    import hashlib

    response = owner_a_client.post(ISSUE)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    url = _issued_url(response)
    secret = URL_RE.search(url).group(1)
    assert _stored_hash(TENANT_A) == hashlib.sha256(secret.encode()).hexdigest()
    # shown once: the page afterwards says it is issued but never shows it again
    again = owner_a_client.get(PAGE).content.decode()
    assert 'data-issued="yes"' in again
    assert secret not in again
    assert not URL_RE.search(again)
    assert _hook(url, personas.host_a) == 200


def test_rotating_invalidates_the_old_url(owner_a_client, personas):
    from tenants.accounts.models import AuditEvent

    old = _issued_url(owner_a_client.post(ISSUE))
    new = _issued_url(owner_a_client.post(ISSUE))
    assert old != new
    assert _hook(old, personas.host_a) == 404
    assert _hook(new, personas.host_a) == 200
    with schema_context(TENANT_A):
        assert (
            AuditEvent.objects.filter(
                action="analytics.eventgrid_secret_issued"
            ).count()
            == 2
        )


def test_last_event_time_is_shown(owner_a_client, personas):
    from django.utils import timezone

    from mailops.models import ProcessedEvent

    with schema_context(TENANT_A):
        ProcessedEvent.objects.create(event_id="evt-1")
        at = ProcessedEvent.objects.get().received_at
    body = owner_a_client.get(PAGE).content.decode()
    assert timezone.localtime(at).strftime("%Y-%m-%d %H:%M") in body
    assert 'data-received="yes"' in body


def test_viewer_gets_403_and_changes_nothing(viewer_a_client):
    assert viewer_a_client.get(PAGE).status_code == 403
    assert viewer_a_client.post(ISSUE).status_code == 403
    assert _stored_hash(TENANT_A) == ""


def test_viewer_sees_no_link_on_the_alerts_page(viewer_a_client, owner_a_client):
    assert PAGE not in viewer_a_client.get("/mail/analytics/alerts/").content.decode()
    assert PAGE in owner_a_client.get("/mail/analytics/alerts/").content.decode()


def test_anonymous_is_sent_to_sign_in(personas):
    client = Client(HTTP_HOST=personas.host_a)
    for response in (client.get(PAGE), client.post(ISSUE)):
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    assert _stored_hash(TENANT_A) == ""


def test_other_tenant_url_is_404_and_rotation_stays_in_its_tenant(
    owner_a_client, owner_b_client, personas
):
    alpha = _issued_url(owner_a_client.post(ISSUE))
    # beta's owner sees beta's state, not alpha's
    assert 'data-issued="no"' in owner_b_client.get(PAGE).content.decode()
    beta = _issued_url(owner_b_client.post(ISSUE))
    # each URL works only on its own tenant's host
    assert _hook(alpha, personas.host_b) == 404
    assert _hook(beta, personas.host_a) == 404
    # beta rotating did not retire alpha's URL
    assert _hook(alpha, personas.host_a) == 200
    assert _stored_hash(TENANT_B) != _stored_hash(TENANT_A)


def test_public_host_has_no_eventgrid_page(staff_client):
    assert staff_client.get(PAGE).status_code == 404
