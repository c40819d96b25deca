"""Reports (pure core: no files, clock or environment).

The public names are re-exported here and from the top-level package:
:func:`build_report` aggregates tickets into a :class:`Report`,
:class:`ReportBuilder` does it piecewise (partial builders merge), and bad
report options raise :class:`ReportError`.  Writing a report out
(``sla.write_report``) lives with the output formats, in the top-level
package.

>>> from sla import load_policies, read_jsonl
>>> from sla.report import ReportBuilder, build_report
>>> policies = load_policies("policies: [{name: all, targets: {first_response: 1h}}]")
>>> tickets, _ = read_jsonl([
...     '{"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {"tier": "gold"}}',
...     '{"ticket_id": "T2", "at": "2026-03-02T08:00:00Z", "type": "created", "fields": {"tier": "gold"}}',
...     '{"ticket_id": "T2", "at": "2026-03-02T08:30:00Z", "type": "message", "author": "agent"}',
... ])
>>> report = build_report(policies, tickets, "2026-03-02T10:00:00Z", by=["tier"])
>>> row = report.sla[0]
>>> row.group, row.cycles, row.achieved, row.breached, row.compliance
({'tier': 'gold'}, 2, 1, 1, 0.5)
>>> first, second = (ReportBuilder(policies, "2026-03-02T10:00:00Z", by=["tier"]) for _ in range(2))
>>> first.add(tickets["T1"]); second.add(tickets["T2"])
>>> first.merge(second)
>>> first.finish().to_dict() == report.to_dict()
True

Modules: :mod:`~sla.report.figures` (the mergeable ``ReportBuilder``),
:mod:`~sla.report.tally` (its step per ticket),
:mod:`~sla.report.accumulators` (per-group tallies), :mod:`~sla.report.localtime`
(the report's time zone) and :mod:`~sla.report.results` (the typed ``Report``).
Output: :mod:`~sla.report.formats` (JSON, CSV, table; ``write_report``),
:mod:`~sla.report.html` and :mod:`~sla.report.charts` (the HTML page and its
SVG charts), :mod:`~sla.report.text` (text helpers they share).
"""

from typing import Literal

from sla.engine import compiled_kind
from sla.report.figures import ReportBuilder, ReportError, build_report
from sla.report.results import Report

__all__ = ["COMPILED_MODULES", "Report", "ReportBuilder", "ReportError", "build_report", "report_kind"]

#: The report modules compiled at install time (see ``setup.py``), beside the
#: engine's: a ticket's own figures and the accumulators, local dates and
#: hours, and the step per ticket with its loop (:mod:`~sla.report.tally`).
#: The builder itself (:mod:`~sla.report.figures`) stays interpreted: it
#: keeps the options and the policies, and runs once per report.
COMPILED_MODULES = ("sla.report.accumulators", "sla.report.localtime", "sla.report.tally", "sla.report.watch")


def report_kind() -> Literal["compiled", "interpreted"]:
    """``"compiled"`` when the report modules of :data:`COMPILED_MODULES` run
    compiled, else ``"interpreted"`` (``sla --version``: ``report:``).

    >>> report_kind() in ("compiled", "interpreted")
    True
    """
    return compiled_kind(COMPILED_MODULES)
