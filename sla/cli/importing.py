"""``sla import``: a helpdesk's saved API responses (or a table with a column
mapping) in, section-3 events out, grouped by ticket in time order.

Exit status: 0 when every record was mapped, 1 when some were skipped or
tickets refused (each named on standard error with its file and position),
2 for bad usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from sla.cli.common import (
    EXIT_OK,
    EXIT_REJECTED,
    SHOWN_REJECTIONS,
    UsageError,
    add_rejects_option,
    bulk,
    check_distinct,
    err,
    jobs_option,
    output_option,
    positive_int,
    printable,
)
from sla.importers.base import ImportProblem, Source
from sla.importers.registry import SOURCES, UnknownSource, source_class

#: The module and function that write ``--policies-output`` (Zendesk only):
#: ``write_policies(paths, out)`` reads the saved SLA policy and schedule
#: pages among the paths, writes the policy file and returns its warnings.
POLICIES_WRITER = ("sla.importers.zendesk_policies", "write_policies")
PolicyWriter = Callable[[list[str], IO[bytes]], list[str]]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import",
        help="turn a helpdesk's exported API responses into events",
        description="Read a helpdesk's API responses as saved (one JSON page per file, or JSON Lines of "
        "records, plain or gzip, in files or folders; recognised by content, whatever their names) and "
        "write events in the format of docs/events.md, grouped by ticket in time order, ready for sla "
        "evaluate. With csv, a table export read through a column mapping (--map). Records that cannot "
        "be mapped are skipped and named on standard error (exit 1). See docs/importing.md.",
    )
    p.add_argument("source", metavar="SOURCE", help=f"whose export it is: {', '.join(SOURCES)}")
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="files or folders of the export, read recursively in sorted order ('-' for standard input)",
    )
    p.add_argument("--output", metavar="FILE", help="where to write the events (default: standard output)")
    p.add_argument(
        "--map",
        metavar="FILE",
        help="csv only, and needed there: a mapping file from the table's columns to event fields "
        "(as for sla evaluate --map; see docs/events.md)",
    )
    p.add_argument(
        "--policies-output",
        metavar="FILE",
        help="zendesk only: also write the account's SLA policies and business-hour schedules as a policy file",
    )
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="worker processes for zendesk exports of several files (default: all cores; small exports "
        "use one); the output is the same",
    )
    add_rejects_option(p)
    p.set_defaults(func=run)


def _source(args: argparse.Namespace) -> Source:
    """The source the command names, with its ``--map``, checked."""
    try:
        cls = source_class(args.source)
    except UnknownSource as exc:
        raise UsageError(str(exc)) from None
    if cls.name != "csv":
        if args.map is not None:
            raise UsageError(
                f"--map reads the columns of a table; the {cls.name} source reads its API responses"
            )
        return cls()
    if args.map is None:
        raise UsageError(
            "the csv source needs --map FILE, the mapping from the table's columns to event fields"
        )
    if not Path(args.map).is_file():
        raise UsageError(f"--map: no such file: {args.map}")
    from sla.importers.tabular import CsvSource
    from sla.io.csv_map import load_mapping

    return CsvSource(load_mapping(args.map))


def _policy_writer(args: argparse.Namespace, source: Source) -> PolicyWriter | None:
    """What writes ``--policies-output``, checked before anything is read."""
    if args.policies_output is None:
        return None
    if source.name != "zendesk":
        raise UsageError(
            f"--policies-output writes Zendesk SLA policies; the {source.name} source has none to write"
        )
    if args.policies_output == "-" or args.policies_output == args.output:
        raise UsageError("--policies-output needs a file of its own (the events go to --output)")
    module_name, function = POLICIES_WRITER
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise UsageError(
            f"--policies-output is not available in this installation ({module_name} is missing)"
        ) from None
    writer = getattr(module, function, None)
    if not callable(writer):
        raise UsageError(f"--policies-output is not available: {module_name} has no {function}")
    return writer  # type: ignore[no-any-return]


def _paths(words: list[str]) -> list[str]:
    """The PATH arguments, checked to exist (``-`` once at most)."""
    if words.count("-") > 1:
        raise UsageError("'-' (standard input) is given more than once")
    for word in words:
        if word != "-" and not os.path.exists(word):
            raise UsageError(f"no such file or folder: {word}")
    return words


def _outside_inputs(option: str, output: str | None, paths: list[str]) -> None:
    """Refuse an output file inside an input folder (the next import would
    read it as part of the export) or that is an input file."""
    if output is None or output == "-":
        return
    check_distinct(output, *(p for p in paths if os.path.isfile(p)), option=option)
    target = os.path.realpath(output)
    for path in paths:
        if path != "-" and os.path.isdir(path):
            folder = os.path.realpath(path)
            if os.path.commonpath([folder, target]) == folder:
                raise UsageError(
                    f"{option} {output} is inside the input folder {path}; the next import would read "
                    "it as part of the export: write it elsewhere"
                )


class _Problems:
    """Problems as the import finds them: all written to ``--rejects``, the
    first :data:`SHOWN_REJECTIONS` kept for standard error, the rest counted."""

    def __init__(self, rejects: IO[str] | None) -> None:
        self.rejects = rejects
        self.shown: list[ImportProblem] = []
        self.count = 0

    def __call__(self, problem: ImportProblem) -> None:
        self.count += 1
        if len(self.shown) < SHOWN_REJECTIONS:
            self.shown.append(problem)
        if self.rejects is not None:
            self.rejects.write(printable(str(problem)) + "\n")

    def print(self, rejects: str | None) -> None:
        for problem in self.shown:
            err(printable(str(problem)))
        hidden = self.count - len(self.shown)
        if hidden > 0:
            where = f"all of them are in {rejects}" if rejects else "--rejects FILE writes all of them"
            err(f"... and {hidden:,} more; {where}")


def run(args: argparse.Namespace) -> int:
    from sla.cli.progress import Progress
    from sla.importers.run import import_events

    source = _source(args)
    writer = _policy_writer(args, source)
    paths = _paths(args.paths)
    mapping = [args.map] if getattr(args, "map", None) else []
    _outside_inputs("--output", args.output, [*paths, *mapping])
    _outside_inputs("--policies-output", args.policies_output, [*paths, *mapping])
    _outside_inputs("--rejects", args.rejects, [*paths, *mapping])
    warnings: list[str] = []
    if writer is not None:  # first: a schedule it cannot convert stops the command before the long part
        with output_option(args.policies_output) as policies_out:
            warnings = list(writer(list(paths), policies_out) or [])
    try:
        rejects = None if args.rejects is None else open(args.rejects, "w", encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"--rejects: cannot write {args.rejects}: {exc.strerror}") from None
    problems = _Problems(rejects)
    progress = Progress(0, "records")
    try:
        with bulk(), output_option(args.output) as out:
            summary, _ = import_events(
                source, paths, out, progress=progress, on_problem=problems, jobs=jobs_option(args.jobs)
            )
    finally:
        progress.close()
        if rejects is not None:
            rejects.close()
    problems.print(args.rejects)
    for line in summary.lines():
        err(line)
    for warning in warnings:
        err(f"--policies-output: {printable(warning)}")
    return EXIT_OK if summary.complete else EXIT_REJECTED
