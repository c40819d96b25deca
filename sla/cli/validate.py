"""``sla validate [--strict] FILE...``: check policy files and print what each one says.

A good file prints its summary (:mod:`sla.policy.summary`), then its notes
(:mod:`sla.policy.notes`): what is legal but probably not meant, each
located like an error.  Notes do not change the exit status unless
``--strict`` (for CI): then a file with notes exits 1.  A bad file exits 2.
"""

from __future__ import annotations

import argparse
import sys
import zoneinfo
from functools import cache
from importlib import resources
from pathlib import Path

from sla.cli.common import EXIT_OK, EXIT_USAGE, err
from sla.errors import PolicyError
from sla.policy.notes import ZoneNames

#: ``--strict`` and some file has notes (a bad file's 2 wins).
EXIT_NOTES = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "validate",
        help="check policy files and summarize them",
        description="Check policy files: a summary of each good file, then its notes (legal but probably "
        "not meant); every problem of a bad file, located.",
    )
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a file has notes (for CI); without it notes do not change the exit status",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.io.policy_files import collector_held, compile_located, read_document

    with collector_held():  # the modules that load pydantic's models
        from sla.policy.notes import find_notes
        from sla.policy.summary import summarize

    status = EXIT_OK
    noted = 0
    for path in args.files:
        try:
            # load_policies(path), keeping the parsed text for the notes (read once: a pipe works too)
            located = read_document(path)
            policies = compile_located(located)
        except PolicyError as exc:
            err(str(exc))
            status = EXIT_USAGE
            continue
        except OSError as exc:
            err(f"{path}: {exc}")
            status = EXIT_USAGE
            continue
        notes = find_notes(located, policies, zone_names())
        sys.stdout.write(summarize(policies, path) + "\n")
        sys.stdout.write("".join(note.render() + "\n" for note in notes))
        noted += len(notes)
    if noted and args.strict:
        err(f"{noted} note(s); --strict counts them as failures")
        return status if status != EXIT_OK else EXIT_NOTES
    return status


@cache
def zone_names() -> ZoneNames | None:
    """Region names (zone.tab) and links (tzdata.zi) of the tz database that
    :mod:`zoneinfo` reads: the first folder of ``zoneinfo.TZPATH`` that has
    them, else the ``tzdata`` package; None when neither is there (the notes
    then use their own short list)."""
    for folder in zoneinfo.TZPATH:
        found = _read_zone_names(Path(folder) / "zone.tab", Path(folder) / "tzdata.zi")
        if found is not None:
            return found
    try:
        package = resources.files("tzdata") / "zoneinfo"
        return _parse_zone_names(
            (package / "zone.tab").read_text(encoding="utf-8"),
            (package / "tzdata.zi").read_text(encoding="utf-8"),
        )
    except (ModuleNotFoundError, OSError, UnicodeDecodeError):
        return None


def _read_zone_names(zone_tab: Path, tzdata_zi: Path) -> ZoneNames | None:
    try:
        return _parse_zone_names(zone_tab.read_text(encoding="utf-8"), tzdata_zi.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def _parse_zone_names(zone_tab: str, tzdata_zi: str) -> ZoneNames:
    """zone.tab's third column; tzdata.zi's ``L TARGET ALIAS`` lines."""
    regions = frozenset(
        fields[2]
        for line in zone_tab.splitlines()
        if not line.startswith("#") and len(fields := line.split("\t")) >= 3
    )
    links = {
        fields[2]: fields[1]
        for line in tzdata_zi.splitlines()
        if line.startswith("L ") and len(fields := line.split()) == 3
    }
    return ZoneNames(regions, links)
