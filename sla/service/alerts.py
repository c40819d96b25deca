"""Alerts: which instants of a ticket's open cycles deserve one, what is
posted, how it is signed, and when a failed delivery is tried again.

The instants are those the engine gives every open cycle, the ones
:meth:`sla.Tracker.next_change` wakes up for: each warning instant of the
policy's ``warnings`` and the cycle's ``due_at``.  Nothing here recomputes a
clock.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from sla import CycleResult
from sla.timefmt import format_instant

WARNING, BREACH = "warning", "breach"
SIGNATURE_HEADER = "X-SLA-Signature"


@dataclass(frozen=True, slots=True)
class PlannedAlert:
    """One alert of one cycle: its stable ``id``, when it fires (``at_us``)
    and the JSON body every webhook receives."""

    id: str
    ticket_id: str
    at_us: int
    body: bytes


def alert_id(ticket_id: str, metric: str, cycle: int, kind: str, label: str) -> str:
    """The alert's ``id``: the same for the same cycle and warning, on every
    retry, after a restart and in every process.

    >>> alert_id("T1", "first_response", 1, "breach", "")
    'a-1755bc2e41658605d29e8df1082a9d49'
    """
    key = orjson.dumps([ticket_id, metric, cycle, kind, label])
    return "a-" + hashlib.sha256(key).hexdigest()[:32]


def plan_alerts(results: Iterable[CycleResult]) -> list[PlannedAlert]:
    """The alerts of the open cycles among ``results`` (a ticket's cycles
    judged with warnings at the server's clock): one per warning instant and
    one at ``due_at``.  Ended cycles have none."""
    planned = []
    for r in results:
        if r.ended_at is not None:
            continue
        due = None if r.due_at is None else format_instant(r.due_at)
        instants = [(WARNING, label, at) for label, at in r.warnings]
        if r.due_at is not None:
            instants.append((BREACH, "", r.due_at))
        for kind, label, at in instants:
            ident = alert_id(r.ticket_id, r.metric, r.cycle, kind, label)
            body = {
                "id": ident,
                "type": kind,
                "ticket_id": r.ticket_id,
                "metric": r.metric,
                "cycle": r.cycle,
                "policy": r.policy,
                "at": format_instant(at),
                "due_at": due,
                "warning": label or None,
            }
            planned.append(PlannedAlert(ident, r.ticket_id, at, orjson.dumps(body)))
    return planned


def signature(body: bytes, secret: str) -> str:
    """The ``X-SLA-Signature`` header's value: ``sha256=`` and the hex
    HMAC-SHA256 of the exact body bytes under the secret.

    >>> signature(b'{"id":"a-1"}', "s3cret")
    'sha256=92eb460bc079e771c0b49788ba147adb9fb3358dfcbdc6bcc23719ebc167e130'
    """
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def backoff_us(attempts: int, initial_us: int, maximum_us: int) -> int:
    """How long to wait after the ``attempts``-th failed delivery: ``initial``
    doubled each time, at most ``maximum``.

    >>> [backoff_us(n, 5, 300) for n in range(1, 9)]
    [5, 10, 20, 40, 80, 160, 300, 300]
    """
    return min(maximum_us, initial_us << min(attempts - 1, 40))
