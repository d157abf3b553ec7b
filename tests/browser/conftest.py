from __future__ import annotations

import os
import shutil

import pytest

# Playwright's sync API keeps an asyncio loop on the main thread, which Django reads
# as "async context" and refuses ORM calls from the test body. The test body is
# plain synchronous code, so this is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags from the machine notes: no sandbox as root, and no background networking,
# which a closed network refuses many times over.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope: Playwright's event loop must be gone before other tests run
# asyncio code of their own.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    if os.environ.get("PORTAL_BROWSER_SCREENSHOT"):
        page.screenshot(path=os.environ["PORTAL_BROWSER_SCREENSHOT"], full_page=True)
    context.close()
