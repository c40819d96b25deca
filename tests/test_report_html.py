"""`sla report --format html`: one self-contained page with inline SVG charts.

The page is rendered in headless Chromium (Debian: ``apt-get install -y
chromium``); those tests are skipped only when no chromium is installed.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sla.cli.app import main

_spec = importlib.util.spec_from_file_location("report_cases", Path(__file__).with_name("test_report.py"))
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)  # type: ignore[union-attr]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHARTS = ("compliance", "misses", "first-response", "csat", "heatmap")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)"
)


class Dom(HTMLParser):
    """Tags with their attributes, and text, of an HTML document."""

    def __init__(self, text: str):
        super().__init__()
        self.elements: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.svg_children: Counter = Counter()
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        charts = [a for t, a in self.elements if t == "svg"]
        if self.stack and "svg" in self.stack and charts:
            self.svg_children[(charts[-1].get("data-chart"), tag)] += 1
        self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.stack.pop()

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, data):
        self.text.append(data)

    def all(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.elements if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def write_html(tmp_path: Path, lines, *args, now=cases.GEN_NOW) -> Path:
    (tmp_path / "policy.yaml").write_text(cases.POLICY)
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    out = tmp_path / "report.html"
    main(
        [
            "report",
            "--policies",
            str(tmp_path / "policy.yaml"),
            "--events",
            str(tmp_path / "events.jsonl"),
            "--now",
            now,
            "--format",
            "html",
            "--output",
            str(out),
            *args,
        ]
    )
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
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_page_is_self_contained_and_has_every_chart(tmp_path):
    lines = cases.random_history(21, tickets=200)
    lines.append(
        {
            "ticket_id": "X",
            "at": "2026-03-02T10:00:00Z",
            "type": "created",
            "fields": {"channel": "<script>alert(1)</script>", "priority": '"><b>x'},
        }
    )
    page = write_html(tmp_path, lines, "--by", "channel", "--tz", "Europe/Berlin").read_text()
    dom = Dom(page)
    assert not dom.all("script") and not dom.all("link") and not dom.all("img") and not dom.all("iframe")
    assert "<script>alert" not in page
    for tag, attrs in dom.elements:
        for name, value in attrs.items():
            if name in ("src", "href"):
                pytest.fail(f"external reference {tag} {name}={value}")
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "@import" not in page and "url(" not in page
    assert [a["data-chart"] for a in dom.all("svg")] == list(CHARTS)
    assert dom.all("table", **{"class": "sla"}) and dom.all("table", **{"class": "kpis kpis-volume"})


def test_json_shape_is_unchanged_by_extras(tmp_path):
    lines = cases.random_history(22, tickets=80)
    report = cases.run(tmp_path, lines, policy=cases.POLICY, now=cases.GEN_NOW)
    assert set(report) == {"now", "tickets", "rejected", "sla", "kpis", "meta"}  # section 7, plus meta


@needs_chromium
def test_chromium_renders_the_charts(tmp_path):
    lines = cases.random_history(23, tickets=300)
    page = write_html(tmp_path, lines, "--by", "channel", "--tz", "America/New_York")
    result = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    dom = Dom(result.stdout)
    charts = {a["data-chart"]: a for a in dom.all("svg")}
    assert set(charts) == set(CHARTS)
    report = cases.run(
        tmp_path, lines, "--by", "channel", "--tz", "America/New_York", policy=cases.POLICY, now=cases.GEN_NOW
    )
    # Compliance: one bar group per (metric, group) row drawn, one filled bar per row with a ratio.
    drawn = dom.svg_children[("compliance", "g")]
    assert drawn == len(report["sla"])  # fewer than the row cap per metric here
    # Misses per day: one stacked column per day with a breach; the heatmap: 7 x 24 cells.
    assert dom.svg_children[("misses", "g")] >= 1
    assert dom.svg_children[("heatmap", "g")] == 7 * 24
    assert dom.svg_children[("first-response", "rect")] == 11
    assert dom.svg_children[("csat", "rect")] >= 3
    text = " ".join(dom.text)
    for heading in (
        "SLA compliance",
        "SLA misses per day",
        "Time to first response",
        "CSAT",
        "Ticket volume by hour of week",
        "Support KPIs",
    ):
        assert heading in text
    assert f"{report['tickets']:,}" in text


@needs_chromium
def test_chromium_screenshot(tmp_path):
    page = write_html(tmp_path, cases.random_history(24, tickets=300), "--by", "policy")
    png = tmp_path / "shot.png"
    result = chromium(
        tmp_path, f"--screenshot={png}", "--window-size=1280,2000", "--hide-scrollbars", page.as_uri()
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1280, 2000)
    assert len(data) > 50_000  # a page of charts, not a blank one


@needs_chromium
def test_chromium_renders_an_empty_report(tmp_path):
    page = write_html(
        tmp_path, [{"ticket_id": "A", "at": "2026-03-10T00:00:00Z", "type": "created", "fields": {}}]
    )
    result = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert result.returncode == 0
    dom = Dom(result.stdout)
    assert [a["data-chart"] for a in dom.all("svg")] == list(CHARTS)
    text = " ".join(dom.text)
    assert "No breached cycles" in text and "No tickets" in text
