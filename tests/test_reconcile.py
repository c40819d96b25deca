"""``reconcile``: the vendor's own SLA verdicts against this engine's cycles.

Hand-written histories are judged by the engine; hand-made vendor cycles
plant exactly known disagreements, and exactly those must be reported, each
with its cause. The command line runs end to end on small Zendesk pages in
tests/fixtures/reconcile/ once the importer driver and the Zendesk source
exist."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

import sla
from sla.engine.events import TicketEvents, events_from_dicts
from sla.importers.base import VendorCycle
from sla.importers.reconcile import UNKNOWN, MetricCounts, Reconciliation, reconcile
from sla.importers.zendesk_metrics import ZendeskCycle
from sla.timefmt import parse_instant

NOW = "2026-03-03T00:00:00Z"
POLICIES = sla.load_policies(
    "policies:\n  - name: all\n    targets: {first_response: 1h, next_response: 1h, resolution: 8h}\n"
)


def at(clock: str, day: str = "2026-03-02") -> str:
    return f"{day}T{clock}:00Z"


def us(clock: str, day: str = "2026-03-02") -> int:
    return parse_instant(at(clock, day))


def created(clock: str, customer: bool = True, **extra: object) -> dict[str, object]:
    """A creation; with ``customer`` the customer's opening message comes with it."""
    event: dict[str, object] = {"at": at(clock), "type": "created", "fields": {}, **extra}
    return event | ({"_opening": True} if customer else {})


def msg(clock: str, author: str = "agent") -> dict[str, object]:
    return {"at": at(clock), "type": "message", "author": author}


def status(clock: str, value: str) -> dict[str, object]:
    return {"at": at(clock), "type": "status", "status": value}


class History:
    """Tickets judged by the engine, and their events for the causes."""

    def __init__(self) -> None:
        self.rows: list[sla.CycleResult] = []
        self.events: dict[str, TicketEvents] = {}

    def ticket(self, tid: str, *events: dict[str, object]) -> None:
        records: list[dict[str, object]] = []
        for event in events:
            opening = event.pop("_opening", False)
            records.append({"ticket_id": tid, **event})
            if opening:
                records.append({"ticket_id": tid, "at": event["at"], "type": "message", "author": "customer"})
        self.rows += sla.evaluate_ticket(POLICIES, records, NOW)
        self.events[tid] = events_from_dicts(records, tid)

    def reconcile(self, vendor: list[VendorCycle], name: str) -> Reconciliation:
        return reconcile(vendor, self.rows, parse_instant(NOW), events=self.events, vendor_name=name)


def ended(
    tid: str,
    metric: str,
    cycle: int,
    start: str,
    end: str,
    elapsed: float,
    *,
    breached: bool = False,
    target: float = 3600,
) -> VendorCycle:
    """A vendor cycle that ended (the Jira request SLA's completed cycle)."""
    return VendorCycle(tid, metric, metric, cycle, breached, True, elapsed, us(start), us(end), target)


def planted(result: Reconciliation) -> list[tuple[str, str, int, tuple[str, ...]]]:
    return [(d.ticket, d.metric, d.cycle, d.what) for d in result.differences]


