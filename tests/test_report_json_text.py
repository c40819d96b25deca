"""A report's JSON text (json_text) is the text Python's json writes, byte
for byte, whichever of orjson or json writes it: every float, text with any
character, keys that are not text, integers beyond 64 bits, NaN and
infinity (null), and types only Python's json knows."""

from __future__ import annotations

import json
import math
import struct
from enum import IntEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.report.formats import finite_only, json_text


def python_json(data: object) -> str:
    """What the report wrote before orjson: Python's json, NaN and infinity as null."""
    try:
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except ValueError:
        return json.dumps(finite_only(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def floats_of_every_kind() -> st.SearchStrategy[float]:
    any_bits = st.integers(0, 2**64 - 1).map(lambda bits: struct.unpack("<d", struct.pack("<Q", bits))[0])
    small = st.floats(min_value=1e-12, max_value=1e-3).flatmap(lambda x: st.sampled_from([x, -x]))
    return st.one_of(st.floats(allow_nan=True, allow_infinity=True), any_bits, small)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    floats_of_every_kind(),
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0x7F)),
    st.text(alphabet='"\\: -0.1e5\n'),  # text that looks like a tiny number after a key
)
tricky = st.text(alphabet='"\\: -0.1e5\n', max_size=10)
keys = st.one_of(st.text(max_size=8), tricky, st.integers(-5, 5), st.booleans(), st.none(), st.floats(-2, 2))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
        st.dictionaries(tricky, inner, max_size=4),
        st.dictionaries(keys, inner, max_size=3),
    ),
    max_leaves=25,
)


def same_as_python(data: object) -> None:
    try:
        expected = python_json(data)
    except Exception as exc:  # what Python's json refuses, json_text refuses too
        with pytest.raises(type(exc)):
            json_text(data)
        return
    assert json_text(data) == expected


@settings(max_examples=600, deadline=None)
@given(documents)
def test_json_text_is_pythons_text(data):
    same_as_python(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(floats_of_every_kind(), max_size=20))
def test_every_float_as_python_writes_it(values):
    same_as_python({"values": values, "nested": [{"v": v} for v in values]})


@pytest.mark.parametrize(
    "data",
    [
        {"tiny": 1e-05, "smaller": -5e-06, "tinier": 7.1850441006303285e-09, "edge": 0.0001},
        {"big": 1e16, "bigger": 1.2345678901234568e17, "huge": 1.7976931348623157e308, "zero": -0.0},
        {"mean": math.nan, "nested": [{"x": math.inf}, -math.inf], "fine": 1.5},
        {"n": 2**64, "m": -(2**63) - 1, "ok": 2**63 - 1},
        {1: "a", None: "b", False: "c", 1.5: "d"},
        {"text": 'quote " backslash \\ line\nbreak\ttab \x00\x1f\x7f \u2028 é 𝄞', "key \n": [": 1e5"]},
        {"kind": IntEnum("Kind", "A B").B, "sub": type("Text", (str,), {})("x")},
        {"lone": "\ud800"},
        {"a": ": 1e-05", "b": [": 5e-06", '": 0.00001'], 'k": 1e-05': 1e-05, "c\\": 5e-06, "d\\\\": [1e-07]},
        {"sentiment": {"first_mean": -0.35, "last_mean": 9.912705577010326e-19}},
        {"empty": {}, "none": [], "deep": [[[{}]]]},
        [],
        "just text",
    ],
)
def test_json_text_edge_cases(data):
    same_as_python(data)


def test_a_type_pythons_json_refuses_is_refused():
    import datetime

    with pytest.raises(TypeError):
        json_text({"at": datetime.datetime(2026, 1, 1)})
    with pytest.raises(TypeError):
        json_text({"set": {1}})


def test_orjson_writes_the_common_report(monkeypatch):
    """The fast path is taken for a report's usual figures, a tiny mean
    included (this is the point): Python's json is not called."""
    import sla.report.formats as formats

    data = {"sla": [{"group": {"channel": "chat"}, "compliance": 0.875, "p50": 6705.0, "cycles": 8}]}
    data["sentiment"] = {"last_mean": 9.912705577010326e-19, "first_mean": 1e-05, "texts": [": 1e-05"]}
    expected = python_json(data)
    monkeypatch.setattr(formats.json, "dumps", lambda *args, **kwargs: pytest.fail("json.dumps called"))
    assert json_text(data) == expected
