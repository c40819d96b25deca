"""The ``sla`` command line: validate, evaluate, report, explain, schema.

Every subcommand is a function of parsed arguments returning an exit status;
``main(argv)`` is what the console script and the tests call.
Exit status: 0 fine, 1 some tickets or lines rejected, 2 bad policy file or usage.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sla.errors import PolicyError, SlaError, TimestampError
from sla.timefmt import parse_instant, to_us

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2


class UsageError(SlaError):
    """Bad command-line usage: exit status 2."""


def _err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def _now(value: str | None) -> int:
    if value is None:
        return to_us(datetime.now(UTC))
    try:
        return parse_instant(value)
    except TimestampError as exc:
        raise UsageError(f"--now: {exc}") from None


def _policies(path: str):
    from sla.policy.compile import load_policies

    if not Path(path).exists():
        raise UsageError(f"--policies: no such file: {path}")
    return load_policies(Path(path))


@contextmanager
def _output(path: str | None) -> Iterator[IO[bytes]]:
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    else:
        try:
            handle = open(path, "wb")  # noqa: SIM115 (closed by the with below; open errors are usage errors)
        except OSError as exc:
            raise UsageError(f"--output: cannot write {path}: {exc.strerror}") from None
        with handle:
            yield handle


@contextmanager
def _bulk() -> Iterator[None]:
    """Keep the cyclic GC from rescanning millions of live event objects."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_events(path: str):
    from sla.io.sources import read_events_file

    return read_events_file(_events_path(path))


# ------------------------------------------------------------ subcommands
def cmd_validate(args: argparse.Namespace) -> int:
    from sla.policy.compile import load_policies
    from sla.policy.summary import summarize

    status = EXIT_OK
    for path in args.files:
        try:
            policies = load_policies(Path(path))
        except PolicyError as exc:
            _err(str(exc))
            status = EXIT_USAGE
            continue
        except OSError as exc:
            _err(f"{path}: {exc}")
            status = EXIT_USAGE
            continue
        sys.stdout.write(summarize(policies, path) + "\n")
    return status


def _jobs(value: int | None) -> int:
    return value if value and value > 0 else (os.cpu_count() or 1)


def _events_path(path: str) -> str:
    if path != "-" and not Path(path).exists():
        raise UsageError(f"--events: no such file: {path}")
    return path


def _finish(summary) -> int:
    """Report rejections on standard error, in line order; exit 1 if any."""
    for rejection in summary.rejections:
        _err(f"rejected: {rejection}")
    if summary.rejections:
        _err(f"{summary.rejected_tickets} ticket(s) and {summary.rejected_lines} line(s) rejected")
    return EXIT_REJECTED if summary.rejections else EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from sla.io.pipeline import evaluate_file

    policies = _policies(args.policies)
    now = _now(args.now)
    events = _events_path(args.events)
    with _bulk(), _output(args.output) as out:
        summary = evaluate_file(
            policies, events, now, out, args.format, jobs=_jobs(args.jobs), input_format=args.input_format
        )
    return _finish(summary)


def cmd_report(args: argparse.Namespace) -> int:
    from sla.cli.progress import Progress
    from sla.io.pipeline import report_file
    from sla.report.formats import write_report

    policies = _policies(args.policies)
    now = _now(args.now)
    by = [part.strip() for part in (args.by or "").split(",") if part.strip()]
    events = _events_path(args.events)
    with _bulk():
        progress = Progress(0, "tickets")
        report, summary = report_file(
            policies,
            events,
            now,
            by=by,
            period=args.period,
            tz=args.tz,
            jobs=_jobs(args.jobs),
            input_format=args.input_format,
            progress=progress,
        )
        progress.close()
    fmt = args.format or ("table" if sys.stdout.isatty() and not args.output else "json")
    with _output(args.output) as out:
        write_report(report, out, fmt)
    return _finish(summary)


def cmd_explain(args: argparse.Namespace) -> int:
    from sla.cli.explain import explain_ticket

    policies = _policies(args.policies)
    now = _now(args.now)
    tickets, line_errors = _read_events(args.events)
    ticket = tickets.get(args.ticket)
    if ticket is None:
        raise UsageError(f"ticket {args.ticket!r} is not in {args.events}")
    if ticket.error is not None:
        _err(f"rejected: {ticket.error}")
        return EXIT_REJECTED
    sys.stdout.write(explain_ticket(policies, ticket, now))
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from sla.policy.model import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return EXIT_OK


def cmd_generate(args: argparse.Namespace) -> int:
    from sla.io.generate import write_history

    with _output(args.output) as out:
        write_history(out, tickets=args.tickets, seed=args.seed)
    return EXIT_OK


# ---------------------------------------------------------------- parser
def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--policies", required=True, metavar="FILE", help="policy file (YAML, JSON or TOML)")
    parser.add_argument(
        "--events", required=True, metavar="FILE", help="event file ('-' for JSONL on standard input)"
    )
    parser.add_argument(
        "--now", metavar="TIMESTAMP", help="evaluate as of this instant (default: the current time)"
    )


def _add_scale_options(parser: argparse.ArgumentParser) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sla", description="SLA clocks from helpdesk ticket histories.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check policy files and summarize them")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("evaluate", help="evaluate every ticket's clocks at --now")
    _add_input_options(p)
    p.add_argument("--format", choices=("jsonl", "csv", "table", "parquet"), default="jsonl")
    p.add_argument("--output", metavar="FILE")
    _add_scale_options(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("report", help="compliance and support KPIs over a history")
    _add_input_options(p)
    p.add_argument(
        "--by",
        metavar="FIELD,...",
        help="group by ticket attributes (value at a cycle's end / at --now) and/or policy",
    )
    p.add_argument(
        "--period",
        choices=("day", "week", "month"),
        help="also group by the local day, ISO week or month of a cycle's start / a ticket's creation",
    )
    p.add_argument(
        "--tz", default="UTC", metavar="ZONE", help="IANA time zone of --period and the charts (default UTC)"
    )
    p.add_argument(
        "--format",
        choices=("table", "json", "csv", "html"),
        help="default: table on a terminal, json otherwise",
    )
    p.add_argument("--output", metavar="FILE")
    _add_scale_options(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("explain", help="a readable timeline of one ticket's clocks")
    _add_input_options(p)
    p.add_argument("--ticket", required=True, metavar="ID")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("schema", help="print the JSON Schema of policy files")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("generate", help="write a realistic synthetic ticket history (JSONL)")
    p.add_argument("--tickets", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--output", metavar="FILE")
    p.set_defaults(func=cmd_generate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.func(args)
    except PolicyError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except UsageError as exc:
        _err(f"sla {args.command}: {exc}")
        return EXIT_USAGE
    except SlaError as exc:
        _err(f"sla {args.command}: {exc}")
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        _err(f"sla {args.command}: {exc.filename or ''}: {exc.strerror or exc}".replace(": : ", ": "))
        return EXIT_USAGE
    except Exception as exc:  # a bug of ours: one line, the traceback on request
        if os.environ.get("SLA_DEBUG"):
            raise
        _err(
            f"sla {args.command}: internal error: {type(exc).__name__}: {exc} "
            "(please report it; set SLA_DEBUG=1 to see the traceback)"
        )
        return 70


if __name__ == "__main__":
    sys.exit(main())
