"""JSON Lines into records: bounded line reading, the fast orjson path and
the exact slow path for what orjson refuses (big integers, deep nesting,
NaN), one (line number, record or LineError) pair per non-blank line.

Pure: it reads lines from a stream it is given; it never opens a file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from sla.engine.events import LineError, TicketEvents, collect_all, shown

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
    surrogate (``"\ud800"``) is not text.  Iterative: no recursion limit."""

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
_CHUNK = MAX_LINE_BYTES


def bounded_lines(handle: IO[bytes], budget: int | None = None) -> Iterator[bytes]:
    """The lines of a binary stream without their newline, read in chunks:
    a line longer than :data:`MAX_LINE_BYTES` comes as :data:`LONG_LINE` and is
    skipped to its end without being held in memory.  With ``budget``, the
    lines that start in the next ``budget`` bytes."""
    read = getattr(handle, "read1", handle.read)  # what is there, up to a chunk: pipes stream
    pending = b""
    long_line = False  # in the middle of skipping an over-long line
    while True:
        if budget is None:
            chunk = read(_CHUNK)
        elif budget > 0:
            chunk = read(min(_CHUNK, budget))
            budget -= len(chunk)
        elif pending or long_line:  # the budget ends inside a line: finish it
            chunk = read(_CHUNK)
            cut = chunk.find(b"\n")
            if cut >= 0:
                chunk = chunk[: cut + 1]
        else:
            break
        if not chunk:
            break
        parts = chunk.split(b"\n")
        if long_line:
            if len(parts) == 1:
                continue
            long_line = False
            parts[0] = LONG_LINE
        elif pending:
            parts[0] = pending + parts[0]
        pending = parts.pop()
        if len(pending) > MAX_LINE_BYTES:
            pending, long_line = b"", True
        # Only the first line can be over-long: the others are shorter than a chunk.
        if parts and len(parts[0]) > MAX_LINE_BYTES:
            parts[0] = LONG_LINE
        yield from parts
        if budget is not None and budget <= 0 and not pending and not long_line:
            break
    if long_line:
        yield LONG_LINE
    elif pending:
        yield pending


def jsonl_records(
    lines: Iterable[bytes | str] | IO[bytes], start_line: int = 1
) -> Iterator[tuple[int, object]]:
    """(line number, parsed object) per non-blank line; a ``LineError`` for a
    line that is not JSON.  A binary stream is read with :func:`bounded_lines`."""
    loads = _LOADS
    source: Iterable[bytes | str] = bounded_lines(lines) if hasattr(lines, "read") else lines  # type: ignore[arg-type]
    for number, raw in enumerate(source, start_line):
        try:
            record = loads(raw)
            # orjson reads an integer beyond 64 bits as a float: read such a
            # ticket_id again, exactly (and anything that is no dict with a
            # ticket_id too: the slow path gives the same object).
            if type(record["ticket_id"]) is float:  # type: ignore[index]
                raise Unreadable
        except Exception:  # orjson and json raise ValueError subclasses; odd bytes odder ones
            if not raw.strip():
                continue
            if raw is LONG_LINE:
                record = LineError(number, f"longer than {MAX_LINE_BYTES >> 20} MB")
            else:
                try:
                    record = loads_slowly(raw)
                except Unreadable as exc:
                    record = LineError(number, str(exc))
        yield number, record


def read_jsonl(
    lines: Iterable[bytes | str], start_line: int = 1
) -> tuple[dict[str, TicketEvents], list[LineError]]:
    """Parse JSONL lines into tickets (in order of first appearance) and line errors."""
    return collect_all(jsonl_records(lines, start_line))
