"""An event's type and author, however they are given: the compiled engine
tells them by comparing texts, the interpreted one by looking them up
(sla.engine.events); both give the same codes, the same plain names, and
the same errors (this file runs on both engines in CI)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla.engine.events import AUTHORS, CREATED, CSAT, MESSAGE, STATUS, TYPE_CODES, UPDATE, parse_event
from sla.errors import EventError

AT = "2026-03-02T08:00:00Z"
#: What each type needs besides its name.
NEEDS: dict[str, dict[str, object]] = {
    "created": {"fields": {}},
    "message": {"author": "agent"},
    "status": {"status": "open"},
    "update": {"fields": {}},
    "csat": {"score": 5},
}


class Text(str):
    """A str subclass, as an API caller may hand over."""


@pytest.mark.parametrize(
    ("name", "code"),
    [("created", CREATED), ("message", MESSAGE), ("status", STATUS), ("update", UPDATE), ("csat", CSAT)],
)
def test_each_type_by_its_name_or_a_str_subclass_of_it(name: str, code: int) -> None:
    assert parse_event({"type": name, "at": AT, **NEEDS[name]}).kind == code
    assert parse_event({"type": Text(name), "at": AT, **NEEDS[name]}).kind == code


@pytest.mark.parametrize("author", sorted(AUTHORS))
def test_each_author_is_the_plain_name_whatever_text_gave_it(author: str) -> None:
    for given_name in (author, Text(author), "".join(author)):
        event = parse_event({"type": "message", "at": AT, "author": given_name})
        assert event.author == author and type(event.author) is str


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("nope", "'nope'"),
        ("Message", "'Message'"),
        ("message ", "'message '"),
        ("", "''"),
        (None, "None"),
        (1, "1"),
        (["message"], "['message']"),
        ({"a": 1}, "{'a': 1}"),
        (Text("messages"), "'messages'"),
    ],
)
def test_a_type_that_is_none_of_the_names_is_refused_with_what_it_was(value: object, shown: str) -> None:
    with pytest.raises(EventError) as caught:
        parse_event({"type": value, "at": AT})
    assert str(caught.value) == f"type is {shown}; expected one of created, message, status, update, csat"


@pytest.mark.parametrize(
    ("value", "shown"),
    [("Agent", "'Agent'"), ("", "''"), (None, "None"), (3, "3"), ([1], "[1]"), (Text("bots"), "'bots'")],
)
def test_an_author_that_is_none_of_the_names_is_refused_with_what_it_was(value: object, shown: str) -> None:
    with pytest.raises(EventError) as caught:
        parse_event({"type": "message", "at": AT, "author": value})
    assert str(caught.value) == f"author is {shown}; expected customer, agent or bot"
    with pytest.raises(EventError, match="^author is None;"):
        parse_event({"type": "message", "at": AT})  # absent


@given(st.text(max_size=9) | st.sampled_from([*TYPE_CODES, *AUTHORS]))
def test_any_text_is_a_type_and_an_author_exactly_when_it_is_one_of_the_names(text: str) -> None:
    # the model: the names as they are listed
    if text in TYPE_CODES:
        assert parse_event({"type": text, "at": AT, **NEEDS[text]}).kind == TYPE_CODES[text]
    else:
        with pytest.raises(EventError, match="^type is "):
            parse_event({"type": text, "at": AT})
    if text in AUTHORS:
        assert parse_event({"type": "message", "at": AT, "author": text}).author == text
    else:
        with pytest.raises(EventError, match="^author is "):
            parse_event({"type": "message", "at": AT, "author": text})
