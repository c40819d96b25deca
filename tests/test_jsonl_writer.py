"""The JSON Lines writer serialises a ticket's rows in one call and turns the
commas between them into newlines; whatever the rows hold after their
``ticket_id`` (which comes first in every row the engine makes), every line
must be exactly ``orjson.dumps(row)``."""

from __future__ import annotations

import io

import orjson
from hypothesis import given
from hypothesis import strategies as st

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
