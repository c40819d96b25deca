"""``sla calendar NAME QUESTION ...``: ask one calendar of a policy file what
ops ask when they set targets and when a customer disputes a due time.

Questions: ``add T DURATION`` (the due time of a target started at T),
``elapsed A B`` (business and calendar time between two instants), ``open? T``
(and the next opening or closing), ``holidays YEAR`` and ``hours FROM..TO``.
Times without an offset are read in the calendar's zone, by the rule the
calendar reads its own hours with; answers show the zone's time and UTC.
The answers come from :mod:`sla.calendar.questions` and the calendar's index.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sla.calendar.index import Calendar
from sla.calendar.questions import (
    HORIZON_YEARS,
    days_hours,
    holidays_in,
    local_iso,
    local_text,
    next_closing_us,
    next_opening_us,
    read_instant,
)
from sla.calendar.zones import known_zones
from sla.cli.common import EXIT_OK, UsageError, policies_option
from sla.errors import DurationError, TimestampError
from sla.policy.duration import parse_duration_us
from sla.policy.model import ZoneChoice
from sla.policy.runtime import PolicySet
from sla.policy.wording import suggest
from sla.timefmt import duration_text, format_instant, format_seconds, from_us, to_us

FORMS = {
    "add": ("add T DURATION", "add 2026-12-23T17:00 4h"),
    "elapsed": ("elapsed A B", "elapsed 2026-12-18T17:00 2026-12-28T10:00"),
    "open?": ("open? T", "open 2026-12-24T10:00"),
    "holidays": ("holidays YEAR", "holidays 2026"),
    "hours": ("hours FROM..TO", "hours 2026-12-21..2026-12-31"),
}
_ALIASES = {"open": "open?", "is-open": "open?"}
#: ``hours`` lists at most this many dates at a time.
MAX_DAYS = 3660
_FIRST_DAY, _LAST_DAY = date(1, 1, 2), date(9999, 12, 30)


class _Intermixed(argparse.ArgumentParser):
    """A parser that takes options between the positional words, so that
    ``sla calendar NAME --policies FILE add T 4h`` parses as written."""

    _inside = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._inside:  # parse_known_intermixed_args calls back here
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sla calendar`` to the command line (its parser takes options anywhere)."""
    previous = sub._parser_class
    sub._parser_class = _Intermixed
    try:
        p = sub.add_parser(
            "calendar",
            help="ask a calendar: due times, business time, open or not, holidays, hours",
            description="Ask one calendar of a policy file a question. Times without an offset "
            "(2026-12-23T17:00) are the calendar's local time; a date is its 00:00.",
            epilog="questions:\n"
            + "\n".join(
                f"  {form:<18} e.g. sla calendar NAME --policies FILE {ex}" for form, ex in FORMS.values()
            ),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    finally:
        sub._parser_class = previous
    p.add_argument("name", nargs="?", metavar="NAME", help="a calendar of the policy file")
    p.add_argument("question", nargs="?", metavar="QUESTION", help="add, elapsed, open?, holidays or hours")
    p.add_argument("values", nargs="*", metavar="ARG", help="the question's arguments")
    p.add_argument("--policies", required=True, metavar="FILE", help="policy file (YAML, JSON or TOML)")
    p.add_argument(
        "--format", choices=("text", "json"), default="text", help="text (default) or one JSON object"
    )
    p.add_argument(
        "--zone",
        metavar="ZONE",
        help="read a calendar whose zone comes from a ticket attribute in this IANA zone (default: its default)",
    )
    p.set_defaults(func=run)


@dataclass
class _Asked:
    """The calendar being asked, and what the answer says in text and JSON."""

    cal: Calendar
    question: str
    lines: list[tuple[str, str]] = field(default_factory=list)  # label: value
    rows: list[str] = field(default_factory=list)  # a listing after them
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def point(self, us: int) -> dict[str, str]:
        """An instant as JSON: UTC and the calendar's local time."""
        return {"utc": format_instant(us), "local": local_iso(us, self.cal.zone)}

    def instant(self, label: str, us: int, after: str = "") -> None:
        """A line and a JSON field for an instant: in the zone, then UTC."""
        self.lines.append((label, f"{local_text(us, self.cal.zone)}  {format_instant(us)}{after}"))
        self.data[label] = self.point(us)

    def read_time(self, text: str, what: str) -> int:
        """An instant argument (:func:`read_instant`, or ``now``), noting a
        local time that the clocks skip or repeat."""
        zone = self.cal.zone
        if text == "now":
            return to_us(datetime.now(UTC))
        try:
            reading = read_instant(text, zone)
        except TimestampError as exc:
            raise UsageError(f"{self.question}: {what}: {exc}") from None
        shown = local_text(reading.us, zone)
        if reading.kind == "gap":
            self.notes.append(
                f"{text} does not exist in {zone.key} (the clocks skip it); read as {shown}, "
                "moved forward by the gap, as the calendar reads its own hours"
            )
        elif reading.kind == "fold":
            self.notes.append(
                f"{text} happens twice in {zone.key}; read as the first, {shown}; give an offset for the second"
            )
        return reading.us


def _span(us: int, business: bool) -> str:
    return duration_text(us, business=business, exact=True)


def _ask_add(asked: _Asked, values: list[str]) -> None:
    start = asked.read_time(values[0], "T")
    try:
        duration = parse_duration_us(values[1])
    except DurationError as exc:
        raise UsageError(f"add: DURATION: {exc}") from None
    due = asked.cal.add_us(start, duration)
    asked.instant("start", start)
    asked.lines.append(("add", f"{_span(duration, True)} of business time"))
    asked.instant("due", due)
    asked.lines.append(("", f"{_span(due - start, False)} of calendar time after the start"))
    asked.data |= {
        "business_seconds": format_seconds(duration),
        "calendar_seconds": format_seconds(due - start),
    }


def _ask_elapsed(asked: _Asked, values: list[str]) -> None:
    a, b = asked.read_time(values[0], "A"), asked.read_time(values[1], "B")
    asked.instant("from", a)
    asked.instant("to", b)
    business = asked.cal.elapsed_us(a, b)
    asked.lines += [("business time", _span(business, True)), ("calendar time", _span(b - a, False))]
    asked.data |= {"business_seconds": format_seconds(business), "calendar_seconds": format_seconds(b - a)}


def _ask_open(asked: _Asked, values: list[str]) -> None:
    cal, at = asked.cal, asked.read_time(values[0], "T")
    asked.instant("at", at)
    is_open = cal.is_open_us(at)
    local_day = from_us(at).astimezone(cal.zone).date()
    (today,) = days_hours(cal, local_day, local_day)
    holiday = today.holiday if today.source == "holiday" else None
    why = f" (holiday: {holiday})" if holiday is not None and not is_open else ""
    asked.lines.append(("state", ("open" if is_open else "closed") + why))
    asked.data |= {"open": is_open, "holiday": holiday, "opens": None, "closes": None}
    finders = {"opens": next_opening_us, "closes": next_closing_us}
    moment: int | None = at
    for label in ("closes", "opens") if is_open else ("opens", "closes"):  # the next change, the one after
        find = finders[label]
        found = None if moment is None else find(cal, moment)
        if found is not None:
            asked.instant(label, found, f"  (in {_span(found - at, False)})")
        elif moment is not None:
            asked.lines.append(
                (label, "never (always open)" if cal.always_open else f"not within {HORIZON_YEARS} years")
            )
        moment = found


def _ask_holidays(asked: _Asked, values: list[str]) -> None:
    if not (values[0].isascii() and values[0].isdigit() and 1 <= int(values[0]) <= 9999):
        raise UsageError(f"holidays: {values[0]!r} is not a year; expected one like 2026")
    year = int(values[0])
    found = holidays_in(asked.cal, year)
    asked.data |= {"year": year, "holidays": []}
    for day, name in found.items():
        override = None
        if day in asked.cal.overrides and _FIRST_DAY <= day <= _LAST_DAY:
            (hours,) = days_hours(asked.cal, day, day)
            override = hours.clocks(asked.cal.zone)
        opened = f" (an override opens it: {', '.join(override)})" if override else ""
        closed = " (an override keeps it closed)" if override == [] else ""
        asked.rows.append(f"{day} {day:%a}  {name}{opened}{closed}")
        asked.data["holidays"].append({"date": day.isoformat(), "name": name, "override": override})
    asked.rows.append(f"{len(found)} holiday(s) in {year}")


def _dates(text: str) -> tuple[date, date]:
    try:
        if ".." in text:
            first, last = (date.fromisoformat(part.strip()) for part in text.split("..", 1))
        elif len(text) == 7:  # a month
            first = date.fromisoformat(text + "-01")
            last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        else:
            first = last = date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"hours: {text!r} is not a date range; expected FROM..TO like 2026-12-21..2026-12-31, "
            "one date like 2026-12-24 or a month like 2026-12"
        ) from None
    if last < first:
        raise UsageError(f"hours: {text!r} ends before it starts; expected FROM..TO with FROM first")
    if first < _FIRST_DAY or last > _LAST_DAY:
        raise UsageError(f"hours: {text!r} is outside the supported dates, {_FIRST_DAY} to {_LAST_DAY}")
    if (last - first).days >= MAX_DAYS:
        raise UsageError(f"hours: {text!r} spans more than {MAX_DAYS} days; ask for a shorter range")
    return first, last


