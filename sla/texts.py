"""Short human texts for durations, shared by summaries, tables and explain."""

from __future__ import annotations

_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def compact_duration(us: int, parts: int = 4) -> str:
    """``5400_000_000`` -> ``1h30m``; at most ``parts`` units, sign kept.

    >>> compact_duration(5_400_000_000), compact_duration(-90_000_000), compact_duration(0)
    ('1h30m', '-1m30s', '0s')
    """
    sign = "-" if us < 0 else ""
    seconds = abs(us) // 1_000_000
    out = []
    for unit, size in _UNITS:
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return sign + ("".join(out[:parts]) or "0s")