def test_jira_exactly_the_planted_disagreements_are_found() -> None:
    h = History()
    h.ticket("J1", created("08:00"), msg("08:30"), status("10:00", "solved"))  # agrees exactly
    h.ticket("J2", created("08:00"), msg("08:30"), status("10:00", "solved"))  # agrees within 60 s
    h.ticket("J3", created("08:00"), msg("09:30"), status("10:00", "solved"))  # breach the vendor missed
    h.ticket("J4", created("08:00"), msg("08:30"), status("12:00", "solved"))  # elapsed 5 minutes off
    h.ticket(  # a reopen: Jira's two cycles, our one resumed cycle
        "J5",
        created("08:00"),
        msg("08:30"),
        status("10:00", "solved"),
        status("12:00", "open"),
        status("12:50", "solved"),
    )
    fr, res = "first_response", "resolution"
    vendor = [
        ended("J1", fr, 1, "08:00", "08:30", 1800),
        ended("J1", res, 1, "08:00", "10:00", 7200, target=28800),
        ended("J2", fr, 1, "08:00", "08:30", 1840),
        ended("J2", res, 1, "08:00", "10:00", 7255, target=28800),
        ended("J3", fr, 1, "08:00", "09:30", 5400, breached=False),
        ended("J3", res, 1, "08:00", "10:00", 7200, target=28800),
        ended("J4", fr, 1, "08:00", "08:30", 1800),
        ended("J4", res, 1, "08:00", "12:05", 14700, target=28800),
        ended("J5", fr, 1, "08:00", "08:30", 1800),
        ended("J5", res, 1, "08:00", "10:00", 7200, target=28800),
        ended("J5", res, 2, "12:00", "12:50", 3000, target=28800),
    ]
    result = h.reconcile(vendor, "Jira")
    assert planted(result) == [
        ("J3", fr, 1, ("breached",)),
        ("J4", res, 1, ("elapsed",)),
        ("J5", res, 1, ("elapsed",)),
        ("J5", res, 2, ("only vendor",)),
    ]
    assert result.metrics == {
        fr: MetricCounts(compared=5, agreeing=4, differing=1),
        res: MetricCounts(compared=6, agreeing=3, differing=3, only_vendor=1),
    }
    j3, j4, j5a, j5b = result.differences
    assert (j3.cause, j4.cause) == (UNKNOWN, UNKNOWN)
    assert j3.ours is not None and j3.vendor is not None
    assert (j3.ours.breached, j3.ours.elapsed_seconds, j3.vendor.breached) == (True, 5400, False)
    assert j4.ours is not None and j4.vendor is not None
    assert (j4.ours.elapsed_seconds, j4.vendor.elapsed_seconds) == (14400, 14700)
    reopen = (
        "a reopen at 2026-03-02T12:00:00Z: Jira starts a new cycle where this contract resumes one "
        "(Jira: 2 cycle(s), 2h50m in all; ours: 1 cycle(s), 2h50m)"
    )
    assert j5a.cause == j5b.cause == reopen
    assert j5b.ours is None and not result.agrees


def test_zendesk_first_reply_from_creation_and_breach_instants() -> None:
    h = History()
    # Z1: an agent opens the ticket; the customer writes at 09:00, the reply comes at 10:30.
    # Zendesk counts the first reply from creation; this contract ends first_response at the
    # agent's opening message and times the customer's wait as next_response.
    h.ticket("Z1", created("08:00", customer=False), msg("08:00"), msg("09:00", "customer"), msg("10:30"))
    h.ticket("Z2", created("08:00"), msg("08:20"), msg("09:00", "customer"), msg("09:30"))  # agrees
    h.ticket("Z3", {"at": at("23:30"), "type": "created", "fields": {}, "_opening": True})  # open, in time
    fr, nr = "first_response", "next_response"

    def zd(
        tid: str, metric: str, cycle: int, start: str, end: str, breach: str | None, elapsed: float
    ) -> ZendeskCycle:
        """A fulfilled reply_time instance with its breach event not deleted at ``breach``
        (None: Zendesk deleted it, the reply came in time)."""
        return ZendeskCycle(
            tid,
            metric,
            "reply_time",
            cycle,
            None,
            True,
            elapsed,
            us(start),
            us(end),
            3600,
            breach_at=None if breach is None else us(breach),
        )

    vendor = [
        zd("Z1", fr, 1, "08:00", "10:30", "09:00", 9000),
        zd("Z2", fr, 1, "08:00", "08:20", None, 1200),
        zd("Z2", nr, 1, "09:00", "09:30", None, 1800),
        # the breach instant lies after now: not breached yet
        ZendeskCycle(
            "Z3", fr, "reply_time", 1, None, False, None, us("23:30"), None, 3600, us("00:30", "2026-03-03")
        ),
    ]
    result = h.reconcile(vendor, "Zendesk")
    assert planted(result) == [("Z1", fr, 1, ("breached", "elapsed")), ("Z1", nr, 1, ("only ours",))]
    first, nxt = result.differences
    assert first.cause == (
        "the first reply counted from another start: the ticket opens with a public agent message at "
        "2026-03-02T08:00:00Z, which ends this contract's first_response; Zendesk counts its first reply "
        "from creation (2026-03-02T08:00:00Z) to the first reply after the customer wrote (the customer "
        "first wrote at 2026-03-02T09:00:00Z), a wait this contract times as next_response"
    )
    assert nxt.cause.endswith("Zendesk's later replies are next_response cycles shifted by one")
    assert first.vendor is not None and first.vendor.breached and first.vendor.state == "breached"
    assert first.ours is not None and (first.ours.state, first.ours.elapsed_seconds) == ("achieved", 0)
    assert result.metrics[fr] == MetricCounts(compared=3, agreeing=2, differing=1)
    assert result.metrics[nr] == MetricCounts(compared=2, agreeing=1, differing=1, only_ours=1)


