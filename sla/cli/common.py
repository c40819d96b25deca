"""What every command shares: exit statuses, usage errors, the input and
scale options, reading ``--now`` and ``--policies``, the output file, and the
report of rejections on standard error."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sla.errors import SlaError, TimestampError
from sla.io.summary import RunSummary
from sla.policy.compile import PolicySet
from sla.timefmt import parse_instant, to_us

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


class UsageError(SlaError):
    """Bad command-line usage: exit status 2."""


def err(message: str) -> None:
    """One message on standard error."""
    sys.stderr.write(message.rstrip("\n") + "\n")


def now_option(value: str | None) -> int:
    """``--now`` as epoch microseconds; the current time when omitted."""
    if value is None:
        return to_us(datetime.now(UTC))
    try:
        return parse_instant(value)
    except TimestampError as exc:
        raise UsageError(f"--now: {exc}") from None


def policies_option(path: str) -> PolicySet:
    """The compiled policy file of ``--policies``."""
    from sla.policy.compile import load_policies

    if not Path(path).exists():
        raise UsageError(f"--policies: no such file: {path}")
    return load_policies(Path(path))


def events_option(path: str) -> str:
    """``--events``, checked to exist (``-`` is standard input)."""
    if path != "-" and not Path(path).exists():
        raise UsageError(f"--events: no such file: {path}")
    return path


def jobs_option(value: int | None) -> int:
    """``--jobs``: all cores unless a positive number is given."""
    return value if value and value > 0 else (os.cpu_count() or 1)


@contextmanager
def output_option(path: str | None) -> Iterator[IO[bytes]]:
    """``--output`` opened for writing, or standard output."""
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    try:
        handle = open(path, "wb")  # noqa: SIM115 (closed by the with below; open errors are usage errors)
    except OSError as exc:
        raise UsageError(f"--output: cannot write {path}: {exc.strerror}") from None
    with handle:
        yield handle


@contextmanager
def bulk() -> Iterator[None]:
    """Keep the cyclic GC from rescanning millions of live event objects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def finish(summary: RunSummary) -> int:
    """Report rejections on standard error, in line order; exit 1 if any."""
    for rejection in summary.rejections:
        err(f"rejected: {rejection}")
    if summary.rejections:
        err(f"{summary.rejected_tickets} ticket(s) and {summary.rejected_lines} line(s) rejected")
    return EXIT_REJECTED if summary.rejections else EXIT_OK


def add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policies", required=True, metavar="FILE", help="policy file (YAML, JSON or TOML)")
    parser.add_argument(
        "--events", required=True, metavar="FILE", help="event file ('-' for JSONL on standard input)"
    )
    parser.add_argument(
        "--now", metavar="TIMESTAMP", help="evaluate as of this instant (default: the current time)"
    )


def add_scale_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--input-format",
        choices=("jsonl", "csv", "parquet"),
        help="format of --events (default: by suffix, .csv / .parquet, else JSONL)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="worker processes (default: all cores; small inputs use one)",
    )
