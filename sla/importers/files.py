"""Saved exports as documents: walk the ``PATH`` arguments, open each file
(plain or gzip, by its first bytes), and tell a saved page from JSON Lines
by the content, whatever the file's name.

- A folder is read recursively, its files in sorted order (by path); names
  starting with ``.`` (``.DS_Store``, an editor's swap file) are passed
  over there, but a file named on the command line is always read. ``-`` is
  standard input.
- A file whose first non-blank line is a complete JSON value and that has
  more lines is JSON Lines: one document per line, at its line number, read
  as a stream (a multi-GB export is never held whole). Otherwise the file is
  one JSON value (a response page, pretty-printed or not): one document at
  line 1. A file that is neither (a truncated download) is one
  :class:`~sla.importers.base.Unreadable`, or, when some of its lines parse
  on their own, JSON Lines whose other lines are unreadable.
- A file whose first non-blank byte is neither ``{`` nor ``[`` is not JSON:
  one :class:`~sla.importers.base.Unreadable` for the whole file.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import IO

import orjson

from sla.engine.jsonl import Unreadable as NotJson
from sla.engine.jsonl import loads_value
from sla.errors import SlaError
from sla.importers.base import Document, Position, Unreadable
from sla.io.sources import opened_input as opened

STDIN = "-"
#: What messages call standard input.
STDIN_NAME = "standard input"
#: A JSON Lines line longer than this is unreadable (skipped without being held).
MAX_LINE_BYTES = 64 << 20
#: A file whose first line is no JSON value is gathered whole up to this size
#: before lines that parse on their own make it JSON Lines (with a bad first line).
WHOLE_LIMIT_BYTES = 256 << 20
#: A plain file up to this size is read in one go (then split into lines).
WHOLE_READ_BYTES = 16 << 20
_BOM = b"\xef\xbb\xbf"


class _LongLine(bytes):
    """Stands for a line longer than :data:`MAX_LINE_BYTES` (its text is not kept)."""


_LONG = _LongLine(b"")


def display_name(path: str) -> str:
    """A file as messages name it."""
    return STDIN_NAME if path == STDIN else path


def walk(paths: Iterable[str]) -> Iterator[str]:
    """The files to read, in order: each argument as given, a folder's files
    recursively in sorted order (hidden names and non-regular files passed
    over); an :class:`~sla.errors.SlaError` for a path that does not exist."""
    for path in paths:
        if path == STDIN:
            yield path
        elif os.path.isdir(path):
            found: list[tuple[tuple[str, ...], str]] = []
            for root, folders, files in os.walk(path):
                folders[:] = [f for f in folders if not f.startswith(".")]
                for name in files:
                    full = os.path.join(root, name)
                    if not name.startswith(".") and os.path.isfile(full):
                        found.append((tuple(os.path.relpath(full, path).split(os.sep)), full))
            yield from (full for _, full in sorted(found))
        elif os.path.exists(path):
            yield path
        else:
            raise SlaError(f"no such file or folder: {path}")


def read_documents(path: str) -> Iterator[Document | Unreadable]:
    """The documents of one file (see the module's notes), in file order."""
    name = display_name(path)
    with opened(path) as handle:
        yield from documents_of(handle, name)


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    """(line number, line) pairs; an over-long line comes as ``_LONG``. The
    first line may be as long as a whole page (:data:`WHOLE_LIMIT_BYTES`): a
    page saved minified is one line."""
    size = _plain_size(handle)
    if size is not None and size <= min(WHOLE_READ_BYTES, MAX_LINE_BYTES):
        # A small plain file (a saved page) in one read: reading a long
        # line a buffer at a time costs several times as much. The lines
        # are the same as readline's (split at b"\n" only, each with it).
        pieces = handle.read().split(b"\n")
        last = pieces.pop()  # what follows the last newline
        for number, piece in enumerate(pieces, 1):
            yield number, piece + b"\n"
        if last:
            yield len(pieces) + 1, last
        return
    readline = handle.readline
    number = 0
    limit = WHOLE_LIMIT_BYTES
    while True:
        raw = readline(limit)
        if not raw:
            return
        number += 1
        if len(raw) >= limit and not raw.endswith(b"\n"):
            while True:  # skip the rest of the line
                more = readline(MAX_LINE_BYTES)
                if not more or more.endswith(b"\n"):
                    break
            raw = _LONG
        yield number, raw
        limit = MAX_LINE_BYTES


def _plain_size(handle: IO[bytes]) -> int | None:
    """The bytes left in ``handle`` when it is a regular file read as it is
    (not gunzipped, not a pipe), else ``None``."""
    if not isinstance(handle, io.BufferedReader):
        return None
    try:
        status = os.fstat(handle.fileno())
        return status.st_size - handle.tell() if stat.S_ISREG(status.st_mode) else None
    except (OSError, ValueError):
        return None


def _next_content(lines: Iterator[tuple[int, bytes]]) -> tuple[int, bytes] | None:
    for number, raw in lines:
        if raw is _LONG or raw.strip():
            return number, raw
    return None


_BAD = object()


def _value(raw: bytes) -> object:
    """A line's JSON value, or ``_BAD``."""
    if raw is _LONG:
        return _BAD
    try:
        return loads_value(raw)
    except NotJson:
        return _BAD


def _line_item(name: str, number: int, raw: bytes) -> Document | Unreadable:
    where = Position(name, number)
    if raw is _LONG:
        return Unreadable(where, f"a line longer than {MAX_LINE_BYTES >> 20} MB")
    try:
        return Document(where, loads_value(raw))
    except NotJson as exc:
        return Unreadable(where, str(exc))


def _as_lines(name: str, lines: Iterable[tuple[int, bytes]]) -> Iterator[Document | Unreadable]:
    for number, raw in lines:
        if raw is _LONG or raw.strip():
            yield _line_item(name, number, raw)


def _not_json(head: bytes) -> str:
    """Why a file whose first byte is no ``{`` or ``[`` is not read."""
    if head.startswith(b"PK\x03\x04"):
        return "not JSON: it looks like a zip archive (unpack it first)"
    if b"\x00" in head or sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 10:
        return "not JSON: it looks like a binary file"
    first = head.split(b"\n", 1)[0].strip()
    shown = first[:40].decode("utf-8", "replace") + ("..." if len(first) > 40 else "")
    if b"," in first or b";" in first or b"\t" in first:
        return f"not JSON: it looks like a table ({shown!r}); the csv source reads tables"
    return f"not JSON: it starts with {shown!r}"


def documents_of(handle: IO[bytes], name: str) -> Iterator[Document | Unreadable]:
    """The documents of an open file called ``name`` in messages."""
    lines = _lines(handle)
    first = _next_content(lines)
    if first is None:
        return  # an empty file holds nothing
    number, raw = first
    if number == 1 and raw.startswith(_BOM):
        raw = raw[len(_BOM) :]
    if raw is _LONG:
        yield Unreadable(Position(name, number), f"a line longer than {WHOLE_LIMIT_BYTES >> 20} MB")
        return
    if not raw.lstrip().startswith((b"{", b"[")):
        yield Unreadable(Position(name, number), _not_json(raw[:4096]))
        return
    value = _value(raw)
    if value is not _BAD:
        second = _next_content(lines)
        yield Document(Position(name, 1 if second is None else number), value)
        if second is not None:  # a complete value and more lines: JSON Lines
            yield _line_item(name, *second)
            yield from _as_lines(name, lines)
        return
    yield from _whole_or_lines(name, [(number, raw)], lines)


def _whole_or_lines(
    name: str, held: list[tuple[int, bytes]], lines: Iterator[tuple[int, bytes]]
) -> Iterator[Document | Unreadable]:
    """A file whose first line is no JSON value: one pretty-printed value, or
    JSON Lines with a bad first line. Gathered whole, unless it grows past
    :data:`WHOLE_LIMIT_BYTES` with lines that parse on their own."""
    size = sum(len(raw) for _, raw in held)
    checked = len(held)
    for number, raw in lines:
        held.append((number, raw))
        size += len(raw)
        if size > WHOLE_LIMIT_BYTES:
            if any(_parses_alone(r) for _, r in held[max(1, checked) :]):
                yield from _as_lines(name, held)
                yield from _as_lines(name, lines)
                return
            checked = len(held)
    whole = b"".join(raw for _, raw in held)
    value: object = _BAD
    try:
        value = orjson.loads(whole)
    except orjson.JSONDecodeError as exc:
        why = str(exc)
        with suppress(NotJson):
            value = loads_value(whole)  # the exact path for what orjson refuses
    if value is not _BAD:
        yield Document(Position(name, 1), value)
    elif any(_parses_alone(raw) for _, raw in held[1:]):
        yield from _as_lines(name, held)
    else:
        yield Unreadable(Position(name, 1), f"not valid JSON ({why}); a download cut short?")


def _parses_alone(raw: bytes) -> bool:
    """Whether a line is a whole JSON object or array on its own."""
    return raw.lstrip().startswith((b"{", b"[")) and _value(raw) is not _BAD


__all__ = ["STDIN", "display_name", "documents_of", "opened", "read_documents", "walk"]
