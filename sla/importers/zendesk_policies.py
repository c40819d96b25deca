"""Zendesk SLA policies and business-hours schedules as a policy file
(``sla import zendesk --policies-output``, section 14).

Reads saved pages of ``GET /api/v2/slas/policies`` (``{"sla_policies":
[...]}``, or one ``{"sla_policy": {...}}``), ``GET
/api/v2/business_hours/schedules`` (``{"schedules": [...]}`` or
``{"schedule": {...}}``) and ``GET .../schedules/{id}/holidays``
(``{"holidays": [...]}``), recognised by those keys (Zendesk's SLA Policies
and Schedules references), and writes the policy file:

- every Zendesk policy, in ``position`` order (Zendesk applies the first
  that matches, as this contract does), becomes a policy; its ``filter``
  becomes ``match`` (:mod:`sla.importers.zendesk_filter`). A condition with
  no counterpart is left out, named in a comment above the policy and in
  the returned warnings, never silently;
- its ``policy_metrics`` become targets per priority
  (:mod:`sla.importers.zendesk_targets`): no ``default`` (like Zendesk, a
  ticket without a priority gets no target), ``business_hours`` true or
  false as business or calendar hours, metric names as ``sla reconcile``
  pairs them (``first_reply_time`` -> ``first_response``,
  ``total_resolution_time`` -> ``resolution``, ...);
- every schedule becomes a calendar (:mod:`sla.importers.zendesk_schedules`),
  its zone mapped from the Rails name; one that cannot be mapped is refused
  (:class:`ConversionError`) naming the schedule.

Which calendar: Zendesk measures business hours on each ticket's schedule
(the account's default, or one a trigger sets), which neither the policies
nor the tickets' attributes carry. Every policy here gets one schedule:
``schedule`` (an id or a name) when given, else the first schedule read;
the file says so in its header comment. Without schedules, the built-in
``24x7`` calendar (business hours then count every hour).

The result is checked by loading it (:func:`sla.load_policies`), so what is
written always validates. A driver that reads the import's files anyway
feeds each document to :meth:`ZendeskConfig.add` and calls
:meth:`ZendeskConfig.convert`; :func:`write_policies` reads the files itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

from sla.errors import PolicyError
from sla.importers.base import id_text
from sla.importers.files import STDIN, opened, read_documents, walk
from sla.importers.yaml_out import block, comment, comment_lines, quoted, scalar
from sla.importers.zendesk_filter import translate_filter
from sla.importers.zendesk_schedules import (
    Calendar,
    ConversionError,
    HolidayPage,
    build_calendars,
    schedule_id,
)
from sla.importers.zendesk_targets import policy_targets
from sla.io.policy_files import load_policies

#: Keys of the pages and records :meth:`ZendeskConfig.add` takes, as they appear in the files.
_MARKERS = tuple(
    f'"{key}"'.encode()
    for key in (
        *("sla_policies", "sla_policy", "group_sla_policies", "group_sla_policy", "policy_metrics"),
        *("schedules", "schedule", "intervals", "holidays", "start_date"),
    )
)
_SCHEMA = "# yaml-language-server: $schema=https://sla.dev/schema/policy/v2.json"


@dataclass(frozen=True, slots=True)
class ConvertedPolicies:
    """The policy file's text, and one line per part of the Zendesk
    configuration it could not carry over (for standard error)."""

    text: str
    untranslated: list[str]


_GROUP_SLAS_PASSED_OVER = (
    "{}: Zendesk group SLA policies are not converted (they apply beside the ticket's SLA policy, "
    "where a policy file has one policy in force per ticket)"
)


def _is_group_sla(record: Mapping[str, object]) -> bool:
    """A group SLA policy's record (its own resource, beside the ticket's SLA
    policy): a text id such as a ULID, or only group_ownership_time metrics."""
    given = record.get("id")
    if isinstance(given, str) and not given.strip().isdigit():
        return True
    metrics = record.get("policy_metrics")
    names = (
        {m.get("metric") for m in metrics if isinstance(m, Mapping)} if isinstance(metrics, list) else set()
    )
    return names == {"group_ownership_time"}


@dataclass
class ZendeskConfig:
    """Zendesk SLA policies, schedules and holiday pages gathered from
    documents (:meth:`add`), for :meth:`convert`. A driver reading the
    import's files anyway can hand each document here as it goes."""

    policies: list[Mapping[str, object]] = field(default_factory=list)
    schedules: list[Mapping[str, object]] = field(default_factory=list)
    holidays: list[HolidayPage] = field(default_factory=list)
    #: What was read but is not converted (for the warnings).
    passed_over: list[str] = field(default_factory=list)

    def add(self, doc: object, source: str = "", hint: str | None = None) -> bool:
        """Take a document if it is one of these pages (or such a record,
        one line of JSON Lines); ``hint`` is text that may hold a holidays
        page's schedule id (its file's path: ``schedules/360001/holidays.json``,
        the last number that is a schedule's id wins). True if taken."""
        if not isinstance(doc, Mapping):
            return False
        if isinstance(doc.get("sla_policies"), list) or isinstance(doc.get("sla_policy"), Mapping):
            found = doc.get("sla_policies") or [doc.get("sla_policy")]
            self.policies += [p for p in found if isinstance(p, Mapping)]
        elif isinstance(doc.get("schedules"), list) or isinstance(doc.get("schedule"), Mapping):
            found = doc.get("schedules") or [doc.get("schedule")]
            self.schedules += [s for s in found if isinstance(s, Mapping)]
        elif isinstance(doc.get("holidays"), list):
            self.holidays.append(HolidayPage(doc, None, source or "holidays page", hint))
        elif "policy_metrics" in doc and "filter" in doc:
            if _is_group_sla(doc):
                self.passed_over.append(_GROUP_SLAS_PASSED_OVER.format(source or "a record"))
            else:
                self.policies.append(doc)
        elif "intervals" in doc and "time_zone" in doc:
            self.schedules.append(doc)
        elif "start_date" in doc and "end_date" in doc:  # one holiday, a line of JSON Lines
            # A warehouse's row names its schedule (schedule_id); the API's holiday does not.
            owner = id_text(doc.get("schedule_id"))
            self.holidays.append(HolidayPage({"holidays": [doc]}, owner, source or "holiday", hint))
        elif isinstance(doc.get("group_sla_policies"), list) or isinstance(
            doc.get("group_sla_policy"), Mapping
        ):
            self.passed_over.append(_GROUP_SLAS_PASSED_OVER.format(source or "a page"))
        else:
            return False
        return True

    def convert(self, schedule: str | None = None) -> ConvertedPolicies:
        """The policy file (see the module notes); :class:`ConversionError`
        when there is nothing to convert or a schedule cannot be."""
        schedules = _first_of_each(self.schedules, schedule_id)
        ids = [schedule_id(s) for s in schedules]
        pages = [
            p if p.schedule else HolidayPage(p.doc, _id_in(p.hint, ids), p.source) for p in self.holidays
        ]
        calendars = build_calendars(schedules, pages)
        chosen = _choose(calendars, schedule)
        records = _first_of_each(self.policies, lambda p: str(p.get("id")))
        if not records:
            raise ConversionError("no Zendesk SLA policies found (pages of /api/v2/slas/policies)")
        records.sort(key=_position)
        lines = [_SCHEMA, *_header(calendars, chosen)]
        if calendars:
            lines += ["", "calendars:"]
            for calendar in calendars:
                lines += calendar.lines()
        lines += ["", "policies:"]
        warnings = list(dict.fromkeys(self.passed_over))
        names: set[str] = set()
        for record in records:
            lines += _policy(record, chosen.name if chosen else "24x7", names, warnings)
        text = "\n".join(lines) + "\n"
        try:
            load_policies(text)
        except PolicyError as exc:  # pragma: no cover - a bug here, not in the input
            raise ConversionError(f"the converted policy file does not validate:\n{exc}") from None
        return ConvertedPolicies(text, warnings)


