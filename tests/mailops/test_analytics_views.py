"""Dashboard, message search and detail, CSV exports: numbers, filters, queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tests.conftest import TENANT_A, TENANT_B
from tests.mailops.analytics_data import (
    add_aggregates,
    add_message,
    clear_analytics,
    day_start,
    jst_day,
    make_credential,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_leftover_rows(personas):
    """Rows committed by transactional tests elsewhere must not skew exact counts."""
    clear_analytics(TENANT_A)
    clear_analytics(TENANT_B)


DASH = "/mail/analytics/"
SEARCH = "/mail/analytics/messages/"


def _custom(first: dt.date, last: dt.date) -> str:
    return f"period=custom&date_from={first:%Y-%m-%d}&date_to={last:%Y-%m-%d}"


@pytest.fixture
def known_data(personas):
    """Three days of aggregates and a few messages in tenant alpha."""
    with schema_context(TENANT_A):
        device = make_credential()
        add_aggregates(
            jst_day(2),
            {"Delivered": 900, "Bounced": 40, "Suppressed": 10},
            credential_id=device.pk,
            domain_class="docomo",
        )
        add_aggregates(
            jst_day(1),
            {"Delivered": 500, "Failed": 25, "Quarantined": 5},
            sender_domain="news.alpha.example",
            sender_address="news@news.alpha.example",
            domain_class="gmail",
        )
        add_aggregates(jst_day(40), {"Delivered": 7777})  # outside the period
        sent = day_start(jst_day(1)) + dt.timedelta(hours=9, minutes=5)
        add_message(
            "msg-bounce-1",
            sent,
            [
                {
                    "recipient": "taro@docomo.ne.jp",
                    "status": "Bounced",
                    "smtp_code": "550",
                    "enhanced_code": "5.1.1",
                    "is_hard_bounce": True,
                    "domain_class": "docomo",
                },
                {"recipient": "hanako@gmail.com", "domain_class": "gmail"},
            ],
            credential_id=device.pk,
        )
        add_message(
            "msg-ok-2",
            sent + dt.timedelta(minutes=1),
            [{"recipient": "jiro@example.co.jp"}],
            sender="news@news.alpha.example",
        )
        add_message(
            "msg-old-3",
            day_start(jst_day(20)),
            [{"recipient": "taro@docomo.ne.jp", "status": "Delivered"}],
        )
    return device


def test_dashboard_numbers_on_known_data(owner_a_client, known_data):
    # when
    response = owner_a_client.get(f"{DASH}?{_custom(jst_day(6), jst_day(0))}")
    # then
    assert response.status_code == 200
    data = response.context["data"]
    assert data.totals.sent == 1480
    assert data.totals.delivered == 1400
    assert data.totals.get("Bounced") == 40
    assert data.totals.get("Failed") == 25
    assert data.totals.get("Suppressed") == 10
    assert data.totals.get("Quarantined") == 5
    assert data.totals.failed_total == 80
    assert round(data.totals.failure_rate, 2) == round(100 * 80 / 1480, 2)
    assert [c.sent for _d, c in data.daily] == [0, 0, 0, 0, 950, 530, 0]
    assert {r.key: r.counts.sent for r in data.by_sender_domain} == {
        "mail.alpha.example": 950,
        "news.alpha.example": 530,
    }
    assert [(r.key, r.label, r.counts.sent) for r in data.by_device][0] == (
        str(known_data.pk),
        "本社3F 複合機",
        950,
    )
    assert {r.key: r.counts.sent for r in data.by_device} == {
        str(known_data.pk): 950,
        "": 530,
    }
    assert {r.key: r.counts.failed_total for r in data.by_domain_class} == {
        "docomo": 50,
        "gmail": 30,
    }
    assert [(r.domain, r.failed) for r in data.top_failed_domains] == [
        ("docomo.ne.jp", 1)
    ]
    assert [(r.domain_class, r.explanation.category, r.count) for r in data.causes] == [
        ("docomo", "mailbox", 1)
    ]
    html = response.content.decode()
    assert 'data-stat="sent">1,480<' in html
    assert 'role="img"' in html
    assert '<title id="chart-daily-title">' in html
    assert "<caption>" in html


def test_dashboard_period_presets_and_htmx_partial(viewer_a_client, known_data):
    # when
    today = viewer_a_client.get(f"{DASH}?period=today")
    week = viewer_a_client.get(DASH)
    partial = viewer_a_client.get(f"{DASH}?period=30d", HTTP_HX_REQUEST="true")
    # then
    assert today.context["data"].totals.sent == 0
    assert week.context["data"].period.key == "7d"
    assert week.context["data"].totals.sent == 1480
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="analytics-body">')
    assert "<html" not in body


def test_dashboard_custom_period_needs_both_dates(viewer_a_client, known_data, english):
    response = viewer_a_client.get(f"{DASH}?period=custom&date_from=2026-01-01")
    assert response.status_code == 200
    assert response.context["data"].period.key == "7d"
    assert "Choose both dates" in response.content.decode()


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"{DASH}?period=30d")
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_dashboard_query_count_does_not_grow_with_data(owner_a_client, personas):
    # given: a little data
    with schema_context(TENANT_A):
        device = make_credential("A")
        add_aggregates(jst_day(1), {"Delivered": 3}, credential_id=device.pk)
        add_message(
            "small-1",
            day_start(jst_day(1)),
            [
                {
                    "recipient": "a@docomo.ne.jp",
                    "status": "Bounced",
                    "domain_class": "docomo",
                }
            ],
        )
    small = _dashboard_queries(owner_a_client)
    # given: much more data over more days, devices, domains and causes
    with schema_context(TENANT_A):
        for i in range(20):
            other = make_credential(f"dev {i}")
            add_aggregates(
                jst_day(i % 25),
                {"Delivered": 100 + i, "Bounced": i, "Failed": 2, "FilteredSpam": 1},
                sender_domain=f"d{i % 4}.alpha.example",
                credential_id=other.pk,
                domain_class=["docomo", "au", "softbank", "gmail", "other"][i % 5],
                hour=i % 24,
            )
            add_message(
                f"big-{i}",
                day_start(jst_day(i % 25)) + dt.timedelta(hours=3),
                [
                    {
                        "recipient": f"u{i}@d{i}.example.jp",
                        "status": "Failed",
                        "enhanced_code": ["5.7.1", "4.4.7", "5.2.2"][i % 3],
                    }
                ],
            )
    large = _dashboard_queries(owner_a_client)
    # then
    assert small == large


def test_search_query_count_is_constant(owner_a_client, known_data):
    with CaptureQueriesContext(connection) as few:
        owner_a_client.get(SEARCH)
    with schema_context(TENANT_A):
        for i in range(30):
            add_message(
                f"more-{i}",
                day_start(jst_day(1)) + dt.timedelta(minutes=i),
                [{"recipient": f"r{i}@x.jp"}, {"recipient": f"s{i}@y.jp"}],
                credential_id=known_data.pk,
            )
    with CaptureQueriesContext(connection) as many:
        response = owner_a_client.get(SEARCH)
    assert len(response.context["result"].rows) == 32
    assert len(few.captured_queries) == len(many.captured_queries)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["msg-ok-2", "msg-bounce-1"]),
        ("recipient=taro@docomo.ne.jp", ["msg-bounce-1"]),
        ("recipient=TARO@docomo.ne.jp", ["msg-bounce-1"]),
        ("recipient=@gmail.com", ["msg-bounce-1"]),
        ("recipient=gmail.com", ["msg-bounce-1"]),
        ("sender=news@news.alpha.example", ["msg-ok-2"]),
        ("sender=mail.alpha.example", ["msg-bounce-1"]),
        ("message_id=msg-old-3", ["msg-old-3"]),
        ("status=Bounced", ["msg-bounce-1"]),
        ("status=Delivered", ["msg-ok-2"]),
        ("recipient=nobody@example.jp", []),
        ("recipient=@docomo.ne.jp&status=Bounced", ["msg-bounce-1"]),
        ("recipient=@gmail.com&status=Bounced", []),
        ("recipient=hanako@gmail.com&status=Delivered", ["msg-bounce-1"]),
    ],
)
def test_search_filters(viewer_a_client, known_data, query, expected):
    # when
    response = viewer_a_client.get(f"{SEARCH}?{query}")
    # then
    assert response.status_code == 200
    rows = response.context["result"].rows
    assert [r.message.message_id for r in rows] == expected


def test_search_shows_the_matching_recipient_first(viewer_a_client, known_data):
    by_gmail = viewer_a_client.get(f"{SEARCH}?recipient=hanako@gmail.com")
    plain = viewer_a_client.get(SEARCH)
    [row] = by_gmail.context["result"].rows
    assert row.first_recipient.recipient == "hanako@gmail.com"
    bounce = plain.context["result"].rows[1]
    assert bounce.first_recipient.recipient == "taro@docomo.ne.jp"  # problems first
    html = by_gmail.content.decode()
    assert 'value="' + jst_day(6).isoformat() + '"' in html  # default dates shown


def test_search_by_device_and_dates(viewer_a_client, known_data):
    by_device = viewer_a_client.get(f"{SEARCH}?device={known_data.pk}")
    old = viewer_a_client.get(
        f"{SEARCH}?date_from={jst_day(25):%Y-%m-%d}&date_to={jst_day(15):%Y-%m-%d}"
    )
    assert [r.message.message_id for r in by_device.context["result"].rows] == [
        "msg-bounce-1"
    ]
    assert [r.message.message_id for r in old.context["result"].rows] == ["msg-old-3"]


def test_search_pages_and_htmx_partial(viewer_a_client, personas):
    with schema_context(TENANT_A):
        for i in range(55):
            add_message(
                f"p-{i:02d}",
                day_start(jst_day(0)) + dt.timedelta(minutes=i),
                [{"recipient": f"r{i}@x.jp"}],
            )
    first = viewer_a_client.get(SEARCH)
    second = viewer_a_client.get(f"{SEARCH}?page=2", HTTP_HX_REQUEST="true")
    assert len(first.context["result"].rows) == 50
    assert first.context["result"].has_next is True
    assert first.context["result"].rows[0].message.message_id == "p-54"
    body = second.content.decode()
    assert re.findall(r'data-message-id="([^"]+)"', body) == [
        f"p-{i:02d}" for i in range(4, -1, -1)
    ]
    assert body.lstrip().startswith('<section id="results"')
    assert 'rel="prev"' in body and 'rel="next"' not in body


def test_message_detail_shows_timeline_codes_and_explanation(
    viewer_a_client, known_data
):
    response = viewer_a_client.get(f"{SEARCH}msg-bounce-1/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "taro@docomo.ne.jp" in html and "hanako@gmail.com" in html
    assert "SMTP 550 · 5.1.1" in html
    recipients = response.context["detail"].recipients
    assert [(e.recipient, x.category, a) for e, x, a in recipients] == [
        ("taro@docomo.ne.jp", "mailbox", []),
        ("hanako@gmail.com", "delivered", []),
    ]
    assert viewer_a_client.get(f"{SEARCH}no-such-id/").status_code == 404


def _csv(response) -> tuple[bytes, list[list[str]]]:
    raw = b"".join(response.streaming_content)
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_message_export_is_excel_utf8_with_bom(viewer_a_client, known_data):
    # when
    response = viewer_a_client.get(f"{SEARCH}export/?recipient=@docomo.ne.jp")
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment;" in response["Content-Disposition"]
    raw, rows = _csv(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in raw
    assert rows[0] == [
        "sent_at",
        "message_id",
        "sender",
        "device",
        "recipient",
        "status",
        "status_at",
        "smtp_code",
        "enhanced_code",
        "cause",
        "failure_reason",
    ]
    body = sorted(rows[1:], key=lambda r: r[4])
    assert [(r[1], r[3], r[4], r[5], r[7], r[8]) for r in body] == [
        ("msg-bounce-1", "本社3F 複合機", "hanako@gmail.com", "Delivered", "", ""),
        (
            "msg-bounce-1",
            "本社3F 複合機",
            "taro@docomo.ne.jp",
            "Bounced",
            "550",
            "5.1.1",
        ),
    ]
    assert body[1][9] != "" and body[0][9] == ""
    sent = day_start(jst_day(1)) + dt.timedelta(hours=9, minutes=5)
    assert body[0][0] == sent.strftime("%Y-%m-%d %H:%M:%S")


def test_aggregate_export(viewer_a_client, known_data):
    response = viewer_a_client.get(f"{DASH}export/?{_custom(jst_day(2), jst_day(2))}")
    raw, rows = _csv(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert rows[0] == [
        "date",
        "sender_domain",
        "sender_address",
        "device",
        "recipient_domain_class",
        "status",
        "count",
    ]
    day = jst_day(2).isoformat()
    assert sorted(rows[1:]) == sorted(
        [
            [
                day,
                "mail.alpha.example",
                "info@mail.alpha.example",
                "本社3F 複合機",
                "docomo",
                s,
                n,
            ]
            for s, n in (("Delivered", "900"), ("Bounced", "40"), ("Suppressed", "10"))
        ]
    )


def test_failure_causes_read_a_bounded_sample(
    owner_a_client, known_data, monkeypatch, english
):
    from mailops.analytics import selectors

    with schema_context(TENANT_A):
        for i in range(3):
            add_message(
                f"late-{i}",
                day_start(jst_day(0)) + dt.timedelta(minutes=i),
                [{"recipient": f"x{i}@au.example.jp", "status": "Failed"}],
            )
    monkeypatch.setattr(selectors, "FAILURE_SAMPLE", 3)
    # when
    response = owner_a_client.get(f"{DASH}?period=7d")
    # then: the three latest failures only; the older docomo bounce is left out
    data = response.context["data"]
    assert data.failures_sampled is True
    assert sorted(r.domain for r in data.top_failed_domains) == ["au.example.jp"]
    assert "Based on the latest 3 recipients" in response.content.decode()
    monkeypatch.setattr(selectors, "FAILURE_SAMPLE", 5)
    data = owner_a_client.get(f"{DASH}?period=7d").context["data"]
    assert data.failures_sampled is False
    assert sorted(r.failed for r in data.top_failed_domains) == [1, 3]


def test_message_detail_shows_opens_and_clicks(viewer_a_client, known_data):
    from mailops.models import EngagementEvent

    sent = day_start(jst_day(1)) + dt.timedelta(hours=9, minutes=5)
    with schema_context(TENANT_A):
        EngagementEvent.objects.create(
            message_id="msg-bounce-1",
            recipient="hanako@gmail.com",
            kind="view",
            occurred_at=sent + dt.timedelta(minutes=3),
        )
        EngagementEvent.objects.create(
            message_id="msg-bounce-1",
            recipient="hanako@gmail.com",
            kind="click",
            occurred_at=sent + dt.timedelta(minutes=4),
            context="https://shop.alpha.example/campaign?id=1",
        )
    response = viewer_a_client.get(f"{SEARCH}msg-bounce-1/")
    recipients = response.context["detail"].recipients
    assert [
        (e.recipient, [a.kind for a in actions]) for e, _x, actions in recipients
    ] == [
        ("taro@docomo.ne.jp", []),
        ("hanako@gmail.com", ["view", "click"]),
    ]
    html = response.content.decode()
    assert html.count("data-engagement=") == 2
    assert "https://shop.alpha.example/campaign?id=1" in html
