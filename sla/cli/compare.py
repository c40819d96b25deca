"""``sla compare``: (being written)."""

from __future__ import annotations

import argparse

from sla.cli.common import EXIT_USAGE, err


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("compare", help="(not yet available)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    err("sla compare: not yet available")
    return EXIT_USAGE
