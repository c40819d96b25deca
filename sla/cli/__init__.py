"""The ``sla`` command line (shell): argument parsing in :mod:`sla.cli.app`,
one module per command that needs more than a few lines."""

from sla.cli.app import main

__all__ = ["main"]
