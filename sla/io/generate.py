"""Realistic synthetic ticket histories for demos and benchmarks (``sla generate``).

Deterministic for a seed: channel mix, business-hours-shaped arrival times,
reply delays, pending stretches, reopens, priority changes, channel
redirects, internal notes and CSAT.  About 6.4 events per ticket.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import IO

import orjson

CHANNELS = (
    ("email", 40),
    ("chat", 20),
    ("web", 14),
    ("phone", 6),
    ("twitter", 9),
    ("facebook", 6),
    ("instagram", 3),
    ("whatsapp", 2),
)
PRIORITIES = (("low", 20), ("normal", 50), ("high", 20), ("urgent", 10))
TIERS = (("free", 50), ("business", 35), ("enterprise", 15))
REGIONS = (("emea", 45), ("amer", 35), ("apac", 20))
CATEGORIES = (("order", 30), ("shipping", 25), ("billing", 20), ("technical", 20), ("other", 5))
START = datetime(2026, 1, 5, tzinfo=UTC)
SPAN_DAYS = 84


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    names = [name for name, _ in table]
    weights = [weight for _, weight in table]
    return rng.choices(names, weights)[0]


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _arrival(rng: random.Random) -> datetime:
    # More tickets on weekdays and in working hours, some at night.
    while True:
        day = rng.randrange(SPAN_DAYS)
        moment = START + timedelta(days=day)
        weekend = moment.weekday() >= 5
        if weekend and rng.random() < 0.6:
            continue
        hour = rng.gauss(13, 4) if rng.random() < 0.85 else rng.uniform(0, 24)
        hour = min(max(hour, 0), 23.99)
        return moment + timedelta(seconds=int(hour * 3600) + rng.randrange(60))


def ticket_events(rng: random.Random, ticket_id: str, requesters: int) -> Iterator[dict[str, object]]:
    channel = _pick(rng, CHANNELS)
    social = channel in ("twitter", "facebook", "instagram", "whatsapp")
    t = _arrival(rng)
    fields = {
        "channel": channel,
        "priority": _pick(rng, PRIORITIES),
        "tier": _pick(rng, TIERS),
        "region": _pick(rng, REGIONS),
        "category": _pick(rng, CATEGORIES),
        "requester": f"user{rng.randrange(requesters)}",
    }
    yield {"ticket_id": ticket_id, "at": _iso(t), "type": "created", "fields": fields}
    yield {"ticket_id": ticket_id, "at": _iso(t), "type": "message", "author": "customer"}
    if social and rng.random() < 0.3:
        yield {
            "ticket_id": ticket_id,
            "at": _iso(t + timedelta(seconds=5)),
            "type": "message",
            "author": "bot",
        }
    if rng.random() < 0.05:
        t += timedelta(minutes=rng.expovariate(1 / 30))
        yield {"ticket_id": ticket_id, "at": _iso(t), "type": "update", "fields": {"priority": "urgent"}}
    if rng.random() < 0.02:
        t += timedelta(minutes=5)
        yield {"ticket_id": ticket_id, "at": _iso(t), "type": "update", "fields": {"channel": "email"}}
    if rng.random() < 0.06:  # never answered yet
        return
    rounds = 1 + (rng.random() < 0.35) + (rng.random() < 0.15)
    for index in range(rounds):
        delay = rng.lognormvariate(7.5 if social else 8.6, 1.1)  # seconds; median ~30 min / ~1.5 h
        t += timedelta(seconds=delay)
        if rng.random() < 0.15:
            yield {
                "ticket_id": ticket_id,
                "at": _iso(t),
                "type": "message",
                "author": "agent",
                "public": False,
            }
            t += timedelta(minutes=rng.expovariate(1 / 20))
        yield {"ticket_id": ticket_id, "at": _iso(t), "type": "message", "author": "agent"}
        if index < rounds - 1:
            yield {"ticket_id": ticket_id, "at": _iso(t), "type": "status", "status": "pending"}
            t += timedelta(seconds=rng.lognormvariate(9.5, 1.2))
            yield {"ticket_id": ticket_id, "at": _iso(t), "type": "message", "author": "customer"}
            yield {"ticket_id": ticket_id, "at": _iso(t), "type": "status", "status": "open"}
    if rng.random() < 0.1:  # still open
        return
    t += timedelta(minutes=rng.expovariate(1 / 45))
    yield {"ticket_id": ticket_id, "at": _iso(t), "type": "status", "status": "solved"}
    if rng.random() < 0.08:
        t += timedelta(hours=rng.expovariate(1 / 20))
        yield {"ticket_id": ticket_id, "at": _iso(t), "type": "message", "author": "customer"}
        yield {"ticket_id": ticket_id, "at": _iso(t), "type": "status", "status": "open"}
        t += timedelta(seconds=rng.lognormvariate(8.6, 1.0))
        yield {"ticket_id": ticket_id, "at": _iso(t), "type": "message", "author": "agent"}
        yield {"ticket_id": ticket_id, "at": _iso(t), "type": "status", "status": "solved"}
    if rng.random() < 0.3:
        t += timedelta(hours=rng.uniform(1, 48))
        score = rng.choices((1, 2, 3, 4, 5), (6, 6, 10, 28, 50))[0]
        yield {"ticket_id": ticket_id, "at": _iso(t), "type": "csat", "score": score}


def generate(tickets: int, seed: int = 1) -> Iterator[dict[str, object]]:
    """Events of ``tickets`` tickets, each ticket's events together, in time order."""
    rng = random.Random(seed)
    requesters = max(1, int(tickets * 0.7))
    width = len(str(tickets))
    for number in range(1, tickets + 1):
        yield from ticket_events(rng, f"T{number:0{width}d}", requesters)


def write_history(out: IO[bytes], tickets: int, seed: int = 1) -> int:
    count = 0
    dumps = orjson.dumps
    buffer = []
    for event in generate(tickets, seed):
        buffer.append(dumps(event))
        count += 1
        if len(buffer) >= 10_000:
            out.write(b"\n".join(buffer) + b"\n")
            buffer.clear()
    if buffer:
        out.write(b"\n".join(buffer) + b"\n")
    return count
