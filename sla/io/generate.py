"""Realistic synthetic ticket histories for demos and benchmarks (``sla generate``).

Deterministic for a seed (the same seed gives the same events, byte for
byte).  Tickets arrive over twelve weeks from Monday 2026-01-05, mostly in
their requester's working day.  Each ticket carries what the example
policies match on: ``channel``, ``priority`` (missing on a few), ``type``
(``incident`` on some), ``category`` and ``subject``, ``tier``, ``region``,
``requester`` and ``requester_tz``, ``lifetime_value``, and ``followers`` on
social channels.  Then, in time order:

- the customer's message, with a ``body`` whose tone matches the
  customer's mood and, on about half of the messages, a ``sentiment``;
- on social channels, often a bot's reply within seconds, which alone
  resolves some tickets;
- an ``update`` that sets ``group`` and ``assignee`` minutes (of working
  time) after creation, mostly before the first reply; some tickets move to
  ``billing`` or escalate to ``tier2`` (status ``escalated``);
- agents' replies during their desk's hours (:mod:`sla.io.generate_world`),
  a few after hours, urgent tickets and incidents around the clock; each
  reply and some status changes log ``time_spent``; internal notes;
- rounds of waiting on the customer (``pending``) or a third party
  (``on_hold``), a thank-you, the solve, reopens, CSAT that follows the
  customer's mood; incidents get an agent's update every half hour or so.

The customer's mood starts negative, improves with every reply and worsens
with every long wait, so slow and breached tickets read worse.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import IO

import orjson

from sla.io.generate_text import SUBJECTS, TOPICS, body
from sla.io.generate_world import (
    AGENTS,
    BILLING_CATEGORIES,
    BOT_FIRST,
    CACHED_DAYS,
    CATEGORIES,
    CHANNELS,
    DAY,
    DESK_ZONES,
    FIRST_DAY,
    HOUR,
    MINUTE,
    PRIORITIES,
    PRIORITY_PACE,
    SOCIAL,
    SPAN_DAYS,
    START_S,
    TIER_PACE,
    TYPES,
    Customer,
    Table,
    WorkHours,
    clock_texts,
    desks,
    iso,
    utc_offset,
)

Event = dict[str, object]

_CSAT = (
    Table((("1", 2), ("2", 3), ("3", 6), ("4", 30), ("5", 59))),
    Table((("1", 6), ("2", 8), ("3", 16), ("4", 35), ("5", 35))),
    Table((("1", 25), ("2", 20), ("3", 20), ("4", 20), ("5", 15))),
)


def _wait_penalty(wait: int) -> float:
    """How much a wait of ``wait`` wall-clock seconds sours the customer's mood."""
    if wait < HOUR:
        return 0.0
    if wait < 4 * HOUR:
        return 0.1
    if wait < 12 * HOUR:
        return 0.25
    if wait < 36 * HOUR:
        return 0.45
    return 0.7


