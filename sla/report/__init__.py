"""Reports (pure core: no files, clock or environment).

Figures: :mod:`~sla.report.figures` (the mergeable ``ReportBuilder``),
:mod:`~sla.report.accumulators` (per-group tallies), :mod:`~sla.report.localtime`
(the report's time zone) and :mod:`~sla.report.results` (the typed ``Report``).
Output: :mod:`~sla.report.formats` (JSON, CSV, table; ``write_report``),
:mod:`~sla.report.html` and :mod:`~sla.report.charts` (the HTML page and its
SVG charts), :mod:`~sla.report.text` (text helpers they share).
"""