def convert(
    policies_docs: Iterable[object],
    schedules_docs: Iterable[object] = (),
    holidays_docs: Iterable[object | HolidayPage] = (),
    schedule: str | None = None,
) -> ConvertedPolicies:
    """Parsed saved pages (policies, schedules, holidays) as a policy file.

    A holidays page is a :class:`HolidayPage` naming its schedule, or a bare
    page (its ``schedule_id``, else the only schedule). ``schedule`` (an id
    or a name) picks the calendar every policy uses (default: the first).
    """
    config = ZendeskConfig()
    for doc in [*policies_docs, *schedules_docs]:
        config.add(doc)
    config.holidays += [d if isinstance(d, HolidayPage) else HolidayPage(d) for d in holidays_docs]
    return config.convert(schedule)


def write_policies(paths: Sequence[str], out: IO[bytes], schedule: str | None = None) -> list[str]:
    """Read the saved pages among ``paths`` (files or folders, plain or gzip
    JSON; other documents are passed over), write the policy file to ``out``
    as UTF-8, and return the warnings for standard error (untranslated
    conditions and targets). :class:`ConversionError` (an
    :class:`~sla.errors.SlaError`) when nothing can be written."""
    config = ZendeskConfig()
    for file in walk(paths):
        if file == STDIN:
            config.passed_over.append("standard input is left to the events (save the pages to files)")
        elif _mentions_config(file):
            for item in read_documents(file):
                config.add(getattr(item, "value", None), str(item.position.file), file)
    converted = config.convert(schedule)
    out.write(converted.text.encode("utf-8"))
    return converted.untranslated


