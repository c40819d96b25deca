"""Importers: helpdesk exports in, section-3 events out (shell: they read files).

Each vendor is one :class:`~sla.importers.base.Source`; the driver
(:mod:`sla.importers.run`) walks the files, recognises each document by its
content, hands records to the source, groups the events it emits by ticket
through the pipeline's spill mechanism, and writes them in time order.
"""
