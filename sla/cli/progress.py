"""A quiet progress bar for long runs: drawn on a terminal only.

Nothing is written unless the stream is a TTY, and nothing until the run has
taken ``delay`` seconds, so short runs and pipes stay silent.

>>> import io
>>> bar = Progress(10, stream=io.StringIO())
>>> bar.enabled
False
>>> bar.update(5); bar.close()
"""

from __future__ import annotations

import os
import stat
import sys
import time
from typing import IO


class Progress:
    def __init__(
        self,
        total: int | None,
        label: str = "tickets",
        stream: IO[str] | None = None,
        delay: float = 0.5,
        interval: float = 0.1,
        width: int = 30,
    ):
        self.stream = sys.stderr if stream is None else stream
        self.total = max(0, total or 0)
        self.label = label
        self.width = width
        self.delay = delay
        self.interval = interval
        try:
            self.enabled = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self.enabled = False
        self.started = self.phase_started = time.monotonic()
        self.last_draw = 0.0
        self.drawn = False
        # Reading the clock on every ticket costs more than the check below.
        self.every = 256
        self.calls = 0

    def update(self, done: int) -> None:
        """``done`` of the total so far (tickets, or the line a ticket began on)."""
        if not self.enabled:
            return
        self.calls += 1
        if self.calls % self.every:
            return
        now = time.monotonic()
        if now - self.started < self.delay or now - self.last_draw < self.interval:
            return
        self.last_draw = now
        self._draw(done, now)

    def share(self, fraction: float, label: str) -> None:
        """A run measured in pieces (parallel jobs): ``fraction`` of the
        ``label`` phase is done. A new label starts its own clock for the ETA."""
        if not self.enabled:
            return
        now = time.monotonic()
        if label != self.label:
            self.label, self.total, self.phase_started = label, 1000, now
        if now - self.started < self.delay:
            return
        done = int(1000 * min(max(fraction, 0.0), 1.0))
        self._draw(done, now, self.phase_started, f"{fraction:.0%} of the {label}")

    def _draw(self, done: int, now: float, since: float | None = None, what: str | None = None) -> None:
        elapsed = now - (self.started if since is None else since)
        rate = done / elapsed if elapsed > 0 else 0.0
        if not self.total:  # streaming: the total is not known yet
            self.stream.write(f"\r{done:,} {self.label}  {rate:,.0f}/s ")
            self.stream.flush()
            self.drawn = True
            return
        share = done / self.total if self.total else 1.0
        filled = int(self.width * share)
        bar = "#" * filled + "-" * (self.width - filled)
        eta = (self.total - done) / rate if rate > 0 else 0.0
        if what is None:
            what = f"{done:,}/{self.total:,} {self.label}  {rate:,.0f}/s"
        self.stream.write(f"\r[{bar}] {share:6.1%} {what}  ETA {eta:4.0f}s ")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.enabled and self.drawn:
            self.stream.write("\r" + " " * (self.width + 70) + "\r")
            self.stream.flush()
            self.drawn = False


def input_progress(path: str, stream: IO[str] | None = None) -> Progress:
    """A bar over the lines of an event file: on a terminal, for a plain file,
    the lines are counted first (a fast pass) so the bar shows a percentage
    and an ETA; gzip input and pipes get a running count instead."""
    bar = Progress(0, "lines", stream=stream)
    if not bar.enabled or path == "-":
        return bar
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return bar
        with open(path, "rb") as handle:
            if handle.read(2) == b"\x1f\x8b":  # gzip: its lines are not countable cheaply
                return bar
        from sla.io.parallel import count_lines

        lines = count_lines(path, 0, os.path.getsize(path)) + 1  # a last line without newline
    except OSError:
        return bar
    return Progress(lines, "lines", stream=stream)
