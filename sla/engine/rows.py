"""Rows: a judged cycle as the row ``sla evaluate`` prints (SEMANTICS.md
section 6), a dict ready for JSON (:func:`row_of`) or its JSON Lines text
(:func:`rows_jsonl`).  One of the engine's hot modules (compiled where it
can be, see ``setup.py``).
"""

from __future__ import annotations

from types import FunctionType
from typing import TYPE_CHECKING, Final

import orjson

from sla.timefmt import _FORMATTED, format_instant, seconds_of

if TYPE_CHECKING:
    from sla.engine.judge import CycleFields


def row_of(result: CycleFields) -> dict[str, object]:
    """The row of one judged cycle, a :class:`~sla.engine.results.CycleResult`
    or its fields as a plain tuple (``CycleResult.to_row``)."""
    # Unpacked once: named-tuple field access and helper calls add up
    # over millions of rows.
    (
        ticket_id,
        policy,
        metric,
        cycle,
        started_at,
        ended_at,
        state,
        target_us,
        hours,
        elapsed_us,
        breached,
        due_at,
        paused_us,
        paused,
        _,
    ) = result
    remaining_us = target_us - elapsed_us
    # Instants through the formatter's cache inline (rows repeat a ticket's
    # instants); seconds as an int when whole, else a float.
    # (_FORMATTED.get by name, not a local alias: compiled, that is a C call.)
    started = _FORMATTED.get(started_at) or format_instant(started_at)
    ended = None if ended_at is None else _FORMATTED.get(ended_at) or format_instant(ended_at)
    due = None if due_at is None else _FORMATTED.get(due_at) or format_instant(due_at)
    return {
        "ticket_id": ticket_id,
        "policy": policy,
        "metric": metric,
        "cycle": cycle,
        "started_at": started,
        "ended_at": ended,
        "state": state,
        "target_seconds": target_us // 1_000_000 if target_us % 1_000_000 == 0 else seconds_of(target_us),
        "hours": hours,
        "elapsed_seconds": elapsed_us // 1_000_000 if elapsed_us % 1_000_000 == 0 else seconds_of(elapsed_us),
        "remaining_seconds": (
            remaining_us // 1_000_000 if remaining_us % 1_000_000 == 0 else seconds_of(remaining_us)
        ),
        "breached": breached,
        "due_at": due,
        "paused_seconds": paused_us // 1_000_000 if paused_us % 1_000_000 == 0 else seconds_of(paused_us),
        "paused": [[format_instant(a), None if b is None else format_instant(b)] for a, b in paused]
        if paused
        else [],
    }


def rows_of(results: list[CycleFields]) -> list[dict[str, object]]:
    """The rows of a ticket's judged cycles, in order (compiled: each
    :func:`row_of` a native call, where ``map`` calls it through Python)."""
    return [row_of(result) for result in results]


#: JSON text of the names rows repeat (policies, metrics, states, calendars).
_QUOTED: Final[dict[str, str]] = {}


def _json_text(value: object) -> str:
    return orjson.dumps(value).decode()