def test_first_reply_of_a_ticket_created_without_a_customer_message() -> None:
    h = History()
    h.ticket("P1", created("08:00", customer=False), msg("09:00", "customer"), msg("09:20"))
    vendor = [ended("P1", "first_response", 1, "09:00", "09:20", 1200)]
    (diff,) = h.reconcile(vendor, "Zendesk").differences
    assert diff.what == ("breached", "elapsed")
    assert diff.cause == (
        "the first reply counted from another start: the ticket was created without a customer message "
        "(the customer first wrote at 2026-03-02T09:00:00Z); Zendesk's first reply starts at "
        "2026-03-02T09:00:00Z, this contract's first_response at creation (2026-03-02T08:00:00Z)"
    )


def test_role_change_target_and_schedule_causes() -> None:
    h = History()
    h.ticket("R1", created("08:00"), msg("08:10"), msg("08:40"))  # 08:10's author was no agent then
    h.ticket("R2", created("08:00"), msg("09:30"))  # the vendor's target was 2h
    h.ticket("R3", created("08:00"), msg("10:15"))  # the vendor's schedule was closed an hour
    h.ticket("R4", created("08:00"), msg("08:30", "customer"), msg("08:50"))  # 08:30's author an agent then
    fr = "first_response"
    vendor = [
        ended("R1", fr, 1, "08:00", "08:40", 2400),
        ended("R2", fr, 1, "08:00", "09:30", 5400, target=7200),
        ended("R3", fr, 1, "08:00", "10:15", 4500),
        ended("R4", fr, 1, "08:00", "08:30", 1800),
    ]
    r1, r2, r3, r4 = h.reconcile(vendor, "Zendesk").differences
    assert r1.what == ("elapsed",) and r1.cause == (
        "an author whose role changed: this contract's cycle ended at 2026-03-02T08:10:00Z on a public "
        "message its author's current role makes a reply, which Zendesk did not count (the users export "
        "gives today's roles)"
    )
    assert r2.what == ("breached",) and r2.cause == (
        "the targets differ (Zendesk: 2h, ours: 1h): another policy applied, or a policy change the "
        "export cannot show"
    )
    assert r3.what == ("breached", "elapsed") and r3.cause == (
        "the elapsed times differ by 1h: business hours or holidays other than the calendar's "
        "(a schedule change the export cannot show)"
    )
    assert r4.what == ("elapsed",) and r4.cause == (
        "an author whose role changed: Zendesk's cycle ended at 2026-03-02T08:30:00Z on a message whose "
        "author the users export now makes a customer"
    )


def test_scope_unmeasured_and_future_vendor_cycles() -> None:
    """Only tickets and metrics the vendor reports are compared; a vendor cycle
    with no target and no breach that we do not measure is set aside; one
    that starts after now does not exist yet; an end after now has not come."""
    h = History()
    h.ticket("S1", created("08:00"), msg("08:30"), status("10:00", "solved"))
    h.ticket("S2", created("08:00"))  # no vendor records: not compared
    vendor = [
        ended("S1", "first_response", 1, "08:00", "08:30", 1800),
        VendorCycle(
            "S1", "requester_wait", "requester_wait_time", 1, None, True, 7200, us("08:00"), us("10:00")
        ),
        VendorCycle(
            "S1", "next_response", "reply_time", 1, None, False, started_at=us("09:00", "2026-03-04")
        ),
    ]
    result = h.reconcile(vendor, "Zendesk")
    assert result.agrees and result.unmeasured == 1
    assert result.metrics == {"first_response": MetricCounts(compared=1, agreeing=1)}
    late = [
        VendorCycle(
            "S1", "first_response", "", 1, False, True, 1800, us("08:00"), us("08:30", "2026-03-04"), 3600
        )
    ]
    (diff,) = h.reconcile(late, "Zendesk").differences
    assert diff.what == ("ended",) and diff.vendor is not None and diff.vendor.state == "open"


