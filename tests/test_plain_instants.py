"""``sla.timefmt.plain_utc_us``: the compiled engine's fast reading of
timestamps in the output form (``2026-03-02T08:15:00Z``) gives exactly what
the general path (``datetime.fromisoformat`` and timedelta arithmetic) gives,
and takes nothing the general path would refuse.

This runs on whichever build is installed (CI runs it compiled and
interpreted); the engine's differential test then compares whole runs.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.engine.events import parse_event
from sla.errors import EventError
from sla.timefmt import _ONE_US, EPOCH, MAX_US, MIN_US, NOT_PLAIN, format_instant, plain_utc_us


def general(text: str) -> int:
    """What the general path makes of ``text``: its instant, or NOT_PLAIN
    when ``datetime.fromisoformat`` refuses it or finds no offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return NOT_PLAIN
    if moment.tzinfo is None:
        return NOT_PLAIN
    return (moment - EPOCH) // _ONE_US


two = st.integers(0, 99).map(lambda n: f"{n:02d}")
#: Texts of the plain shape with any two digits in each place: impossible
#: months, days (30 February, 31 April), hours 24 to 99, year 0000.
plain_shaped = st.builds(
    lambda c, y, mo, d, h, mi, s: f"{c}{y}-{mo}-{d}T{h}:{mi}:{s}Z", two, two, two, two, two, two, two
)


@settings(max_examples=1500, deadline=None)
@given(plain_shaped)
def test_any_text_of_the_plain_shape_reads_as_the_general_path_reads_it(text: str):
    got = plain_utc_us(text)
    if got != NOT_PLAIN:
        assert got == general(text)
    else:  # refused: the general path refuses it too, or it is not plain (hour 24 is not)
        assert general(text) == NOT_PLAIN or text[11:13] == "24"


@settings(max_examples=1000, deadline=None)
@given(st.integers(MIN_US // 1_000_000, MAX_US // 1_000_000))
def test_every_whole_second_in_range_round_trips_through_its_output_form(seconds: int):
    us = seconds * 1_000_000
    text = format_instant(us)
    assert plain_utc_us(text) == us == general(text)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02T08:15:00z",  # lower case: the general path's (RFC 3339 allows it)
        "2026-03-02 08:15:00Z",
        "2026-03-02T08:15:00+00:00",
        "2026-03-02T08:15:00.5Z",
        "2026-03-02T08:15Z",
        "２026-03-02T08:15:00Z",  # a full-width digit
        "2026-03-02T08:15:0xZ",
        "2026-03-02T24:00:00Z",
        "0000-01-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "",
    ],
)
def test_other_forms_are_left_to_the_general_path(text: str):
    assert plain_utc_us(text) == NOT_PLAIN


def test_leap_days_and_the_ends_of_the_range():
    assert plain_utc_us("2024-02-29T12:00:00Z") == general("2024-02-29T12:00:00Z")
    assert plain_utc_us("2000-02-29T00:00:00Z") == general("2000-02-29T00:00:00Z")
    assert plain_utc_us("1969-12-31T23:59:59Z") == -1_000_000
    assert plain_utc_us("0001-01-01T00:00:00Z") == general("0001-01-01T00:00:00Z") < MIN_US
    assert plain_utc_us("9999-12-31T23:59:59Z") == general("9999-12-31T23:59:59Z") > MAX_US


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z"])
def test_plain_text_outside_the_supported_instants_is_still_an_event_error(at: str):
    with pytest.raises(EventError, match="outside the supported instants"):
        parse_event({"type": "message", "author": "agent", "at": at})


# ---------------------------------------------------------------- the last text read
# parse_event keeps the last timestamp text it read in the output form, and
# its instant, so that the next event at the same instant is not parsed again.

instants = st.integers(0, 4_102_444_800).map(lambda s: s * 1_000_000)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(range(4)), min_size=1, max_size=30), st.lists(instants, min_size=4, max_size=4)
)
def test_timestamps_read_again_one_after_another_or_later_give_their_own_instant(
    picks: list[int], choices: list[int]
):
    # A few instants repeated in any order: adjacent repeats take the cached
    # pair, the others are parsed; either way each event gets its own text's instant.
    for pick in picks:
        text = format_instant(choices[pick])
        event = parse_event({"type": "message", "author": "agent", "at": text})
        assert event.at == choices[pick] == general(text)
        assert format_instant(event.at) == text


