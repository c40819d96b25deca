"""``sla schema``: the JSON Schema of policy files, for editors and CI checks."""

from __future__ import annotations

import argparse
import json
import sys

from sla.cli.common import EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of policy files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sla.policy.schema import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return EXIT_OK
