"""The JSON Lines writer: rows given as dicts (``write_ticket``) or as text
(``write_lines``) come out in order, every line exactly
``orjson.dumps(row)``; the compiled engine writes rows as text without
making them (``rows_jsonl``): byte for byte the same."""

from __future__ import annotations

import io

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.engine import engine_kind
from sla.engine.judge import CycleFields
from sla.engine.rows import row_of, rows_jsonl
from sla.io.writers import JsonlWriter

TEXT = st.text(alphabet=st.sampled_from('ab{}[],:"\\\n ticket_id'), max_size=30)
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), TEXT)
# Rows start with their ticket_id, as the engine's rows do (the writer's one
# assumption); anything may follow, objects inside lists too.
ROW = st.fixed_dictionaries(
    {"ticket_id": TEXT, "policy": TEXT},
    optional={
        "paused": st.lists(st.lists(SCALAR, max_size=2), max_size=3),
        # another shape: an object whose first key is ticket_id, inside a row
        "nested": st.fixed_dictionaries({"ticket_id": TEXT, "x": SCALAR}),
        "listed": st.lists(st.fixed_dictionaries({"ticket_id": TEXT}), max_size=3),
        "elapsed_seconds": st.one_of(st.integers(0, 10**9), st.floats(0, 1e9)),
    },
).map(lambda row: {"ticket_id": row["ticket_id"], **row})


def written(tickets: list[list[dict[str, object]]]) -> bytes:
    out = io.BytesIO()
    writer = JsonlWriter(out)
    for rows in tickets:
        writer.write_ticket(rows)  # type: ignore[arg-type]
    writer.close()
    return out.getvalue()


def expected(tickets: list[list[dict[str, object]]]) -> bytes:
    return b"".join(orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE) for rows in tickets for row in rows)


@given(st.lists(st.lists(ROW, max_size=5), max_size=6))
def test_every_line_is_the_row_as_orjson_writes_it(tickets: list[list[dict[str, object]]]) -> None:
    assert written(tickets) == expected(tickets)


def test_a_nested_object_that_starts_like_a_row_does_not_split_a_line() -> None:
    rows: list[dict[str, object]] = [
        {"ticket_id": "T1", "listed": [{"ticket_id": "T8"}, {"ticket_id": "T9"}]},
        {"ticket_id": "T1", "policy": '},{"ticket_id":'},  # in a string: escaped, no match
    ]
    assert written([rows]) == expected([rows])
    assert written([rows]).count(b"\n") == 2  # the pattern inside the first row split nothing


# ------------------------------------------------ rows_jsonl: text without dicts
# Any text orjson writes (lone surrogates are refused on reading), with the
# characters JSON escapes made likely.
NAME = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.sampled_from('a"\\\x00\x1f\x7f\n\t/é€😀 '), max_size=8),
)
INSTANT = st.integers(-(10**16), 2 * 10**17)  # about 1653 to 8307
MICROS = st.one_of(st.integers(-(10**13), 10**13), st.integers(-(10**7), 10**7).map(lambda s: s * 1_000_000))
CYCLE = st.tuples(
    NAME,
    NAME,
    NAME,
    st.integers(1, 10**6),
    INSTANT,
    st.none() | INSTANT,
    NAME,
    MICROS,
    NAME,
    MICROS,
    st.booleans(),
    st.none() | INSTANT,
    MICROS,
    st.lists(st.tuples(INSTANT, st.none() | INSTANT), max_size=3).map(tuple),
    st.just(()),
)


def as_rows(cycles: list[CycleFields]) -> bytes:
    return b"".join(orjson.dumps(row_of(c), option=orjson.OPT_APPEND_NEWLINE) for c in cycles)


@settings(max_examples=400)
@given(st.lists(CYCLE, max_size=5))
def test_rows_jsonl_is_orjson_of_row_of_byte_for_byte(cycles: list[CycleFields]) -> None:
    assert rows_jsonl(cycles) == as_rows(cycles)


@given(st.lists(CYCLE, min_size=1, max_size=4), NAME)
def test_rows_jsonl_quotes_each_rows_own_ticket(cycles: list[CycleFields], other: str) -> None:
    # rows of one ticket share its id (rows_jsonl quotes it once); a row of
    # another ticket in the same call must still get its own
    shared = "T-1"
    mixed = [(shared, *c[1:]) if i % 2 else (other, *c[1:]) for i, c in enumerate(cycles)]
    assert rows_jsonl(mixed) == as_rows(mixed)  # type: ignore[arg-type]


def test_rows_jsonl_of_the_engines_results() -> None:
    # CycleResult named tuples (a filtered run) serialise as their fields do
    from sla.engine.results import CycleResult

    fields: CycleFields = (
        "T\n1",
        "p",
        "m",
        2,
        0,
        None,
        "running",
        1,
        "h",
        1_500_000,
        True,
        7,
        0,
        ((5, None),),
        (),
    )
    result = CycleResult(*fields)
    assert rows_jsonl([result]) == rows_jsonl([fields]) == as_rows([fields])
    assert rows_jsonl([]) == b""


