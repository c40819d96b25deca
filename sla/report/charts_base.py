"""Building blocks of the HTML report, pure text in and out: the compliance
thresholds every format flags by, the short forms of numbers, HTML escaping
and table cells, and the SVG primitives the charts share (frame, axes,
legend, colours).

Nothing here knows a :class:`~sla.report.results.Report`; the chart modules
(:mod:`sla.report.charts`, :mod:`sla.report.charts_trend`,
:mod:`sla.report.charts_tickets`, :mod:`sla.report.charts_watch`) and the
page (:mod:`sla.report.html`) put them together.  :mod:`sla.report.text`
re-exports the thresholds and text forms for the terminal table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from sla.timefmt import US_PER_SECOND, from_us
from sla.timefmt import duration_text as format_duration

#: Compliance at or above GOOD is fine, below WARN is flagged as low.
GOOD, WARN = 0.95, 0.80
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#8b5cf6", "#ef4444", "#06b6d4", "#ec4899", "#84cc16", "#64748b")
OK_COLOR, WARN_COLOR, BAD_COLOR, NONE_COLOR = "#16a34a", "#d97706", "#dc2626", "#94a3b8"
INK, MUTED, LABEL, GRID = "#0f172a", "#64748b", "#334155", "#e2e8f0"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


# ------------------------------------------------------------ text forms
def esc(value: object) -> str:
    """``value`` as text escaped for HTML content and attribute values.

    >>> esc('<a href="x">&</a>')
    '&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;'
    """
    # Imported here: ``html`` loads its table of 2,231 entities when
    # imported (8 M instructions), which a JSON or CSV report, whose
    # modules import this one, need not pay.
    from html import escape

    return escape(str(value), quote=True)


def percent_text(share: float | None, digits: int = 1) -> str:
    """``0.8624 -> '86.2%'``; null is ``-``."""
    return "-" if share is None else f"{share * 100:.{digits}f}%"


def duration_text(seconds: float | None, business: bool = False) -> str:
    """A report figure in seconds as the one duration form of every command
    (:func:`sla.timefmt.duration_text`: the two largest units, no days in
    business time).

    >>> duration_text(5400), duration_text(93784), duration_text(93784, business=True), duration_text(None)
    ('1h30m', '26h3m', '26h3m', '-')
    >>> duration_text(700000), duration_text(float("inf"))
    ('8d2h', '-')
    """
    if seconds is None or not math.isfinite(seconds):  # a sum beyond float range: no figure
        return "-"
    return format_duration(round(seconds * US_PER_SECOND), business=business)


def hours_label(hours: str) -> str:
    """How a figure's time is counted, for labels: ``business time``, ``calendar time``,
    ``business or calendar time`` (policies differ)."""
    return "business or calendar time" if hours == "mixed" else f"{hours} time"


def share_class(share: float | None) -> str:
    """The CSS class of a compliance: ``ok``, ``warn``, ``bad``, or ``none`` without one."""
    if share is None:
        return "none"
    return "ok" if share >= GOOD else "warn" if share >= WARN else "bad"


def compliance_color(share: float | None) -> str:
    """The chart colour of a compliance: green, amber, red, or grey without one."""
    if share is None:
        return NONE_COLOR
    return OK_COLOR if share >= GOOD else WARN_COLOR if share >= WARN else BAD_COLOR


def number_text(value: float) -> str:
    """Compact SVG coordinates."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def short_count(count: int) -> str:
    """``12345 -> '12k'``, ``1234 -> '1.2k'``: counts in small cells."""
    if count >= 10000:
        return f"{count / 1000:.0f}k"
    if count >= 1000:
        return f"{count / 1000:.1f}k"
    return str(count)


def data_attrs(**values: object) -> str:
    """``data-*`` attributes (underscores become hyphens; None is left out):
    the exact figures behind a drawn or rounded number, for readers and tests."""
    return "".join(
        f' data-{name.replace("_", "-")}="{esc(value)}"'
        for name, value in values.items()
        if value is not None
    )


# ----------------------------------------------------------------- tables
def table_cell(value: object, numeric: bool = True, title: str | None = None) -> str:
    """One ``<td>``: numbers right-aligned, null as a grey dash."""
    t = f' title="{esc(title)}"' if title else ""
    if value is None:
        return f'<td class="n null"{t}>–</td>' if numeric else f'<td class="null"{t}>null</td>'
    return f'<td class="n"{t}>{esc(value)}</td>' if numeric else f"<td{t}>{esc(value)}</td>"


