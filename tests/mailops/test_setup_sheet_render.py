"""Rendering of the printable SMTP setup sheet (templates/mailops/setup_sheet.html).

No database: the template is rendered with plain namespaces, for every vendor and for
an application credential, with the one-time password and without it (re-print).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

TEMPLATE = "mailops/setup_sheet.html"
PORTAL_URL = "https://alpha.portal.example.jp/"
PASSWORD = "Q7r8Q~Zp.Wx_3kLm-9vTy2HbNcDe5FgHjKsA1b"
USERNAME = "mfp-3f-east.alpha@mail.example.co.jp"
HOST = "smtp.azurecomm.net"
SENDER = "scan@mail.example.co.jp"

VENDOR_LABELS = {
    "canon": "キヤノン",
    "ricoh": "リコー",
    "fujifilm": "富士フイルムビジネスイノベーション",
    "sharp": "シャープ",
    "kyocera": "京セラ",
    "konica": "コニカミノルタ",
    "brother": "ブラザー",
    "epson": "エプソン",
    "other": "その他",
    "": "",
}

# The distinctive step heading each variant must show (and no other variant may show).
HEADINGS = {
    "canon": "キヤノン imageRUNNER ADVANCE（リモートUI）",
    "ricoh": "リコー RICOH（Web Image Monitor）",
    "fujifilm": "富士フイルムビジネスイノベーション Apeos / DocuCentre（旧 富士ゼロックス）",
    "sharp": "シャープ MX / BP シリーズ（Webページ）",
    "kyocera": "京セラ TASKalfa / ECOSYS（Command Center RX）",
    "konica": "コニカミノルタ bizhub（Web Connection）",
    "brother": "ブラザー（ウェブブラウザー設定 / Web Based Management）",
    "epson": "エプソン（Web Config）",
    "other": "複合機・機器の一般的な設定手順",
    "": "複合機・機器の一般的な設定手順",
    "app": "業務アプリケーションの設定例",
}

CASES = [("mfp", vendor) for vendor in VENDOR_LABELS] + [("app", ""), ("app", "other")]
NO_PASSWORD_TEXT = "（パスワードは作成時にのみ表示されます。再発行はポータルのローテーション機能で行ってください）"


def _context(
    kind: str, vendor: str, password: str | None, username: str = USERNAME
) -> dict:
    kinds = {"mfp": "複合機", "app": "業務アプリ", "other": "その他"}
    credential = SimpleNamespace(
        label="3F東 複合機",
        location="本社 3階 東側",
        kind=kind,
        get_kind_display=lambda: kinds[kind],
        vendor=vendor,
        get_vendor_display=lambda: VENDOR_LABELS[vendor],
        model="Model-X 5000",
        owner_name="総務部 山田",
    )
    smtp = {
        "host": HOST,
        "port": 587,
        "security": "STARTTLS",
        "auth": "LOGIN",
        "username": username,
        "password": password,
        "sender_address": SENDER,
        "expires_at": datetime(2028, 3, 31, 15, 0, tzinfo=UTC),  # 2028-04-01 00:00 JST
    }
    return {
        "credential": credential,
        "smtp": smtp,
        "tenant_name": "株式会社アルファ",
        "portal_url": PORTAL_URL,
        "issued_at": datetime(2026, 11, 30, 1, 0, tzinfo=UTC),
        "issued_by": "MSPサポート 佐藤",
    }


def _expected_heading(kind: str, vendor: str) -> str:
    return HEADINGS["app"] if kind == "app" else HEADINGS[vendor]


@pytest.mark.parametrize("password", [PASSWORD, None], ids=["with-password", "reprint"])
@pytest.mark.parametrize(
    ("kind", "vendor"), CASES, ids=[f"{k}-{v or 'blank'}" for k, v in CASES]
)
def test_setup_sheet_renders(kind: str, vendor: str, password: str | None) -> None:
    html = render_to_string(TEMPLATE, _context(kind, vendor, password))

    assert 'class="setup-sheet"' in html
    assert "SMTP送信設定シート" in html
    assert USERNAME in html
    assert HOST in html
    assert SENDER in html
    assert "株式会社アルファ" in html
    assert "3F東 複合機" in html
    assert "2026年11月30日" in html
    assert "2028年4月1日" in html  # expiry shown in Asia/Tokyo

    if password:
        assert html.count(PASSWORD) == 1
        assert NO_PASSWORD_TEXT not in html
        assert "社外秘・取扱注意" in html
    else:
        assert PASSWORD not in html
        assert NO_PASSWORD_TEXT in html

    expected = _expected_heading(kind, vendor)
    assert expected in html
    for other in set(HEADINGS.values()) - {expected}:
        assert other not in html, other

    assert "機種・ファームウェアにより名称が異なる場合があります" in html
    assert "パスワード取扱い" in html
    for label in ("設定作業者", "確認者", "日付", "作成者"):
        assert label in html

    urls = re.findall(r"https?://[^\s\"'<>]+", html)
    assert all(url.startswith(PORTAL_URL) for url in urls), urls
    assert PORTAL_URL in html
    assert "<script" not in html.lower()
    assert 'style="background' not in html


def test_password_is_escaped_and_long_username_warns() -> None:
    username = "u" * 90
    html = render_to_string(
        TEMPLATE, _context("mfp", "canon", "a<b>&c", username=username)
    )
    assert "a&lt;b&gt;&amp;c" in html
    assert "a<b>" not in html
    assert username in html
    assert "64文字を超えています" in html


def test_short_username_has_no_length_warning() -> None:
    html = render_to_string(
        TEMPLATE, _context("mfp", "ricoh", PASSWORD, username="mfp01")
    )
    assert "64文字を超えています" not in html
    assert "メールアドレス形式のユーザー名" not in html
