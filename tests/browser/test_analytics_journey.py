"""Delivery analytics in a real browser: dashboard with charts, period switch,
message search (htmx and plain), message detail with the bounce explanation."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from tests.conftest import TENANT_A, client_for
from tests.mailops.analytics_data import (
    add_aggregates,
    add_message,
    clear_analytics,
    day_start,
    jst_day,
    make_credential,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _seed() -> None:
    with schema_context(TENANT_A):
        scanner = make_credential("本社3F 複合機")
        app = make_credential("販売管理システム")
        classes = ["docomo", "au", "softbank", "gmail", "outlook", "yahoo_jp", "other"]
        for day in range(0, 14):
            for i, klass in enumerate(classes):
                add_aggregates(
                    jst_day(day),
                    {
                        "Delivered": 120 + 17 * ((day * 3 + i) % 9),
                        "Bounced": (day + i) % 5,
                        "Failed": (day * i) % 3,
                        "Suppressed": 1 if klass in ("docomo", "au") else 0,
                    },
                    credential_id=scanner.pk if i % 2 else app.pk,
                    sender_domain="mail.alpha.example"
                    if i % 3
                    else "news.alpha.example",
                    domain_class=klass,
                    hour=8 + (day + i) % 10,
                )
        base = day_start(jst_day(0)) + dt.timedelta(hours=9)
        add_message(
            "3f2a9c1e-docomo-bounce",
            base,
            [
                {
                    "recipient": "taro.yamada@docomo.ne.jp",
                    "status": "Bounced",
                    "smtp_code": "550",
                    "enhanced_code": "5.1.1",
                    "is_hard_bounce": True,
                    "domain_class": "docomo",
                    "failure_reason": "Unknown user",
                },
                {"recipient": "sato@gmail.com", "domain_class": "gmail"},
            ],
            sender="scan@mail.alpha.example",
            credential_id=scanner.pk,
        )
        for n in range(12):
            add_message(
                f"7b1c-{n:04d}-ok",
                base - dt.timedelta(minutes=7 * n + 1),
                [{"recipient": f"customer{n}@example.co.jp"}],
                sender="info@mail.alpha.example",
                credential_id=app.pk,
            )


@pytest.fixture
def analytics_rows(personas):
    clear_analytics(TENANT_A)
    _seed()
    yield
    clear_analytics(TENANT_A)


def test_dashboard_and_message_search(
    browser, live_server, personas, analytics_rows, tmp_path
):
    shots = Path(os.environ.get("PORTAL_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    client = client_for(personas.host_a, personas.owner_a, schema=TENANT_A)
    port = live_server.url.rsplit(":", 1)[1]
    base = f"http://alpha.localhost:{port}"
    context = browser.new_context(
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport={"width": 1280, "height": 900},
    )
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    page = context.new_page()
    page.set_default_timeout(15000)

    # 1. dashboard from the nav link, 7 days by default, charts rendered as SVG
    page.goto(f"{base}/mail/")
    page.locator("nav.mainnav a[href='/mail/analytics/']").click()
    page.wait_for_url(re.compile(r"/mail/analytics/$"))
    assert page.locator("svg.chart[role=img]").count() == 2
    assert page.locator("#chart-daily-title").count() == 1
    assert page.locator("svg.chart rect").count() > 7
    sent_7d = page.locator("[data-stat=sent]").inner_text()
    page.screenshot(path=str(shots / "analytics-1-dashboard.png"), full_page=True)

    # 2. switch to 30 days through htmx (the URL follows)
    page.locator("label.chip", has_text="30").click()
    page.locator("form.period-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"period=30d"))
    page.wait_for_function(
        "s => document.querySelector('[data-stat=sent]').innerText !== s", arg=sent_7d
    )
    assert page.locator("#by-class tbody tr").count() == 7

    # 3. message search by a carrier recipient domain (htmx swap), then detail
    page.goto(f"{base}/mail/analytics/messages/")
    assert page.locator("tr[data-message-id]").count() == 13
    page.locator("input[name=recipient]").fill("@docomo.ne.jp")
    page.locator("form.search-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"recipient=%40docomo.ne.jp"))
    page.locator("tr[data-message-id]").first.wait_for()
    assert page.locator("tr[data-message-id]").count() == 1
    page.screenshot(path=str(shots / "analytics-2-search.png"), full_page=True)
    page.locator("tr[data-message-id] a").first.click()
    page.wait_for_url(re.compile(r"/messages/3f2a9c1e-docomo-bounce/$"))
    box = page.locator("[data-recipient='taro.yamada@docomo.ne.jp']")
    assert "5.1.1" in box.inner_text()
    assert box.locator(".explanation").count() == 1
    page.screenshot(path=str(shots / "analytics-3-detail.png"), full_page=True)
    context.close()
