"""What every command shares: exit statuses, usage errors, the input and
scale options, reading ``--now`` and ``--policies``, the output file, and the
report of rejections on standard error."""

from __future__ import annotations

import argparse
import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import IO

from sla.calendar.index import load_zone
from sla.errors import CalendarError, SlaError, TimestampError
from sla.io.bulk import bulk as bulk  # the commands' bulk mode
from sla.io.csv_rows import CsvMap, MappedPath
from sla.io.summary import RunSummary
from sla.policy.runtime import PolicySet
from sla.policy.wording import suggest
from sla.texts import printable as printable  # messages quote the data safely
from sla.timefmt import format_instant, header_instant, parse_instant, to_us

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


class UsageError(SlaError):
    """Bad command-line usage: exit status 2."""


def err(message: str) -> None:
    """One message on standard error."""
    sys.stderr.write(message.rstrip("\n") + "\n")


def now_option(value: str | None, tz: str | None = None) -> int:
    """``--now`` as epoch microseconds; the current time when omitted. A bare
    date is 00:00 of that day in ``tz`` (a command's ``--tz``), else UTC, and
    a terminal is told which instant that is."""
    if value is None:
        return to_us(datetime.now(UTC))
    try:
        if len(value) == 10 and value[4] == "-" and value[7] == "-":
            zone = load_zone(tz or "UTC", "--tz")
            midnight = datetime.combine(date.fromisoformat(value), time(0), tzinfo=zone)
            instant = to_us(midnight)
            if sys.stderr.isatty():
                err(f"note: --now {value} is {midnight.isoformat()} ({format_instant(instant)})")
            return instant
        return parse_instant(value)
    except (TimestampError, CalendarError) as exc:
        raise UsageError(f"--now: {exc}") from None
    except ValueError:
        raise UsageError(
            f"--now: {value!r} is not a date; expected YYYY-MM-DD or an RFC 3339 timestamp"
        ) from None


#: How old the newest event may be before a default ``--now`` earns a note.
STALE_AFTER_US = 7 * 86_400 * 1_000_000


def stale_now_note(command: str, given_now: str | None, now: int, last_event: int | None) -> None:
    """Say once, on standard error, that a history whose newest event is over
    a week old is judged as of the current time because ``--now`` was omitted
    (open cycles then read as long breaches)."""
    if given_now is None and last_event is not None and now - last_event > STALE_AFTER_US:
        err(
            f"note: the newest event is {header_instant(last_event)}, over a week before now "
            f"({header_instant(now)}); without --now, open cycles are judged as of now. "
            "Give --now to judge the history as of another instant"
        )


def tz_option(value: str | None) -> str | None:
    """``--tz``, checked to be a known IANA zone (did-you-mean if not)."""
    if value is not None:
        try:
            load_zone(value, "--tz")
        except CalendarError as exc:
            raise UsageError(str(exc).replace("at timezone: ", "")) from None
    return value


def by_option(value: str | None) -> list[str]:
    """``--by``: the group keys, comma-separated; an empty one (``--by ''``,
    ``--by ,channel``) is bad usage, not left out unsaid."""
    if value is None:
        return []
    parts = [part.strip() for part in value.split(",")]
    if not all(parts):
        raise UsageError(f"--by: {value!r} has an empty name; expected attribute names like channel,priority")
    return parts


def names_option(option: str, value: str | None, known: Iterable[str], what: str) -> frozenset[str] | None:
    """A comma-separated list of names, each one of ``known`` (did-you-mean if not)."""
    if value is None:
        return None
    names = frozenset(part.strip() for part in value.split(",") if part.strip())
    choices = sorted(known)
    for name in sorted(names):
        if name not in choices:
            raise UsageError(
                f"{option}: {name!r} is not {what}"
                + (suggest(name, choices) or f"; expected one of {', '.join(choices)}")
            )
    return names


def policies_option(path: str) -> PolicySet:
    """The compiled policy file of ``--policies`` (from the policy cache when
    the file has not changed: :mod:`sla.io.policy_cache`)."""
    from sla.io.policy_cache import load_cached

    if not Path(path).exists():
        raise UsageError(f"--policies: no such file: {path}")
    return load_cached(Path(path))


def events_option(path: str) -> str:
    """``--events``, checked to exist (``-`` is standard input) and not to be a
    device that never ends (``/dev/zero``); pipes and terminals are fine."""
    if path == "-":
        return path
    if not Path(path).exists():
        raise UsageError(f"--events: no such file: {path}")
    mode = os.stat(path).st_mode
    if stat.S_ISCHR(mode) and not os.path.samefile(path, os.devnull):
        with open(path, "rb") as handle:
            interactive = handle.isatty()
        if not interactive:
            raise UsageError(
                f"--events {path} is a device that never ends; give a file, a pipe or - (standard input)"
            )
    return path


