"""Text from the data made safe for one terminal line: what messages on
standard error and the human-readable tables print."""

from __future__ import annotations

_CONTROL = {c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F]} | {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}


def printable(text: str) -> str:
    """Text from the data, safe on one terminal line: control characters
    (a newline that would forge a message or a row, an escape code) are escaped.

    >>> printable("T1\\nrejected: x\\x1b[31m")
    'T1\\\\nrejected: x\\\\x1b[31m'
    """
    return text.translate(_CONTROL)


__all__ = ["printable"]