def _ask_hours(asked: _Asked, values: list[str]) -> None:
    first, last = _dates(values[0])
    asked.data |= {"from": first.isoformat(), "to": last.isoformat(), "days": []}
    total = 0
    for day in days_hours(asked.cal, first, last):
        total += day.open_us
        notes = [f"holiday: {day.holiday}"] if day.source == "holiday" else []
        if day.source == "override":
            notes.append("override" + (f" of the holiday {day.holiday}" if day.holiday else ""))
        if day.offset_change:
            notes.append(f"clocks change, the day lasts {duration_text(day.end - day.start)}")
        shown = f"{duration_text(day.open_us) if day.intervals else '-':<7}"
        shown += ", ".join(day.clocks(asked.cal.zone)) or "closed"
        asked.rows.append(f"{day.day} {day.day:%a}  {shown}" + (f" ({'; '.join(notes)})" if notes else ""))
        asked.data["days"].append(
            {
                "date": day.day.isoformat(),
                "open": [{"start": asked.point(a), "end": asked.point(b)} for a, b in day.intervals],
                "open_seconds": format_seconds(day.open_us),
                "source": day.source,
                "holiday": day.holiday,
            }
        )
    asked.rows.append(f"{duration_text(total)} open in {(last - first).days + 1} day(s)")
    asked.data["open_seconds"] = format_seconds(total)


