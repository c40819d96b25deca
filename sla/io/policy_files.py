"""Policy files on disk: reading one and handing it to the pure core.

:func:`read_document` reads a file and parses it by its suffix
(:mod:`sla.policy.source`); :func:`load_policies` takes a path, YAML/JSON
text or a mapping and compiles it (:func:`sla.policy.compile.compile_document`).
This is the only place the policy side of the SDK touches the file system.

>>> policies = load_policies('''
... policies:
...   - name: everyone
...     targets: {first_response: 1h}
... ''')
>>> policies.policy_for({"channel": "email"}).name
'everyone'
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sla.errors import PolicyError, Problem, SlaError, check_argument

if TYPE_CHECKING:
    from sla.calendar.recurring import RecurringHoliday
    from sla.policy.runtime import PolicySet
    from sla.policy.source import Located

# The parsers, pydantic and the compiler are imported where a file is
# compiled, not with this module: a cached policy (sla.io.policy_cache)
# reads the file's bytes here and needs none of them.

_SUFFIXES = {".yaml", ".yml", ".json", ".toml"}


#: A policy file larger than this is refused without reading the rest; it
#: also bounds what a device or endless pipe given as a file can cost.
MAX_FILE_MB = 10
_MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024


def read_document(path: str | Path) -> Located:
    """Read a policy document, choosing the parser by the file's suffix.

    At most :data:`MAX_FILE_MB` megabytes are read; a UTF-8 byte-order mark
    is skipped.  ``.json`` is JSON, ``.toml`` TOML; anything else is YAML,
    or JSON if the text starts with ``{`` and is JSON.
    """
    return parse_bytes(read_bytes(path), path)


def read_bytes(path: str | Path) -> bytes:
    """A policy file's bytes (at most :data:`MAX_FILE_MB` megabytes); a
    :class:`~sla.errors.PolicyError` naming the file if it cannot be read."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise PolicyError([Problem("", "no such file")], str(path)) from None
    except IsADirectoryError:
        raise PolicyError([Problem("", "is a directory, not a policy file")], str(path)) from None
    except OSError as exc:
        raise PolicyError([Problem("", f"cannot read the file: {exc.strerror or exc}")], str(path)) from None
    if len(raw) > _MAX_FILE_BYTES:
        raise PolicyError(
            [Problem("", f"larger than {MAX_FILE_MB} MB; a policy file is expected to be small")], str(path)
        )
    return raw


def parse_bytes(raw: bytes, path: str | Path) -> Located:
    """A policy file's bytes, parsed by the file's suffix (see :func:`read_document`)."""
    from sla.policy.source import parse_json, parse_text, parse_toml

    path = Path(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Where: the line and column of the first byte that is not UTF-8.
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8-sig", "replace")) + 1
        raise PolicyError(
            [
                Problem(
                    "",
                    f"byte 0x{raw[exc.start]:02x} is not UTF-8 text; save the file as UTF-8",
                    line,
                    column,
                )
            ],
            str(path),
        ) from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return parse_json(text, str(path))
    if suffix == ".toml":
        return parse_toml(text, str(path))
    return parse_text(text, str(path))


def load_policies(source: str | bytes | Path | Mapping[str, object]) -> PolicySet:
    """Load and validate a policy file (a path, YAML/JSON text, or a mapping).

    A string naming a ``.yaml``/``.yml``/``.json``/``.toml`` file (one line)
    is read as a path; any other string is JSON if it starts with ``{`` and
    is JSON, else YAML.

    Raises :class:`~sla.errors.PolicyError` listing every problem with file,
    line and path.
    """
    from sla.policy.source import Located, parse_text

    if isinstance(source, Mapping):
        located = Located(dict(source), None)
    elif isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and Path(source).suffix.lower() in _SUFFIXES
    ):
        located = read_document(source)
    else:
        check_argument("source", source, (str, bytes), "a path, the policy text, or a mapping")
        try:
            text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
        except UnicodeDecodeError:
            raise PolicyError([Problem("", "the policy text is not UTF-8")]) from None
        located = parse_text(text)
    return compile_located(located)


def compile_located(located: Located) -> PolicySet:
    """A parsed document compiled, with the iCalendar files it names read."""
    with collector_held():
        from sla.policy.compile import compile_document

        return compile_document(located, ics_files(located))


@contextmanager
def collector_held() -> Iterator[None]:
    """The cyclic collector off while the compiler's modules load and a file
    compiles (as ``sla`` holds it off while its own modules load): pydantic
    builds many objects there and leaves no garbage, so each full
    collection would walk them all for nothing."""
    held = gc.isenabled()
    if held:
        gc.disable()
    try:
        yield
    finally:
        if held:
            gc.enable()


def ics_files(located: Located) -> dict[str, list[RecurringHoliday] | str]:
    """The iCalendar files a document names under calendars.*.holidays.ics,
    read relative to the policy file (else the working folder): each name
    as written to its events, or to the reason it could not be read."""
    from sla.io.ics import read_ics

    found: dict[str, list[RecurringHoliday] | str] = {}
    for name, path in ics_paths(located).items():
        try:
            found[name] = read_ics(path)
        except SlaError as exc:
            found[name] = str(exc)
    return found


def ics_paths(located: Located) -> dict[str, Path]:
    """The iCalendar files a document names, each as written to where it is
    read: relative to the policy file, else the working folder."""
    names: list[str] = []
    calendars = located.data.get("calendars") if isinstance(located.data, dict) else None
    for calendar in calendars.values() if isinstance(calendars, dict) else []:
        holidays = calendar.get("holidays") if isinstance(calendar, dict) else None
        files = holidays.get("ics") if isinstance(holidays, dict) else None
        names += [files] if isinstance(files, str) else [f for f in files or [] if isinstance(f, str)]
    base = Path(located.source).parent if located.source else Path.cwd()
    return {name: base / name for name in names}


__all__ = [
    "collector_held",
    "compile_located",
    "ics_paths",
    "load_policies",
    "parse_bytes",
    "read_bytes",
    "read_document",
]
