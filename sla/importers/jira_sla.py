"""Jira Service Management's own SLA records (``GET
/rest/servicedeskapi/request/{issueIdOrKey}/sla``) as :class:`VendorCycle`
items for ``sla reconcile``, and the map from JSM SLA names to this
contract's metrics (``--metric-map``).

JSM counts cycles differently from this contract: a reopened request
starts a new JSM cycle, where this contract resumes the one cycle of
``resolution`` (section 14). The cycles are given as JSM numbers them; the
reconciler reports that difference with its cause.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sla.errors import SlaError
from sla.importers.base import RecordError, VendorCycle
from sla.importers.jira_shapes import as_map, get_list, get_map, get_text, instant

#: JSM's default SLA names and the metrics they measure (section 14).
DEFAULT_METRIC_MAP: dict[str, str] = {
    "Time to first response": "first_response",
    "Time to resolution": "resolution",
}


class MetricMapError(SlaError, ValueError):
    """A ``--metric-map`` entry that is not ``SLA name=metric``."""


def sla_name_key(name: str) -> str:
    """SLA names compare without case and with runs of spaces as one
    (JSM's own example writes "Time To First Response").

    >>> sla_name_key("  Time To  First response ")
    'time to first response'
    """
    return " ".join(name.split()).casefold()


def parse_metric_map(entries: Iterable[str]) -> dict[str, str]:
    """``--metric-map`` entries (``"Time to close=resolution"``, several
    entries in one string separated by ``;``) as a mapping.

    An empty metric (``"Time to resolution="``) drops a default mapping.

    >>> parse_metric_map(["Time to first response=first_response; Time to done = resolution"])
    {'Time to first response': 'first_response', 'Time to done': 'resolution'}
    >>> parse_metric_map(["Time to resolution="])
    {'Time to resolution': ''}
    """
    found: dict[str, str] = {}
    for entry in entries:
        for part in entry.split(";"):
            if not part.strip():
                continue
            name, sep, metric = part.rpartition("=")
            if not sep or not name.strip():
                raise MetricMapError(
                    f"--metric-map: expected 'SLA name=metric' (or 'SLA name=' to drop one), got {part.strip()!r}"
                )
            found[name.strip()] = metric.strip()
    return found


def build_metric_map(extra: Mapping[str, str] | None) -> dict[str, tuple[str, str]]:
    """The defaults with ``extra`` on top, keyed by :func:`sla_name_key`:
    ``key -> (SLA name, metric)``. An empty metric drops a name."""
    merged: dict[str, tuple[str, str]] = {}
    for name, metric in {**DEFAULT_METRIC_MAP, **(extra or {})}.items():
        if metric:
            merged[sla_name_key(name)] = (name, metric)
        else:
            merged.pop(sla_name_key(name), None)
    return merged


def _millis(record: dict[str, object], key: str) -> float | None:
    """Seconds of a ``DurationDTO`` (``{"millis": ...}``), or None."""
    millis = get_map(record, key).get("millis")
    if isinstance(millis, (int, float)) and not isinstance(millis, bool):
        return millis / 1000
    return None


def _at(record: dict[str, object], key: str, what: str) -> int | None:
    """Epoch microseconds of a ``DateDTO`` field, or None when absent."""
    value = record.get(key)
    return None if value is None else instant(value, f"{what} {key}")


def vendor_cycles(ticket: str, record: dict[str, object], metric: str) -> list[VendorCycle]:
    """One :class:`VendorCycle` per completed cycle (in start order) and one
    for the ongoing cycle, numbered from 1 as JSM counts them; the ongoing
    cycle's ``breach_at`` is its ``breachTime`` (unless paused), so that
    ``sla reconcile --now`` judges it at that ``now``, not at the export's."""
    name = get_text(record, "name") or ""
    what = f"SLA {name!r}"
    rows: list[tuple[int | None, dict[str, object], bool]] = []
    for value in get_list(record, "completedCycles"):
        cycle = as_map(value)
        if cycle is None:
            raise RecordError(f"{what}: a completed cycle is not an object")
        rows.append((_at(cycle, "startTime", what), cycle, True))
    rows.sort(key=lambda row: (row[0] is None, row[0] or 0))
    ongoing = as_map(record.get("ongoingCycle"))
    if ongoing is not None:
        rows.append((_at(ongoing, "startTime", what), ongoing, False))
    out = []
    for number, (started, cycle, ended) in enumerate(rows, start=1):
        breached = cycle.get("breached")
        # An open cycle's breachTime is when it breaches if nothing stops
        # it (JSM's projection); a paused cycle's clock stands, so its
        # projection says nothing.
        breach_at = None if ended or cycle.get("paused") is True else _at(cycle, "breachTime", what)
        out.append(
            VendorCycle(
                ticket=ticket,
                metric=metric,
                vendor_metric=name,
                cycle=number,
                breached=breached if isinstance(breached, bool) else None,
                ended=ended,
                elapsed_seconds=_millis(cycle, "elapsedTime"),
                started_at=started,
                ended_at=_at(cycle, "stopTime", what) if ended else None,
                target_seconds=_millis(cycle, "goalDuration"),
                breach_at=breach_at,
            )
        )
    return out
