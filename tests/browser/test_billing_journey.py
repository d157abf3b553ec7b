"""Issue 6 in a real browser: staff finalize a draft invoice on the public host, the
tenant owner downloads the issued PDF on the tenant host (byte for byte)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from billing.models import Invoice
from billing.services import close
from tenants.accounts.audit import AuditContext
from tests.billing.conftest import add_usage, april_rate, issuer, tts_contract
from tests.conftest import TENANT_A, client_for

# Fixtures shared with tests/billing (re-exported for this directory).
__all__ = ["april_rate", "issuer"]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

APRIL = date(2025, 4, 1)


def _session(context, base: str, host: str, user, schema: str) -> None:
    client = client_for(host, user, schema=schema)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def test_staff_finalizes_and_customer_downloads_pdf(
    browser, live_server, personas, issuer, april_rate, tmp_path
):
    tts_contract(personas.tenant_a)
    add_usage(personas.tenant_a, APRIL, 120_000, "2400")
    close.close_month(
        period=APRIL, ctx=AuditContext.system("test"), tenant_ids=[personas.tenant_a.pk]
    )
    draft = Invoice.objects.get(tenant=personas.tenant_a, period=APRIL)
    port = live_server.url.rsplit(":", 1)[1]

    # Staff on the public host: open the draft and finalize it.
    staff_base = f"http://localhost:{port}"
    personas.staff.staff_role = "billing"
    personas.staff.save(update_fields=["staff_role"])
    staff_ctx = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    _session(staff_ctx, staff_base, "localhost", personas.staff, "public")
    page = staff_ctx.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{staff_base}/staff/billing/?month=2025-04")
    page.get_by_role("link", name="株式会社アルファ").click()
    page.wait_for_url(re.compile(rf"/staff/billing/invoices/{draft.pk}/$"))
    assert "¥38,030" in page.locator("#invoice-total").inner_text()
    page.locator("#finalize").click()
    page.locator("#invoice-status[data-status=final]").wait_for()
    number = page.locator("#invoice-number").inner_text().strip()
    assert re.fullmatch(r"INV-\d{4}-\d{6}", number)
    staff_ctx.close()

    # The owner on the tenant host: list, then download the issued PDF.
    base = f"http://alpha.localhost:{port}"
    owner_ctx = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", accept_downloads=True
    )
    _session(owner_ctx, base, personas.host_a, personas.owner_a, TENANT_A)
    page = owner_ctx.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/billing/")
    row = page.locator("#invoice-table tr", has_text=number)
    with page.expect_download() as info:
        row.get_by_role("link", name=re.compile("ダウンロード|Download")).click()
    path = tmp_path / "downloaded.pdf"
    info.value.save_as(path)
    assert path.read_bytes() == bytes(Invoice.objects.get(number=number).pdf)
    owner_ctx.close()
