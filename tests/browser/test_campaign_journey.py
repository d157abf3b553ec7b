"""Issue 8's journey in Chromium with a real Celery worker: upload a CP932 list →
confirm the encoding → see the rejected rows → import → compose with a merge field
→ preview → test send → send now → watch the progress bar → pause → resume →
results. Every recipient reaches the emulator exactly once."""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.browser.test_mailops_journey import _login_as
from tests.integration.test_campaign_worker import workers  # noqa: F401
from tests.mailops.campaign_data import outbox_ops
from tests.mailops.conftest import acs, verified_domain  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.emulator,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

VALID = 24
COMPANIES = [f"株式会社髙橋工業{i}号店" for i in range(VALID)]


def _csv() -> bytes:
    lines = ["メールアドレス,会社名,担当者"]
    for i, company in enumerate(COMPANIES):
        lines.append(f"tanaka{i}@journey.example.co.jp,{company},田中 {i}")
    lines.insert(3, "壊れたアドレス,株式会社エラー,誤 太郎")  # invalid (row 4)
    lines.insert(6, "Tanaka1@JOURNEY.example.co.jp,重複商事,重複 花子")  # not a dup
    lines.insert(8, "tanaka2@Journey.Example.CO.JP,重複商事,重複 次郎")  # duplicate
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


@pytest.fixture
def private_dir(settings, tmp_path):
    """Uploads go to a private dir the worker shares; every list is validated by
    the worker (the path 200 MB files take), so the page polls until it is done."""
    settings.PORTAL_PRIVATE_MEDIA_DIR = tmp_path / "private"
    settings.RECIPIENT_LIST_SYNC_MAX_BYTES = 0
    return settings.PORTAL_PRIVATE_MEDIA_DIR


def _sent(page) -> int:
    return int(page.locator("#progress").get_attribute("data-sent") or 0)


