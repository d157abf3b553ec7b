from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from portal.templatetags.portal_format import format_yen


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(38030, "¥38,030"), (0, "¥0"), (-1500, "-¥1,500"), (Decimal("1200"), "¥1,200")],
)
def test_yen(amount, expected):
    assert format_yen(amount) == expected


def test_yen_refuses_fractions_and_floats():
    with pytest.raises(ValueError):
        format_yen(Decimal("1.5"))
    with pytest.raises(TypeError):
        format_yen(1.0)


def test_japanese_date_format():
    template = Template(
        '{{ d|date:"DATE_FORMAT" }} {{ n|yen }}'.replace(
            "{{", "{% load portal_format %}{{", 1
        )
    )
    with translation.override("ja"):
        out = template.render(Context({"d": dt.date(2026, 11, 30), "n": 38030}))
    assert out == "2026年11月30日 ¥38,030"
    with translation.override("en"):
        out = template.render(Context({"d": dt.date(2026, 11, 30), "n": 38030}))
    assert out == "Nov. 30, 2026 ¥38,030"