def _quoted(text: str) -> str:
    """``text`` as a JSON string, as orjson writes it: only ``"``, ``\\`` and
    control characters are escaped; other characters are written as they are."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    return _json_text(text)


def _name(text: str) -> str:
    quoted = _QUOTED.get(text)
    if quoted is None:
        quoted = _quoted(text)
        if len(_QUOTED) > 4096:  # names come from policies: a bound, not a working set
            _QUOTED.clear()
        _QUOTED[text] = quoted
    return quoted


def _seconds(us: int) -> str:
    """Microseconds as JSON seconds: an integer when whole, else orjson's float."""
    if us == 0:
        return "0"
    if us % 1_000_000 == 0:
        return str(us // 1_000_000)
    return _json_text(seconds_of(us))


def _instant(us: int) -> str:
    return _FORMATTED.get(us) or format_instant(us)


#: The text from a row's policy to its cycle number, per policy and metric.
_HEADS: Final[dict[str, dict[str, str]]] = {}
#: The text from a row's state to its elapsed seconds, per state, target and hours.
_MIDDLES: Final[dict[tuple[str, int, str], str]] = {}


def _head(policy: str, metric: str) -> str:
    by_metric = _HEADS.get(policy)
    if by_metric is None:
        if len(_HEADS) > 256:  # names come from policies: a bound, not a working set
            _HEADS.clear()
        by_metric = _HEADS[policy] = {}
    text = by_metric.get(metric)
    if text is None:
        text = by_metric[metric] = f',"policy":{_name(policy)},"metric":{_name(metric)},"cycle":'
    return text


def _middle(state: str, target_us: int, hours: str) -> str:
    key = (state, target_us, hours)
    text = _MIDDLES.get(key)
    if text is None:
        if len(_MIDDLES) > 4096:
            _MIDDLES.clear()
        text = _MIDDLES[key] = (
            f',"state":{_name(state)},"target_seconds":{_seconds(target_us)},'
            f'"hours":{_name(hours)},"elapsed_seconds":'
        )
    return text


def rows_jsonl(results: list[CycleFields]) -> bytes:
    """The JSON Lines of a ticket's judged cycles, each line ending in a
    newline: byte for byte ``orjson.dumps(row_of(result))`` per result, built
    as text without the dict (the rows of ``sla evaluate``'s JSONL output).

    >>> from sla.engine.results import CycleResult
    >>> cycle = ("T-1", "standard", "first_response", 1, 0, 90_500_000, "achieved",
    ...          3_600_000_000, "calendar", 90_500_000, False, None, 0, (), ())
    >>> rows_jsonl([cycle]) == orjson.dumps(row_of(cycle), option=orjson.OPT_APPEND_NEWLINE)
    True
    """
    lines: list[str] = []
    write_rows(results, lines)
    return "".join(lines).encode()


def write_rows(results: list[CycleFields], lines: list[str]) -> int:
    """Append the JSON Lines text of a ticket's judged cycles to ``lines``
    (as :func:`rows_jsonl` gives it, one str a row); returns its length in
    characters."""
    size = 0
    last_ticket: str | None = None
    ticket = ""
    for result in results:
        (
            ticket_id,
            policy,
            metric,
            cycle,
            started_at,
            ended_at,
            state,
            target_us,
            hours,
            elapsed_us,
            breached,
            due_at,
            paused_us,
            paused,
            _,
        ) = result
        if ticket_id is not last_ticket:
            ticket, last_ticket = '{"ticket_id":' + _quoted(ticket_id), ticket_id
        # An instant that may be null: its quote marks ('' for null) and text,
        # as pieces of the line rather than concatenated strings.
        if ended_at is None:
            ended_mark, ended = "", "null"
        else:
            ended_mark, ended = '"', _instant(ended_at)
        if due_at is None:
            due_mark, due = "", "null"
        else:
            due_mark, due = '"', _instant(due_at)
        if paused:
            stretches = [
                '["' + _instant(a) + ('",null]' if b is None else '","' + _instant(b) + '"]')
                for a, b in paused
            ]
            paused_text = "[" + ",".join(stretches) + "]"
        else:
            paused_text = "[]"
        # The pieces a ticket's rows share are made once: _head and _middle.
        line = (
            f"{ticket}{_head(policy, metric)}{cycle},"
            f'"started_at":"{_instant(started_at)}","ended_at":{ended_mark}{ended}{ended_mark}'
            f"{_middle(state, target_us, hours)}{_seconds(elapsed_us)},"
            f'"remaining_seconds":{_seconds(target_us - elapsed_us)},'
            f'"breached":{"true" if breached else "false"},"due_at":{due_mark}{due}{due_mark},'
            f'"paused_seconds":{_seconds(paused_us)},"paused":{paused_text}}}\n'
        )
        lines.append(line)
        size += len(line)
    return size


#: Whether :func:`rows_jsonl` runs compiled.  Compiled, writing the text is
#: the cheaper way to JSON Lines (measured: 6-9% less CPU for ``sla
#: evaluate``); interpreted, its dozen helper calls a row cost more than
#: building the dict and handing it to orjson (+6%), so the shell picks.
ROWS_TEXT_IS_NATIVE: Final = not isinstance(rows_jsonl, FunctionType)


def ticket_jsonl(results: list[CycleFields]) -> bytes:
    """A ticket's rows as JSON Lines, the cheaper way for the engine at hand
    (:func:`batch_jsonl` of the one ticket)."""
    return batch_jsonl([results])


def batch_jsonl(judged: list[list[CycleFields]]) -> bytes:
    """The rows of several tickets' judged cycles as JSON Lines, in order,
    the cheaper way for the engine at hand: compiled, :func:`rows_jsonl`;
    interpreted, every :func:`row_of` dumped by orjson in one array, cut
    into lines (the same bytes)."""
    if ROWS_TEXT_IS_NATIVE:
        return b"".join([rows_jsonl(results) for results in judged])
    # Interpreted: one orjson call for every row, as a JSON array, cut into
    # lines where one row ends and the next begins (measured: a tenth less
    # than a call per row).  A row holds no object, so ``{`` outside a
    # string only ever opens a row, and a quote inside a string is always
    # escaped: the bytes ``},{"ticket_id":`` occur between rows only.
    array = orjson.dumps([row_of(row) for results in judged for row in results])
    if len(array) == 2:  # []
        return b""
    return array[1:-1].replace(_BETWEEN_ROWS, _ROWS_APART) + b"\n"


_BETWEEN_ROWS: Final = b'},{"ticket_id":'
_ROWS_APART: Final = b'}\n{"ticket_id":'
