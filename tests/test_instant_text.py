"""Rows name instants in one form (SEMANTICS.md section 6) whatever form the
input wrote them in.  Input text already in that form is reused for the
output (the formatter's cache); these forms must not be."""

from __future__ import annotations

import pytest

from sla import evaluate_ticket, load_policies
from sla.engine.events import parse_event
from sla.timefmt import _FORMATTED, format_instant

POLICIES = load_policies("policies: [{name: all, targets: {first_response: 1h, resolution: 8h}}]")


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("2026-03-02T08:15:00Z", "2026-03-02T08:15:00Z"),
        ("2026-W10-1T08:15:00Z", "2026-03-02T08:15:00Z"),  # an ISO week date, 20 characters too
        ("2026-03-02T081500.5Z", "2026-03-02T08:15:00.5Z"),  # basic time with a fraction
        ("2026-03-02t08:15:00z", "2026-03-02T08:15:00Z"),
        ("2026-03-02T09:15:00+01:00", "2026-03-02T08:15:00Z"),
        ("2026-03-02 08:15:00Z", "2026-03-02T08:15:00Z"),
        ("2026-03-02T23:15:00Z", "2026-03-02T23:15:00Z"),
    ],
)
def test_rows_write_instants_in_the_output_form(written: str, shown: str):
    rows = evaluate_ticket(
        POLICIES,
        [
            {"at": written, "type": "created", "fields": {}},
            {"at": "2026-03-03T10:00:00Z", "type": "message", "author": "agent"},
        ],
        now="2026-03-04T00:00:00Z",
    )
    assert {row.to_row()["started_at"] for row in rows} == {shown}


def test_a_reader_that_keeps_no_texts_leaves_the_formatters_cache_as_it_was():
    us = 1_234_567 * 1_000_000
    text, later_text = format_instant(us), format_instant(us + 1_000_000)  # (cached: dropped below)
    _FORMATTED.clear()
    event = parse_event({"type": "message", "author": "agent", "at": text}, keep_text=False)
    assert event.at == us
    assert _FORMATTED == {}
    parse_event({"type": "message", "author": "agent", "at": later_text})
    assert {us + 1_000_000: later_text} == _FORMATTED
