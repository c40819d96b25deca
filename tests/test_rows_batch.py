"""A batch of tickets' rows as JSON Lines (``batch_jsonl``): byte for byte
each row dumped by orjson on its own line, however hostile the text the rows
carry (a ticket id may hold what separates two rows in a JSON array)."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.engine.rows import batch_jsonl, row_of, rows_jsonl, ticket_jsonl

_US = st.integers(0, 253_402_300_799_000_000)  # up to 9999-12-31T23:59:59Z
_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(['},{"ticket_id":', '"},{"ticket_id":"x', "\\", '\\"', "\n", "{", "}", "T-1"]),
)


@st.composite
def _cycle(draw: st.DrawFn, ticket_id: str) -> tuple[object, ...]:
    started = draw(_US)
    ended = draw(st.none() | _US)
    paused = draw(st.lists(st.tuples(_US, st.none() | _US), max_size=2))
    return (
        ticket_id,
        draw(_TEXT),  # policy
        draw(_TEXT),  # metric
        draw(st.integers(1, 5)),
        started,
        ended,
        draw(st.sampled_from(["achieved", "breached", "running", "paused", "cancelled"])),
        draw(st.integers(0, 10**12)),  # target
        draw(st.sampled_from(["calendar", "business"])),
        draw(st.integers(0, 10**12)),  # elapsed
        draw(st.booleans()),
        draw(st.none() | _US),  # due
        draw(st.integers(0, 10**12)),  # paused
        tuple(paused),
        (),
    )


_TICKET = _TEXT.flatmap(lambda ticket_id: st.lists(_cycle(ticket_id), max_size=3))


@settings(max_examples=300, deadline=None)
@given(judged=st.lists(_TICKET, max_size=6))
def test_a_batch_is_each_row_dumped_on_its_own_line(judged) -> None:
    want = b"".join(
        orjson.dumps(row_of(row), option=orjson.OPT_APPEND_NEWLINE) for results in judged for row in results
    )
    assert batch_jsonl(judged) == want
    assert b"".join(ticket_jsonl(results) for results in judged) == want
    assert b"".join(rows_jsonl(results) for results in judged) == want
