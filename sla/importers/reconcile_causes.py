"""Why the vendor and this engine judge a cycle differently, in words
(``sla reconcile``; :mod:`sla.importers.reconcile` matches the cycles).
Pure: no files, no clock.

Causes named, from both sides' figures and the ticket's imported events
(the rest are ``unknown``); several may apply, joined by ``;``:

* the export holds no history of the ticket, or this contract rejected it;
* a reopen: on ``resolution``, ``requester_wait`` or ``agent_work`` the
  vendor has more cycles than we do (it starts a new cycle where this
  contract resumes one, as Jira does); the events name the reopen's instant;
* the first reply counted from another start: the ticket opens with a public
  agent or bot message (the vendor counts its first reply to the first reply
  after the customer wrote; this contract ends ``first_response`` at that
  opening message and times the customer's wait as ``next_response``), or
  it was created without a customer message and the starts differ;
* an author whose role changed: our response cycle ended on a public
  message by an author the users export now makes an agent, and the
  vendor's went on; or the vendor's ended on a message by an author now a
  customer (the export gives today's roles, not those at the time);
* a different target, or a vendor cycle with no target (another policy, or
  a policy change the export cannot show); failing any other cause,
  ended cycles whose elapsed times are a whole number of hours apart
  (business hours or holidays changed: a schedule change the export cannot
  show).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

from sla.engine.events import CREATED, MESSAGE, STATUS, Event, TicketEvents
from sla.timefmt import US_PER_SECOND, duration_text, format_instant

RESUMING = frozenset({"resolution", "requester_wait", "agent_work"})
RESPONSES = frozenset({"first_response", "next_response"})
UNKNOWN = "unknown"
_HOUR = 3600.0
Key = tuple[str, str, int]  # (ticket, metric, cycle)


@dataclass(frozen=True, slots=True)
class Figures:
    """One side's figures for a cycle; instants in epoch microseconds."""

    state: str
    breached: bool | None
    ended: bool
    elapsed_seconds: float | None
    target_seconds: float | None
    started_at: int | None
    ended_at: int | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: instants as RFC 3339 text."""
        out = asdict(self)
        for key in ("started_at", "ended_at"):
            out[key] = None if out[key] is None else format_instant(out[key])
        return out

    def text(self) -> str:
        """One short line: state, elapsed of target, span."""
        elapsed = "-" if self.elapsed_seconds is None else duration_text(self.elapsed_seconds * US_PER_SECOND)
        target = "-" if self.target_seconds is None else duration_text(self.target_seconds * US_PER_SECOND)
        start = "?" if self.started_at is None else format_instant(self.started_at)
        end = "open" if not self.ended else "?" if self.ended_at is None else format_instant(self.ended_at)
        return f"{self.state} {elapsed} of {target} ({start} - {end})"


def near(a: int | None, b: int | None, tolerance_s: float) -> bool:
    """Whether two instants are both known and within ``tolerance_s`` seconds."""
    return a is not None and b is not None and abs(a - b) <= tolerance_s * US_PER_SECOND


def by_pair(cycles: Mapping[Key, Figures]) -> dict[tuple[str, str], dict[int, Figures]]:
    """Cycles grouped by (ticket, metric), then by cycle number."""
    grouped: dict[tuple[str, str], dict[int, Figures]] = {}
    for (ticket, metric, cycle), figures in cycles.items():
        grouped.setdefault((ticket, metric), {})[cycle] = figures
    return grouped


def _total(cycles: Mapping[int, Figures]) -> str:
    """The elapsed time of cycles in all, in words."""
    found = [f.elapsed_seconds for f in cycles.values()]
    if any(s is None for s in found):
        return "elapsed not given"
    return duration_text(sum(s for s in found if s is not None) * US_PER_SECOND)


#: Per vendor, the records that hold a ticket's history (for the cause of a
#: vendor cycle whose ticket the export does not hold).
_HISTORY_RECORDS = {"Zendesk": "audits or ticket events", "Jira": "issue record"}


@dataclass
class Causes:
    """Names the cause of a difference from the cycles and the events."""

    events: Mapping[str, TicketEvents]
    now: int
    done: frozenset[str]
    vendor: str
    theirs: Mapping[tuple[str, str], dict[int, Figures]]  # by (ticket, metric), then cycle
    mine: Mapping[tuple[str, str], dict[int, Figures]]
    tolerance_s: float

    def explain(self, key: Key, v: Figures | None, o: Figures | None) -> str:
        """Every known cause that fits, in words; ``unknown`` if none."""
        history = self.events.get(key[0]) if self.events else None
        if self.events and history is None:
            where = _HISTORY_RECORDS.get(self.vendor)
            return "the export holds no history of this ticket" + (f" (no {where} for it)" if where else "")
        if history is not None and history.error is not None:
            return f"this contract rejected the ticket's imported events: {history.error.reason}"
        found = [self.reopen(key), self.first_reply(key, v, o) or self.role_change(key, v, o)]
        if v is not None and o is not None:
            found += [self.targets(v, o), None if any(found) else self.schedule(v, o)]
        return "; ".join(c for c in found if c) or UNKNOWN

    def _events(self, ticket: str) -> list[Event]:
        """The ticket's events up to ``now`` (none for a rejected ticket)."""
        found = self.events.get(ticket)
        if found is None or found.error is not None:
            return []
        return [e for e in found.events if e.at <= self.now]

    def reopen(self, key: Key) -> str | None:
        ticket, metric, _ = key
        theirs, mine = self.theirs.get((ticket, metric), {}), self.mine.get((ticket, metric), {})
        if metric not in RESUMING or len(theirs) <= len(mine):
            return None
        reopens, done = [], False
        for e in self._events(ticket):
            if e.kind in (CREATED, STATUS) and e.status is not None:
                if done and e.status not in self.done:
                    reopens.append(e.at)
                done = e.status in self.done
        when = f" at {format_instant(reopens[0])}" if reopens else ""
        return (
            f"a reopen{when}: {self.vendor} starts a new cycle where this contract resumes one "
            f"({self.vendor}: {len(theirs)} cycle(s), {_total(theirs)} in all; "
            f"ours: {len(mine)} cycle(s), {_total(mine)})"
        )

    def first_reply(self, key: Key, v: Figures | None, o: Figures | None) -> str | None:
        ticket, metric, _ = key
        evs = self._events(ticket)
        if metric not in RESPONSES or not evs or evs[0].kind != CREATED:
            return None
        created = format_instant(evs[0].at)
        public = [e for e in evs if e.kind == MESSAGE and e.public]
        customer = next((e for e in public if e.author == "customer"), None)
        wrote = "" if customer is None else f" (the customer first wrote at {format_instant(customer.at)})"
        first = self.theirs.get((ticket, "first_response"), {}).get(1)
        start = (
            "an instant not given"
            if first is None or first.started_at is None
            else format_instant(first.started_at)
        )
        if first is not None and first.started_at == evs[0].at:
            start = f"creation ({created})"
        if public and public[0].author != "customer":  # an agent or bot opened the ticket
            shift = f"; {self.vendor}'s later replies are next_response cycles shifted by one"
            return (
                f"the first reply counted from another start: the ticket opens with a public agent "
                f"message at {format_instant(public[0].at)}, which ends this contract's first_response; "
                f"{self.vendor} counts its first reply from {start} to the first reply after the customer "
                f"wrote{wrote}, a wait this contract times as next_response"
                + (shift if metric == "next_response" else "")
            )
        if metric == "next_response" or (customer is not None and customer.at == evs[0].at):
            return None
        if v is not None and o is not None and near(v.started_at, o.started_at, self.tolerance_s):
            return None
        return (
            f"the first reply counted from another start: the ticket was created without a customer "
            f"message{wrote}; {self.vendor}'s first reply starts at {start}, this contract's "
            f"first_response at creation ({created})"
        )

    def role_change(self, key: Key, v: Figures | None, o: Figures | None) -> str | None:
        ticket, metric, _ = key
        if metric not in RESPONSES:
            return None
        evs = self._events(ticket)
        later = self.tolerance_s * US_PER_SECOND
        if o is not None and o.ended_at is not None and o.state != "cancelled":
            vendor_later = (
                v is None or not v.ended or (v.ended_at is not None and v.ended_at > o.ended_at + later)
            )
            if vendor_later and any(
                e.kind == MESSAGE and e.public and e.author != "customer" and e.at == o.ended_at for e in evs
            ):
                return (
                    f"an author whose role changed: this contract's cycle ended at {format_instant(o.ended_at)} "
                    f"on a public message its author's current role makes a reply, which {self.vendor} "
                    "did not count (the users export gives today's roles)"
                )
        if v is not None and v.ended_at is not None:
            if o is not None and o.ended_at is not None and o.ended_at <= v.ended_at + later:
                return None
            if any(
                e.kind == MESSAGE and e.author == "customer" and near(e.at, v.ended_at, self.tolerance_s)
                for e in evs
            ):
                return (
                    f"an author whose role changed: {self.vendor}'s cycle ended at {format_instant(v.ended_at)} "
                    "on a message whose author the users export now makes a customer"
                )
        return None

    def targets(self, v: Figures, o: Figures) -> str | None:
        if v.target_seconds is None and not v.breached:
            return f"{self.vendor} gives no target for this cycle (none of its policies applied)"
        if v.target_seconds is None or o.target_seconds is None:
            return None
        if abs(v.target_seconds - o.target_seconds) <= self.tolerance_s:
            return None
        return (
            f"the targets differ ({self.vendor}: {duration_text(v.target_seconds * US_PER_SECOND)}, "
            f"ours: {duration_text(o.target_seconds * US_PER_SECOND)}): another policy applied, "
            "or a policy change the export cannot show"
        )

    def schedule(self, v: Figures, o: Figures) -> str | None:
        if v.elapsed_seconds is None or o.elapsed_seconds is None or not (v.ended and o.ended):
            return None
        gap = abs(v.elapsed_seconds - o.elapsed_seconds)
        hours = round(gap / _HOUR)
        if hours >= 1 and abs(gap - hours * _HOUR) <= self.tolerance_s:
            return (
                f"the elapsed times differ by {hours}h: business hours or holidays other than the "
                "calendar's (a schedule change the export cannot show)"
            )
        return None