def test_text_and_dict_rows_interleave_in_order() -> None:
    out = io.BytesIO()
    writer = JsonlWriter(out)
    cycle: CycleFields = ("A", "p", "m", 1, 0, None, "running", 60_000_000, "h", 0, False, None, 0, (), ())
    writer.write_lines(rows_jsonl([cycle]))
    writer.write_ticket([{"ticket_id": "B", "n": 1}, {"ticket_id": "B", "n": 2}])
    writer.write_lines(rows_jsonl([cycle, cycle]))
    writer.close()
    lines = out.getvalue().splitlines()
    assert [orjson.loads(line)["ticket_id"] for line in lines] == ["A", "B", "B", "A", "A"]
    assert out.getvalue().endswith(b"\n")


def test_the_engine_picks_text_only_where_it_is_compiled() -> None:
    import sla.engine.rows as rows

    assert (engine_kind() == "compiled") == rows.ROWS_TEXT_IS_NATIVE


def test_the_text_caches_stay_bounded_and_right() -> None:
    import sla.engine.rows as rows

    cycles: list[CycleFields] = [
        (f"T{i}", f"p{i}", "m", 1, 0, None, f"s{i}", i * 1_000_000, "h", 0, False, None, 0, (), ())
        for i in range(6000)
    ]
    assert rows_jsonl(cycles) == as_rows(cycles)
    assert len(rows._HEADS) <= 257 and len(rows._MIDDLES) <= 4097 and len(rows._QUOTED) <= 4097
    assert rows_jsonl(cycles[:3]) == as_rows(cycles[:3])  # after a clear, as before


def _copied(source, target) -> None:
    from sla.io.writers import copy_file

    copy_file(source, target)


def test_copy_file_appends_what_is_left_of_the_source(tmp_path) -> None:
    """Kernel copy between files, the rest of a source a reader has read
    ahead in, an append-only target (the kernel refuses), memory buffers."""
    import io
    import os

    text = b"".join(b"line %d\n" % i for i in range(100_000))
    source_path = tmp_path / "source"
    source_path.write_bytes(text)
    for mode in ("wb", "ab", "memory"):
        with open(source_path, "rb") as source:
            assert source.readline() == b"line 0\n"  # the reader holds more in its buffer
            target_path = tmp_path / f"target-{mode}"
            target = io.BytesIO() if mode == "memory" else open(target_path, mode)  # noqa: SIM115
            target.write(b"head\n")
            _copied(source, target)
            target.write(b"tail\n")
            assert target.tell() == len(text) - len(b"line 0\n") + len(b"head\ntail\n")
            got = target.getvalue() if mode == "memory" else None
            target.close()
            if got is None:
                got = target_path.read_bytes()
        assert got == b"head\n" + text[len(b"line 0\n") :] + b"tail\n", mode
    read_end, write_end = os.pipe()  # a pipe as the source: through a buffer
    with os.fdopen(write_end, "wb") as writer:
        writer.write(b"piped\n")
    with os.fdopen(read_end, "rb") as reader, open(tmp_path / "from-pipe", "wb") as target:
        _copied(reader, target)
    assert (tmp_path / "from-pipe").read_bytes() == b"piped\n"


def test_copy_file_finishes_through_a_buffer_when_the_kernel_stops(tmp_path, monkeypatch) -> None:
    """The kernel copies a part, then refuses (EXDEV): the rest goes through
    a buffer from where it stopped; a real error (a full disk) is raised."""
    import errno
    import os

    import pytest

    text = b"".join(b"row %d\n" % i for i in range(1000))
    (tmp_path / "source").write_bytes(text)
    real = os.copy_file_range
    calls: list[int] = []

    def once_then(code: int):
        def copy_range(src, dst, count, offset_src=None):
            calls.append(count)
            if len(calls) == 1:
                return real(src, dst, 100, offset_src)
            raise OSError(code, os.strerror(code))

        return copy_range

    monkeypatch.setattr(os, "copy_file_range", once_then(errno.EXDEV))
    with open(tmp_path / "source", "rb") as source, open(tmp_path / "target", "wb") as target:
        target.write(b"head\n")
        _copied(source, target)
    assert (tmp_path / "target").read_bytes() == b"head\n" + text
    calls.clear()
    monkeypatch.setattr(os, "copy_file_range", once_then(errno.ENOSPC))
    with (
        open(tmp_path / "source", "rb") as source,
        open(tmp_path / "target", "wb") as target,
        pytest.raises(OSError) as raised,
    ):
        _copied(source, target)
    assert raised.value.errno == errno.ENOSPC