def test_no_vendor_target_no_history_and_a_rejected_ticket() -> None:
    h = History()
    h.ticket("N1", created("08:00"), msg("09:30"))
    h.events["N3"] = events_from_dicts([{"at": at("08:00"), "type": "message", "author": "agent"}], "N3")
    vendor = [
        VendorCycle("N1", "first_response", "reply_time", 1, False, True, 5400, us("08:00"), us("09:30")),
        ended("N2", "first_response", 1, "08:00", "08:30", 1800),  # no audits for N2 in the export
        ended("N3", "first_response", 1, "08:00", "08:30", 1800),  # N3 has no created event
    ]
    n1, n2, n3 = h.reconcile(vendor, "Zendesk").differences
    assert (n1.what, n1.cause) == (
        ("breached",),
        "Zendesk gives no target for this cycle (none of its policies applied)",
    )
    assert (n2.what, n2.cause) == (
        ("only vendor",),
        "the export holds no history of this ticket (no audits or ticket events for it)",
    )
    assert n3.cause == "this contract rejected the ticket's imported events: the ticket has no created event"
    (jira,) = h.reconcile([ended("N2", "first_response", 1, "08:00", "08:30", 1800)], "Jira").differences
    assert jira.cause == "the export holds no history of this ticket (no issue record for it)"


def test_as_dict_has_both_sides_figures() -> None:
    h = History()
    h.ticket("D1", created("08:00"), msg("09:30"))
    result = h.reconcile([ended("D1", "first_response", 1, "08:00", "09:30", 5400)], "Jira")
    doc = result.as_dict()
    assert doc["metrics"] == {
        "first_response": {"compared": 1, "agreeing": 0, "differing": 1, "only_vendor": 0, "only_ours": 0}
    }
    (diff,) = doc["differences"]  # type: ignore[misc]
    assert diff["vendor"] == {
        "state": "achieved",
        "breached": False,
        "ended": True,
        "elapsed_seconds": 5400,
        "target_seconds": 3600,
        "started_at": "2026-03-02T08:00:00Z",
        "ended_at": "2026-03-02T09:30:00Z",
    }
    assert diff["ours"]["state"] == "breached" and diff["ours"]["elapsed_seconds"] == 5400
    assert diff["differs"] == ["breached"] and diff["cause"] == UNKNOWN


FIXTURES = Path(__file__).parent / "fixtures" / "reconcile"
ZENDESK = FIXTURES / "zendesk"
POLICY_FILE = FIXTURES / "policies.yaml"
E2E_NOW = "2024-03-05T00:00:00Z"


def _missing(*modules: str) -> list[str]:
    import importlib.util

    return [m for m in modules if importlib.util.find_spec(m) is None]


needs_importer = pytest.mark.skipif(
    bool(_missing("sla.importers.run", "sla.importers.zendesk", "sla.importers.registry")),
    reason="the importer driver, registry or Zendesk source is not there yet: "
    + ", ".join(_missing("sla.importers.run", "sla.importers.zendesk", "sla.importers.registry")),
)


def cli(capsysbinary: pytest.CaptureFixture[bytes], *argv: str) -> tuple[int, str, str]:
    from sla.cli.app import main

    status = main(["reconcile", *argv])
    out = capsysbinary.readouterr()
    return status, out.out.decode(), out.err.decode()


def zendesk(
    capsysbinary: pytest.CaptureFixture[bytes], *extra: str, paths: tuple[str, ...] = (str(ZENDESK),)
):
    return cli(capsysbinary, "zendesk", *paths, "--policies", str(POLICY_FILE), "--now", E2E_NOW, *extra)


