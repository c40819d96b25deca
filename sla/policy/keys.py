"""Mapping keys and scalars under the policy language's equality, kept free
of the parsers (no YAML here): the engine reads a ticket's priority against a
target's keys with :func:`scalar_key` on every cycle, and a cached policy
loads without the parsing libraries (:mod:`sla.io.policy_cache`).
"""

from __future__ import annotations

from datetime import date


class BoolKey(str):
    """A ``true``/``false`` mapping key kept apart from the number 1 or 0.

    Python's ``True == 1``, so a mapping with both ``1:`` and ``true:`` keys
    would silently keep one of them; YAML says they are different keys.  In
    such a mapping only, the boolean key becomes this text (``"True"``).
    """

    __slots__ = ()


ScalarKey = tuple[str, object]


def scalar_key(value: object) -> ScalarKey | None:
    """A scalar under the policy language's equality, as a hashable key:
    strings equal strings, numbers equal numbers (``1`` is ``1.0``),
    booleans equal booleans, and never across kinds (``true``, ``1`` and
    ``"1"`` are three keys). None for what is not a scalar.

    >>> scalar_key(1) == scalar_key(1.0), scalar_key(True) == scalar_key(1), scalar_key("1") == scalar_key(1)
    (True, False, False)
    """
    if isinstance(value, BoolKey):
        return ("bool", value == "True")
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("number", value)
    if isinstance(value, float):
        return ("number", int(value) if value.is_integer() else value)
    if isinstance(value, date):
        return ("text", value.isoformat())
    if isinstance(value, str):
        return ("text", value)
    return None


def scalar_text(key: ScalarKey) -> str:
    """How a policy file writes the scalar of a key: ``urgent``, ``1``, ``true``."""
    kind, value = key
    if kind == "bool":
        return "true" if value else "false"
    return str(value)
