"""Portal mail: three templates per message, rendered in the recipient's language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def make_message(
    name: str, to: list[str], ctx: dict[str, Any], *, language: str = "ja"
) -> EmailMultiAlternatives:
    """Render ``templates/emails/<name>-{subject,body}.txt`` and ``-body.html``."""
    with translation.override(language):
        subject = render_to_string(f"emails/{name}-subject.txt", ctx).strip()
        text = render_to_string(f"emails/{name}-body.txt", ctx)
        html = render_to_string(f"emails/{name}-body.html", ctx)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL or None,
        to=to,
    )
    message.attach_alternative(html, "text/html")
    return message
