"""Writing YAML text by hand, for policy files an importer generates with
comments in them (PyYAML's emitter drops comments).

Strings are plain only where every YAML reader agrees they are strings
(``incident``, ``first_response``, ``1h30m``); anything else (ids made of
digits, ``yes``, ``no``, text with spaces or punctuation) is double-quoted,
with characters YAML cannot carry raw written as escapes.

>>> flow({"type": "incident", "group": "360001", "tags": {"contains": "vip"}})
'{type: incident, group: "360001", tags: {contains: vip}}'
>>> block("match", {"any": [{"tags": {"contains": "vip"}}, {"priority": "urgent"}]}, 4, width=40)
['    match:', '      any:', '        - {tags: {contains: vip}}', '        - {priority: urgent}']
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from datetime import date

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_+/-]*\Z")
_DURATION = re.compile(r"(?:\d+[dhms])+\Z")
# Plain words YAML 1.1 readers take for booleans, nulls or numbers.
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}
# What PyYAML accepts raw in a double-quoted scalar; the rest is escaped.
_UNPRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def quoted(text: str) -> str:
    """``text`` as a double-quoted YAML scalar."""
    body = json.dumps(text, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}" if ord(m.group()) <= 0xFFFF else "?", body)


def scalar(value: object) -> str:
    """A scalar as YAML: booleans, finite numbers and dates plain, strings
    plain when unambiguous, else quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if (_PLAIN.match(text) and text.lower() not in _RESERVED) or _DURATION.match(text):
        return text
    return quoted(text)


def flow(value: object) -> str:
    """``value`` on one line: ``{k: v}``, ``[a, b]`` or a scalar."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    return scalar(value)


def block(key: object, value: object, indent: int, width: int = 96) -> list[str]:
    """``key: value`` at ``indent`` spaces: on one line when it fits in
    ``width`` columns, else one line per key or item, recursively."""
    pad = " " * indent
    line = f"{pad}{scalar(key)}: {flow(value)}"
    if len(line) <= width or not isinstance(value, dict | list | tuple) or not value:
        return [line]
    lines = [f"{pad}{scalar(key)}:"]
    if isinstance(value, dict):
        for k, v in value.items():
            lines += block(k, v, indent + 2, width)
        return lines
    for item in value:
        lines.append(f"{pad}  - {flow(item)}")
    return lines


def comment(text: str) -> str:
    """``text`` made fit for one comment line (no line breaks or control characters)."""
    return " ".join(_UNPRINTABLE.sub(" ", text).split())


def comment_lines(text: str, indent: int, width: int = 100, hang: int = 2) -> list[str]:
    """``text`` as ``# ...`` lines at ``indent`` spaces, wrapped at ``width``
    columns, continuation lines indented by ``hang`` more spaces.

    >>> comment_lines("not translated: status less_than solved", 2, width=30)
    ['  # not translated: status', '  #   less_than solved']
    """
    pad = " " * indent + "# "
    wrapped = textwrap.wrap(
        comment(text), max(20, width - len(pad)), subsequent_indent=" " * hang, break_on_hyphens=False
    )
    return [pad + line for line in wrapped] or [pad.rstrip()]


__all__ = ["block", "comment", "comment_lines", "flow", "quoted", "scalar"]
