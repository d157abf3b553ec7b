"""Main journeys in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import re
import time

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django_tenants.utils import schema_context

from tenants.accounts.models import User
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _totp(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _tenant_url(live_server, slug: str) -> str:
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://{slug}.localhost:{port}"


def test_owner_signs_in_enrols_totp_switches_language(page, live_server, personas):
    # given: a new owner of tenant alpha without a second factor yet
    with schema_context("alpha"):
        from allauth.account.models import EmailAddress

        owner = User.objects.create_user(
            "browser-owner@alpha.example", PASSWORD, role="owner", full_name="山田 太郎"
        )
        EmailAddress.objects.create(
            user=owner, email=owner.email, verified=True, primary=True
        )
    base = _tenant_url(live_server, "alpha")

    # when: they sign in on the tenant host
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(re.compile("メールアドレス")).fill(owner.email)
    page.get_by_label(re.compile("パスワード")).fill(PASSWORD)
    page.get_by_label(re.compile("パスワード")).press("Enter")

    # then: MFA is mandatory for owners, so the TOTP enrolment page appears
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.locator("#authenticator_secret").input_value()
    assert len(secret) >= 16
    page.locator("input[name=code]").fill(_totp(secret))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_load_state()
    with schema_context("alpha"):
        from allauth.mfa.models import Authenticator

        assert Authenticator.objects.filter(user=owner, type="totp").count() == 1

    # and the dashboard shell shows in Japanese
    page.goto(f"{base}/")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.get_by_role("heading", name="ダッシュボード").is_visible()
    assert (
        page.get_by_role("navigation", name="メイン")
        .get_by_text("メンバー")
        .is_visible()
    )
    assert "株式会社アルファ" in page.locator(".tenant-name").inner_text()

    # when: they switch the language to English
    page.locator("#language-select").select_option("en")
    page.wait_for_load_state()
    # then: the same shell is in English
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert (
        page.get_by_role("navigation", name="Main").get_by_text("Members").is_visible()
    )
    # and the user menu offers sign-out
    page.locator("details.dropdown summary").click()
    assert page.get_by_role("button", name="Sign out").is_visible()


def test_staff_sees_console_and_tenant_is_isolated(page, live_server, personas):
    port = live_server.url.rsplit(":", 1)[1]
    page.goto(f"http://localhost:{port}/accounts/login/")
    page.get_by_label(re.compile("メールアドレス")).fill("staff@msp.example")
    page.get_by_label(re.compile("パスワード")).fill(PASSWORD)
    page.get_by_label(re.compile("パスワード")).press("Enter")
    # staff have TOTP: the second step asks for a code
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    from tests.conftest import TOTP_SECRET

    # (the page also has a "cancel" form, so submit the code field itself)
    page.locator("input[name=code]").fill(_totp(TOTP_SECRET))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_url(re.compile(r"/staff/tenants/"))
    assert page.get_by_role("link", name="株式会社アルファ").is_visible()
    # the staff session means nothing on a tenant host
    page.goto(f"{_tenant_url(live_server, 'alpha')}/")
    page.wait_for_url(re.compile(r"/accounts/login/"))