def test_threads_parsing_at_once_never_mix_a_text_with_another_instant():
    # The pair is replaced whole: a thread never reads one timestamp's text
    # with another's instant (the service parses events on several threads).
    from concurrent.futures import ThreadPoolExecutor

    # A few texts, so that another thread is often reading the very text
    # one thread is storing.
    texts = [format_instant(n * 3_600_000_000) for n in range(3)]

    def parse_all(offset: int) -> list[int]:
        got = []
        for i in range(4000):
            text = texts[(i + offset) % len(texts)]
            got.append(parse_event({"type": "message", "author": "agent", "at": text}).at)
            got.append(parse_event({"type": "message", "author": "agent", "at": text}).at)
        return got

    # Threads switched as often as the interpreter allows, so that a torn
    # update (text stored, instant not yet) would be seen.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(4) as pool:
            runs = list(pool.map(parse_all, range(4)))
    finally:
        sys.setswitchinterval(interval)
    for offset, got in enumerate(runs):
        expected = [n for i in range(4000) for n in [general(texts[(i + offset) % len(texts)])] * 2]
        assert got == expected


#: A few dates and times, valid and not, so that texts made of them share
#: their date or their time with texts read before (the interpreted engine
#: keeps the instants of dates and times of day it has read).
some_dates = st.sampled_from(
    [
        "2026-03-02",
        "2026-02-28",
        "2024-02-29",
        "2025-02-29",
        "1970-01-01",
        "9999-12-30",
        "9999-12-31",
        "0001-01-02",
        "0001-01-01",
    ]
)
some_times = st.sampled_from(
    ["00:00:00", "08:15:00", "23:59:59", "24:00:00", "12:60:00", "07:05:61", "13:45:09"]
)


def read_by_parse_instant(text: str) -> int | None:
    from sla.errors import TimestampError
    from sla.timefmt import parse_instant

    try:
        return parse_instant(text)
    except TimestampError:
        return None


def assert_read_as(record: dict[str, object], want: int | None) -> None:
    """parse_event reads the record's ``at`` as ``want``; refuses it when None."""
    if want is None:
        with pytest.raises(EventError):
            parse_event(record)
    else:
        assert parse_event(record).at == want, repr(record["at"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(some_dates, some_times), min_size=1, max_size=30))
def test_parse_event_reads_each_at_as_parse_instant_does_whatever_came_before(pairs: list[tuple[str, str]]):
    for day, time in pairs:
        text = f"{day}T{time}Z"
        want = read_by_parse_instant(text)
        assert_read_as({"type": "status", "status": "open", "at": text}, want)


class Text(str):
    """A str subclass, as an API caller's own string type may be."""


#: ``at`` values of every kind a caller may hand over, mixed with texts in
#: the output form (whose pieces the interpreted engine keeps and reuses).
any_at = st.one_of(
    st.builds(lambda d, t: f"{d}T{t}Z", some_dates, some_times),
    st.builds(lambda d, t: Text(f"{d}T{t}Z"), some_dates, some_times),
    st.builds(lambda d, t: f"{d}T{t}+02:00", some_dates, some_times),
    st.builds(lambda d, t: f"{d}T{t}Z".encode(), some_dates, some_times),
    st.sampled_from(["", "Z", "2026-03-02T", "08:15:00Z", "2026-03-02T08:15:00", None, 0, 1.5, True]),
    st.datetimes(timezones=st.just(UTC), min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.just([1]),
    st.just({"at": 1}),
)


def read_as_documented(value: object) -> int | None:
    """An ``at``'s instant by the general rules (docs/events.md), or None
    when it is no instant: text by parse_instant, an aware datetime exactly."""
    from sla.timefmt import to_us

    if isinstance(value, datetime):
        return to_us(value) if value.tzinfo is not None else None
    if isinstance(value, str):
        return read_by_parse_instant(value)
    return None


@settings(max_examples=400, deadline=None)
@given(st.lists(any_at, min_size=1, max_size=30))
def test_an_at_of_any_kind_reads_the_same_whatever_was_read_before(values: list[object]):
    for value in values:
        want = read_as_documented(value)
        assert_read_as({"type": "message", "author": "customer", "at": value}, want)


def test_an_empty_at_is_refused_as_the_first_event_a_process_reads():
    # Before any text is read, parse_event's last text must equal no text
    # (it once began as "", read as the instant 0).
    import subprocess

    code = (
        "from sla.engine.events import parse_event\n"
        "from sla.errors import EventError\n"
        "try:\n"
        "    parse_event({'type': 'created', 'at': '', 'fields': {}})\n"
        "except EventError as exc:\n"
        "    print('refused:', exc)\n"
        "else:\n"
        "    print('accepted')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("refused: at:"), out
