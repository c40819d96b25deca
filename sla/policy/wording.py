"""The words of a policy file's messages, free of pydantic and the parsers:
:func:`show` (a value as the file wrote it), :func:`suggest` (the "did you
mean" hint), :func:`key_text` (a mapping key as a path part) and
:class:`LocatedValueError`. The engine and the report use them at run time,
where a cached policy loads without pydantic (:mod:`sla.io.policy_cache`);
:mod:`sla.policy.messages` adds the translation of pydantic's errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

from sla.policy.keys import BoolKey


class LocatedValueError(ValueError):
    """A validation error deeper than the field it was raised for.

    pydantic keeps the exception in the error's context; the loader appends
    ``subpath`` to the error location so the message names the exact value.
    ``more`` holds further (subpath, message) problems found in the same value,
    so one bad entry does not hide the next.
    """

    def __init__(
        self,
        message: str,
        subpath: tuple[object, ...] = (),
        more: list[tuple[tuple[object, ...], str]] | None = None,
    ):
        super().__init__(message)
        self.subpath = subpath
        self.more = list(more or [])

    @property
    def items(self) -> list[tuple[tuple[object, ...], str]]:
        return [(self.subpath, str(self))] + self.more

    @classmethod
    def collect(cls, items: list[tuple[tuple[object, ...], str]]) -> LocatedValueError:
        (subpath, message), *rest = items
        return cls(message, subpath, rest)


def show(value: object) -> str:
    """A value as a message shows it: YAML words for null and booleans, short."""
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, BoolKey):
        return value.lower()
    # Data reads as JSON, never as a Python repr.
    text = json_text(value) if isinstance(value, (list, tuple, dict)) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def json_text(value: object) -> str:
    """Data as JSON, as messages show it (never a Python repr): text as it
    is, any value JSON has no type for as its text, and a mapping key JSON
    cannot hold (a date, from an unquoted YAML key) as its text too.

    >>> from datetime import date
    >>> json_text({date(2026, 12, 24): ["09:00-12:00"], "tags": ("é", 1)})
    '{"2026-12-24": ["09:00-12:00"], "tags": ["é", 1]}'
    """
    return json.dumps(_json_keys(value), ensure_ascii=False, default=str)


def _json_keys(value: object) -> object:
    """``value`` with every mapping key one JSON can hold (``default=str``
    converts values only, never keys)."""
    if isinstance(value, dict):
        return {_json_key(key): _json_keys(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_keys(item) for item in value]
    return value


def _json_key(key: object) -> object:
    """A key JSON can hold as it is, else its text as :func:`key_text` writes
    it: a YAML key that is a date (``2026-12-24:`` unquoted) becomes ``2026-12-24``."""
    return key if key is None or isinstance(key, (str, int, float, bool)) else key_text(key)


def suggest(word: object, choices: Iterable[object]) -> str:
    """``; did you mean 'x'?`` for the choice nearest to ``word``, or nothing."""
    import difflib  # (here: only an error needs it, and a command starts 1 ms sooner without it)

    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def key_text(key: object) -> str:
    """A mapping key as a path part: dates (unquoted YAML keys) as YYYY-MM-DD."""
    return key.isoformat() if isinstance(key, date) else str(key)
