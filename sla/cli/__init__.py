"""The ``sla`` command line (shell): argument parsing in :mod:`sla.cli.app`,
one module per command that needs more than a few lines."""

from __future__ import annotations

import gc


def main(argv: list[str] | None = None) -> int:
    """Run ``sla`` with ``argv`` (without it: as its own process, on
    ``sys.argv``); the exit status.  See :func:`sla.cli.app.main`.

    >>> main(["--version"])  # doctest: +ELLIPSIS
    sla ...
    engine: ...
    0
    """
    if argv is None:
        # As its own process: the cyclic collector is held off while the
        # modules load (sla.cli.app.main starts it again, once what they
        # made is frozen).  Each of its full collections would walk all
        # that was loaded so far, for no garbage.
        gc.disable()
    from sla.cli.app import main as run

    return run(argv)


__all__ = ["main"]