@needs_importer
def test_cli_finds_exactly_the_planted_disagreements(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    """Ticket 101 agrees; 102 had a 2-hour target at Zendesk; an agent opened
    103; user 7002 wrote on 104 as an end-user and is an agent today."""
    status, out, err = zendesk(capsysbinary, "--format", "json")
    assert status == 1 and "4 cycle(s) differ" in err
    doc = json.loads(out)
    assert doc["source"] == "zendesk" and doc["now"] == E2E_NOW
    assert doc["metrics"] == {
        "first_response": {"compared": 4, "agreeing": 1, "differing": 3, "only_vendor": 0, "only_ours": 0},
        "next_response": {"compared": 2, "agreeing": 1, "differing": 1, "only_vendor": 0, "only_ours": 1},
    }
    found = [
        (d["ticket_id"], d["metric"], d["cycle"], d["differs"], d["cause"].split(":")[0])
        for d in doc["differences"]
    ]
    assert found == [
        ("102", "first_response", 1, ["breached"], "the targets differ (Zendesk"),
        ("103", "first_response", 1, ["breached", "elapsed"], "the first reply counted from another start"),
        ("103", "next_response", 1, ["only ours"], "the first reply counted from another start"),
        ("104", "first_response", 1, ["elapsed"], "an author whose role changed"),
    ]
    d102 = doc["differences"][0]
    assert d102["vendor"] == {
        "state": "achieved",
        "breached": False,
        "ended": True,
        "elapsed_seconds": 5400.0,
        "target_seconds": 7200.0,
        "started_at": "2024-03-04T09:00:00Z",
        "ended_at": "2024-03-04T10:30:00Z",
    }
    assert (d102["ours"]["state"], d102["ours"]["elapsed_seconds"], d102["ours"]["target_seconds"]) == (
        "breached",
        5400.0,
        3600.0,
    )


@needs_importer
def test_cli_table_and_csv(capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path) -> None:
    status, out, _ = zendesk(capsysbinary)
    assert status == 1
    assert "first_response         4         1          3            0          0" in out
    assert "ticket 104  first_response cycle 1: differs in elapsed" in out
    assert "  vendor: achieved 40m of 1h (2024-03-04T09:00:00Z - 2024-03-04T09:40:00Z)" in out
    assert "  ours:   achieved 10m of 1h (2024-03-04T09:00:00Z - 2024-03-04T09:10:00Z)" in out
    target = tmp_path / "reconciled.csv"
    status, out, _ = zendesk(capsysbinary, "--output", str(target))
    assert status == 1 and out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [(r["section"], r["metric"], r["differing"]) for r in rows[:2]] == [
        ("metric", "first_response", "3"),
        ("metric", "next_response", "1"),
    ]
    r102 = rows[2]
    assert (r102["ticket_id"], r102["differs"], r102["vendor_breached"], r102["ours_breached"]) == (
        "102",
        "breached",
        "false",
        "true",
    )
    assert (r102["vendor_target_seconds"], r102["ours_target_seconds"]) == ("7200.0", "3600.0")


@needs_importer
def test_cli_exit_0_when_all_agree_and_1_when_a_record_is_skipped(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    """Only ticket 101's metric events: the other tickets are not compared."""
    folder = tmp_path / "export"
    folder.mkdir()
    for name in ("audits-1.json", "users.json"):
        (folder / name).write_bytes((ZENDESK / name).read_bytes())
    page = json.loads((ZENDESK / "ticket_metric_events.json").read_text())
    page["ticket_metric_events"] = [e for e in page["ticket_metric_events"] if e["ticket_id"] == 101]
    (folder / "metric_events.json").write_text(json.dumps(page))
    status, out, err = zendesk(capsysbinary, "--format", "json", paths=(str(folder),))
    assert status == 0, err
    assert json.loads(out)["differences"] == []
    (folder / "zz-broken.json").write_text('{"audits": [{"id": 1}]}')  # an audit without a ticket
    status, out, err = zendesk(capsysbinary, "--format", "json", paths=(str(folder),))
    assert status == 1 and json.loads(out)["differences"] == []
    assert "zz-broken.json:1: audits: " in err and "skipped: 1 audits" in err
    # without the metric events nothing is compared: no "every cycle agrees", exit 1
    (folder / "metric_events.json").unlink()
    (folder / "zz-broken.json").unlink()
    status, out, err = zendesk(capsysbinary, "--format", "table", paths=(str(folder),))
    assert status == 1 and "every cycle agrees" not in out and "nothing compared" in out
    assert "no Zendesk SLA records in the export: nothing was compared" in err
    # a vendor whose verdicts no importer reads: said so, not "save them"
    freshdesk = Path(__file__).parent / "fixtures" / "freshdesk"
    status, out, err = cli(
        capsysbinary, "freshdesk", str(freshdesk), "--policies", str(POLICY_FILE), "--now", E2E_NOW
    )
    assert status == 1 and "nothing compared" in out
    assert "Freshdesk's own SLA verdicts are not read from its exports: nothing was compared" in err


@needs_importer
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("zendsk", str(ZENDESK)), "did you mean 'zendesk'"),
        (("zendesk", str(ZENDESK), "--metric-map", "Time to close=resolution"), "--metric-map"),
        (("jira", str(ZENDESK), "--metric-map", "no equals sign"), "--metric-map"),
        (("jira", str(ZENDESK), "--metric-map", "Time to close=closing"), "'closing' is not a metric"),
        (("zendesk", str(FIXTURES / "nowhere")), "nowhere"),
        (("zendesk", str(ZENDESK), "--format", "json", "--output", "x.csv"), "contradicts"),
    ],
)
def test_cli_bad_usage_exits_2(
    capsysbinary: pytest.CaptureFixture[bytes], argv: tuple[str, ...], message: str
) -> None:
    status, out, err = cli(capsysbinary, *argv, "--policies", str(POLICY_FILE), "--now", E2E_NOW)
    assert status == 2 and out == "" and message in err, err


