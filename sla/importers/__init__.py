"""Importers: helpdesk exports in, section-3 events out (shell: they read files).

Each vendor is one :class:`~sla.importers.base.Source`; the driver
(:mod:`sla.importers.run`) walks the files, recognises each document by its
content, hands records to the source, groups the events it emits by ticket
through the pipeline's spill mechanism, and writes them in time order.

The driver and the Zendesk importer (the largest exports) may run compiled,
like the engine's hot modules: ``setup.py`` compiles :data:`COMPILED_MODULES`
with mypyc when it can; :func:`importer_kind` says which runs.
"""

from __future__ import annotations

from typing import Literal

from sla.engine import compiled_kind

#: The importer modules compiled at install time (see ``setup.py``), beside
#: the engine's (:data:`sla.engine.COMPILED_MODULES`); the same source runs
#: interpreted where they are not.
COMPILED_MODULES = (
    "sla.importers.zendesk_values",
    "sla.importers.zendesk_audits",
    "sla.importers.zendesk_finish",
    "sla.importers.zendesk",
    "sla.importers.run",
)


def importer_kind() -> Literal["compiled", "interpreted"]:
    """``"compiled"`` when the importer modules of :data:`COMPILED_MODULES`
    run compiled, else ``"interpreted"`` (``sla --version``: ``importers:``).

    >>> importer_kind() in ("compiled", "interpreted")
    True
    """
    return compiled_kind(COMPILED_MODULES)
