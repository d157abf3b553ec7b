"""Qualified-invoice registration numbers (登録番号): T + 13 digits.

Format is a hard error; the 法人番号 check digit is only a warning, because whether
sole proprietors' numbers follow it is unconfirmed (reference §1.5).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class TNumberCheck:
    normalized: str
    warning: str = ""


def check_digit(base12: str) -> int:
    """check = 9 − (Σ Pn×Qn mod 9), Pn counted from the rightmost digit (n = 1)."""
    total = 0
    for n, ch in enumerate(reversed(base12), start=1):
        total += int(ch) * (1 if n % 2 else 2)
    return 9 - (total % 9)


def normalize(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "").strip().upper()
    for dash in ("-", "‐", "−", "ー", " "):
        text = text.replace(dash, "")
    return text


def validate_tnumber(raw: str) -> TNumberCheck:
    """Normalise and validate; raise ValidationError on a bad format."""
    value = normalize(raw)
    if len(value) != 14 or value[0] != "T" or not value[1:].isdigit():
        raise ValidationError(
            _("A registration number is T followed by 13 digits."), code="format"
        )
    digits = value[1:]
    if int(digits[0]) != check_digit(digits[1:]):
        return TNumberCheck(
            value,
            _("The check digit does not match (normal for some sole proprietors)."),
        )
    return TNumberCheck(value)
