"""Server-side SVG charts: accessible markup, escaped labels, readable axes."""

from __future__ import annotations

from mailops.analytics import charts


def test_nice_max():
    assert [charts.nice_max(v) for v in (0, 1, 7, 260, 1420, 2001)] == [
        1,
        1,
        8,
        300,
        2000,
        3000,
    ]


def test_stacked_bars_are_accessible_and_escaped():
    # when
    svg = str(
        charts.stacked_bars(
            "c1",
            "Recipients <per> day",
            ["11/24", "11/25"],
            [
                charts.Series("ok", "Delivered", [10, 20], "#2f855a"),
                charts.Series("bad", "Bounced & co", [1, 0], "#c53030"),
            ],
            y_label="Recipients",
        )
    )
    # then
    assert 'role="img"' in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Recipients &lt;per&gt; day</title>' in svg
    assert "Delivered: 30, Bounced &amp; co: 1" in svg
    assert svg.count("<rect") == 3  # zero values draw nothing
    assert "<script" not in svg


def test_line_chart_thins_long_labels():
    labels = [f"11/{d:02d} {h:02d}:00" for d in (28, 29) for h in range(24)]
    svg = str(
        charts.line_chart(
            "c2", "Per hour", labels, [charts.Series("s", "Sent", [1] * 48, "#000")]
        )
    )
    shown = [label for label in labels if f">{label}</text>" in svg]
    assert 2 <= len(shown) <= 12
    assert shown[0] == "11/28 00:00"
    assert svg.count("<circle") == 48
