"""Issue 7's console journey in a real browser, with a real Celery worker:

staff (admin, TOTP) onboard a tenant through the wizard → the progress page shows
the ACS resources provisioned by the worker → the owner accepts the invitation from
the mail in the emulator's outbox, sets a password and enrols TOTP → the owner
grants read-only support access → staff open the tenant as support and view a page
→ the owner sees those views in the audit log → the owner revokes → staff are
locked out on their next request.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.db import connection

from portal.celery import app as celery_app
from portal.integrations.azure import client
from tenants.accounts.models import User
from tests.billing.conftest import ensure_seed
from tests.conftest import PASSWORD, TOTP_SECRET
from tests.integration.conftest import worker  # noqa: F401  (a real worker process)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.emulator,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

SLUG = "kiku-trading"
SCHEMA = "kiku_trading"
OWNER = "owner@kiku-trading.example"
ADMIN = "onboarder@msp.example"


def _totp(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _drop_schema() -> None:
    # The schema outlives a transactional test's flush; drop it so a re-run starts
    # clean (this is the test database only).
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')


@pytest.fixture
def live_port(live_server, monkeypatch, settings) -> str:
    """Links built by the worker (invitation mail) and by the live server (support
    handoff) point at the live server's port. Request it before ``worker``."""
    port = live_server.url.rsplit(":", 1)[1]
    monkeypatch.setenv("PORTAL_PORT", port)
    settings.PORTAL_PORT = int(port)
    return port


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("PORTAL_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _admin_staff() -> User:
    user = User.objects.create_user(
        ADMIN, PASSWORD, is_staff=True, staff_role="admin", full_name="導入 担当"
    )
    EmailAddress.objects.create(user=user, email=ADMIN, verified=True, primary=True)
    TOTP.activate(user, TOTP_SECRET)
    return user


def _invitation_link(emu, port: str) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        items = emu.admin(f"/outbox?recipient={OWNER}", "GET")["value"]
        if items:
            match = re.search(
                r"http://\S+/invitations/accept/\S+/", items[-1]["plainText"]
            )
            assert match, items[-1]["plainText"]
            assert f"{SLUG}.localhost:{port}" in match.group(0)
            return match.group(0)
        time.sleep(0.5)
    raise AssertionError("no invitation mail in the emulator's outbox")


def test_staff_onboard_a_tenant_and_support_it_with_consent(
    browser,
    live_server,
    personas,
    emulator_settings,
    live_port,
    worker,  # noqa: F811  (the fixture imported above)
    shots,
):
    emu = emulator_settings
    emu.admin("/delays", "POST", {"send_delay_ms": 0, "delivery_delay_ms": 0})
    client.ensure_portal_mail_resource()
    _drop_schema()
    ensure_seed()
    _admin_staff()
    public = f"http://localhost:{live_port}"
    tenant_base = f"http://{SLUG}.localhost:{live_port}"
    celery_app.conf.task_always_eager = False
    staff_ctx = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    owner_ctx = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    try:
        staff = staff_ctx.new_page()
        staff.set_default_timeout(20000)

        # 1. staff sign in with TOTP
        staff.goto(f"{public}/accounts/login/")
        staff.get_by_label(re.compile("メールアドレス")).fill(ADMIN)
        staff.get_by_label(re.compile("パスワード")).fill(PASSWORD)
        staff.get_by_label(re.compile("パスワード")).press("Enter")
        staff.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        staff.locator("input[name=code]").fill(_totp(TOTP_SECRET))
        staff.locator("input[name=code]").press("Enter")
        staff.wait_for_url(re.compile(r"/staff/tenants/"))

        # 2. the wizard: company (a reserved identifier is refused in Japanese first)
        staff.get_by_role("link", name="テナントのオンボーディング").click()
        staff.wait_for_url(re.compile(r"/staff/onboarding/company/"))
        staff.locator("input[name=name]").fill("菊トレーディング株式会社")
        staff.locator("input[name=slug]").fill("admin")
        staff.locator("input[name=billing_contact_name]").fill("経理 花子")
        staff.locator("input[name=billing_contact_email]").fill("keiri@kiku.example")
        staff.locator("input[name=corporate_number]").fill("1180301018771")
        staff.get_by_role("button", name="次へ").click()
        staff.get_by_text("この識別子は予約されているため使えません。").wait_for()
        staff.screenshot(path=str(shots / "1-company-error.png"), full_page=True)
        staff.locator("input[name=slug]").fill(SLUG)
        staff.get_by_role("button", name="次へ").click()

        # plan and contract
        staff.wait_for_url(re.compile(r"/staff/onboarding/plan/"))
        staff.locator("select[name=plan]").select_option("standard")
        staff.locator("select[name=fx_policy]").select_option("prev_month_end")
        staff.get_by_role("button", name="次へ").click()

        # ACS: defaults from settings, provision now with a managed domain
        staff.wait_for_url(re.compile(r"/staff/onboarding/acs/"))
        assert (
            staff.locator("input[name=resource_group]").input_value()
            == f"rg-mail-{SLUG}"
        )
        assert staff.locator("input[name=provision_now]").is_checked()
        staff.get_by_role("button", name="次へ").click()

        # owner; then go Back once and forward again: the answers are kept
        staff.wait_for_url(re.compile(r"/staff/onboarding/owner/"))
        staff.get_by_role("link", name="戻る").click()
        staff.wait_for_url(re.compile(r"/staff/onboarding/acs/"))
        assert (
            staff.locator("input[name=resource_group]").input_value()
            == f"rg-mail-{SLUG}"
        )
        staff.get_by_role("button", name="次へ").click()
        staff.locator("input[name=owner_email]").fill(OWNER)
        staff.locator("select[name=owner_language]").select_option("ja")
        staff.get_by_role("button", name="次へ").click()

        # Exchange Online assessment
        staff.wait_for_url(re.compile(r"/staff/onboarding/assessment/"))
        staff.locator("input[name=start_assessment]").check()
        staff.locator("input[name=licenses]").fill("120")
        staff.locator("input[name=mailboxes]").fill("80")
        staff.locator("input[name=devices]").fill("6")
        staff.locator("input[name=daily_external]").fill("3000")
        staff.locator("input[name=uses_smtp_auth]").check()
        staff.get_by_role("button", name="次へ").click()

        # review, then 作成 (double-clicked: one tenant only)
        staff.wait_for_url(re.compile(r"/staff/onboarding/review/"))
        assert staff.locator("dd[data-field=slug]").inner_text() == SLUG
        staff.screenshot(path=str(shots / "2-review.png"), full_page=True)
        staff.get_by_role("button", name="作成").dblclick()
        staff.wait_for_url(re.compile(r"/staff/tenants/\d+/onboarding/$"))

        # 3. progress: the worker provisions ACS and sends the invitation
        staff.locator("li[data-step=acs][data-state=done]").wait_for(timeout=120000)
        staff.locator("li[data-step=invitation][data-state=done]").wait_for(
            timeout=60000
        )
        assert staff.locator("[data-acs-step][data-state=done]").count() == 4
        staff.screenshot(path=str(shots / "3-progress.png"), full_page=True)
        from tenants.models import Customer

        tenant = Customer.objects.get(schema_name=SCHEMA)
        assert Customer.objects.filter(name="菊トレーディング株式会社").count() == 1
        assert "footprint_provision_task" in worker.read_text()
        assessment = staff.locator("#assessment-link").get_attribute("href")
        assert assessment.startswith("/assessment/?licenses=120")

        # 4. the owner accepts the invitation from the mail and enrols TOTP
        owner = owner_ctx.new_page()
        owner.set_default_timeout(20000)
        owner.goto(_invitation_link(emu, live_port))
        owner.locator("input[name=full_name]").fill("菊池 一郎")
        owner.locator("input[name=password]").fill(PASSWORD)
        owner.locator("input[name=password_again]").fill(PASSWORD)
        owner.locator("input[name=password_again]").press("Enter")
        # Straight to the second factor: the password was just set on this page.
        owner.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
        secret = owner.locator("#authenticator_secret").input_value()
        owner.locator("input[name=code]").fill(_totp(secret))
        owner.locator("input[name=code]").press("Enter")
        owner.wait_for_load_state()

        # 5. the owner grants read-only support access for 2 hours
        owner.goto(f"{tenant_base}/support-access/")
        owner.locator("select[name=scope]").select_option("read")
        owner.locator("input[name=hours]").fill("2")
        owner.locator("input[name=ticket_ref]").fill("INC-2026-0042")
        owner.locator("form[action$='/support-access/grant/'] button").click()
        owner.locator("tr[data-grant]").first.wait_for()

        # 6. staff open the tenant as support and view a page
        staff.goto(f"{public}/staff/tenants/{tenant.pk}/")
        staff.locator("#open-as-support").click()
        staff.wait_for_url(re.compile(rf"^{re.escape(tenant_base)}/"))
        staff.goto(f"{tenant_base}/mail/")
        assert staff.locator(".support-banner").is_visible()
        staff.screenshot(path=str(shots / "4-support-view.png"), full_page=True)

        # 7. the owner sees the views in the tenant's audit log
        owner.goto(f"{tenant_base}/audit/")
        log = owner.locator("main").inner_text()
        assert "support.view" in log
        assert ADMIN in log
        owner.screenshot(path=str(shots / "5-owner-audit.png"), full_page=True)

        # 8. the owner revokes; staff's next request is refused
        owner.goto(f"{tenant_base}/support-access/")
        owner.locator("form[action*='/revoke/'] button").click()
        owner.wait_for_url(re.compile(r"/support-access/$"))
        response = staff.goto(f"{tenant_base}/mail/")
        assert response.status == 403
        staff.screenshot(path=str(shots / "6-locked-out.png"), full_page=True)
        staff.goto(f"{tenant_base}/")
        staff.wait_for_url(re.compile(r"/accounts/login/"))
    except Exception:
        for context, name in ((staff_ctx, "staff"), (owner_ctx, "owner")):
            for number, open_page in enumerate(context.pages):
                open_page.screenshot(path=str(shots / f"failed-{name}-{number}.png"))
        raise
    finally:
        celery_app.conf.task_always_eager = True
        staff_ctx.close()
        owner_ctx.close()
        connection.set_schema_to_public()
        _drop_schema()
