"""JSON values from lines of JSON Lines or CSV cells: orjson's fast path
(:data:`_LOADS`) and the exact slow path for what orjson refuses or reads
inexactly (big integers, deep nesting, NaN, a byte order mark), with the
limits a line is read under.

Apart from :mod:`sla.engine.jsonl` (which gives these names too) so that
the hot reading module, :mod:`sla.engine.lines`, and the public one import
them without importing each other: either can be imported first.

>>> loads_value(b'{"n": 18446744073709551616}'), loads_value('[1e999]')
({'n': 1.8446744073709552e+19}, [inf])
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from sla.engine.events import shown

#: An input line (JSONL or CSV) longer than this is rejected without being held in memory.
MAX_LINE_BYTES = 1 << 20
#: JSON nested deeper than this is refused (orjson's own limit).
MAX_DEPTH = 1024


def _loads() -> Callable[[bytes | str], object]:
    try:
        import orjson

        return orjson.loads
    except ImportError:  # pragma: no cover - orjson is a dependency
        return json.loads


class Unreadable(ValueError):
    """A line that cannot be read as a JSON value; the message says why."""


class _BigInt(str):
    """The digits of an integer beyond 64 bits, read by the slow path."""


_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1  # what orjson reads as an exact integer
_SURROGATE = re.compile("[\ud800-\udfff]")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def _parse_int(digits: str) -> object:
    if len(digits) <= 20:
        value = int(digits)
        if _INT_MIN <= value <= _INT_MAX:
            return value
    return _BigInt(digits)


def _refuse_constant(name: str) -> object:
    raise Unreadable(f"not valid JSON ({name} is not a JSON value)")


def _depth(text: str) -> int:
    """The deepest bracket nesting of JSON text (strings skipped); error path only."""
    depth = deepest = 0
    for char in _NOT_BRACKETS.sub("", _STRINGS.sub("", text)):
        depth = depth + 1 if char in "[{" else depth - 1
        deepest = max(deepest, depth)
    return deepest


def _settle(value: object) -> object:
    """Settle what the slow path read as orjson would: an integer beyond 64 bits
    becomes a float (the top-level ``ticket_id``: its decimal text); a lone
    surrogate (``"\\ud800"``) is not text.  Iterative: no recursion limit."""

    def fix(item: object, key: object) -> object:
        if type(item) is _BigInt:
            # The top-level ticket_id keeps its digits: it is a name, not a quantity.
            return str(item) if key == "ticket_id" and container is value else float(item)
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise Unreadable(f"not valid JSON ({shown(item)} holds a lone surrogate, not text)")
        elif isinstance(item, (dict, list)):
            stack.append(item)
        return item

    stack: list[object] = []
    container: object = None
    root = fix(value, None)
    while stack:
        container = stack.pop()
        if isinstance(container, dict):
            for key in container:
                if _SURROGATE.search(key):
                    raise Unreadable(f"not valid JSON ({shown(key)} holds a lone surrogate, not text)")
                container[key] = fix(container[key], key)
        elif isinstance(container, list):
            for index, item in enumerate(container):
                container[index] = fix(item, None)
    return root


_BOM = "\ufeff"


def loads_slowly(raw: bytes | str) -> object:
    """Read a line orjson refused (or read inexactly) with the stdlib ``json``:
    a leading byte order mark skipped, integers of any size, ``1e999`` as
    infinity; raises :class:`Unreadable` with a short reason otherwise."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Unreadable(
                f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
            ) from None
    else:
        text = raw
    text = text.removeprefix(_BOM)
    if _depth(text) > MAX_DEPTH:
        raise Unreadable(f"JSON nested more than {MAX_DEPTH} levels deep")
    try:
        value = json.loads(text, parse_int=_parse_int, parse_constant=_refuse_constant)
    except RecursionError:
        raise Unreadable("JSON nested too deep to read") from None
    except Unreadable:
        raise
    except ValueError:
        raise Unreadable("not valid JSON") from None
    return _settle(value)


_LOADS = _loads()


def loads_value(raw: bytes | str) -> object:
    """One JSON value: orjson, and :func:`loads_slowly` where orjson refuses."""
    try:
        return _LOADS(raw)
    except Exception:
        return loads_slowly(raw)


class _LongLine(bytes):
    """Stands for an input line longer than :data:`MAX_LINE_BYTES` (its text
    is not kept); orjson refuses it, so it costs nothing on the common path."""


LONG_LINE = _LongLine(b"\x00")
