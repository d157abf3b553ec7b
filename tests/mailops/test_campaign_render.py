"""Merge fields and the HTML allowlist (pure functions, no database)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from mailops.campaigns.render import merge_fields, render, sanitize_html


def _campaign(subject="", text="", html=""):
    return SimpleNamespace(subject=subject, body_text=text, body_html=html)


def test_fields_are_found_whatever_the_spacing():
    campaign = _campaign(
        "{{会社名}} 様", "{{ 担当者 }} / {{   部署 名  }}", "<p>{{ 会社名 }}</p>"
    )
    assert merge_fields(campaign) == {"会社名", "担当者", "部署 名"}


def test_html_injection_in_a_value_stays_escaped():
    campaign = _campaign("{{ 会社名 }} 様", "{{ 会社名 }} 様", "<p>{{ 会社名 }} 様</p>")
    value = '<script>alert(1)</script><img src=x onerror="alert(2)">&'
    rendered = render(campaign, {"会社名": value})
    assert rendered.html == (
        "<p>&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x "
        "onerror=&quot;alert(2)&quot;&gt;&amp; 様</p>"
    )
    # plain text and subject take the value as written
    assert rendered.text == f"{value} 様"
    assert rendered.subject == f"{value} 様"


def test_line_breaks_never_reach_the_subject():
    campaign = _campaign("件名 {{ a }}", "{{ a }}")
    rendered = render(campaign, {"a": "x\r\nBcc: evil@example.com"})
    assert rendered.subject == "件名 x  Bcc: evil@example.com"
    assert rendered.text == "x\r\nBcc: evil@example.com"


def test_a_field_inside_a_link_cannot_become_javascript():
    campaign = _campaign(html='<p><a href="{{ url }}">開く</a></p>')
    good = render(campaign, {"url": "https://example.jp/?a=1&b=2"})
    assert good.html == '<p><a href="https://example.jp/?a=1&amp;b=2">開く</a></p>'
    bad = render(campaign, {"url": "javascript:alert(1)"})
    assert bad.html == "<p><a>開く</a></p>"
    quoted = render(campaign, {"url": 'https://x.jp/" onclick="alert(1)'})
    assert quoted.html == (
        '<p><a href="https://x.jp/&quot; onclick=&quot;alert(1)">開く</a></p>'
    )


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<p onclick='x()'>a</p>", "<p>a</p>"),
        ("<script>alert(1)</script><p>b</p>", "<p>b</p>"),
        ("<style>p{}</style><b>c</b>", "<b>c</b>"),
        ('<a href="javascript:alert(1)">d</a>', "<a>d</a>"),
        ('<a href="jav&#x61;script:alert(1)">d</a>', "<a>d</a>"),
        ('<a href=" java\tscript:alert(1)">d</a>', "<a>d</a>"),
        ('<a href="data:text/html,x">d</a>', "<a>d</a>"),
        (
            '<a href="mailto:a@b.jp" title="t">e</a>',
            '<a href="mailto:a@b.jp" title="t">e</a>',
        ),
        ('<img src="http://x.jp/a.png">', ""),
        (
            '<img src="https://x.jp/a.png" alt="a" onload="x">',
            '<img src="https://x.jp/a.png" alt="a">',
        ),
        ('<div style="color:red">f</div>', "<div>f</div>"),
        ("<iframe src=x></iframe><form><input>g</form>", "g"),
        ("<!-- c --><b>h<i>i</b>", "<b>h<i>i</i></b>"),
        (
            "<table><tr><td colspan=2 onclick=x>j</td></tr></table>",
            '<table><tr><td colspan="2">j</td></tr></table>',
        ),
        ("<h1>見出し</h1><br/><hr>", "<h1>見出し</h1><br><hr>"),
    ],
)
def test_sanitiser_keeps_only_the_safe_subset(dirty, clean):
    assert sanitize_html(dirty) == clean
