"""Tenant isolation matrix for every analytics page and export (STYLE §8 rule 37)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from tests.conftest import TENANT_A, TENANT_B, client_for
from tests.mailops.analytics_data import (
    add_aggregates,
    add_message,
    clear_analytics,
    day_start,
    jst_day,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_leftover_rows(personas):
    """Rows committed by transactional tests elsewhere must not skew exact counts."""
    clear_analytics(TENANT_A)
    clear_analytics(TENANT_B)


A_MESSAGE = "alpha-secret-message-0001"
READS = [
    "/mail/analytics/",
    "/mail/analytics/?period=30d",
    "/mail/analytics/export/?period=30d",
    "/mail/analytics/messages/",
    "/mail/analytics/messages/export/",
    f"/mail/analytics/messages/{A_MESSAGE}/",
    "/mail/analytics/alerts/",
]
WRITES = [
    ("/mail/analytics/alerts/settings/", {"bounce_rate_threshold": "9"}),
]


@pytest.fixture
def alpha_data(personas):
    from tenants.alerts import alert_raise
    from tenants.models import Alert

    with schema_context(TENANT_A):
        add_aggregates(jst_day(1), {"Delivered": 123, "Bounced": 7}, domain_class="au")
        add_message(
            A_MESSAGE,
            day_start(jst_day(1)) + dt.timedelta(hours=8),
            [
                {
                    "recipient": "secret@ezweb.ne.jp",
                    "status": "Bounced",
                    "enhanced_code": "5.1.1",
                    "domain_class": "au",
                }
            ],
        )
        alert = alert_raise(
            kind="analytics.bounce_rate",
            cause_key="24h",
            severity="warning",
            title="alpha bounce alert",
        )
    return Alert.objects.get(pk=alert.pk)


def _state() -> tuple:
    from mailops.models import AnalyticsSettings
    from tenants.accounts.models import AuditEvent
    from tenants.models import Alert

    with schema_context(TENANT_A):
        return (
            list(AnalyticsSettings.objects.values_list("bounce_rate_threshold")),
            AuditEvent.objects.count(),
            list(Alert.objects.values_list("pk", "state")),
            len(mail.outbox),
        )


@pytest.mark.parametrize("url", READS)
def test_anonymous_is_sent_to_sign_in(personas, alpha_data, url):
    client = client_for(personas.host_a)
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def _all_writes(alert_pk: int) -> list[tuple[str, dict[str, str]]]:
    return [*WRITES, (f"/mail/analytics/alerts/{alert_pk}/acknowledge/", {})]


def test_anonymous_writes_change_nothing(personas, alpha_data):
    client = client_for(personas.host_a)
    before = _state()
    for url, data in _all_writes(alpha_data.pk):
        response = client.post(url, data)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    assert _state() == before


@pytest.mark.parametrize("url", READS)
def test_viewer_can_read(viewer_a_client, alpha_data, url):
    response = viewer_a_client.get(url)
    assert response.status_code == 200


def test_viewer_cannot_write(viewer_a_client, alpha_data):
    before = _state()
    for url, data in _all_writes(alpha_data.pk):
        assert viewer_a_client.post(url, data).status_code == 403
    assert _state() == before
    page = viewer_a_client.get("/mail/analytics/alerts/").content.decode()
    assert "/acknowledge/" not in page


@pytest.mark.parametrize("url", READS)
def test_billing_role_is_forbidden(billing_a_client, alpha_data, url):
    assert billing_a_client.get(url).status_code == 403


def test_billing_role_cannot_write(billing_a_client, alpha_data):
    before = _state()
    for url, data in _all_writes(alpha_data.pk):
        assert billing_a_client.post(url, data).status_code == 403
    assert _state() == before


def test_other_tenant_owner_gets_404_for_alpha_message(owner_b_client, alpha_data):
    response = owner_b_client.get(f"/mail/analytics/messages/{A_MESSAGE}/")
    assert response.status_code == 404


@pytest.mark.parametrize("url", [u for u in READS if A_MESSAGE not in u])
def test_other_tenant_owner_sees_none_of_alpha_data(owner_b_client, alpha_data, url):
    # when
    response = owner_b_client.get(url)
    # then
    assert response.status_code == 200
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode("utf-8-sig")
    for secret in (A_MESSAGE, "secret@ezweb.ne.jp", "alpha bounce alert"):
        assert secret not in body


def test_other_tenant_dashboard_totals_are_its_own(owner_b_client, alpha_data):
    with schema_context(TENANT_B):
        add_aggregates(jst_day(1), {"Delivered": 5})
    response = owner_b_client.get("/mail/analytics/?period=30d")
    assert response.context["data"].totals.sent == 5


def test_other_tenant_owner_cannot_acknowledge_alpha_alert(owner_b_client, alpha_data):
    before = _state()
    response = owner_b_client.post(
        f"/mail/analytics/alerts/{alpha_data.pk}/acknowledge/"
    )
    assert response.status_code == 404
    assert _state() == before


def test_alpha_session_is_anonymous_on_beta_host(personas, alpha_data):
    client = client_for(personas.host_a, personas.owner_a, schema=TENANT_A)
    client.defaults["HTTP_HOST"] = personas.host_b
    response = client.get("/mail/analytics/messages/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_staff_session_is_anonymous_on_tenant_host(personas, alpha_data):
    client = client_for(personas.public_host, personas.staff, schema="public")
    client.defaults["HTTP_HOST"] = personas.host_a
    response = client.get("/mail/analytics/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_public_host_has_no_analytics_pages(staff_client, alpha_data):
    assert staff_client.get("/mail/analytics/").status_code == 404