JIRA = FIXTURES / "jira"
needs_jira = pytest.mark.skipif(
    bool(_missing("sla.importers.run", "sla.importers.jira", "sla.importers.registry")),
    reason="the importer driver, registry or Jira source is not there yet",
)


@needs_jira
def test_cli_jira_reopen_is_reported_with_its_cause(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    """SD-1 is resolved at 11:00, reopened at 13:00 and resolved at 13:50:
    Jira has two resolution cycles (2h and 50m), this contract one of 2h50m."""
    argv = ("jira", str(JIRA), "--policies", str(FIXTURES / "jira-policies.yaml"), "--now", E2E_NOW)
    status, out, err = cli(capsysbinary, *argv, "--format", "json")
    assert status == 1 and "2 cycle(s) differ" in err
    doc = json.loads(out)
    assert doc["metrics"]["first_response"] == {
        "compared": 1,
        "agreeing": 1,
        "differing": 0,
        "only_vendor": 0,
        "only_ours": 0,
    }
    cycle1, cycle2 = doc["differences"]
    assert (cycle1["cycle"], cycle1["differs"], cycle2["cycle"], cycle2["differs"]) == (
        1,
        ["elapsed"],
        2,
        ["only vendor"],
    )
    assert (cycle1["vendor"]["elapsed_seconds"], cycle1["ours"]["elapsed_seconds"]) == (7200.0, 10200.0)
    assert (
        cycle1["cause"]
        == cycle2["cause"]
        == (
            "a reopen at 2024-03-04T13:00:00Z: Jira starts a new cycle where this contract resumes one "
            "(Jira: 2 cycle(s), 2h50m in all; ours: 1 cycle(s), 2h50m)"
        )
    )


@needs_jira
def test_cli_jira_metric_map_names_a_renamed_sla(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    folder = tmp_path / "jira"
    folder.mkdir()
    for page in JIRA.iterdir():
        (folder / page.name).write_text(page.read_text().replace("Time to resolution", "Time to close"))
    argv = ("jira", str(folder), "--policies", str(FIXTURES / "jira-policies.yaml"), "--now", E2E_NOW)
    _, out, _ = cli(capsysbinary, *argv, "--format", "json")
    assert "resolution" not in json.loads(out)["metrics"]
    status, out, _ = cli(capsysbinary, *argv, "--format", "json", "--metric-map", "Time to close=resolution")
    assert status == 1 and [d["cycle"] for d in json.loads(out)["differences"]] == [1, 2]
