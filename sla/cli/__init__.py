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
    # As its own process, the cyclic collector (if on) is held off while the
    # modules load: each of its full collections would walk all that was
    # loaded so far, for no garbage.  sla.cli.app.main enables it again once
    # what they made is frozen; a caller that had it off keeps it off.
    held = argv is None and gc.isenabled()
    if held:
        gc.disable()
    try:
        from sla.cli.app import main as run

        return run(argv, resume_collector=held)
    finally:
        if held:  # (also when no command ran: a usage error, --help)
            gc.enable()


__all__ = ["main"]
