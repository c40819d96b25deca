"""``GET /``: a small status page rendered on the server (no script, no build
step): the figures of the store and the cycles due in the next hours."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

import orjson

from sla import __version__
from sla.timefmt import format_instant

_STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:64rem;padding:0 1rem;color:#222}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%;margin:1rem 0}
td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left}
th{background:#f4f4f4}.num{text-align:right}.breached{color:#b00020;font-weight:600}
dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}dd{margin:0}
"""

_LABELS = {
    "tickets": "tickets",
    "events": "events accepted",
    "open_cycles": "open cycles",
    "alerts_scheduled": "alerts scheduled",
    "alerts_due": "alerts due, not yet delivered",
    "alerts_failing": "alerts being retried",
    "alerts_delivered": "alert deliveries done",
    "alerts_given_up": "alert deliveries given up",
}


def render(now_us: int, figures: Mapping[str, int], due: Sequence[bytes], within: str) -> str:
    """The page: ``figures`` (see :func:`sla.service.store.counts`) and the
    ``due`` rows (JSONL rows of open cycles due within ``within``)."""
    items = "".join(
        f"<dt>{escape(_LABELS.get(k, k))}</dt><dd class=num>{v:,}</dd>" for k, v in figures.items()
    )
    rows = []
    for raw in due:
        row = orjson.loads(raw)
        css = ' class="breached"' if row["breached"] else ""
        rows.append(
            f"<tr{css}><td>{escape(str(row['due_at']))}</td><td>{escape(row['ticket_id'])}</td>"
            f"<td>{escape(row['metric'])}</td><td class=num>{row['cycle']}</td>"
            f"<td>{escape(row['policy'])}</td><td>{escape(row['state'])}</td>"
            f"<td class=num>{row['remaining_seconds']}</td></tr>"
        )
    table = (
        "<table><thead><tr><th>due (UTC)</th><th>ticket</th><th>metric</th><th>#</th><th>policy</th>"
        "<th>state</th><th>remaining s</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        if rows
        else f"<p>No open cycle is due within {escape(within)}.</p>"
    )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<meta http-equiv=refresh content=30><title>sla serve</title><style>{_STYLE}</style></head><body>"
        f"<h1>sla serve</h1><p>As of {escape(format_instant(now_us))} (sla {escape(__version__)}).</p>"
        f"<dl>{items}</dl><h2>Due within {escape(within)}</h2>{table}"
        "<p><a href=/docs>API</a> · <a href=/openapi.json>OpenAPI</a> · <a href=/healthz>health</a></p>"
        "</body></html>"
    )
