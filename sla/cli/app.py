"""The ``sla`` command line: the parser, and the one place where errors
become messages and exit statuses.

Each command lives in its own module (``sla.cli.<command>``) with a
``register`` that adds its sub-parser and a ``run`` that returns the exit
status; ``main(argv)`` is what the console script and the tests call.
Exit status: 0 fine, 1 some tickets or lines rejected, 2 bad policy file or
usage, 70 a bug of ours (one line; ``SLA_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import signal
import sys
from types import ModuleType

from sla import __version__
from sla.cli.common import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, UsageError, err, repeated_option
from sla.errors import PolicyError, SlaError

# The commands in the order ``sla --help`` lists them, each with its module
# ``sla.cli.<module>``.  ``sla evaluate ...`` loads only ``sla.cli.evaluate``
# (about 30 ms less start-up than loading every command's modules).
COMMANDS = {
    "validate": "validate",
    "evaluate": "evaluate",
    "report": "report",
    "explain": "explain",
    "compare": "compare",
    "calendar": "calendar",
    "schema": "schema",
    "generate": "generate",
    "import": "importing",
    "reconcile": "reconcile",
    "serve": "serve",
}


def command_module(command: str) -> ModuleType:
    """The module of a command: its ``register`` and ``run``."""
    return importlib.import_module(f"sla.cli.{COMMANDS[command]}")


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that ``with`` blocks clean up
    (the scratch folder, a partial output file) before the process ends."""


def _terminated(signum: int, frame: object) -> None:
    raise _Terminated


class _Version(argparse.Action):
    """``--version``: the version, then whether the engine, the report's
    tallies and the importers run compiled, worked out only when asked
    (finding out imports the importers, which other commands need not load)."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from sla.engine import engine_kind
        from sla.importers import importer_kind
        from sla.report import report_kind

        print(
            f"sla {__version__}\nengine: {engine_kind()}\nreport: {report_kind()}\nimporters: {importer_kind()}"
        )
        parser.exit()


def build_parser(words: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of ``sla``; given the command line's words, only the
    command they start with (all commands when they start with none, so that
    help and usage errors list every one)."""
    parser = argparse.ArgumentParser(
        prog="sla",
        description="SLA clocks from helpdesk ticket histories.",
        # keeps the line break in --version's text (and the one-line description as it is)
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action=_Version, help="show the version and which modules run compiled, then exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = [words[0]] if words and words[0] in COMMANDS else list(COMMANDS)
    for command in chosen:
        command_module(command).register(sub)
    return parser


def _drop_stdout() -> None:
    """Point standard output at the null device: what is left in its buffer
    would otherwise be flushed into the closed pipe at exit, and Python
    would print that error after the command had ended."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)


def main(argv: list[str] | None = None, *, resume_collector: bool = False) -> int:
    """Run ``sla`` with ``argv`` (None: as its own process, on ``sys.argv``);
    the exit status.  ``resume_collector``: the caller held the cyclic
    collector off while the modules loaded (:func:`sla.cli.main`), and it
    is enabled again once start-up is frozen, before the command runs.

    >>> main(["--version"])  # doctest: +ELLIPSIS
    sla ...
    0
    """
    words = sys.argv[1:] if argv is None else argv
    parser = build_parser(words)
    twice = repeated_option(words)
    if twice is not None:
        err(f"sla: {twice} is given twice; give it once")
        return EXIT_USAGE
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)
    except BrokenPipeError:  # --version into a pipe closed early (argparse ignores it for --help)
        _drop_stdout()
        return EXIT_OK
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if argv is None:
        # sla runs as a process of its own (not called in-process, as tests
        # and embedding code do): what start-up made (modules, classes, the
        # parser) lives as long as the process.  Frozen, the cyclic collector
        # no longer walks it on each full collection and at exit: about 60
        # million instructions fewer per command.
        gc.freeze()
    if resume_collector:
        gc.enable()
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        status: int = args.func(args)
        cache = sys.modules.get("sla.io.policy_cache")  # loaded by a command that read --policies
        if cache is not None:
            cache.store_learned()
        return status
    except PolicyError as exc:
        err(str(exc))
        return EXIT_USAGE
    except (UsageError, SlaError) as exc:
        err(f"sla {args.command}: {exc}")
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        err(f"sla {args.command}: interrupted")
        return 130
    except _Terminated:
        err(f"sla {args.command}: terminated")
        return 143
    except OSError as exc:
        err(f"sla {args.command}: {exc.filename or ''}: {exc.strerror or exc}".replace(": : ", ": "))
        return EXIT_USAGE
    except Exception as exc:  # a bug of ours: one line, the traceback on request
        if os.environ.get("SLA_DEBUG"):
            raise
        err(
            f"sla {args.command}: internal error: {type(exc).__name__}: {exc} "
            "(please report it; set SLA_DEBUG=1 to see the traceback)"
        )
        return EXIT_INTERNAL
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
