"""``sla validate FILE...``: check policy files and print what each one says."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sla.cli.common import EXIT_OK, EXIT_USAGE, err
from sla.errors import PolicyError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("validate", help="check policy files and summarize them")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.io.policy_files import load_policies
    from sla.policy.summary import summarize

    status = EXIT_OK
    for path in args.files:
        try:
            policies = load_policies(Path(path))
        except PolicyError as exc:
            err(str(exc))
            status = EXIT_USAGE
            continue
        except OSError as exc:
            err(f"{path}: {exc}")
            status = EXIT_USAGE
            continue
        sys.stdout.write(summarize(policies, path) + "\n")
    return status
