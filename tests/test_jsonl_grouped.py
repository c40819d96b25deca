"""JSON Lines' own grouping loop (``JsonlRecords.grouped``) against
``stream_grouped`` over the same lines' pairs, and the reader's give-up on
input that is not JSON Lines, on random lines of every kind."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.engine.events import NotGrouped, stream_grouped
from sla.engine.jsonl import LONG_LINE, JsonlRecords, grouped

_AT = "2026-03-02T08:00:00Z"


def _event(ticket: str, kind: str = "message") -> bytes:
    body = {
        "created": '"fields": {"channel": "chat"}',
        "message": '"author": "agent"',
        "status": '"status": "solved"',
        "csat": '"rating": 5',
    }[kind]
    return f'{{"ticket_id": {ticket}, "at": "{_AT}", "type": "{kind}", {body}}}'.encode()


#: Every kind of line a reader meets: events of a few tickets, and what is
#: not one (blank, not JSON, not an object, no or a bad ticket_id, an
#: integer id beyond 64 bits, a bad event, an over-long line).
_LINES = st.one_of(
    st.builds(
        _event, st.sampled_from(['"A"', '"B"', '"C"', "7"]), st.sampled_from(["created", "message", "status"])
    ),
    st.sampled_from(
        [
            b"",
            b"   ",
            b"not json",
            b"[1, 2]",
            b'"text"',
            b"42",
            b'{"no_ticket_id": 1}',
            b'{"ticket_id": null, "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}',
            b'{"ticket_id": 1.5, "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}}',
            _event("123456789012345678901234567890", "created"),
            _event('"A"', "csat"),  # a csat event without its score: rejects A
            b'{"ticket_id": "A", "at": "yesterday", "type": "message", "author": "agent"}',
            b"\xef\xbb\xbf" + _event('"B"', "message"),  # a byte order mark
            b'{"ticket_id": "B", "at": NaN}',
            LONG_LINE,
        ]
    ),
)


def _chunks(lines: list[bytes], cuts: list[int]) -> list[list[bytes]]:
    """The lines cut into chunks at the given (sorted, distinct) places."""
    edges = [0, *sorted({c % (len(lines) + 1) for c in cuts}), len(lines)]
    return [lines[a:b] for a, b in zip(edges, edges[1:], strict=False) if b > a]


def _run(tickets):
    """What a reader gives: its tickets (an error as its text and line) and,
    if it stopped, why."""
    out = []
    try:
        for ticket in tickets:
            error = ticket.error
            out.append(
                (ticket.ticket_id, ticket.first_line, ticket.events, error and (str(error), error.line))
            )
    except NotGrouped as exc:
        return out, str(exc)
    return out, None


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(_LINES, max_size=40),
    cuts=st.lists(st.integers(0, 40), max_size=5),
    start=st.integers(1, 3),
)
def test_the_grouping_loop_gives_what_stream_grouped_gives_from_the_pairs(lines, cuts, start):
    chunks = _chunks(lines, cuts)
    errors_fused, errors_pairs = [], []
    fused = _run(grouped(JsonlRecords(chunks, start), errors_fused))
    pairs = _run(stream_grouped(iter(JsonlRecords(chunks, start)), errors_pairs))
    assert fused == pairs
    assert errors_fused == errors_pairs


def test_grouped_takes_any_records_as_stream_grouped_does():
    records = [(1, {"ticket_id": "A", "at": _AT, "type": "created", "fields": {}}), (2, "text")]
    errors = []
    tickets = list(grouped(iter(records), errors))
    assert [t.ticket_id for t in tickets] == ["A"] and [str(e) for e in errors] == [
        "line 2: not a JSON object"
    ]


def test_a_ticket_seen_again_stops_grouping_after_the_ticket_before_it():
    lines = [_event('"A"', "created"), _event('"B"', "created"), _event('"A"', "message")]
    tickets, stopped = _run(grouped(JsonlRecords([lines]), []))
    assert [t[0] for t in tickets] == ["A", "B"]
    assert stopped == "line 3: ticket A appears again after other tickets"


#: Ticket ids in and out of the order the grouping takes without a set
#: (shorter first, then by text): numbers of one and two digits, letters.
_IDS = st.sampled_from(["1", "2", "9", "10", "11", "99", "A", "B", "AA", "AB", "T1", "T2"])


def _first_return(order: list[str]) -> int | None:
    """The place of the first ticket to come back after another one began
    (the model: every id read so far, in a plain list)."""
    for place, ticket in enumerate(order):
        if ticket in order[:place] and order[place - 1] != ticket:
            return place
    return None


@settings(max_examples=500, deadline=None)
@given(order=st.lists(_IDS, max_size=30), how=st.sampled_from(["pairs", "grouped"]))
def test_a_ticket_coming_back_is_found_in_ids_in_and_out_of_order(order, how):
    # One line per entry of ``order``: runs of one id are one ticket's lines.
    # Ordered ids go to a list, the first one out of order turns the list
    # into a set: a ticket coming back is found in both, and across the switch.
    lines = [
        _event(f'"{ticket}"', "created" if i == 0 or order[i - 1] != ticket else "message")
        for i, ticket in enumerate(order)
    ]
    records = JsonlRecords([lines])
    tickets = grouped(records, []) if how == "grouped" else stream_grouped(iter(records), [])
    read, stopped = _run(tickets)
    place = _first_return(order)
    if place is None:
        assert stopped is None
        assert [t[0] for t in read] == [t for i, t in enumerate(order) if i == 0 or order[i - 1] != t]
    else:
        assert stopped == f"line {place + 1}: ticket {order[place]} appears again after other tickets"


@pytest.mark.parametrize(
    ("order", "stopped"),
    [
        # in order, then back
        (["9", "10", "11", "10"], "line 4: ticket 10 appears again after other tickets"),
        # out of order at 9, then back
        (["10", "9", "11", "10"], "line 4: ticket 10 appears again after other tickets"),
        # back across the switch: 2 was read while the ids were in order
        (["1", "2", "B", "A", "2"], "line 5: ticket 2 appears again after other tickets"),
        # out of order, never back
        (["2", "1", "3", "10"], None),
        (["A", "B", "A"], "line 3: ticket A appears again after other tickets"),
    ],
)
def test_a_ticket_coming_back_is_named_whatever_the_order_of_the_ids_before_it(order, stopped):
    lines = [_event(f'"{ticket}"', "created") for ticket in order]
    assert _run(grouped(JsonlRecords([lines]), []))[1] == stopped


class _GaveUp(Exception):
    pass


def _give_up() -> None:
    raise _GaveUp


def _read(records: JsonlRecords, how: str) -> None:
    if how == "pairs":
        list(records)
    else:
        list(records.grouped([]))


@settings(max_examples=200, deadline=None)
@given(
    unreadable=st.integers(0, 30),
    blanks=st.lists(st.integers(0, 30), max_size=6),
    then_good=st.booleans(),
    how=st.sampled_from(["pairs", "grouped"]),
)
def test_the_reader_gives_up_when_the_first_lines_are_all_unreadable(unreadable, blanks, then_good, how):
    limit = 20
    lines: list[bytes] = [b"not json"] * unreadable
    for place in sorted(blanks, reverse=True):
        lines.insert(min(place, len(lines)), b"")
    if then_good:
        lines.append(_event('"A"', "created"))
    lines += [b"not json"] * 25  # after a good line, unreadable lines are only rejected
    records = JsonlRecords([lines], give_up=_give_up, give_up_after=limit)
    if unreadable + (0 if then_good else 25) >= limit:
        with pytest.raises(_GaveUp):
            _read(records, how)
    else:
        _read(records, how)


@pytest.mark.parametrize("how", ["pairs", "grouped"])
def test_the_reader_gives_up_at_the_line_that_makes_the_count(how):
    seen: list[int] = []
    records = JsonlRecords(
        [[b"", b"nope"] * 5], give_up=lambda: seen.append(records.unreadable), give_up_after=3
    )
    _read(records, how)
    # called at the 3rd unreadable line and at each after it (a hook that does not raise)
    assert seen == [3, 4, 5]


@pytest.mark.parametrize("how", ["pairs", "grouped"])
def test_a_good_line_first_means_no_giving_up(how):
    lines = [_event('"A"', "created")] + [b"nope"] * 30
    _read(JsonlRecords([lines], give_up=_give_up, give_up_after=3), how)