def test_bulk_notification_journey(
    browser,
    live_server,
    personas,
    workers,  # noqa: F811  (real Celery worker processes, emulator, active sender)
    private_dir,
    tmp_path,
):
    group, emu, fp, sender = workers
    shots = Path(os.environ.get("PORTAL_SCREENSHOT_DIR", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    group.env["PORTAL_PRIVATE_MEDIA_DIR"] = str(private_dir)
    group.start("journey")
    before = emu.admin("/counters")
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(20000)
    page.on("dialog", lambda dialog: dialog.accept())
    base = _login_as(page, context, live_server, personas)

    # 1. upload a Shift_JIS list through the navigation entry
    page.goto(f"{base}/")
    page.get_by_role("link", name="一斉配信").first.click()
    page.get_by_role("link", name="宛先リスト").first.click()
    page.locator("input[name=name]").fill("12月 価格改定のお知らせ 送付先")
    page.locator("input[name=file]").set_input_files(
        files=[{"name": "顧客リスト.csv", "mimeType": "text/csv", "buffer": _csv()}]
    )
    page.locator("#list-upload button[type=submit]").click()
    page.wait_for_url(re.compile(r"/campaigns/lists/\d+/$"))

    # 2. the guess and the decoded sample: confirm
    check = page.locator("#encoding-check")
    assert "Shift_JIS (CP932)" in check.inner_text()
    assert COMPANIES[0] in page.locator("#sample").inner_text()
    page.screenshot(path=str(shots / "1-encoding.png"), full_page=True)
    page.locator("#list-confirm button[type=submit]").click()

    # 3. the worker validates while the page polls; counts and rejected rows, import
    page.locator("#list-status[data-state=validated]").wait_for()
    assert page.locator("[data-count=valid]").inner_text() == str(VALID + 1)
    assert page.locator("[data-count=invalid]").inner_text() == "1"
    assert page.locator("[data-count=duplicate]").inner_text() == "1"
    assert page.locator("tr[data-reason=invalid]").count() == 1
    assert page.locator("tr[data-reason=duplicate]").count() == 1
    assert "壊れたアドレス" in page.locator("#rejections").inner_text()
    page.screenshot(path=str(shots / "2-rejections.png"), full_page=True)
    page.locator("#import-button").click()
    page.locator("#list-status[data-state=ready]").wait_for()

    # 4. compose with a merge field inserted by its button
    page.goto(f"{base}/campaigns/new/")
    page.locator("#id_name").fill("12月 価格改定のお知らせ")
    page.locator("#id_recipient_list").select_option(
        label="12月 価格改定のお知らせ 送付先"
    )
    page.locator("#id_sender").select_option(str(sender.pk))
    page.locator("#id_subject").fill("価格改定のお知らせ（")
    page.locator("#id_subject").focus()
    page.locator("[data-fields-for] [data-insert='{{ 会社名 }}']").first.click()
    page.locator("#id_subject").press("End")
    page.locator("#id_subject").type(" 様）")
    assert page.locator("#id_subject").input_value() == (
        "価格改定のお知らせ（{{ 会社名 }} 様）"
    )
    page.locator("#id_body_text").fill(
        "{{ 担当者 }} 様\n\n平素よりお世話になっております。\n来年1月より価格を改定いたします。"
    )
    page.screenshot(path=str(shots / "3a-compose.png"), full_page=True)
    page.locator("#compose button[type=submit]").click()
    page.wait_for_url(re.compile(r"/campaigns/\d+/$"))
    campaign_url = page.url

    # 5. preview recipient 2 and send a test to myself
    page.get_by_role("link", name="プレビューとテスト送信").click()
    page.locator("#row-input").fill("2")
    page.locator("#preview-pick button[type=submit]").click()
    page.locator("#message[data-index='2']").wait_for()
    assert COMPANIES[1] in page.locator("#preview-subject").inner_text()
    page.screenshot(path=str(shots / "3-preview.png"), full_page=True)
    page.locator("#test-send-button").click()
    page.locator(".msg-success").wait_for()
    tests = emu.admin(f"/outbox?recipient={personas.owner_a.email}&limit=10")["value"]
    assert any(COMPANIES[1] in (op.get("subject") or "") for op in tests)
    assert emu.admin("/counters")["accepted_sends"] == before["accepted_sends"] + 1

    # 6. schedule: any time, capped at 60/min so the bar visibly moves; send now
    page.goto(campaign_url)
    page.locator("#schedule-link").click()
    page.wait_for_url(re.compile(r"/schedule/$"))
    page.wait_for_load_state()
    page.locator("input[name=window][value=any]").check()
    page.locator("#id_rate_cap_per_minute").fill("60")
    # (A full-page screenshot here made Chromium drop the submit click.)
    with page.expect_navigation(url=re.compile(r"/confirm/$")):
        page.locator("#schedule button[type=submit]").click()
    assert "25" in page.locator("#summary").inner_text()
    page.screenshot(path=str(shots / "4-confirm.png"), full_page=True)
    page.locator("#send-button").click()
    page.wait_for_url(campaign_url)

    # 7. watch the progress bar move (htmx polling), then pause. Generous waits:
    # the worker shares two CPUs with the browser, the server and PostgreSQL.
    try:
        page.wait_for_function(
            "() => Number(document.querySelector('#progress').dataset.sent) > 0",
            timeout=60000,
        )
        first = _sent(page)
        page.wait_for_function(
            f"() => Number(document.querySelector('#progress').dataset.sent) > {first}",
            timeout=60000,
        )
    except Exception as exc:
        raise AssertionError(f"the progress bar did not move\n{group.log()}") from exc
    page.screenshot(path=str(shots / "5-progress.png"), full_page=True)
    page.locator("#pause-button").click()
    page.locator("#progress[data-state=paused]").wait_for()
    time.sleep(3)  # a sub-batch in flight may still finish
    paused_at = _sent(page)
    time.sleep(3)
    page.reload()
    assert _sent(page) == paused_at < VALID + 1
    page.screenshot(path=str(shots / "6-paused.png"), full_page=True)

    # 8. resume and let it finish
    page.locator("#resume-button").click()
    page.locator("#progress[data-state=completed]").wait_for(timeout=90000)
    assert _sent(page) == VALID + 1

    # 9. results per recipient, and the emulator saw each address exactly once
    page.locator("#results-link").click()
    assert page.locator("#results-table tbody tr").count() == VALID + 1
    page.screenshot(path=str(shots / "7-results.png"), full_page=True)
    ops = outbox_ops(emu, fp.communication_service_id, "価格改定のお知らせ（")
    campaign_ops = [op for op in ops if not op["subject"].startswith("[")]
    # Exact addresses: Tanaka1@ and tanaka1@ are two recipients (local parts are
    # case-sensitive), so the helper's lower-casing Counter is not used here.
    per_address = Counter(address for op in campaign_ops for address in op["to"])
    assert len(per_address) == VALID + 1
    assert set(per_address.values()) == {1}
    assert emu.admin("/counters")["accepted_sends"] == before["accepted_sends"] + 1 + (
        VALID + 1
    )
    context.close()
