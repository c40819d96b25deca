"""`sla report --format html`: one self-contained page for the morning stand-up.

The page is rendered in headless Chromium (Debian: ``apt-get install -y
chromium``); those tests are skipped only when no chromium is installed.
Every number the page shows is read back (``data-*`` attributes and cell
text) and compared with the JSON report or with an independent count from
the rows of ``sla evaluate``; a script injected into a copy of the page
measures the text boxes for overlaps at a desktop and a phone width.
Screenshots are copied to /tmp/sla-shots/ for a person to look at.
"""

from __future__ import annotations

import dataclasses
import html
import importlib.util
import json
import re
import shutil
import struct
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla import load_policies
from sla.cli.app import main
from sla.engine.jsonl import read_jsonl
from sla.report import build_report
from sla.report.html import render_html
from sla.timefmt import duration_text


def _load(name: str, file: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(file))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


cases = _load("report_cases", "test_report.py")
watch_cases = _load("watch_cases", "test_watchlist.py")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SVG_CHARTS = ("misses", "first-response", "csat", "heatmap")
SHOTS = Path("/tmp/sla-shots")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)
VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class Node:
    def __init__(self, tag: str, attrs: dict, parent: Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def find(self, tag: str | None = None, cls: str | None = None, **attrs) -> list[Node]:
        return [
            n
            for n in self.walk()
            if (tag is None or n.tag == tag)
            and (cls is None or cls in n.classes)
            and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def one(self, *args, **kwargs) -> Node:
        found = self.find(*args, **kwargs)
        assert len(found) == 1, (args, kwargs, len(found))
        return found[0]

    def cells(self) -> list[str]:
        return [c.text().strip() for c in self.children if isinstance(c, Node) and c.tag in ("td", "th")]


class Tree(HTMLParser):
    """An HTML document as a tree of Nodes (enough for the pages tested here)."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def events_file(tmp_path: Path, lines) -> Path:
    (tmp_path / "policy.yaml").write_text(cases.POLICY)
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in lines))
    return path


def write_html(tmp_path: Path, lines, *args, now=cases.GEN_NOW) -> Path:
    events_file(tmp_path, lines)
    out = tmp_path / "report.html"
    argv = ["report", "--policies", str(tmp_path / "policy.yaml"), "--events", str(tmp_path / "events.jsonl")]
    main([*argv, "--now", now, "--format", "html", "--output", str(out), *args])
    return out


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def rendered(tmp_path: Path, page: Path, width: int = 1400) -> Node:
    result = chromium(tmp_path, f"--window-size={width},3000", "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    return Tree(result.stdout).root


def pct(share) -> str:
    return "-" if share is None else f"{share * 100:.1f}%"


def local_day(us: int, tz: str):
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)).astimezone(ZoneInfo(tz)).date()


# ------------------------------------------------------------ the page itself
def test_page_is_self_contained_and_escapes(tmp_path):
    lines = cases.random_history(21, tickets=200)
    lines.append(
        {
            "ticket_id": "X",
            "at": "2026-03-02T10:00:00Z",
            "type": "created",
            "fields": {"channel": "<script>alert(1)</script>", "priority": '"><b>x', "assignee": "<i>me"},
        }
    )
    page = write_html(tmp_path, lines, "--by", "channel,assignee", "--tz", "Europe/Berlin").read_text()
    root = Tree(page).root
    for tag in ("script", "link", "img", "iframe", "object", "embed"):
        assert not root.find(tag), tag
    assert "<script>alert" not in page and "<i>me" not in page
    for node in root.walk():
        for name, value in node.attrs.items():
            assert name not in ("src", "href") and not name.startswith("on"), (node.tag, name, value)
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "@import" not in page and "url(" not in page
    charts = [n.attrs["data-chart"] for n in root.walk() if "data-chart" in n.attrs]
    assert charts == ["compliance", *SVG_CHARTS]  # no trend without --period: a note says how
    assert "--period week" in root.one("section", id="trend").text()
    assert root.find("table", cls="sla") and root.find("table", cls="kpis-volume")
    assert root.find("table", cls="owners", data_key="assignee")


def test_json_shape_is_unchanged_by_extras(tmp_path):
    lines = cases.random_history(22, tickets=80)
    report = cases.run(tmp_path, lines, policy=cases.POLICY, now=cases.GEN_NOW)
    assert set(report) == {"now", "tickets", "rejected", "sla", "kpis", "meta"}  # section 7, plus meta


def rank_key(index: int, row: dict):
    """The compliance chart's order, written from its description: below 95 % first, most
    breaches beyond the goal first; then by compliance; then rows without one."""
    a, b = row["achieved"], row["breached"]
    if row["compliance"] is None:
        return (2, -row["cycles"], 0, index)
    excess = b - (a + b) * 5 / 100
    return (0, -excess, -b, index) if excess > 0 else (1, row["compliance"], -b, index)


def check_cards_and_bars(root: Node, report: dict) -> None:
    per_metric: dict[str, Counter] = {}
    for row in report["sla"]:
        c = per_metric.setdefault(row["metric"], Counter())
        c.update({k: row[k] for k in ("cycles", "achieved", "breached")})
        c["open"] += row["running"] + row["paused"]
    cards = root.find("div", cls="card")
    metric_cards = {n.attrs["data-metric"]: n for n in cards if "data-metric" in n.attrs}
    assert set(metric_cards) == set(per_metric)
    for metric, c in per_metric.items():
        card = metric_cards[metric]
        share = c["achieved"] / (c["achieved"] + c["breached"]) if c["achieved"] + c["breached"] else None
        for key in ("cycles", "achieved", "breached", "open"):
            assert int(card.attrs[f"data-{key}"]) == c[key], (metric, key)
        assert card.attrs.get("data-compliance") == (None if share is None else repr(share))
        assert card.one("div", cls="v").text() == pct(share)
        text = card.text()
        assert f"{c['breached']:,} breached of {c['achieved'] + c['breached']:,} · {c['open']:,} open" in text
        assert f" · {report['meta']['hours'][metric]} time" in text.replace("business or calendar", "mixed")
    # Compliance bars: the worst groups of each metric, their figures the JSON's.
    rows = {(r["metric"], json.dumps(r["group"], sort_keys=True)): r for r in report["sla"]}
    for metric in per_metric:
        mine = [(i, r) for i, r in enumerate(report["sla"]) if r["metric"] == metric and r["cycles"]]
        expected = [
            json.dumps(r["group"], sort_keys=True) for i, r in sorted(mine, key=lambda x: rank_key(*x))
        ]
        bars = root.one("div", cls="bar-metric", data_metric=metric).find("div", cls="bar-row")
        assert [b.attrs["data-group"] for b in bars] == expected[:14]
        for bar in bars:
            row = rows[(metric, bar.attrs["data-group"])]
            for key in ("cycles", "achieved", "breached"):
                assert int(bar.attrs[f"data-{key}"]) == row[key]
            if row["compliance"] is not None:
                assert float(bar.attrs["data-compliance"]) == row["compliance"]
                judged = row["achieved"] + row["breached"]
                assert bar.one("span", cls="bar-text").text() == (
                    f"{pct(row['compliance'])} · {row['breached']:,} breached of {judged:,}"
                )


def check_trend(root: Node, report: dict) -> None:
    sums: dict[tuple[str, str], Counter] = {}
    for row in report["sla"]:
        c = sums.setdefault((row["metric"], row["group"]["period"]), Counter())
        c.update({k: row[k] for k in ("cycles", "achieved", "breached")})
        c["open"] += row["running"] + row["paused"]
    charts = root.find("svg", data_chart="trend")
    assert sorted(n.attrs["data-metric"] for n in charts) == sorted({m for m, _ in sums})
    seen = set()
    for chart in charts:
        metric = chart.attrs["data-metric"]
        periods = [g.attrs["data-period"] for g in chart.find("g", cls="pt")]
        assert periods == sorted(p for m, p in sums if m == metric)
        for g in chart.find("g", cls="pt"):
            c = sums[(metric, g.attrs["data-period"])]
            seen.add((metric, g.attrs["data-period"]))
            for key in ("cycles", "achieved", "breached", "open"):
                assert int(g.attrs[f"data-{key}"]) == c[key]
            assert g.attrs["data-incomplete"] == ("1" if c["open"] else "0")
            if c["achieved"] + c["breached"]:
                assert float(g.attrs["data-compliance"]) == c["achieved"] / (c["achieved"] + c["breached"])
    assert seen == set(sums)
    assert any(g.attrs["data-incomplete"] == "1" for g in root.find("g", cls="pt"))


def check_tables(root: Node, report: dict) -> None:
    keys = [*report["sla"][0]["group"]] if report["sla"] else []
    body = root.one("table", cls="sla").one("tbody")
    rows = [tr.cells() for tr in body.find("tr")]
    assert len(rows) == len(report["sla"])
    for cells, row in zip(rows, report["sla"], strict=True):
        group = [("null" if row["group"][k] is None else str(row["group"][k])) for k in keys]
        assert cells[: len(keys)] == group
        assert cells[len(keys)] == row["metric"]
        figures = [int(x) for x in cells[len(keys) + 1 : len(keys) + 7]]
        assert figures == [
            row[k] for k in ("cycles", "achieved", "breached", "cancelled", "running", "paused")
        ]
        assert cells[len(keys) + 7] == pct(row["compliance"])
    volume = [tr.cells() for tr in root.one("table", cls="kpis-volume").one("tbody").find("tr")]
    rates = [tr.cells() for tr in root.one("table", cls="kpis-rates").one("tbody").find("tr")]
    for v, r, row in zip(volume, rates, report["kpis"], strict=True):
        n = len(keys)
        assert [int(x) for x in v[n : n + 4]] == [
            row[k] for k in ("tickets", "messages_in", "messages_out", "unique_requesters")
        ]
        frt = row["first_response_seconds"]
        assert v[n + 5] == ("–" if frt is None else duration_text(round(frt["p50"] * 1e6), business=False))
        figures = ("response_rate", "resolution_rate", "reopen_rate", "fcr_rate", "redirect_rate")
        assert r[n : n + 5] == [("–" if row[k] is None else pct(row[k])) for k in figures]
        assert int(r[n + 5]) == row["csat"]["responses"]


def check_watch(root: Node, rows: list[dict], tickets: dict, now: str, tz: str) -> None:
    now_us = cases.us(now)
    for kind, states, order in (
        ("risk", ("running", "paused"), watch_cases.risk_order),
        ("breach", ("breached",), watch_cases.breach_order),
    ):
        expected = sorted((r for r in rows if r["state"] in states), key=order)[:200]
        trs = [tr for table in root.find("table", cls=kind) for tr in table.one("tbody").find("tr")]
        assert [
            (tr.attrs["data-ticket"], tr.attrs["data-metric"], int(tr.attrs["data-cycle"])) for tr in trs
        ] == [watch_cases.row_ident(r) for r in expected]
        assert len(root.find("table", cls=kind)[0].one("tbody").find("tr")) == min(15, len(expected))
        for tr, row in zip(trs, expected, strict=True):
            cells = tr.cells()
            if row["due_at"] is not None:
                due = cases.us(row["due_at"])
                local = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=due)
                assert cells[0].startswith(local.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M"))
            business = row["hours"] == "business"
            elapsed = duration_text(round(row["elapsed_seconds"] * 1e6), business=business)
            target = duration_text(round(row["target_seconds"] * 1e6), business=business)
            attrs_now = cases.attrs_at(tickets[row["ticket_id"]], now_us)
            owners = [attrs_now.get(k) for k in ("assignee", "group")]
            assert cells[1:4] == [row["ticket_id"], row["metric"]] + [
                "unassigned" if owners[0] is None else str(owners[0])
            ]
            assert cells[4] == ("unassigned" if owners[1] is None else owners[1])
            assert cells[5] == f"{elapsed} / {target}" and cells[7] == row["policy"]
    breached = [r for r in rows if r["state"] == "breached"]
    card = root.one("div", cls="card", data_breached_total=str(len(breached)))
    assert card.one("div", cls="v").text() == f"{sum(r['ended_at'] is None for r in breached):,}"
    open_rows = [r for r in rows if r["state"] in ("running", "paused")]
    soon = sum(
        r["due_at"] is not None and cases.us(r["due_at"]) <= now_us + 86_400_000_000 for r in open_rows
    )
    card = root.one("div", cls="card", data_at_risk_total=str(len(open_rows)))
    assert card.one("div", cls="v").text() == f"{soon:,}" and card.attrs["data-due-within-day"] == str(soon)


def check_misses(root: Node, rows: list[dict], tickets: dict, now: str, tz: str) -> None:
    by_day = Counter(
        local_day(cases.us(r["due_at"]), tz).isoformat() for r in rows if r["state"] == "breached"
    )
    drawn = {g.attrs["data-day"]: int(g.attrs["data-total"]) for g in root.find("g", cls="day")}
    assert drawn == dict(by_day)
    for key in ("assignee", "group"):
        table = root.one("table", cls="owners", data_key=key)
        expected = watch_cases.expected_misses(rows, tickets, key, now, tz)
        got = {
            tr.attrs["data-owner"]: json.loads(tr.attrs["data-counts"])
            for tr in table.find("tr")
            if "data-owner" in tr.attrs
        }
        assert got == expected
        for tr in table.find("tr"):
            if "data-owner" in tr.attrs:  # the cells show the counts, blank for 0
                shown = [c or "0" for c in tr.cells()[1:-1]]
                assert shown == [str(c) for c in expected[tr.attrs["data-owner"]]]


@needs_chromium
def test_every_number_shown_is_the_reports(tmp_path):
    lines = watch_cases.with_owners(cases.random_history(23, tickets=300), 23)
    args = ("--by", "assignee,group", "--period", "day", "--tz", "America/New_York")
    now = cases.GEN_NOW
    page = write_html(tmp_path, lines, *args, now=now)
    report = cases.run(tmp_path, lines, *args, policy=cases.POLICY, now=now)
    rows, tickets = watch_cases.setup(tmp_path, lines, now)
    root = rendered(tmp_path, page)
    check_cards_and_bars(root, report)
    check_trend(root, report)
    check_tables(root, report)
    check_watch(root, rows, tickets, now, "America/New_York")
    check_misses(root, rows, tickets, now, "America/New_York")
    header = root.one("header").text()
    assert report["now"] in header and "America/New_York" in header
    assert str(tmp_path / "policy.yaml") in header
    first, last = (re.sub(r"\.\d+Z$", "Z", report["meta"]["events"][k]) for k in ("first", "last"))
    assert f"{first} .. {last}" in header  # to the second, as every header
    tickets_card = [c for c in root.find("div", cls="card") if "Tickets" in c.text()][0]
    assert tickets_card.one("div", cls="v").text() == f"{report['tickets']:,}"


@needs_chromium
def test_the_worst_groups_are_drawn_first(tmp_path):
    """The issue's page: --by channel,priority --period week drew the biggest
    groups and hid the urgent ones; now the groups below 95 % come first."""
    lines = cases.random_history(31, tickets=700)
    args = ("--by", "channel,priority", "--period", "week")
    page = write_html(tmp_path, lines, *args)
    report = cases.run(tmp_path, lines, *args, policy=cases.POLICY, now=cases.GEN_NOW)
    root = rendered(tmp_path, page)
    check_cards_and_bars(root, report)
    check_trend(root, report)
    for block in root.find("div", cls="bar-metric"):
        shares = [
            float(b.attrs["data-compliance"])
            for b in block.find("div", cls="bar-row")
            if "data-compliance" in b.attrs
        ]
        failing = [s < 0.95 for s in shares]
        assert failing == sorted(failing, reverse=True)  # every drawn group below 95 % before any above


MEASURE = """
<script>
(function () {
  function clipOf(el) {
    var box = {left: -1e9, top: -1e9, right: 1e9, bottom: 1e9};
    for (var a = el.parentElement; a; a = a.parentElement) {
      var s = getComputedStyle(a);
      if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
        var r = a.getBoundingClientRect();
        box = {left: Math.max(box.left, r.left), top: Math.max(box.top, r.top),
               right: Math.min(box.right, r.right), bottom: Math.min(box.bottom, r.bottom)};
      }
    }
    return box;
  }
  function add(out, text, r, el) {
    var c = clipOf(el);
    var b = {left: Math.max(r.left, c.left), top: Math.max(r.top, c.top),
             right: Math.min(r.right, c.right), bottom: Math.min(r.bottom, c.bottom)};
    if (b.right - b.left > 0.5 && b.bottom - b.top > 0.5) out.push({t: text, b: b, el: el});
  }
  var out = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), n;
  while ((n = walker.nextNode())) {
    var p = n.parentElement;
    if (!n.nodeValue.trim() || p.closest('svg') || p.closest('details:not([open]) > :not(summary)')) continue;
    var range = document.createRange(); range.selectNodeContents(n);
    var rects = range.getClientRects();
    for (var i = 0; i < rects.length; i++) add(out, n.nodeValue.trim().slice(0, 50), rects[i], p);
  }
  document.querySelectorAll('svg text').forEach(function (t) {
    if (!t.closest('details:not([open]) > :not(summary)')) add(out, t.textContent.slice(0, 50), t.getBoundingClientRect(), t);
  });
  out.sort(function (a, b) { return a.b.top - b.b.top; });
  var pairs = [];
  for (var i = 0; i < out.length; i++) {
    for (var j = i + 1; j < out.length && out[j].b.top < out[i].b.bottom; j++) {
      var a = out[i].b, b = out[j].b;
      var w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      var h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1 && pairs.length < 50) pairs.push([out[i].t, out[j].t, Math.round(w), Math.round(h)]);
    }
  }
  parent.document.getElementById('measured').textContent = JSON.stringify(
    {pairs: pairs, boxes: out.length, scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth});
})();
</script>
"""


def measure(tmp_path: Path, page: Path, width: int) -> dict:
    """Text boxes that overlap, and the page's scroll width, at a window ``width``
    wide: the page runs in a frame of that width (headless windows are at
    least 500 px wide) with the measuring script added; the script writes
    what it found into the outer page, which Chromium dumps."""
    probe = tmp_path / f"probe-{width}.html"
    framed = html.escape(page.read_text().replace("</body>", MEASURE + "</body>"), quote=True)
    probe.write_text(
        '<!DOCTYPE html><html><body style="margin:0"><pre id="measured"></pre>'
        f'<iframe srcdoc="{framed}" style="border:0;width:{width}px;height:20000px"></iframe></body></html>'
    )
    result = chromium(tmp_path, "--window-size=1400,3000", "--dump-dom", probe.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'<pre id="measured">(.*?)</pre>', result.stdout, re.S)
    assert found, "the measuring script did not run"
    return json.loads(
        found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    )


def stand_up_page(tmp_path: Path) -> Path:
    lines = watch_cases.with_owners(cases.random_history(41, tickets=400), 41)
    return write_html(
        tmp_path, lines, "--by", "assignee,priority", "--period", "day", "--tz", "Europe/Berlin"
    )


@needs_chromium
@pytest.mark.parametrize("width", [1400, 390])
def test_no_text_overlaps_and_no_page_wide_scrolling(tmp_path, width):
    page = stand_up_page(tmp_path)
    measured = measure(tmp_path, page, width)
    assert measured["innerWidth"] == width
    assert measured["boxes"] > 500  # the page was measured, not an empty one
    assert measured["pairs"] == []
    assert measured["scrollWidth"] <= measured["innerWidth"]  # wide tables scroll inside their own box


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@needs_chromium
def test_screenshots(tmp_path):
    page = stand_up_page(tmp_path)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1400, 390):
        png = tmp_path / f"report-{width}.png"
        result = chromium(tmp_path, f"--screenshot={png}", f"--window-size={width},3000", page.as_uri())
        assert result.returncode == 0, result.stderr[-2000:]
        assert png_size(png) == (width, 3000)
        assert png.stat().st_size > 60_000  # a page of tables and charts, not a blank one
        shutil.copy(png, SHOTS / png.name)


@needs_chromium
def test_prints_in_a_few_pages(tmp_path):
    page = stand_up_page(tmp_path)
    pdf = tmp_path / "report.pdf"
    result = chromium(tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert 2 <= pages <= 14, pages
    shutil.copy(pdf, SHOTS / pdf.name) if SHOTS.is_dir() else None


@needs_chromium
def test_an_empty_report_renders(tmp_path):
    page = write_html(
        tmp_path, [{"ticket_id": "A", "at": "2026-03-10T00:00:00Z", "type": "created", "fields": {}}]
    )
    root = rendered(tmp_path, page)
    charts = [n.attrs["data-chart"] for n in root.walk() if "data-chart" in n.attrs]
    assert charts == ["compliance", *SVG_CHARTS]
    text = root.text()
    assert "No breached cycles" in text and "No tickets" in text and "No cycles with a target" in text


def test_section_13_cards_render_when_the_figures_are_there():
    """Handle time, sentiment and bot coverage cards, written against the
    names of SEMANTICS.md section 13 (skipped while KpiGroup lacks them)."""
    from sla.report import results

    if not all(hasattr(results, name) for name in ("HandleTime", "SentimentFigures")):
        pytest.skip("KpiGroup has no section 13 figures yet")
    policies = load_policies(cases.SIMPLE_POLICY)
    tickets, _ = read_jsonl([json.dumps(e) for e in cases.random_history(3, tickets=30)])
    report = build_report(policies, tickets, cases.GEN_NOW)
    report.extras.overall_kpis = dataclasses.replace(
        report.extras.overall_kpis,
        reply_seconds=results.Distribution(1000.0, 600.0, 5400.0),
        handle_seconds=results.HandleTime(8, 9600.0, 1200.0),
        sentiment=results.SentimentFigures(5, -0.4, 0.2, 0.6),
        bot_share=0.25,
        bot_resolved_rate=0.1,
    )
    text = Tree(render_html(report)).root.text()
    for expected in (
        "Reply time10mmedian wait, calendar timep90 1h30m",
        "Handle time20mmean per ticket, logged time2h40m over 8 tickets",
        "Sentiment+0.20last message; first -0.40change +0.60 · 5 tickets",
        "Bot coverage25.0%of agent and bot messagesbot-only resolved 10.0%",
    ):
        assert expected in text


def test_a_fixed_offset_zone_from_the_api(tmp_path):
    """``build_report(tz=timezone(...))`` names its zone ``UTC-05:30``: local times use that offset."""
    from datetime import timezone

    lines = watch_cases.with_owners(cases.random_history(51, tickets=120), 51)
    policies = load_policies(cases.POLICY)
    tickets, _ = read_jsonl([json.dumps(e) for e in lines])
    zone = timezone(-timedelta(hours=5, minutes=30))
    report = build_report(policies, tickets, cases.GEN_NOW, by=["assignee"], tz=zone)
    root = Tree(render_html(report)).root
    rows = [tr for table in root.find("table", cls="risk") for tr in table.one("tbody").find("tr")]
    assert rows
    for tr in rows:
        if "data-due" in tr.attrs:
            due = datetime.fromisoformat(tr.attrs["data-due"].replace("Z", "+00:00"))
            assert tr.cells()[0].startswith(due.astimezone(zone).strftime("%Y-%m-%d %H:%M"))
    assert "UTC-05:30" in root.one("header").text()
