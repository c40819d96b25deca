"""Incremental evaluation for products that embed the engine.

A :class:`Tracker` follows one ticket: feed it events as they happen, ask for
a snapshot at any ``now`` from its last event on, ask when to wake up next,
and store its state as JSON between requests.  A snapshot always equals the
batch evaluation of the same events (:func:`sla.engine.batch.evaluate_ticket`),
warnings included.

>>> from sla import load_policies
>>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
>>> tracker = Tracker(policies, "T1")
>>> tracker.feed({"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}})
>>> tracker.next_change("2026-03-02T08:10:00Z").isoformat()
'2026-03-02T09:00:00+00:00'
>>> tracker.snapshot("2026-03-02T08:10:00Z")[0].state
'running'
>>> same = Tracker.from_json(policies, tracker.to_json())
>>> same.snapshot("2026-03-02T09:30:00Z")[0].state
'breached'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sla.engine.batch import as_us, new_clock
from sla.engine.clock import ENDED_BY_DONE, ENDED_BY_STOP, TicketClock
from sla.engine.events import CREATED, Event, parse_event, shown, ticket_key
from sla.engine.judge import RUNNING, CycleResult, breach_after, judge_ticket
from sla.errors import EarlyNowError, EventError, StateError, check_argument
from sla.policy.runtime import PolicySet
from sla.timefmt import MAX_US, MIN_US, from_us

STATE_VERSION = 1
_RESTORE_HINT = "store what Tracker.to_json returned and restore it with the policy file it was made with"


def _check_json_fields(fields: Mapping[str, object], ticket_id: str) -> None:
    """The state :meth:`Tracker.to_json` returns holds the fields: they must be
    JSON values (an event is a JSON object), not datetimes, sets or bytes a
    Python caller may hand over. (A number too large for a float, ``1e999``
    in JSON, is read as infinity everywhere, so it passes here as in
    ``sla evaluate``.)"""
    for name, value in fields.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise EventError(
                f"fields.{name} is {shown(value)}, not a JSON value; give text, a number, "
                "true/false, null, or a list or object of them",
                None,
                ticket_id,
            ) from None


class Tracker:
    """One ticket's clocks, updated one event at a time.

    >>> from sla import load_policies
    >>> policies = load_policies("policies:\\n  - name: all\\n    targets: {first_response: 1h}\\n")
    >>> tracker = Tracker(policies, "T1")
    >>> tracker.feed({"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}})
    >>> tracker.feed({"at": "2026-03-02T08:20:00Z", "type": "message", "author": "agent"})
    >>> rows = tracker.snapshot("2026-03-02T09:00:00Z")
    >>> rows[0].metric, rows[0].state, rows[0].elapsed
    ('first_response', 'achieved', datetime.timedelta(seconds=1200))
    >>> tracker.last_event_at.isoformat()
    '2026-03-02T08:20:00+00:00'
    """

    def __init__(self, policies: PolicySet, ticket_id: str):
        check_argument("policies", policies, PolicySet, "a PolicySet from sla.load_policies")
        check_argument("ticket_id", ticket_id, str, "a string")
        self.policies = policies
        self.ticket_id = ticket_id
        self.clock: TicketClock = new_clock(policies)
        self._seq = 0

    @property
    def last_event_at(self) -> datetime | None:
        """The instant of the last event fed (an aware UTC datetime), None
        before the first: :meth:`snapshot` and :meth:`next_change` take any
        ``now`` from there on."""
        last_at = self.clock.last_at
        return None if last_at is None else from_us(last_at)

    def feed(self, event: Mapping[str, object] | Event) -> None:
        """Apply the next event (a JSONL-style dict or an :class:`Event`), in time order.

        Raises :class:`~sla.errors.EventError`, naming the field, for a
        malformed event (or one whose ``ticket_id`` names another ticket), a
        second ``created``, an event before ``created`` or out of time order;
        the tracker is then unchanged.

        >>> from sla import load_policies
        >>> tracker = Tracker(load_policies("policies: [{name: all, targets: {first_response: 1h}}]"), "T1")
        >>> tracker.feed({"at": "2026-03-02T08:00:00", "type": "created", "fields": {}})
        Traceback (most recent call last):
        ...
        sla.errors.EventError: ticket T1: at: '2026-03-02T08:00:00' has no UTC offset; add Z or an offset like +01:00
        """
        if not isinstance(event, Event):
            check_argument("event", event, Mapping, "a dict as in the JSONL format, or an sla Event")
            try:
                parsed = parse_event(event if type(event) is dict else dict(event), self._seq)
            except EventError as exc:
                raise EventError(exc.reason, None, self.ticket_id) from None
            if parsed.fields:
                _check_json_fields(parsed.fields, self.ticket_id)
            if "ticket_id" in event:
                named = ticket_key(event["ticket_id"])
                if named is None:
                    raise EventError(
                        f"ticket_id is {shown(event['ticket_id'])}; expected a string or an integer",
                        None,
                        self.ticket_id,
                    )
                if named != self.ticket_id:
                    raise EventError(
                        f"ticket_id is {named!r}, another ticket; this tracker follows {self.ticket_id!r}",
                        None,
                        self.ticket_id,
                    )
            event = parsed
        clock = self.clock
        if event.kind == CREATED and clock.created_at is not None:
            raise EventError("the ticket already has a created event", None, self.ticket_id)
        if clock.created_at is None and event.kind != CREATED:
            raise EventError(f"{event.type} event before the ticket's created event", None, self.ticket_id)
        if clock.last_at is not None and event.at < clock.last_at:
            raise EventError(
                "events must be fed in time order (this one is earlier than the last)", None, self.ticket_id
            )
        self._seq += 1
        clock.feed(event)

    def snapshot(self, now: datetime | str | int, with_warnings: bool = True) -> list[CycleResult]:
        """Every cycle judged at ``now``: the same list as
        :func:`~sla.evaluate_ticket` over the events fed, warnings included
        (pass ``with_warnings=False`` to both to skip them).

        ``now`` must not be before the last event fed
        (:class:`~sla.errors.EarlyNowError` otherwise, also before the
        ticket's ``created``); a tracker fed nothing gives ``[]``.

        >>> from sla import load_policies
        >>> tracker = Tracker(load_policies("policies: [{name: all, targets: {first_response: 1h}}]"), "T1")
        >>> tracker.snapshot("2026-03-02T08:00:00Z")
        []
        >>> tracker.feed({"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}})
        >>> tracker.snapshot("2026-03-02T08:15:00Z")[0].remaining
        datetime.timedelta(seconds=2700)
        >>> tracker.snapshot("2026-03-02T07:00:00Z")
        Traceback (most recent call last):
        ...
        sla.errors.EarlyNowError: ticket T1: now 2026-03-02T07:00:00Z is before the last event fed ...
        """
        now_us = as_us(now)
        clock = self.clock
        if clock.last_at is not None and now_us < clock.last_at:
            raise EarlyNowError(now_us, clock.last_at, self.ticket_id)
        if clock.created_at is None:
            return []
        return judge_ticket(self.ticket_id, clock, self.policies, now_us, with_warnings)

    def next_change(self, now: datetime | str | int) -> datetime | None:
        """The next instant after ``now`` at which a cycle reaches its target
        (it is breached from the next microsecond) or a warning, with no new
        event; for a cycle that reached its target by ``now`` without going
        over (its hours closed as it ran out), the instant it turns breached.
        None when nothing is pending (schedule one timer per ticket).
        ``now`` as in :meth:`snapshot`.

        >>> from sla import load_policies
        >>> tracker = Tracker(load_policies("policies: [{name: all, targets: {first_response: 1h}}]"), "T1")
        >>> tracker.feed({"at": "2026-03-02T08:00:00Z", "type": "created", "fields": {}})
        >>> tracker.next_change("2026-03-02T08:15:00Z").isoformat()
        '2026-03-02T09:00:00+00:00'
        """
        now_us = as_us(now)
        pending = []
        for result in self.snapshot(now_us, with_warnings=True):
            if result.ended_at is not None or result.state != RUNNING:
                continue
            if result.due_at is not None:
                if result.due_at > now_us:
                    pending.append(result.due_at)
                else:
                    # Reached, not yet over (the hours closed as it ran out, or
                    # now is the due instant): breached once its hours run on.
                    breach = breach_after(self.policies, self.clock, result.metric, result.cycle, now_us)
                    if breach is not None:
                        pending.append(breach)
            pending += [instant for _, instant in result.warnings if instant > now_us]
        return from_us(min(pending)) if pending else None

    def to_json(self) -> dict[str, object]:
        """The tracker's state as JSON-ready data (store it with the ticket).

        ``rules`` fingerprints the clock rules of the policy file (metric
        definitions, ``done_statuses``, ``derive``): :meth:`from_json` refuses
        the state under a policy file whose clock rules differ.  Targets,
        calendars and policy conditions are not part of it; they judge the
        cycles at each snapshot.

        >>> from sla import load_policies
        >>> tracker = Tracker(load_policies("policies: [{name: all, targets: {first_response: 1h}}]"), "T1")
        >>> sorted(tracker.to_json())
        ['clock', 'rules', 'seq', 'ticket_id', 'version']
        """
        return {
            "version": STATE_VERSION,
            "ticket_id": self.ticket_id,
            "seq": self._seq,
            "rules": rules_digest(self.policies),
            "clock": self.clock.to_json(),
        }

    @classmethod
    def from_json(cls, policies: PolicySet, data: Mapping[str, Any]) -> Tracker:
        """Restore a tracker saved by :meth:`to_json` (with the same policy file).

        A state that is not what :meth:`to_json` gives raises
        :class:`~sla.errors.StateError`, which names the place in the state
        and says what it should hold; so does a state made under a policy
        file with other clock rules (replay the ticket's events then).

        >>> from sla import load_policies
        >>> policies = load_policies("policies: [{name: all, targets: {first_response: 1h}}]")
        >>> Tracker.from_json(policies, {"version": 1, "ticket_id": "T1", "seq": 0})
        Traceback (most recent call last):
        ...
        sla.errors.StateError: tracker state of ticket T1: at clock: the key is missing; ...
        """
        check_argument("policies", policies, PolicySet, "a PolicySet from sla.load_policies")
        check_argument("data", data, Mapping, "the dict that Tracker.to_json returned")
        ticket_id, seq, clock_state = _check_state(policies, data)
        tracker = cls(policies, ticket_id)
        tracker.clock = TicketClock.from_json(
            clock_state,
            [policies.metrics[m] for m in policies.active_metrics],
            policies.done_statuses,
            policies.derive,
        )
        tracker._seq = seq
        return tracker


# ---------------------------------------------------------- stored state
_DIGESTS: WeakKeyDictionary[PolicySet, str] = WeakKeyDictionary()
# MetricDef fields that do not change how a clock runs.
_NOT_RULES = frozenset({"description", "builtin", "uses_fields", "pause_when"})


def _canonical(value: object) -> object:
    """``value`` as JSON data whose text does not depend on set order or hashing."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _canonical(getattr(value, f.name)) for f in fields(value) if f.name not in _NOT_RULES}
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    return value


def rules_digest(policies: PolicySet) -> str:
    """A short fingerprint of what a stored clock state depends on: the
    definitions of the metrics the policy file runs, its ``done_statuses``
    and its ``derive`` rules (the same file always gives the same text)."""
    digest = _DIGESTS.get(policies)
    if digest is None:
        rules = {
            "metrics": {name: _canonical(policies.metrics[name]) for name in policies.active_metrics},
            "done_statuses": sorted(policies.done_statuses),
            "derive": [rule.model_dump(mode="json") for rule in policies.spec.derive],
        }
        text = json.dumps(rules, sort_keys=True, default=str, separators=(",", ":"))
        digest = _DIGESTS[policies] = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return digest


def _kind(value: object) -> str:
    return f"{type(value).__name__} {shown(value)}"


class _Checker:
    """Checks a stored state against the shape ``to_json`` gives; each
    problem is a :class:`StateError` with its path."""

    def __init__(self, ticket_id: str | None):
        self.ticket_id = ticket_id

    def fail(self, path: str, reason: str) -> StateError:
        return StateError(reason, path, self.ticket_id)

    def key(self, data: Mapping[str, Any], name: str, path: str) -> Any:
        if name not in data:
            raise self.fail(f"{path}{name}", f"the key is missing; {_RESTORE_HINT}")
        return data[name]

    def mapping(self, value: object, path: str, what: str = "an object") -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected {what}, got {_kind(value)}")
        for k in value:
            if not isinstance(k, str):
                raise self.fail(path, f"keys must be strings, got {_kind(k)}")
        return value

    def array(self, value: object, path: str, what: str) -> list[Any] | tuple[Any, ...]:
        if not isinstance(value, (list, tuple)):
            raise self.fail(path, f"expected {what}, got {_kind(value)}")
        return value

    def integer(self, value: object, path: str, what: str, low: int, high: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(path, f"expected {what}, got {_kind(value)}")
        if not low <= value <= high:
            raise self.fail(path, f"expected {what}, got {value}, out of range")
        return value

    def instant(self, value: object, path: str, optional: bool = False) -> int | None:
        if value is None and optional:
            return None
        what = "epoch microseconds (an integer)" + (" or null" if optional else "")
        return self.integer(value, path, what, MIN_US, MAX_US)

    def text(self, value: object, path: str, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string{' or null' if optional else ''}, got {_kind(value)}")
        return value


def _check_state(policies: PolicySet, data: Mapping[str, Any]) -> tuple[str, int, Mapping[str, Any]]:
    """The ticket id, the event count and the clock state of a stored state,
    once every part has the shape :meth:`Tracker.to_json` gives it."""
    raw_id = data.get("ticket_id")
    check = _Checker(raw_id if isinstance(raw_id, str) else None)
    if "version" not in data:
        raise check.fail("version", f"the key is missing; expected {STATE_VERSION}: {_RESTORE_HINT}")
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version != STATE_VERSION:
        raise check.fail(
            "version",
            f"unknown tracker state version {shown(version)}; expected {STATE_VERSION} "
            "(a state written by Tracker.to_json of this release)",
        )
    ticket_id = check.text(check.key(data, "ticket_id", ""), "ticket_id")
    assert ticket_id is not None
    seq = check.integer(check.key(data, "seq", ""), "seq", "the number of events fed (an integer)", 0, 2**62)
    if "rules" in data:  # states written before the fingerprint existed have none
        rules = check.text(data["rules"], "rules")
        if rules != rules_digest(policies):
            raise check.fail(
                "rules",
                "the state was made under a policy file with other clock rules (metric definitions, "
                "done_statuses or derive rules differ); replay the ticket's events into a new Tracker",
            )
    clock = check.mapping(check.key(data, "clock", ""), "clock")
    check.text(check.key(clock, "status", "clock."), "clock.status", optional=True)
    check.mapping(check.key(clock, "fields", "clock."), "clock.fields")
    history = check.array(
        check.key(clock, "history", "clock."), "clock.history", "a list of [at, attributes]"
    )
    previous = MIN_US
    for i, entry in enumerate(history):
        where = f"clock.history[{i}]"
        pair = check.array(entry, where, "an [at, attributes] pair")
        if len(pair) != 2:
            raise check.fail(where, f"expected an [at, attributes] pair, got {len(pair)} items")
        at = check.instant(pair[0], f"{where}[0]")
        assert at is not None
        if at < previous:
            raise check.fail(f"{where}[0]", "instants must not decrease along the history")
        previous = at
        check.mapping(pair[1], f"{where}[1]", "an object of attributes")
    last_at = check.instant(check.key(clock, "last_at", "clock."), "clock.last_at", optional=True)
    created_at = check.instant(check.key(clock, "created_at", "clock."), "clock.created_at", optional=True)
    if (created_at is None) != (last_at is None) or (created_at is None) != (not history):
        raise check.fail(
            "clock",
            "created_at, last_at and history must all be set (events fed) or all be empty (none fed)",
        )
    if created_at is not None and last_at is not None and created_at > last_at:
        raise check.fail("clock.last_at", "the last event cannot come before created_at")
    metrics = check.mapping(check.key(clock, "metrics", "clock."), "clock.metrics")
    expected = set(policies.active_metrics)
    missing = sorted(expected - set(metrics))
    extra = sorted(set(metrics) - expected)
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"no state for {', '.join(map(repr, missing))}")
        if extra:
            parts.append(f"a state for {', '.join(map(repr, extra))}, which the policy file does not run")
        raise check.fail(
            "clock.metrics",
            f"{' and '.join(parts)}: the state was made with another policy file "
            f"(this one runs {', '.join(policies.active_metrics) or 'no metric'}); "
            "replay the ticket's events into a new Tracker",
        )
    for name in sorted(metrics):
        _check_metric(check, metrics[name], f"clock.metrics.{name}", created_at)
    return ticket_id, seq, clock


def _check_metric(check: _Checker, value: object, path: str, created_at: int | None) -> None:
    state = check.mapping(value, path)
    if not isinstance(check.key(state, "seen_response", f"{path}."), bool):
        raise check.fail(
            f"{path}.seen_response", f"expected true or false, got {_kind(state['seen_response'])}"
        )
    cycles = check.array(check.key(state, "cycles", f"{path}."), f"{path}.cycles", "a list of cycles")
    if cycles and created_at is None:
        raise check.fail(f"{path}.cycles", "cycles without a created event; expected an empty list")
    for i, raw in enumerate(cycles):
        where = f"{path}.cycles[{i}]"
        cycle = check.array(
            raw, where, "a cycle: [number, start, end, ended_by, pauses, pause_from(, start_attributes)]"
        )
        if len(cycle) not in (6, 7):
            raise check.fail(
                where,
                f"expected 6 or 7 items [number, start, end, ended_by, pauses, pause_from(, "
                f"start_attributes)], got {len(cycle)}",
            )
        number = check.integer(cycle[0], f"{where}[0]", f"the cycle number {i + 1}", i + 1, i + 1)
        start = check.instant(cycle[1], f"{where}[1]")
        end = check.instant(cycle[2], f"{where}[2]", optional=True)
        assert start is not None and number == i + 1
        if end is not None and end < start:
            raise check.fail(f"{where}[2]", "the cycle cannot end before it starts")
        if cycle[3] not in (None, ENDED_BY_STOP, ENDED_BY_DONE):
            raise check.fail(
                f"{where}[3]", f"expected null, {ENDED_BY_STOP!r} or {ENDED_BY_DONE!r}, got {_kind(cycle[3])}"
            )
        pauses = check.array(cycle[4], f"{where}[4]", "a list of [from, to] pauses")
        for j, pause in enumerate(pauses):
            pair = check.array(pause, f"{where}[4][{j}]", "a [from, to] pair")
            if len(pair) != 2:
                raise check.fail(f"{where}[4][{j}]", f"expected a [from, to] pair, got {len(pair)} items")
            a = check.instant(pair[0], f"{where}[4][{j}][0]")
            b = check.instant(pair[1], f"{where}[4][{j}][1]")
            assert a is not None and b is not None
            if b < a:
                raise check.fail(f"{where}[4][{j}]", "a pause cannot end before it starts")
        check.instant(cycle[5], f"{where}[5]", optional=True)
        if len(cycle) == 7:
            check.mapping(cycle[6], f"{where}[6]", "an object of attributes")
