"""Issue 4's journey in a real browser: domain → DNS → verified → sender → device
credential → copy → SMTP test → rotate → revoke."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django_tenants.utils import schema_context

from mailops.models import SmtpCredential
from mailops.services import footprint
from tests.conftest import TENANT_A, client_for
from tests.mailops.conftest import OWNER_CTX, publish

pytestmark = [
    pytest.mark.browser,
    pytest.mark.emulator,
    pytest.mark.django_db(transaction=True),
]


def _login_as(page, context, live_server, personas) -> str:
    """Reuse a Django session for the owner (sign-in itself is covered elsewhere)."""
    client = client_for(personas.host_a, personas.owner_a, schema=TENANT_A)
    port = live_server.url.rsplit(":", 1)[1]
    base = f"http://alpha.localhost:{port}"
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )
    return base


def test_admin_journey_from_domain_to_revoked_credential(
    browser, live_server, personas, emulator_settings, tmp_path
):
    shots = Path(os.environ.get("PORTAL_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    emu = emulator_settings
    emu.admin("/delays", "POST", {"send_delay_ms": 0, "delivery_delay_ms": 0})
    with schema_context("alpha"):
        fp = footprint.footprint_request(ctx=OWNER_CTX)
        footprint.footprint_provision(footprint_id=fp.pk)

    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(15000)
    base = _login_as(page, context, live_server, personas)

    # 1. add a custom domain (Japanese IDN name on purpose)
    page.goto(f"{base}/mail/")
    page.locator("input[name=name]").fill("お知らせ.alpha-shop.jp")
    page.locator("form[action$='/mail/domains/add/'] button").click()
    page.wait_for_url(re.compile(r"/mail/domains/\d+/$"))
    assert page.locator("tr[data-kind]").count() == 5
    page.screenshot(path=str(shots / "1-records.png"), full_page=True)
    domain_url = page.url

    # 2. publish the records at "the DNS host" (the emulator's DNS server)
    from mailops.models import SendingDomain

    with schema_context("alpha"):
        domain = SendingDomain.objects.get(display_name="お知らせ.alpha-shop.jp")
    assert domain.name.startswith("xn--")
    publish(emu, domain)

    # 3. verify and watch every record turn green
    page.locator("form[action$='/verify/'] button").click()
    page.wait_for_url(domain_url)
    page.screenshot(path=str(shots / "2a-verifying.png"), full_page=True)
    page.locator("#domain-state[data-state=verified]").wait_for()
    assert page.locator("[data-state=Verified]").count() == 5
    page.screenshot(path=str(shots / "2-verified.png"), full_page=True)

    # 4. link it and add a sender address
    page.locator("form[action$='/link/'] button").click()
    page.locator("input[name=username]").fill("scan")
    page.locator("input[name=display_name]").fill("本社複合機")
    page.locator("form[action$='/senders/add/'] button").click()
    assert page.get_by_text(f"scan@{domain.name}").first.is_visible()

    # 5. create a device credential; the password is shown once
    page.goto(f"{base}/mail/credentials/new/")
    page.locator("input[name=label]").fill("本社3F 複合機")
    page.locator("select[name=kind]").select_option("mfp")
    page.locator("select[name=vendor]").select_option("canon")
    page.locator("input[name=location]").fill("本社3階 コピー室")
    page.locator("select[name=sender]").select_option(label=f"scan@{domain.name}")
    page.locator("form button[type=submit]").last.click()
    password = page.locator("#smtp-password").inner_text().strip()
    assert len(password) >= 16
    page.screenshot(path=str(shots / "3-secret.png"), full_page=True)

    # 6. copy the user name with the copy button
    page.locator("button[data-copy='#smtp-user']").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#smtp-user").inner_text().strip()

    # 7. SMTP test with the password still on screen
    page.locator("#smtp-test-button").click()
    page.locator("#smtp-test-outcome[data-ok='1']").wait_for()
    page.screenshot(path=str(shots / "4-smtp-test.png"), full_page=True)

    # 8. rotate: a new password, the old one retiring
    with schema_context("alpha"):
        credential = SmtpCredential.objects.get(label="本社3F 複合機")
    page.goto(f"{base}/mail/credentials/{credential.pk}/")
    page.locator(f"form[action$='/credentials/{credential.pk}/rotate/'] button").click()
    new_password = page.locator("#smtp-password").inner_text().strip()
    assert new_password != password
    page.goto(f"{base}/mail/credentials/{credential.pk}/")
    assert page.locator("tr[data-secret-state=retiring]").count() == 1
    assert page.locator("tr[data-secret-state=active]").count() == 1

    # 9. revoke
    page.locator("form[action$='/revoke/'] button").click()
    page.wait_for_url(re.compile(rf"/mail/credentials/{credential.pk}/$"))
    page.screenshot(path=str(shots / "5-revoked.png"), full_page=True)
    with schema_context("alpha"):
        credential.refresh_from_db()
        assert credential.state == "revoked"
        assert credential.secrets.exclude(state="revoked").count() == 0
    context.close()
