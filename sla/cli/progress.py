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
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.drawn = False
        # Reading the clock on every ticket costs more than the check below.
        self.every = max(1, self.total // 1000) if self.total else 500

    def update(self, done: int) -> None:
        if not self.enabled or done % self.every:
            return
        now = time.monotonic()
        if now - self.started < self.delay or now - self.last_draw < self.interval:
            return
        self.last_draw = now
        self._draw(done, now)

    def _draw(self, done: int, now: float) -> None:
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        if not self.total:  # streaming: the total is not known yet
            self.stream.write(f"\r{done:,} {self.label}  {rate:,.0f}/s ")
            self.stream.flush()
            self.drawn = True
            return
        share = done / self.total if self.total else 1.0
        filled = int(self.width * share)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = now - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else 0.0
        self.stream.write(
            f"\r[{bar}] {share:6.1%} {done:,}/{self.total:,} {self.label}  {rate:,.0f}/s  ETA {eta:4.0f}s "
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.enabled and self.drawn:
            self.stream.write("\r" + " " * (self.width + 70) + "\r")
            self.stream.flush()
            self.drawn = False
