"""What one ``sla serve`` process is configured with, and the clock it reads."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sla.policy.runtime import PolicySet

US = 1_000_000


def wall_clock_us() -> int:
    """The server's clock: epoch microseconds (the one place ``now`` is read)."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class Settings:
    """One process's configuration (``sla serve`` options).

    Durations are integer microseconds.  ``clock`` is the server's clock; tests
    may pass another one.
    """

    policies: PolicySet
    db_url: str = "sqlite:///sla-state.db"
    token: str | None = None
    webhooks: tuple[str, ...] = ()
    webhook_secret: str | None = None
    max_body_bytes: int = 16 * 1024 * 1024
    #: Most events (array items or lines) in one body: each costs objects
    #: and maybe a rejection in the answer, so a body of tiny items within
    #: max_body_bytes would otherwise take gigabytes.
    max_events: int = 200_000
    max_depth: int = 32
    poll_us: int = 1 * US
    lease_us: int = 20 * US
    retry_initial_us: int = 5 * US
    retry_max_us: int = 300 * US
    retry_for_us: int = 24 * 3600 * US
    delivery_timeout_s: float = 10.0
    # Each webhook has ``delivery_concurrency`` slots; a row is claimed (at
    # most ``claim_batch`` per look and webhook) only into a free slot, so its
    # post starts at once and ends, whatever the webhook does, within
    # ``delivery_timeout_s`` (at most half the lease): no other process takes
    # a row over while this one is still posting it.
    claim_batch: int = 16
    delivery_concurrency: int = 16
    pool_size: int = 8
    policy_text: str = ""
    clock: Callable[[], int] = field(default=wall_clock_us)


def redact_url(url: str) -> str:
    """A URL safe to log: scheme, host and port only (webhook paths and query
    strings often carry secrets, database URLs carry passwords).

    >>> redact_url("https://hooks.chat.test/T000/B000/XXXX?token=s3cret")
    'https://hooks.chat.test/…'
    >>> redact_url("postgresql://sla:pw@db.internal:5432/sla")
    'postgresql://db.internal:5432/…'
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparsable URL>"
    if parts.scheme == "sqlite":
        return "sqlite:///" + parts.path.lstrip("/").rsplit("/", 1)[-1]
    return f"{parts.scheme}://{host}{port}/…"
