"""The scheduler: claims alerts whose instant has passed and posts them to
their webhook, with retries and exponential back-off.

Delivery is at least once: an attempt is recorded only after the webhook
answered, so a crash between the answer and the bookkeeping sends the alert
again (same ``id``), never zero times.  A claim is a lease: if the process
dies, its claims expire after the lease and another process (or this one,
restarted) takes them over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence

import httpx
from starlette.concurrency import run_in_threadpool

from sla.service import store
from sla.service.alerts import SIGNATURE_HEADER, backoff_us, signature
from sla.service.db import Database
from sla.service.settings import Settings, redact_url

log = logging.getLogger("sla.serve.delivery")


class Scheduler:
    """Delivers this process's share of the due alerts until :meth:`stop`."""

    def __init__(self, db: Database, settings: Settings, client: httpx.AsyncClient | None = None):
        self.db = db
        self.settings = settings
        self.owner = f"{uuid.uuid4().hex[:12]}"
        self.client = client or httpx.AsyncClient(timeout=settings.delivery_timeout_s, follow_redirects=False)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        # At most this many posts at once: a burst of due alerts does not
        # open a hundred connections to one webhook.
        self._slots = asyncio.Semaphore(settings.delivery_concurrency)
        self.delivered = 0
        self.failed = 0

    def wake(self) -> None:
        """Look for due alerts now (new ones may be due already)."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming; the attempts under way finish, then every lease
        still held is freed for the next process."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Claim and deliver until stopped."""
        settings = self.settings
        try:
            while not self._stopping.is_set():
                try:
                    claimed = await run_in_threadpool(self._claim, settings.clock())
                    if claimed:
                        await self._deliver_all(claimed)
                        if len(claimed) == settings.claim_batch:
                            continue
                    next_due = await run_in_threadpool(self._next_due)
                except Exception as exc:  # the database went away: try again at the next poll
                    log.error(
                        "alert scheduling failed", extra={"error": f"{type(exc).__name__}: {exc}"[:300]}
                    )
                    next_due = None
                await self._sleep(next_due)
        finally:
            await run_in_threadpool(self._release)
            await self.client.aclose()

    async def _sleep(self, next_due: int | None) -> None:
        wait_us = self.settings.poll_us
        if next_due is not None:
            wait_us = max(0, min(wait_us, next_due - self.settings.clock()))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait_us / 1e6)

    def _claim(self, now: int) -> list[store.Claimed]:
        s = self.settings
        with self.db.transaction() as conn:
            return store.claim(conn, self.owner, now, s.lease_us, s.webhooks, s.claim_batch)

    def _next_due(self) -> int | None:
        with self.db.transaction(write=False) as conn:
            return store.next_alert_us(conn, self.settings.webhooks)

    def _release(self) -> None:
        try:
            with self.db.transaction() as conn:
                store.release(conn, self.owner)
        except Exception as exc:  # the database may be gone at shutdown; the leases then expire
            log.warning("could not free the alert leases: %s", type(exc).__name__)

    async def _deliver_all(self, claimed: Sequence[store.Claimed]) -> None:
        results = await asyncio.gather(*(self._attempt(c) for c in claimed))
        now = self.settings.clock()
        done = [(c.id, c.webhook, now) for c, error in zip(claimed, results, strict=True) if error is None]
        failures = []
        s = self.settings
        for c, error in zip(claimed, results, strict=True):
            if error is None:
                continue
            attempts = c.attempts + 1
            first = c.first_attempt_us if c.first_attempt_us is not None else now
            gave_up = now - first >= s.retry_for_us
            after = now + backoff_us(attempts, s.retry_initial_us, s.retry_max_us)
            failures.append((c.id, c.webhook, after, error, gave_up))
            level = logging.ERROR if gave_up else logging.WARNING
            log.log(
                level,
                "alert delivery failed",
                extra={
                    "alert": c.id,
                    "webhook": redact_url(c.webhook),
                    "attempt": attempts,
                    "error": error,
                    "given_up": gave_up,
                    "retry_in_s": None if gave_up else (after - now) / 1e6,
                },
            )
        self.delivered += len(done)
        self.failed += len(failures)

        def record() -> None:
            with self.db.transaction() as conn:
                store.delivered(conn, done)
                store.failed(conn, failures)

        await run_in_threadpool(record)
        for ident, webhook, _ in done:
            log.info("alert delivered", extra={"alert": ident, "webhook": redact_url(webhook)})

    async def _attempt(self, claimed: store.Claimed) -> str | None:
        """Post one alert; None when the webhook answered 2xx, else why not."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "sla-serve",
            "X-SLA-Alert-Id": claimed.id,
        }
        secret = self.settings.webhook_secret
        if secret:
            headers[SIGNATURE_HEADER] = signature(claimed.body, secret)
        try:
            async with self._slots:
                answer = await self.client.post(claimed.webhook, content=claimed.body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}"
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}"