def panel(ident: str, title: str, note: str, body: str) -> str:
    """A titled section of the page with a one-line note under its title."""
    return f'<section class="panel" id="{ident}"><h2>{esc(title)}</h2><p class="note">{esc(note)}</p>{body}</section>'


def cards_html(cards: Sequence[tuple[str, str, str, str]]) -> str:
    """Summary cards: (title, big value, small print, CSS class of the value) each."""
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="k">{esc(name)}</div><div class="v {cls}">{esc(value)}</div>'
            f'<div class="s">{esc(sub)}</div></div>'
            for name, value, sub, cls in cards
        )
        + "</div>"
    )


# -------------------------------------------------------------------- SVG
def nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum at or above ``value`` and its tick step.

    >>> nice_max(37), nice_max(0)
    ((40, 10), (1, 1))
    """
    if value <= 0:
        return 1, 1
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        step = m * magnitude
        if step >= raw:
            break
    if step < 1:
        step = 1
    return step * math.ceil(value / step), step


def svg_open(kind: str, width: int, height: int, label: str, extra: str = "") -> str:
    """The opening tag of a chart: scales to its box, named by ``data-chart``."""
    return (
        f'<svg class="chart chart-{kind}" data-chart="{kind}" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{esc(label)}" '
        f'font-family="{esc(FONT)}" font-size="12"{extra}>'
    )


def empty_svg(kind: str, label: str, message: str, width: int = 960, height: int = 120) -> str:
    """A chart with nothing to draw: its frame and a message."""
    return (
        svg_open(kind, width, height, label)
        + f'<rect x="0" y="0" width="{width}" height="{height}" rx="8" fill="#f8fafc"/>'
        f'<text x="{width // 2}" y="{height // 2 + 5}" text-anchor="middle" fill="{MUTED}" font-size="15">'
        f"{esc(message)}</text></svg>"
    )


def legend_svg(items: Sequence[tuple[str, str]], x: float, y: float) -> str:
    """Colour swatches with their labels in one row from ``(x, y)``."""
    parts = []
    for label, color in items:
        parts.append(
            f'<rect x="{number_text(x)}" y="{number_text(y - 9)}" width="11" height="11" rx="2" fill="{color}"/>'
            f'<text x="{number_text(x + 16)}" y="{number_text(y)}" fill="{LABEL}">{esc(label)}</text>'
        )
        x += 26 + 7 * len(label)
    return "".join(parts)


def gridlines(
    top: float, step: float, left: float, right_x: float, plot_bottom: float, plot_h: float
) -> list[str]:
    """Horizontal grid lines with their values on the left axis."""
    out = []
    tick = 0.0
    while tick <= top + 1e-9:
        ty = plot_bottom - plot_h * tick / top
        out.append(
            f'<line x1="{left}" y1="{number_text(ty)}" x2="{right_x}" y2="{number_text(ty)}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{number_text(ty + 4)}" text-anchor="end" fill="{MUTED}">{tick:g}</text>'
        )
        tick += step
    return out


def mix(a: str, b: str, t: float) -> str:
    """The colour a fraction ``t`` of the way from ``a`` to ``b`` (``#rrggbb``)."""
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=False))


def local_minute(us: int, zone: tzinfo) -> str:
    """An instant as local wall-clock time to the minute, ``2026-03-09 14:30``
    (seconds dropped, not rounded).

    >>> from zoneinfo import ZoneInfo
    >>> local_minute(1773066659_000_000, ZoneInfo("Europe/Berlin"))
    '2026-03-09 15:30'
    """
    return from_us(us).astimezone(zone).strftime("%Y-%m-%d %H:%M")


def zone_of(name: str) -> tzinfo:
    """The zone a report's ``tz`` names: an IANA zone, or the fixed offset a
    ``datetime.timezone`` prints as (``UTC+01:00``); UTC for anything else.

    >>> zone_of("Europe/Berlin").key, zone_of("UTC-05:30").utcoffset(None)
    ('Europe/Berlin', datetime.timedelta(days=-1, seconds=66600))
    """
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        pass
    found = re.fullmatch(r"UTC([+-])(\d\d):(\d\d)", name)
    if found is None:
        return UTC
    offset = timedelta(hours=int(found.group(2)), minutes=int(found.group(3)))
    return timezone(offset if found.group(1) == "+" else -offset)