class _Simulation:
    """The state shared by the tickets of one run, and the making of one ticket."""

    def __init__(self, tickets: int, seed: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.requesters = max(1, int(tickets * 0.7))
        self.desks = desks()
        self.days, self.clock = clock_texts()
        # Per ticket: its id, events, the customer's mood and how they write.
        self.tid = ""
        self.events: list[Event] = []
        self.mood = 0.0
        self.writes = True
        self.desk: WorkHours | None = None  # None: on call, around the clock
        self.pace = 1.0  # the ticket's delays against a normal one

    # ------------------------------------------------------------ emitting
    def spread(self, median: float, sigma: float) -> int:
        """Whole seconds from a log-normal distribution with this median."""
        return int(median * math.exp(sigma * self.rng.gauss(0.0, 1.0)))

    def work(self, after: int, median: float) -> int:
        """When work of about ``median`` seconds (at a normal pace) started at ``after`` is done."""
        seconds = self.spread(median * self.pace, 1.0)
        desk = self.desk
        if desk is None:
            return after + seconds
        if self.rng.random() < 0.12 and not desk.is_open(after):  # an agent working late or early
            return after + seconds
        return desk.add(after, seconds)

    def at(self, t: int) -> str:
        """``t`` as event text (:func:`iso`, with the tables at hand)."""
        day = t // DAY - FIRST_DAY
        if 0 <= day < CACHED_DAYS:
            return self.days[day] + self.clock[t % DAY]
        return iso(t)

    def emit(self, t: int, kind: str, **data: object) -> None:
        """Append an event of this ticket."""
        self.events.append({"ticket_id": self.tid, "at": self.at(t), "type": kind, **data})

    def customer(self, t: int, topic: tuple[str, ...] | None = None) -> None:
        """A public customer message; most carry a body (about ``topic`` if given), half a sentiment."""
        event: Event = {"ticket_id": self.tid, "at": self.at(t), "type": "message", "author": "customer"}
        rnd = self.rng.random
        if self.writes and rnd() < 0.8:
            score = min(1.0, max(-1.0, self.mood + self.rng.gauss(0.0, 0.12)))
            event["body"] = body(score, rnd(), topic)
            if rnd() < 0.6:
                event["sentiment"] = round(score, 2)
        self.events.append(event)

    def reply(self, t: int, agent: bool, spent: float) -> None:
        """A public reply; an agent's logs the minutes of work behind it."""
        if agent:
            work = min(self.spread(spent, 0.7), 3 * HOUR)
            self.emit(t, "message", author="agent", time_spent=work)
        else:
            self.emit(t, "message", author="bot")

    def status(self, t: int, status: str, spent: float = 0.0) -> None:
        """A status change, logging ``time_spent`` when ``spent`` (a median in seconds) is set."""
        if spent:
            self.emit(t, "status", status=status, time_spent=self.spread(spent, 0.6))
        else:
            self.emit(t, "status", status=status)

    def assign(self, t: int, group: str, region: str) -> None:
        roster = AGENTS[group, "emea" if group == "social" else region]
        agent = roster[int(self.rng.random() * len(roster))]
        self.emit(t, "update", fields={"group": group, "assignee": agent})

    # -------------------------------------------------------------- tickets
    def ticket(self, tid: str) -> list[Event]:
        """One ticket's events, in time order."""
        rng = self.rng
        rnd = rng.random
        self.tid = tid
        self.events = []
        number = int(rnd() * self.requesters)
        who = Customer(self.seed, number)
        channel = CHANNELS.pick(rnd())
        social = channel in SOCIAL
        kind = TYPES.pick(rnd())
        if social and kind == "incident":
            kind = "question"
        category = CATEGORIES.pick(rnd())
        if kind == "incident":
            priority = "urgent" if rnd() < 0.6 else "high"
        elif rnd() < (0.1 if social or channel == "web" else 0.02):
            priority = ""
        else:
            priority = PRIORITIES.pick(rnd())
        fields: Event = {"channel": channel}
        if priority:
            fields["priority"] = priority
        subjects = SUBJECTS[category]
        fields.update(type=kind, category=category, subject=subjects[int(rnd() * len(subjects))])
        if who.tier:
            fields["tier"] = who.tier
        fields["region"] = who.region
        fields["requester"] = f"user{number}"
        if who.zone:
            fields["requester_tz"] = who.zone
        fields["lifetime_value"] = who.lifetime_value
        if social:
            fields["followers"] = who.followers
        t = self.arrival(social, who.zone or DESK_ZONES[who.region])
        self.emit(t, "created", fields=fields)
        self.mood = rng.gauss(-0.3, 0.3) - (0.25 if priority == "urgent" else 0.0)
        self.mood -= 0.15 if category in BILLING_CATEGORIES else 0.0
        self.writes = channel != "phone"
        self.customer(t, TOPICS[category])
        pace = PRIORITY_PACE[priority] * TIER_PACE[who.tier]
        if who.lifetime_value >= 10_000 or (social and who.followers >= 100_000):
            pace *= 0.6
        if kind == "incident":
            self.incident(t, who.region)
        else:
            self.conversation(t, channel, category, priority, who.region, pace)
        return self.events

    def arrival(self, social: bool, zone: str) -> int:
        """When a ticket comes in: weekdays and the requester's working day, social into the evening."""
        rng = self.rng
        rnd = rng.random
        while True:
            day = int(rnd() * SPAN_DAYS)
            if day % 7 < 5 or rnd() < (0.75 if social else 0.3):
                break
        if social:
            hour = rng.gauss(15, 4.5) if rnd() < 0.85 else rnd() * 24
            zone = "Europe/Berlin"
        else:
            hour = rng.gauss(12.5, 3) if rnd() < 0.88 else rnd() * 24
        hour = min(max(hour, 0.0), 23.99)
        t = START_S + day * DAY + int(hour * HOUR) - utc_offset(zone, day)
        return t + DAY if t < START_S else t

    def incident(self, t: int, region: str) -> None:
        """An outage: tier 2 on call at once, updates every half hour or so, solved within hours."""
        rng = self.rng
        resolve = t + self.spread(80 * MINUTE, 0.55)
        t += int(rng.expovariate(1 / 150))
        self.assign(t, "tier2", region)
        t += self.spread(4 * MINUTE, 0.7)
        self.reply(t, True, 600)
        while True:
            step = t + self.spread(35 * MINUTE, 0.35)
            if step >= resolve:
                break
            t = step
            self.reply(t, True, 600)
        t = max(t, resolve)
        self.status(t, "solved", 300)
        self.mood += 0.5
        self.survey(t)

    def conversation(
        self, t: int, channel: str, category: str, priority: str, region: str, pace: float
    ) -> None:
        """A question answered in rounds: assignment, replies, waits, the solve."""
        rng = self.rng
        rnd = rng.random
        social = channel in SOCIAL
        start = t
        if social and rnd() < BOT_FIRST[channel]:
            t += 2 + int(rnd() * 18)
            self.reply(t, False, 0)
            if rnd() < 0.3:  # the bot's answer was enough
                if rnd() < 0.5:
                    t += self.spread(4 * MINUTE, 0.8)
                    self.mood = max(self.mood + 0.6, 0.3)
                    self.customer(t)
                t += self.spread(10 * MINUTE, 0.8)
                self.status(t, "solved")
                self.survey(t)
                return
        if rnd() < 0.04 and priority != "urgent":
            t += int(rng.expovariate(1 / (30 * MINUTE)))
            self.emit(t, "update", fields={"priority": "urgent"})
            priority, pace = "urgent", pace * 0.4
        if rnd() < 0.02 and channel != "email":
            t += 5 * MINUTE
            self.emit(t, "update", fields={"channel": "email"})
        self.desk = None if priority == "urgent" else self.desks["social" if social else region]
        self.pace = pace
        group = "social" if social else ("billing" if category in BILLING_CATEGORIES else "tier1")
        triage = self.work(start, (3 if social else 7) * MINUTE / pace**0.5)
        if rnd() < 0.025:  # never answered
            if rnd() < 0.6:
                self.assign(max(t, triage), group, region)
            return
        on_reply = rnd() < 0.06
        if not on_reply:
            t = max(t, triage)
            self.assign(t, group, region)
            if group == "tier1" and rnd() < 0.04:  # triaged to the wrong team
                t = self.work(t, 20 * MINUTE)
                group = "billing"
                self.assign(t, group, region)
        rounds = 1 + (rnd() < 0.32) + (rnd() < 0.12)
        asked = start
        first = (12 if social else 40) * MINUTE
        later = (25 if social else 50) * MINUTE
        for index in range(rounds):
            answer = self.work(t, first if index == 0 else later)
            if rnd() < 0.12:  # an internal note first
                note = max(t, answer - int(rng.expovariate(1 / 600)))
                self.emit(note, "message", author="agent", public=False, time_spent=self.spread(240, 0.7))
            t = answer
            self.reply(t, True, 420)
            self.mood += 0.35 - _wait_penalty(t - asked)
            if on_reply and index == 0:
                self.assign(t, group, region)
            if index == 0 and group != "social" and rnd() < 0.1:
                t += int(rng.expovariate(1 / (15 * MINUTE)))
                self.assign(t, "tier2", region)
                self.status(t, "escalated", 300)
                t = self.work(t, 90 * MINUTE)
                self.reply(t, True, 900)
                if index == rounds - 1:  # else the next wait's status follows
                    self.status(t, "open")
                self.mood -= 0.1
            if index < rounds - 1:
                if rnd() < 0.1:  # waiting on a carrier, a bank, engineering
                    self.status(t, "on_hold")
                    t += self.spread(5 * HOUR, 1.0)
                    self.status(t, "open")
                else:
                    self.status(t, "pending")
                    t += self.spread(13_360 * (0.4 if priority == "urgent" else 1.0), 1.2)
                    asked = t
                    self.customer(t)
                    self.status(t, "open")
        if rnd() >= 0.06:  # else still open
            self.close(t, asked, later)

    def close(self, t: int, asked: int, later: float) -> None:
        """The end of a conversation: maybe a thank-you, the solve, maybe a reopen, maybe CSAT."""
        rng = self.rng
        rnd = rng.random
        thanked = rnd() < 0.22
        if thanked:
            t += self.spread(20 * MINUTE, 1.0)
            self.mood = max(self.mood + 0.5, 0.2)
            self.customer(t)
        t = self.work(t, 20 * MINUTE)
        if thanked and rnd() < 0.5:  # "glad we could help", and solved
            self.reply(t, True, 120)
        self.status(t, "solved", 180 if rnd() < 0.45 else 0.0)
        if rnd() < 0.06:
            t += int(rng.expovariate(1 / (20 * HOUR)))
            self.mood = min(self.mood, -0.2) - 0.25
            asked = t
            self.customer(t)
            self.status(t, "open")
            t = self.work(t, later)
            self.reply(t, True, 600)
            self.mood += 0.3 - _wait_penalty(t - asked)
            self.status(t, "solved")
        self.survey(t)

    def survey(self, t: int) -> None:
        """A CSAT score on some solved tickets, kinder when the customer's mood is good."""
        rnd = self.rng.random
        if rnd() < 0.3:
            mood = self.mood + 0.25  # solved
            table = _CSAT[0 if mood > 0.3 else 1 if mood > -0.2 else 2]
            when = t + HOUR + int(rnd() * 47 * HOUR)
            self.emit(when, "csat", score=int(table.pick(rnd())))


def generate(tickets: int, seed: int = 1) -> Iterator[dict[str, object]]:
    """Events of ``tickets`` tickets, each ticket's events together, in time order."""
    simulation = _Simulation(tickets, seed)
    width = len(str(tickets))
    for number in range(1, tickets + 1):
        yield from simulation.ticket(f"T{number:0{width}d}")


def write_history(out: IO[bytes], tickets: int, seed: int = 1) -> int:
    """Write ``generate(tickets, seed)`` as JSON Lines to ``out``; the number of events."""
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
