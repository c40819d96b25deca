"""``sla serve``: the SLA engine as an HTTP service.

Events come in over HTTP (:mod:`sla.service.app`), every ticket's clocks are
kept in SQLite or PostgreSQL (:mod:`sla.service.store`), alerts before and at
breaches are computed from the engine's warnings and due times
(:mod:`sla.service.alerts`) and posted to webhooks (:mod:`sla.service.delivery`).
This package is shell: it reads the clock and the network and hands ``now``
to the engine.  It needs the ``serve`` extra (``pip install 'sla[serve]'``).
"""