def _mentions_config(path: str) -> bool:
    """Whether a file names any key of these pages: a scan, much faster than
    parsing, passes over the exports of tickets (often gigabytes)."""
    with opened(path) as handle:
        tail = b""
        while chunk := handle.read(1 << 20):
            window = tail + chunk
            if any(marker in window for marker in _MARKERS):
                return True
            tail = window[-32:]
    return False


def _first_of_each(
    records: list[Mapping[str, object]], key: Callable[[Mapping[str, object]], str]
) -> list[Mapping[str, object]]:
    """The records in order, each id once (the first read: a list page and a
    single-record page of the same one)."""
    found: dict[str, Mapping[str, object]] = {}
    for record in records:
        found.setdefault(key(record), record)
    return list(found.values())


def _id_in(text: str | None, known: Iterable[str]) -> str | None:
    """The last number in ``text`` that is a known schedule id."""
    if text is None:
        return None
    ids = set(known)
    return next((n for n in reversed(re.findall(r"\d+", text)) if n in ids), None)


def _position(record: Mapping[str, object]) -> float:
    """Where Zendesk matches a policy (``position``); policies without one last."""
    position = record.get("position")
    return float(position) if type(position) is int else float("inf")


def _choose(calendars: list[Calendar], wanted: str | None) -> Calendar | None:
    if wanted is None:
        return calendars[0] if calendars else None
    for calendar in calendars:
        if wanted in (calendar.schedule_id, calendar.title, calendar.name):
            return calendar
    known = ", ".join(f"{c.schedule_id} ({c.title})" for c in calendars) or "none"
    raise ConversionError(f"no Zendesk schedule {wanted!r} among those read: {known}")


def _header(calendars: list[Calendar], chosen: Calendar | None) -> list[str]:
    paragraphs = [
        "Converted from Zendesk SLA policies and business-hours schedules (sla import zendesk "
        "--policies-output). The policies keep Zendesk's order: the first that matches a ticket wins."
    ]
    if chosen is None:
        paragraphs.append("No Zendesk schedule was read: every policy uses the built-in 24x7 calendar.")
    else:
        how = "the first schedule read" if chosen is calendars[0] else "the one asked for"
        paragraphs.append(
            "Zendesk measures business hours on each ticket's schedule (the account's default, or one "
            f"a trigger sets). Here every policy uses schedule {chosen.schedule_id} ({chosen.title}), "
            f"calendar {chosen.name}: {how}. To choose one per ticket, write calendar: {{by: <attribute>, "
            "map: {<value>: <calendar>}, default: <calendar>}."
        )
    paragraphs.append("Conditions that could not be translated are named in 'not translated' comments.")
    lines = ["#"]
    for paragraph in paragraphs:
        lines += [*comment_lines(paragraph, 0, hang=0), "#"]
    return lines


def _policy(record: Mapping[str, object], calendar: str, names: set[str], warnings: list[str]) -> list[str]:
    """One policy's lines; what it leaves out goes to ``warnings``."""
    pid, title = str(record.get("id")), str(record.get("title") or "")
    label = f"Zendesk SLA policy {pid} {title!r}"
    name = title or f"zendesk-{pid}"
    name = name if name not in names else f"{name} ({pid})"
    names.add(name)
    match, dropped = translate_filter(record.get("filter"))
    targets, hours, skipped = policy_targets(record.get("policy_metrics"))
    lines = ["", f"  # Zendesk SLA policy {pid}: {comment(title)} (position {record.get('position')})"]
    for text in dropped + skipped:
        lines += comment_lines(f"not translated: {text}", 2)
        warnings.append(f"{label}: not translated: {text}")
    lines.append(f"  - name: {quoted(name)}")
    if isinstance(record.get("description"), str) and record["description"]:
        lines.append(f"    description: {quoted(str(record['description']))}")
    if match:
        lines += block("match", match, 4)
    lines.append(f"    calendar: {scalar(calendar)}")
    if hours == "calendar":
        lines.append("    hours: calendar")
    if targets:
        lines.append("    targets:")
    for metric, per in targets.items():
        lines += block(metric, per, 6)
    return lines


__all__ = [
    "ConversionError",
    "ConvertedPolicies",
    "HolidayPage",
    "ZendeskConfig",
    "convert",
    "write_policies",
]
