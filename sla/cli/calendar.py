"""``sla calendar``: (being written)."""

from __future__ import annotations

import argparse

from sla.cli.common import EXIT_USAGE, err


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("calendar", help="(not yet available)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    err("sla calendar: not yet available")
    return EXIT_USAGE
