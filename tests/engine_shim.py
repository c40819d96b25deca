"""Run ``sla`` on the interpreted engine even where the compiled one is
installed: ``python tests/engine_shim.py evaluate ...`` takes the same
arguments as ``sla``.

An import hook, installed before ``sla`` is imported, loads each module of
:data:`COMPILED_MODULES` from its ``.py`` file instead of the compiled
extension module beside it; everything else imports as usual.  The
differential test (tests/test_engine_differential.py) and
``benchmarks/bench_scale.py`` use it to run both engines in one run.

Importing this module does nothing (pytest imports it for doctests); only
running it as a script installs the hook.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from collections.abc import Sequence
from types import ModuleType

#: The modules ``setup.py`` compiles (the test checks this is
#: ``sla.engine``'s, ``sla.report``'s and ``sla.importers``'s ``COMPILED_MODULES``; it
#: cannot be imported from there, since importing ``sla`` would load the
#: compiled modules first).
COMPILED_MODULES = (
    "sla.timefmt",
    "sla.engine.lines",
    "sla.engine.events",
    "sla.engine.clock",
    "sla.engine.judge",
    "sla.engine.rows",
    "sla.engine.jsonl_run",
    "sla.engine.replay",
    "sla.calendar.index",
    # sla.report.COMPILED_MODULES:
    "sla.report.accumulators",
    "sla.report.localtime",
    "sla.report.tally",
    "sla.report.watch",
    # sla.importers.COMPILED_MODULES:
    "sla.importers.zendesk_values",
    "sla.importers.zendesk_audits",
    "sla.importers.zendesk_finish",
    "sla.importers.zendesk",
    "sla.importers.run",
)


class SourceOnly(importlib.abc.MetaPathFinder):
    """Finds the compiled modules' ``.py`` source, never their extension."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED_MODULES:
            return None
        leaf = fullname.rpartition(".")[2] + ".py"
        for entry in path if path is not None else sys.path:
            candidate = os.path.join(entry, leaf)
            if os.path.isfile(candidate):
                return importlib.util.spec_from_file_location(fullname, candidate)
        return None


def install() -> None:
    """Make the compiled modules import from source (before ``sla`` is imported)."""
    if any(name in sys.modules for name in COMPILED_MODULES):
        raise RuntimeError("install the hook before importing sla")
    sys.meta_path.insert(0, SourceOnly())


if __name__ == "__main__":
    install()
    from sla.cli import main  # as the console script starts it

    sys.argv[0] = "sla"
    sys.exit(main())
