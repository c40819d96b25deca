"""The scheduler: claims alerts whose instant has passed and posts them to
their webhook, with retries and exponential back-off.

Delivery is at least once: an attempt is recorded only after the webhook
answered, so a crash between the answer and the bookkeeping sends the alert
again (same ``id``), never zero times.  A claim is a lease: if the process
dies, its claims expire after the lease and another process (or this one,
restarted) takes them over.  An attempt ends, whatever the webhook does,
within ``delivery_timeout_s`` (at most half the lease), and its outcome is
recorded only while this process still holds the lease.

Each webhook has its own slots (``delivery_concurrency`` posts at once), and
each attempt is a task that records its own outcome when it ends: a slow or
unreachable webhook holds back neither another webhook's alerts nor their
retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import httpx
from starlette.concurrency import run_in_threadpool

from sla.service import ingest, store
from sla.service.alerts import SIGNATURE_HEADER, backoff_us, signature
from sla.service.db import Database
from sla.service.settings import Settings, redact_url

log = logging.getLogger("sla.serve.delivery")

#: The shortest wait between two looks at the database when nothing could be
#: claimed: a row due but out of reach (every slot of its webhook busy) does
#: not make the scheduler query in a loop.
_FLOOR_US = 20_000
#: Tickets planned again per look (the rest at the next one, at once).
_REPLAN_BATCH = 100


class Scheduler:
    """Delivers this process's share of the due alerts until :meth:`stop`."""

    def __init__(self, db: Database, settings: Settings, client: httpx.AsyncClient | None = None):
        self.db = db
        self.settings = settings
        self.owner = f"{uuid.uuid4().hex[:12]}"
        connections = max(100, settings.delivery_concurrency * len(settings.webhooks))
        self.client = client or httpx.AsyncClient(
            timeout=settings.delivery_timeout_s,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=connections),
        )
        self._stopping = False
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        # At most this many posts at once per webhook: a burst of due alerts
        # does not open a hundred connections to one webhook.
        self._busy = dict.fromkeys(settings.webhooks, 0)
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered = 0
        self.failed = 0

    def wake(self) -> None:
        """Look for due alerts now (new ones may be due already).  Safe to
        call from any thread (requests are handled in a thread pool)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            self._wake.set()
            return
        with contextlib.suppress(RuntimeError):  # the loop just closed: nothing waits any more
            loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        """Stop claiming; the attempts under way finish, then every lease
        still held is freed for the next process."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Claim and deliver until stopped."""
        self._loop = asyncio.get_running_loop()
        settings = self.settings
        try:
            while not self._stopping:
                more = False
                try:
                    await run_in_threadpool(self._replan, settings.clock())
                    free = {
                        w: settings.delivery_concurrency - n
                        for w, n in self._busy.items()
                        if n < settings.delivery_concurrency
                    }
                    asked = {w: min(n, settings.claim_batch) for w, n in free.items()}
                    claimed = await run_in_threadpool(self._claim, settings.clock(), asked) if asked else []
                    for c in claimed:
                        self._start(c)
                    got = {w: sum(1 for c in claimed if c.webhook == w) for w in asked}
                    # A full claim with slots still free: there may be more due now.
                    more = any(got[w] == asked[w] and self._free(w) for w in asked)
                    hooks = [w for w in self._busy if self._free(w)]
                    next_due = await run_in_threadpool(self._next_due, hooks) if hooks and not more else None
                except Exception as exc:  # the database went away: try again at the next poll
                    log.error(
                        "alert scheduling failed", extra={"error": f"{type(exc).__name__}: {exc}"[:300]}
                    )
                    next_due = None
                if not more:
                    await self._sleep(next_due)
        finally:
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await run_in_threadpool(self._release)
            await self.client.aclose()

    def _free(self, webhook: str) -> bool:
        return self._busy[webhook] < self.settings.delivery_concurrency

    async def _sleep(self, next_due: int | None) -> None:
        wait_us = self.settings.poll_us
        if next_due is not None:
            wait_us = min(wait_us, max(_FLOOR_US, next_due - self.settings.clock()))
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), wait_us / 1e6)

    def _replan(self, now: int) -> None:
        """Plan again the alerts of tickets whose first event after the
        instant they were planned at has come (an event stamped ahead of the
        clock changes nothing until the clock gets there)."""
        with self.db.transaction() as conn:
            due = store.replan_due(conn, now, _REPLAN_BATCH)
            if due:
                ingest.reevaluate(conn, self.settings.policies, due, now, self.settings.webhooks)

    def _claim(self, now: int, asked: dict[str, int]) -> list[store.Claimed]:
        s = self.settings
        claimed: list[store.Claimed] = []
        with self.db.transaction() as conn:
            for webhook, limit in asked.items():
                claimed += store.claim(conn, self.owner, now, s.lease_us, [webhook], limit)
        return claimed

    def _next_due(self, webhooks: list[str]) -> int | None:
        with self.db.transaction(write=False) as conn:
            return store.next_alert_us(conn, webhooks, self.settings.clock())

    def _release(self) -> None:
        try:
            with self.db.transaction() as conn:
                store.release(conn, self.owner)
        except Exception as exc:  # the database may be gone at shutdown; the leases then expire
            log.warning("could not free the alert leases: %s", type(exc).__name__)

    def _start(self, claimed: store.Claimed) -> None:
        self._busy[claimed.webhook] += 1
        task = asyncio.create_task(self._deliver(claimed))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, claimed: store.Claimed) -> None:
        """One attempt, and its outcome recorded as of when it ended."""
        try:
            error = await self._attempt(claimed)
            await run_in_threadpool(self._record, claimed, error, self.settings.clock())
        except Exception as exc:  # not recorded: the lease ends and the alert is tried again
            log.error(
                "alert delivery not recorded",
                extra={"alert": claimed.id, "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
        finally:
            self._busy[claimed.webhook] -= 1
            self._wake.set()  # a slot is free

    def _record(self, c: store.Claimed, error: str | None, now: int) -> None:
        s = self.settings
        webhook = redact_url(c.webhook)
        if error is None:
            with self.db.transaction() as conn:
                store.delivered(conn, self.owner, [(c.id, c.webhook, now)])
            self.delivered += 1
            log.info("alert delivered", extra={"alert": c.id, "webhook": webhook})
            return
        attempts = c.attempts + 1
        first = c.first_attempt_us if c.first_attempt_us is not None else now
        gave_up = now - first >= s.retry_for_us
        after = now + backoff_us(attempts, s.retry_initial_us, s.retry_max_us)
        with self.db.transaction() as conn:
            store.failed(conn, self.owner, [(c.id, c.webhook, after, error, gave_up)])
        self.failed += 1
        log.log(
            logging.ERROR if gave_up else logging.WARNING,
            "alert delivery failed",
            extra={
                "alert": c.id,
                "webhook": webhook,
                "attempt": attempts,
                "error": error,
                "given_up": gave_up,
                "retry_in_s": None if gave_up else (after - now) / 1e6,
            },
        )

    async def _attempt(self, claimed: store.Claimed) -> str | None:
        """Post one alert; None when the webhook answered 2xx, else why not.
        The whole attempt (connecting, sending, every read of the answer)
        ends within ``delivery_timeout_s``: httpx's timeout bounds each
        phase alone, and a webhook trickling its answer would outlive the
        lease."""
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "sla-serve",
            "X-SLA-Alert-Id": claimed.id,
        }
        secret = self.settings.webhook_secret
        if secret:
            headers[SIGNATURE_HEADER] = signature(claimed.body, secret)
        try:
            async with asyncio.timeout(self.settings.delivery_timeout_s):
                answer = await self.client.post(claimed.webhook, content=claimed.body, headers=headers)
        except Exception as exc:  # any failure of this attempt (a bad URL too) is a failed attempt
            return type(exc).__name__
        if 200 <= answer.status_code < 300:
            return None
        return f"HTTP {answer.status_code}"