ANSWERS: dict[str, Callable[[_Asked, list[str]], None]] = {
    "add": _ask_add,
    "elapsed": _ask_elapsed,
    "open?": _ask_open,
    "holidays": _ask_holidays,
    "hours": _ask_hours,
}


def _calendar(policies: PolicySet, args: argparse.Namespace) -> tuple[Calendar, str]:
    """The calendar NAME names (in ``--zone`` when given), and how to name it."""
    known = sorted(policies.calendars)
    listing = f"the calendars of {args.policies}: {', '.join(known)}"
    if args.name is None:
        raise UsageError(f"give a calendar NAME and a question; {listing}")
    if args.name not in policies.calendars:
        raise UsageError(f"unknown calendar {args.name!r}{suggest(args.name, known)} ({listing})")
    cal = policies.calendars[args.name]
    spec = policies.spec.calendars.get(args.name)
    choice = spec.timezone if spec is not None and isinstance(spec.timezone, ZoneChoice) else None
    if args.zone is None:
        about = f", its default zone (tickets' {choice.by} picks theirs; --zone another)" if choice else ""
        return cal, f"{args.name}, {cal.zone.key}{about}"
    if choice is None:
        raise UsageError(
            f"--zone: calendar {args.name!r} has a fixed zone, {cal.zone.key}; --zone is for a calendar whose "
            "zone comes from a ticket attribute (timezone: {by: ..., default: ...})"
        )
    if args.zone not in known_zones():
        close = difflib.get_close_matches(args.zone, sorted(known_zones()), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else "; expected an IANA name like Europe/Berlin"
        raise UsageError(f"--zone: unknown time zone {args.zone!r}{hint}")
    return cal.in_zone(args.zone), f"{args.name}, {args.zone} (from --zone; default {choice.default})"


def run(args: argparse.Namespace) -> int:
    """Answer one question about one calendar; a usage error (exit 2) says the right form."""
    policies = policies_option(args.policies)
    cal, label = _calendar(policies, args)
    asked_for = args.question
    question = _ALIASES.get(asked_for, asked_for)
    if question not in FORMS:
        what = (
            f"unknown question {asked_for!r}{suggest(asked_for, [*FORMS, *_ALIASES])}"
            if asked_for
            else "no question"
        )
        raise UsageError(f"{what} (the questions: {', '.join(FORMS)})")
    form, example = FORMS[question]
    needed = len(form.split()) - 1
    if len(args.values) != needed:
        raise UsageError(
            f"{question} takes {needed} argument(s), {form.split(' ', 1)[1]}; "
            f"like: sla calendar {args.name} --policies {args.policies} {example}"
        )
    asked = _Asked(cal, question)
    ANSWERS[question](asked, list(args.values))
    if args.format == "json":
        document = {
            "calendar": args.name,
            "timezone": cal.zone.key,
            "question": question,
            "arguments": list(args.values),
            **asked.data,
            "notes": asked.notes,
        }
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
        return EXIT_OK
    rows = [("calendar", label), *asked.lines]
    width = max(len(key) for key, _ in rows) + 2
    out = [f"note: {note}" for note in asked.notes]
    out += [(f"{key}:" if key else "").ljust(width) + value for key, value in rows]
    out += asked.rows
    sys.stdout.write("\n".join(line.rstrip() for line in out) + "\n")
    return EXIT_OK
