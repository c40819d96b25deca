"""The clock engine (pure core): events, metric definitions, the clock state
machine, judging, and batch and incremental evaluation.

The hot modules may run compiled: installing from source compiles them with
mypyc when a C compiler is present (``setup.py``; ``SLA_NO_COMPILE=1``
skips it).  :func:`engine_kind` says which engine this process runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Literal

#: The modules compiled at install time (see ``setup.py``); the same source
#: runs interpreted where they are not.
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
)


def engine_kind() -> Literal["compiled", "interpreted"]:
    """``"compiled"`` when the hot modules run as compiled extension modules,
    else ``"interpreted"`` (what ``sla --version`` prints after ``engine:``).

    >>> engine_kind() in ("compiled", "interpreted")
    True
    """
    return compiled_kind(COMPILED_MODULES)


def compiled_kind(modules: Iterable[str]) -> Literal["compiled", "interpreted"]:
    """``"compiled"`` when every one of ``modules`` (dotted names) was
    imported from a compiled extension module, else ``"interpreted"``.

    >>> compiled_kind(["sla.engine.clock"]) in ("compiled", "interpreted")
    True
    """
    for name in modules:
        path = getattr(importlib.import_module(name), "__file__", None) or ""
        if path.endswith((".py", ".pyc")):
            return "interpreted"
    return "compiled"
