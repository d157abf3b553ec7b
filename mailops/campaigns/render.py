"""Merge fields and the safe HTML subset of campaign messages.

A merge field is written ``{{ 会社名 }}`` (spaces optional); its name is a column
of the recipient list's CSV. Values are inserted raw into the subject (without line
breaks, so no header injection) and the plain-text body, and HTML-escaped into the
HTML body. The HTML body itself is reduced to an allowlist of tags and attributes
when it is saved (``sanitize_html``), so neither the author nor a recipient's data
can put script, event handlers or ``javascript:`` URLs into a message.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

FIELD_RE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "a",
        "b",
        "strong",
        "i",
        "em",
        "ul",
        "ol",
        "li",
        "h1",
        "h2",
        "h3",
        "h4",
        "table",
        "thead",
        "tbody",
        "tr",
        "td",
        "th",
        "span",
        "div",
        "img",
        "hr",
        "blockquote",
    }
)
VOID_TAGS = frozenset({"br", "hr", "img"})
# Elements dropped together with everything inside them.
DROP_CONTENT_TAGS = frozenset(
    {"script", "style", "iframe", "object", "embed", "template", "noscript", "svg"}
)
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "td": {"colspan", "rowspan", "title"},
    "th": {"colspan", "rowspan", "title"},
}
COMMON_ATTRIBUTES = frozenset({"title"})
LINK_SCHEMES = ("http:", "https:", "mailto:")
IMAGE_SCHEMES = ("https:",)
_CONTROL_RE = re.compile(r"[\x00-\x20\x7f]+")


def _url_allowed(value: str, schemes: tuple[str, ...]) -> bool:
    # Browsers ignore whitespace and control characters inside a scheme
    # ("java\tscript:"), so compare without them.
    compact = _CONTROL_RE.sub("", value).lower()
    if FIELD_RE.fullmatch(value.strip()):
        # A merge field alone; checked again after it has been filled in.
        return True
    return compact.startswith(schemes)


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT_TAGS:
            self.dropping += 1
            return
        if self.dropping or tag not in ALLOWED_TAGS:
            return
        kept = []
        allowed = ALLOWED_ATTRIBUTES.get(tag, COMMON_ATTRIBUTES)
        for name, value in attrs:
            value = value or ""
            if name not in allowed:
                continue
            if name == "href" and not _url_allowed(value, LINK_SCHEMES):
                continue
            if name == "src" and not _url_allowed(value, IMAGE_SCHEMES):
                continue
            if name in ("colspan", "rowspan") and not value.isdigit():
                continue
            kept.append(f' {name}="{html.escape(value, quote=True)}"')
        if tag == "img" and not any(a.startswith(" src=") for a in kept):
            return
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in VOID_TAGS:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT_TAGS:
            return
        self.handle_starttag(tag, attrs)
        if tag in self.open and tag == self.open[-1]:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT_TAGS:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in self.open:
            return
        # Close what was left open inside it, so the output stays well formed.
        while self.open:
            current = self.open.pop()
            self.out.append(f"</{current}>")
            if current == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{t}>" for t in reversed(self.open))


def sanitize_html(value: str) -> str:
    """The HTML reduced to the allowed subset (tags, attributes and URL schemes).

    Comments, doctype, scripts, styles, event handlers and ``javascript:`` or
    ``data:`` URLs are removed; text is kept (escaped). Merge fields survive.
    """
    if not value.strip():
        return ""
    parser = _Sanitizer()
    parser.feed(value)
    return parser.result()


def fields_in(text: str) -> set[str]:
    return {m.group(1) for m in FIELD_RE.finditer(text or "")}


def merge_fields(campaign: Any) -> set[str]:
    """The merge-field names the campaign's subject and bodies use."""
    return (
        fields_in(campaign.subject)
        | fields_in(campaign.body_text)
        | fields_in(campaign.body_html)
    )


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class _Template:
    """A text split once into literals and field names; filling it is a join."""

    __slots__ = ("parts",)

    def __init__(self, text: str) -> None:
        # re.split with one group alternates literal, field, literal, ...
        self.parts = FIELD_RE.split(text or "")

    def fill(self, values: dict[str, str], escape: Any = None) -> str:
        parts = self.parts
        out = []
        for index, part in enumerate(parts):
            if index % 2 == 0:
                out.append(part)
            else:
                value = values.get(part, "")
                out.append(escape(value) if escape else value)
        return "".join(out)


_TAG_WITH_FIELD_RE = re.compile(r"<[^>]*\{\{[^>]*>")


def _subject_value(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")


def _html_value(value: str) -> str:
    return html.escape(value, quote=True)


class CompiledMessage:
    """A campaign's subject and bodies, parsed once, rendered per recipient."""

    def __init__(self, subject: str, body_text: str, body_html: str) -> None:
        self.subject = _Template(subject)
        self.text = _Template(body_text)
        self.html = _Template(body_html)
        self.has_html = bool(body_html.strip())
        # A field inside a tag (href="{{ url }}") could carry a javascript: URL:
        # such bodies are sanitised again once filled in.
        self.recheck_html = bool(_TAG_WITH_FIELD_RE.search(body_html or ""))

    def render(self, data: dict[str, Any]) -> Rendered:
        values = {str(k): "" if v is None else str(v) for k, v in data.items()}
        subject_values = {k: _subject_value(v) for k, v in values.items()}
        body_html = ""
        if self.has_html:
            body_html = self.html.fill(values, _html_value)
            if self.recheck_html:
                body_html = sanitize_html(body_html)
        return Rendered(
            subject=self.subject.fill(subject_values).strip(),
            text=self.text.fill(values),
            html=body_html,
        )


def compile_campaign(campaign: Any) -> CompiledMessage:
    return CompiledMessage(campaign.subject, campaign.body_text, campaign.body_html)


def render(campaign: Any, data: dict[str, Any]) -> Rendered:
    """The campaign's subject, text and HTML for one recipient's merge data."""
    return compile_campaign(campaign).render(data)


def recipient_data(email: str, data: dict[str, Any], email_column: str) -> dict:
    """Merge data of one recipient, with its address under the e-mail column's name."""
    if email_column and email_column not in data:
        return {**data, email_column: email}
    return data