def format_option(explicit: str | None, output: str | None, by_suffix: dict[str, str], default: str) -> str:
    """The output format: ``--format`` if given, else the ``--output`` file's
    suffix, else ``default``; a ``--format`` that contradicts the suffix
    is a usage error rather than a file whose name lies about its content."""
    suffix = os.path.splitext(output)[1].lower() if output and output != "-" else ""
    implied = by_suffix.get(suffix)
    if explicit is not None:
        if implied is not None and implied != explicit:
            raise UsageError(
                f"--format {explicit} contradicts --output {output} (a {suffix} file is {implied}); "
                "drop --format or rename the file"
            )
        chosen = explicit
    else:
        chosen = implied or default
    if chosen == "parquet" and (output is None or output == "-") and sys.stdout.isatty():
        raise UsageError("--format parquet is binary; give --output FILE.parquet or redirect the output")
    return chosen


def positive_int(text: str) -> int:
    """An argparse type: a whole number above 0 (``--jobs``, ``--tickets``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a whole number above 0, got {value}")
    return value


#: Options that may be given more than once: their values add up
#: (``sla serve --webhook A --webhook B``).
REPEATABLE = frozenset({"--webhook"})


def repeated_option(argv: list[str]) -> str | None:
    """The first option given twice on a command line (every option of sla
    takes one value, so a repeat is a mistake, not an override), except the
    few in :data:`REPEATABLE`, whose values add up.

    >>> repeated_option(["serve", "--webhook", "a", "--webhook", "b"]), repeated_option(["--now", "x", "--now=y"])
    (None, '--now')
    """
    seen: set[str] = set()
    for word in argv:
        if word == "--":
            break
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            if name in seen and name not in REPEATABLE:
                return name
            seen.add(name)
    return None


def jobs_option(value: int | None) -> int:
    """``--jobs``: all cores unless a number is given; at most four workers
    per core (more only costs memory)."""
    cores = os.cpu_count() or 1
    if value is None:
        return cores
    if value > 4 * cores:
        err(f"--jobs {value}: this machine has {cores} core(s); using {4 * cores} workers")
        return 4 * cores
    return value


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def check_distinct(output: str | None, *inputs: str, option: str = "--output") -> None:
    """Refuse an ``--output`` (or another ``option`` that writes a file,
    ``--rejects``) that is one of the input files (writing would destroy it)."""
    if output is None or output == "-" or not os.path.exists(output):
        return
    for name in inputs:
        if name != "-" and os.path.exists(name) and os.path.samefile(output, name):
            raise UsageError(
                f"{option} {output} is the input file {name}; writing it would destroy the input"
            )


_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


@contextmanager
def output_option(path: str | None) -> Iterator[IO[bytes]]:
    """``--output`` opened for writing, or standard output.

    A file is written beside its final name and renamed over it only when the
    command succeeds, so an aborted run (an error, Ctrl-C, a full disk) leaves
    the previous contents in place. Devices and pipes are written directly.
    """
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    direct = os.path.exists(path) and not _is_regular(path)
    try:
        if direct:
            handle = open(path, "wb")  # noqa: SIM115 (closed by the with below)
            temporary = None
        else:
            folder = os.path.dirname(os.path.abspath(path))
            fd, temporary = tempfile.mkstemp(prefix=".sla-", suffix=".partial", dir=folder)
            handle = os.fdopen(fd, "wb")
    except OSError as exc:
        raise UsageError(f"--output: cannot write {path}: {exc.strerror}") from None
    try:
        with handle:
            yield handle
        if temporary is not None:
            if os.path.exists(path):
                os.chmod(temporary, stat.S_IMODE(os.stat(path).st_mode))
            else:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(temporary, 0o666 & ~umask)
            os.replace(temporary, path)
            temporary = None
    except OSError as exc:
        if exc.errno in _FULL:
            raise UsageError(f"--output {path}: {exc.strerror}; nothing was written") from None
        raise
    finally:
        if temporary is not None:
            os.unlink(temporary)


def run_inputs(args: argparse.Namespace) -> tuple[PolicySet, int, str]:
    """The policies, ``now`` and events path of a command that reads a history
    and may write ``--output`` (checked not to be one of its inputs). With
    ``--map``, the path is a :class:`~sla.io.csv_map.MappedPath` that carries
    the checked mapping to :func:`sla.io.pipeline.run`."""
    policies = policies_option(args.policies)
    now = now_option(args.now, getattr(args, "tz", None))
    events = events_option(args.events)
    mapping = map_option(args, events)
    inputs = (events, args.policies, *([args.map] if mapping else []))
    check_distinct(getattr(args, "output", None), *inputs)
    check_distinct(getattr(args, "rejects", None), *inputs, option="--rejects")
    return policies, now, events if mapping is None else MappedPath(events, mapping)


def map_option(args: argparse.Namespace, events: str) -> CsvMap | None:
    """``--map``: the checked column mapping for CSV ``events``, or None.

    A mapping reads CSV only: with JSON Lines or Parquet input it is a usage
    error. A bad mapping file raises its located problems (exit 2) before any
    event is read."""
    path = getattr(args, "map", None)
    if path is None:
        return None
    from sla.io.sources import detect_format

    fmt = detect_format(events, getattr(args, "input_format", None))
    if fmt != "csv":
        where = "standard input" if events == "-" else events
        raise UsageError(
            f"--map reads the columns of CSV input, but {where} is read as {fmt}; "
            "give a .csv file or --input-format csv"
        )
    if not Path(path).is_file():
        raise UsageError(f"--map: no such file: {path}")
    # Here: the mapping file's models are pydantic's to build (5 ms), which
    # a run without --map need not pay.
    from sla.io.csv_map import load_mapping

    return load_mapping(path)


#: Rejections printed on standard error; the rest are counted (--rejects FILE has all).
SHOWN_REJECTIONS = 20


def finish(summary: RunSummary, rejects: str | None = None) -> int:
    """Report rejections on standard error, in line order (the first
    :data:`SHOWN_REJECTIONS`, all of them in ``rejects``); exit 1 if any."""
    if rejects is not None:
        try:
            with open(rejects, "w", encoding="utf-8") as handle:
                handle.writelines(f"{printable(str(r))}\n" for r in summary.rejections)
        except OSError as exc:
            raise UsageError(f"--rejects: cannot write {rejects}: {exc.strerror}") from None
    # Notes are for a person at a terminal: a pipeline that merges standard
    # error into its output (2>&1) must still get rows only, as the contract's
    # worked examples are checked.
    if summary.zone_fallbacks and sys.stderr.isatty():
        shown = ", ".join(printable(repr(v)) for v in sorted(summary.zone_fallbacks)[:3])
        more = f" and {len(summary.zone_fallbacks) - 3} more" if len(summary.zone_fallbacks) > 3 else ""
        err(
            f"note: {len(summary.zone_fallbacks)} attribute value(s) named no known time zone ({shown}{more}); "
            "those tickets used their calendar's default zone"
        )
    for rejection in summary.rejections[:SHOWN_REJECTIONS]:
        err(f"rejected: {printable(str(rejection))}")
    hidden = len(summary.rejections) - SHOWN_REJECTIONS
    if hidden > 0:
        where = f"all of them are in {rejects}" if rejects else "--rejects FILE writes all of them"
        err(f"... and {hidden} more rejection(s); {where}")
    if summary.rejections:
        err(f"{summary.rejected_tickets} ticket(s) and {summary.rejected_lines} line(s) rejected")
    return EXIT_REJECTED if summary.rejections else EXIT_OK


def add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policies", required=True, metavar="FILE", help="policy file (YAML, JSON or TOML)")
    parser.add_argument(
        "--events", required=True, metavar="FILE", help="event file ('-' for JSONL on standard input)"
    )
    parser.add_argument(
        "--now",
        metavar="TIMESTAMP",
        help="evaluate as of this instant, or a date (00:00 in --tz where the command has it, else UTC); "
        "default: the current time",
    )
    parser.add_argument(
        "--map",
        metavar="FILE",
        help="CSV input with its own columns: a mapping file (YAML, JSON or TOML) from columns to "
        "event fields; see docs/events.md",
    )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that reads a history and writes a result
    shares: --output, the scale options and --rejects."""
    parser.add_argument("--output", metavar="FILE", help="where to write (default: standard output)")
    add_scale_options(parser)
    add_rejects_option(parser)


def add_rejects_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rejects",
        metavar="FILE",
        help=f"write every rejection to FILE, one per line (standard error shows the first {SHOWN_REJECTIONS})",
    )


def add_scale_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input-format",
        choices=("jsonl", "csv", "parquet"),
        help="format of --events (default: by suffix, .csv / .parquet, else JSONL)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="worker processes, 1 or more (default: all cores; small inputs use one)",
    )
