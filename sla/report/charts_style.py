"""The stylesheet of the HTML report (and of the ``sla compare`` page): one
inline ``<style>``, no fonts or images to fetch.

Three layouts: wide screens (the page at most 1180 px, wide tables scroll
inside their own box), phones (from 390 px: cards two abreast, bars and
charts one column), and print (white, no shadows, nothing split across
pages that fits on one, folded rows left out).
"""

from __future__ import annotations

from sla.report.charts_base import BAD_COLOR, FONT, OK_COLOR, WARN_COLOR

CSS = f"""
:root {{ --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --bg:#f1f5f9; --card:#ffffff; --accent:#2563eb; }}
* {{ box-sizing: border-box; }}
body {{ margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 {FONT}; }}
main {{ max-width: 1180px; margin: 0 auto; padding: 28px 24px 48px; }}
header h1 {{ font-size: 26px; margin: 0 0 8px; letter-spacing: -0.01em; }}
header p {{ margin: 6px 0 0; color: var(--muted); }}
dl.meta {{ display: grid; grid-template-columns: max-content minmax(0, 1fr) max-content minmax(0, 1fr);
          gap: 2px 12px; margin: 0; font-size: 13px; }}
dl.meta dt {{ color: var(--muted); }}
dl.meta dd {{ margin: 0 12px 0 0; min-width: 0; overflow-wrap: anywhere; }}
h2.set {{ font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 22px 0 8px; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 0 0 8px; }}
header + .cards {{ margin-top: 18px; }}
.card {{ background: var(--card); border-radius: 12px; box-shadow: 0 1px 2px rgba(15,23,42,.06), 0 1px 8px rgba(15,23,42,.04);
        padding: 12px 14px; min-width: 0; break-inside: avoid; }}
.card .k {{ color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; overflow-wrap: anywhere; }}
.card .v {{ font-size: 26px; font-weight: 650; margin-top: 2px; font-variant-numeric: tabular-nums; }}
.card .s {{ color: var(--muted); font-size: 12px; }}
.ok {{ color: #15803d; }} .warn {{ color: #b45309; }} .bad {{ color: #b91c1c; }}
section.panel {{ background: var(--card); border-radius: 12px; padding: 18px 20px 14px; margin: 16px 0;
                box-shadow: 0 1px 2px rgba(15,23,42,.06), 0 1px 8px rgba(15,23,42,.04); min-width: 0; }}
section.panel h2 {{ font-size: 17px; margin: 0 0 2px; }}
section.panel h3 {{ font-size: 14px; margin: 16px 0 6px; }}
section.panel p.note {{ margin: 0 0 12px; color: var(--muted); font-size: 13px; }}
p.empty {{ color: var(--muted); background: #f8fafc; border-radius: 8px; padding: 14px; margin: 0; }}
.muted {{ color: var(--muted); font-weight: 400; }}
code {{ background: #f1f5f9; border-radius: 4px; padding: 0 4px; }}
.grid2 {{ display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }}
.grid2 section.panel {{ margin: 0; }}
svg.chart {{ display: block; height: auto; }}
.scroll {{ overflow-x: auto; max-width: 100%; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }}
th, td {{ padding: 6px 9px; border-bottom: 1px solid var(--line); white-space: nowrap; }}
th {{ text-align: left; color: var(--muted); font-weight: 600; background: #f8fafc; }}
td.n, th.n {{ text-align: right; }}
tr:hover td {{ background: #f8fafc; }}
.pill {{ display: inline-block; min-width: 58px; text-align: center; padding: 1px 8px; border-radius: 999px;
        font-weight: 600; font-size: 12px; }}
.pill.ok {{ background: #dcfce7; }} .pill.warn {{ background: #fef3c7; }} .pill.bad {{ background: #fee2e2; }}
.pill.none {{ background: #f1f5f9; color: var(--muted); }}
td.null {{ color: #cbd5e1; }}
details {{ margin-top: 10px; }} summary {{ cursor: pointer; color: var(--accent); font-size: 13px; }}
table.watch td.ticket {{ font-weight: 600; }}
table.watch .when {{ color: var(--muted); margin-left: 8px; font-size: 12px; }}
table.owners {{ font-size: 12px; }}
table.owners th, table.owners td {{ padding: 3px 3px; min-width: 23px; }}
table.owners th.owner {{ max-width: 170px; overflow: hidden; text-overflow: ellipsis; color: var(--ink); }}
table.owners .we {{ background: #f8fafc; }}
table.owners .phone {{ display: none; }}
table.owners td.total, table.owners tr.totals {{ font-weight: 650; }}
table.owners tr.other th, table.owners tr.totals th {{ color: var(--muted); }}
table.owners th.month {{ text-align: left; border-bottom: none; }}
.bar-metric h3 {{ margin-top: 14px; }}
.bar-row {{ display: grid; grid-template-columns: minmax(110px, 250px) minmax(120px, 1fr) minmax(200px, auto);
           gap: 4px 12px; align-items: center; padding: 3px 0; font-size: 13px; }}
.bar-label {{ text-align: right; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; color: #334155; }}
.bar-text {{ font-variant-numeric: tabular-nums; white-space: nowrap; }}
.track {{ position: relative; height: 15px; background: #f1f5f9; border-radius: 3px; }}
.track .fill {{ position: absolute; left: 0; top: 0; bottom: 0; border-radius: 3px; min-width: 2px; }}
.fill.ok {{ background: {OK_COLOR}; }} .fill.warn {{ background: {WARN_COLOR}; }} .fill.bad {{ background: {BAD_COLOR}; }}
.track i {{ position: absolute; top: -3px; bottom: -3px; border-left: 1px dashed; opacity: .8; }}
.track i.g80 {{ left: 80%; border-color: {WARN_COLOR}; }} .track i.g95 {{ left: 95%; border-color: {OK_COLOR}; }}
p.more {{ color: var(--muted); font-size: 12px; margin: 6px 0 0; }}
.trend-grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(min(440px, 100%), 1fr)); gap: 8px 20px; }}
figure.trend {{ margin: 0; min-width: 0; break-inside: avoid; }}
figure.trend h3 {{ margin: 8px 0 4px; }}
figure.trend figcaption {{ color: var(--muted); font-size: 12px; margin-top: 2px; }}
footer {{ color: var(--muted); font-size: 12px; margin-top: 24px; }}
@media (max-width: 900px) {{ .grid2 {{ grid-template-columns: 1fr; }} }}
@media (max-width: 640px) {{
  main {{ padding: 16px 12px 32px; }}
  header h1 {{ font-size: 22px; }}
  dl.meta {{ grid-template-columns: max-content minmax(0, 1fr); }}
  .cards {{ grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px; }}
  .card {{ padding: 10px 11px; }}
  .card .v {{ font-size: 21px; }}
  section.panel {{ padding: 14px 12px 10px; }}
  .bar-row {{ grid-template-columns: minmax(0, 1fr) auto; }}
  .bar-label {{ grid-column: 1 / -1; text-align: left; }}
  th, td {{ padding: 5px 7px; }}
  table.owners .old, table.owners tr.months {{ display: none; }}
  table.owners .phone {{ display: block; font-weight: 400; }}
}}
@media print {{
  @page {{ margin: 12mm; }}
  body {{ background: #fff; font-size: 11px; }}
  main {{ max-width: none; padding: 0; }}
  section.panel {{ box-shadow: none; border: 1px solid var(--line); padding: 10px 12px; margin: 10px 0; }}
  .card {{ box-shadow: none; border: 1px solid var(--line); }}
  .cards {{ grid-template-columns: repeat(4, 1fr); }}
  .grid2 {{ grid-template-columns: 1fr 1fr; }}
  h2, h3, summary {{ break-after: avoid; }}
  tr, .bar-row, figure, svg, .card, dl.meta {{ break-inside: avoid; }}
  .scroll {{ overflow: visible; }}
  .trend-grid {{ grid-template-columns: 1fr; }}
  figure.trend svg {{ max-width: 520px; }}
  table {{ font-size: 9px; }}
  th, td {{ padding: 2px 4px; white-space: normal; }}
  details:not([open]) > summary {{ display: none; }}
}}
"""
