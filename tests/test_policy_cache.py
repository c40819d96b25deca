"""The policy cache (sla.io.policy_cache): a command whose policy file has not
changed loads the compiled set without parsing, validating or compiling it,
and gives the same output; anything the compiled form depends on changing
is a miss."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sla
from sla.calendar.index import ALWAYS_OPEN, Calendar
from sla.cli.app import main
from sla.errors import PolicyError
from sla.io import policy_cache, policy_files
from sla.timefmt import to_us

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT.parent / "shared" / "spec"
EXAMPLES = sorted(p for folder in ("examples", "examples-2") for p in (SPEC / folder).glob("*/policy.yaml"))
POLICIES = sorted((ROOT / "policies").glob("*.yaml"))
SCALE_POLICY = ROOT / "benchmarks" / "scale-policy.yaml"
ICS_FIXTURE = Path(__file__).parent / "fixtures" / "team-holidays.ics"
NOW = "2026-04-01T00:00:00Z"


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("SLA_CACHE_DIR", str(folder))
    monkeypatch.delenv("SLA_NO_CACHE", raising=False)
    return folder


@pytest.fixture()
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The policy files compiled (not loaded from the cache), in order."""
    seen: list[str] = []
    real = policy_files.compile_located

    def spy(located):  # type: ignore[no-untyped-def]
        seen.append(str(located.source))
        return real(located)

    monkeypatch.setattr(policy_files, "compile_located", spy)
    return seen


def simple_policy(folder: Path, name: str = "policy.yaml") -> Path:
    policy = folder / name
    policy.write_text("policies: [{name: all, targets: {first_response: 1h}}]\n")
    return policy


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "policies").glob("*.pickle")) if (cache / "policies").exists() else []


def evaluate(capsysbinary: pytest.CaptureFixture[bytes], policy: Path, events: Path, now: str) -> bytes:
    status = main(["evaluate", "--policies", str(policy), "--events", str(events), "--now", now])
    out = capsysbinary.readouterr().out
    assert status in (0, 1), out
    return out


def history(tmp_path: Path, tickets: int = 200, seed: int = 7) -> Path:
    path = tmp_path / f"history-{seed}.jsonl"
    assert main(["generate", "--tickets", str(tickets), "--seed", str(seed), "--output", str(path)]) == 0
    return path


# ------------------------------------------------------------ same output
@pytest.mark.parametrize("policy", [*POLICIES, SCALE_POLICY], ids=lambda p: p.stem)
def test_every_bundled_policy_gives_the_same_rows_and_report_from_the_cache(
    policy: Path,
    cache: Path,
    compiles: list[str],
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = history(tmp_path)
    report = ["report", "--policies", str(policy), "--events", str(events), "--now", NOW, "--format", "json"]
    monkeypatch.setenv("SLA_NO_CACHE", "1")
    plain = evaluate(capsysbinary, policy, events, NOW)
    assert main(report) in (0, 1)
    plain_report = capsysbinary.readouterr().out
    assert not entries(cache)
    monkeypatch.delenv("SLA_NO_CACHE")
    for _ in range(3):  # compiled and stored, stored again with the years learned, loaded
        assert evaluate(capsysbinary, policy, events, NOW) == plain
        assert main(report) in (0, 1)
        assert capsysbinary.readouterr().out == plain_report
    assert compiles == [str(policy)] * 3  # evaluate and report without the cache, once to fill it


SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_gives_the_same_rows_from_the_cache(
    scenario: Path,
    cache: Path,
    compiles: list[str],
    tmp_path: Path,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    """The scenarios hold what the bundled files lack: pause_when, derive
    rules on every kind of value, custom metrics, zones per ticket; and
    copies of the spec's worked examples."""
    import yaml

    doc = yaml.safe_load(scenario.read_text())
    policy = tmp_path / "policy.yaml"
    policy.write_text(doc["policy"])
    events = tmp_path / "events.jsonl"
    events.write_text(doc.get("events_jsonl") or "".join(json.dumps(e) + "\n" for e in doc["events"]))
    first = evaluate(capsysbinary, policy, events, doc["now"])
    again = evaluate(capsysbinary, policy, events, doc["now"])
    assert compiles == [str(policy)] and again == first
    # And they are the expected rows (the spec's worked examples among them,
    # as spec-*.yaml); a number equals a number of another type.
    rows = [json.loads(line) for line in again.decode().splitlines()]
    expected = doc.get("expected") or []
    assert len(rows) == len(expected)
    for want, got in zip(expected, rows, strict=True):
        assert {k: got.get(k) for k in want} == want


def test_a_loaded_set_keeps_its_document_and_answers_as_the_compiled_one(cache: Path) -> None:
    for policy in [*POLICIES, *EXAMPLES]:
        compiled = policy_cache.load_cached(policy)
        loaded = policy_cache.load_cached(policy)
        assert loaded is not compiled
        assert loaded.spec == compiled.spec
        assert [p.spec for p in loaded.policies] == [p.spec for p in compiled.policies]
        assert loaded.active_metrics == compiled.active_metrics
        assert loaded.resolution_keys == compiled.resolution_keys
        assert [r.describe() for r in loaded.derive_rules] == [r.describe() for r in compiled.derive_rules]
        for attributes in (
            {},
            {"priority": "urgent", "tier": "enterprise", "region": "emea", "channel": "email"},
            {"priority": "low", "channel": "twitter", "lifetime_value": 50_000, "requester_tz": "Asia/Tokyo"},
        ):
            derived_a = compiled.derive(attributes) if compiled.derive else attributes
            derived_b = loaded.derive(attributes) if loaded.derive else attributes
            assert derived_a == derived_b
            a, b = compiled.policy_for(derived_a), loaded.policy_for(derived_b)
            assert (a and a.name) == (b and b.name)
            for metric in compiled.metrics:
                ta = a and a.target(metric, derived_a.get("priority"), derived_a)
                tb = b and b.target(metric, derived_b.get("priority"), derived_b)
                assert (ta and (ta.us, ta.hours, ta.calendar.name)) == (
                    tb and (tb.us, tb.hours, tb.calendar.name)
                )


# ------------------------------------------------------------ start-up
LOADED = """
import sys
from sla.cli.app import main
status = main([sys.argv[4], "--policies", sys.argv[1], "--events", sys.argv[2], "--now", "{now}",
               "--output", sys.argv[3], *sys.argv[5:]])
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & {{{modules}}})
print(status, " ".join(loaded) or "-")
"""


def loaded_by_runs(
    cache: Path, tmp_path: Path, command: list[str], modules: tuple[str, ...], runs: int
) -> list[list[str]]:
    """Run ``sla <command>`` ``runs`` times, each in a process of its own
    with the same cache, on the same history; each run's exit status and
    which of ``modules`` it imported.  Every run writes the same output."""
    events = history(tmp_path, tickets=50)
    env = {**os.environ, "SLA_CACHE_DIR": str(cache)}
    code = LOADED.format(now=NOW, modules=", ".join(repr(m) for m in modules))
    outputs = []
    for run in range(runs):
        out = tmp_path / f"out-{run}"
        done = subprocess.run(
            [sys.executable, "-c", code, str(SCALE_POLICY), str(events), str(out), *command],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(done.stdout.split())
        assert out.read_bytes() == (tmp_path / "out-0").read_bytes()
    return outputs


def test_a_loaded_policy_needs_neither_pydantic_nor_yaml_nor_holidays(cache: Path, tmp_path: Path) -> None:
    outputs = loaded_by_runs(cache, tmp_path, ["evaluate"], ("pydantic", "yaml", "holidays"), 3)
    # Compiled (all three libraries); the entry is stored again at the end with
    # the holidays of the history's years, so the next commands need none.
    assert outputs == [["0", "holidays", "pydantic", "yaml"], ["0", "-"], ["0", "-"]]


#: Standard modules a command with its policy cached has no use for, each a
#: millisecond or more of its start (docs/performance.md, twenty-fifth session).
UNUSED_AT_START = ("statistics", "fractions", "decimal", "hashlib", "_hashlib", "difflib", "textwrap")


@pytest.mark.parametrize("command", [["evaluate"], ["report", "--by", "channel", "--format", "json"]])
def test_a_command_with_its_policy_cached_imports_no_module_it_does_not_use(
    command: list[str], cache: Path, tmp_path: Path
) -> None:
    # (the first run compiles the policy and stores it)
    assert loaded_by_runs(cache, tmp_path, command, UNUSED_AT_START, 2)[1] == ["0", "-"]


# ------------------------------------------------------------ misses
def test_a_changed_file_is_compiled_again(
    cache: Path, compiles: list[str], tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    events = history(tmp_path, tickets=30)
    policy = simple_policy(tmp_path)
    one_hour = evaluate(capsysbinary, policy, events, NOW)
    policy.write_text("policies: [{name: all, targets: {first_response: 2h}}]\n")  # same size, same second
    two_hours = evaluate(capsysbinary, policy, events, NOW)
    assert b'"target_seconds":7200' in two_hours and b'"target_seconds":7200' not in one_hour
    assert len(compiles) == 2 and len(entries(cache)) == 2


def test_a_changed_icalendar_file_is_read_again(cache: Path, compiles: list[str], tmp_path: Path) -> None:
    pytest.importorskip("icalendar")
    folder = tmp_path / "conf"
    folder.mkdir()
    shutil.copy(ICS_FIXTURE, folder / "team.ics")
    policy = folder / "policy.yaml"
    policy.write_text(
        "calendars:\n  office:\n    timezone: Europe/Berlin\n    hours: {mon-fri: ['09:00-17:00']}\n"
        "    holidays: {ics: team.ics}\n"
        "policies: [{name: all, calendar: office, targets: {first_response: 1h}}]\n"
    )
    founders_day = to_us(datetime(2026, 3, 2, 10, tzinfo=UTC))  # a holiday of the fixture
    assert not policy_cache.load_cached(policy).calendars["office"].is_open_us(founders_day)
    assert not policy_cache.load_cached(policy).calendars["office"].is_open_us(founders_day)
    assert len(compiles) == 1
    text = (folder / "team.ics").read_text()
    (folder / "team.ics").write_text(
        text.replace("FREQ=YEARLY", "FREQ=YEARLY;COUNT=1").replace("0302", "0303")
    )
    assert policy_cache.load_cached(policy).calendars["office"].is_open_us(founders_day)
    assert len(compiles) == 2


def test_the_same_file_at_another_path_is_an_entry_of_its_own(cache: Path, tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        assert policy_cache.load_cached(simple_policy(tmp_path, name)).source == str(tmp_path / name)
    assert len(entries(cache)) == 2


def test_another_build_of_sla_or_its_libraries_misses(
    cache: Path, compiles: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = simple_policy(tmp_path)
    policy_cache.load_cached(policy)
    monkeypatch.setattr(policy_cache, "_build", b"another build")
    policy_cache.load_cached(policy)
    assert len(compiles) == 2 and len(entries(cache)) == 2
    # The real fingerprint names sla's own files and the libraries'.
    monkeypatch.setattr(policy_cache, "_build", None)
    fingerprint = policy_cache._build_fingerprint().decode()
    assert "runtime.py" in fingerprint and "pydantic:" in fingerprint and "holidays:" in fingerprint


def test_a_damaged_or_foreign_entry_is_not_used(
    cache: Path, compiles: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = simple_policy(tmp_path)
    policy_cache.load_cached(policy)
    (entry,) = entries(cache)
    entry.write_bytes(b"not a pickle")
    assert policy_cache.load_cached(policy).policies[0].name == "all"
    assert len(compiles) == 2 and entry.read_bytes() != b"not a pickle"  # replaced
    entry.write_bytes(pickle.dumps((policy_cache.FORMAT + 1, (), None)))  # an older layout
    assert policy_cache.load_cached(policy).policies[0].name == "all"
    assert len(compiles) == 3
    monkeypatch.setattr(os, "getuid", lambda: os.stat(entry).st_uid + 1)  # written by another user
    assert policy_cache.load_cached(policy).policies[0].name == "all"
    assert len(compiles) == 4


def test_errors_are_told_every_time_and_never_stored(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("policies:\n  - name: all\n    targets: {first_responce: 1h}\n")
    for _ in range(2):
        with pytest.raises(PolicyError) as caught:
            policy_cache.load_cached(policy)
        assert f"{policy}:3:" in str(caught.value) and "did you mean 'first_response'" in str(caught.value)
    events = tmp_path / "events.jsonl"
    events.write_text("")
    assert main(["evaluate", "--policies", str(policy), "--events", str(events), "--now", NOW]) == 2
    assert str(policy) in capsys.readouterr().err
    assert not entries(cache)
    with pytest.raises(PolicyError, match="no such file"):
        policy_cache.load_cached(tmp_path / "missing.yaml")


def test_the_cache_can_be_turned_off_or_unwritable(
    cache: Path, compiles: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = simple_policy(tmp_path)
    monkeypatch.setenv("SLA_NO_CACHE", "1")
    policy_cache.load_cached(policy)
    policy_cache.load_cached(policy)
    assert len(compiles) == 2 and not cache.exists()
    monkeypatch.delenv("SLA_NO_CACHE")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("SLA_CACHE_DIR", str(blocker / "cache"))  # cannot be a folder
    assert policy_cache.load_cached(policy).policies[0].name == "all"
    assert len(compiles) == 3


def test_the_folder_is_private_and_keeps_the_most_recent_entries(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(policy_cache, "MAX_ENTRIES", 2)
    for hours in (1, 2, 3):
        policy = tmp_path / f"p{hours}.yaml"
        policy.write_text(f"policies: [{{name: all, targets: {{first_response: {hours}h}}}}]\n")
        policy_cache.load_cached(policy)
    assert len(entries(cache)) == 2
    assert oct(cache.stat().st_mode & 0o777) == oct(0o700)
    assert oct((cache / "policies").stat().st_mode & 0o777) == oct(0o700)


def test_a_process_holds_one_set_per_entry_until_stored(cache: Path) -> None:
    policy_cache.store_learned()  # what earlier tests of this process loaded
    policy = simple_policy(cache.parent)
    for _ in range(5):
        policy_cache.load_cached(policy)
    assert len(policy_cache._in_use) == 1
    policy_cache.store_learned()
    assert not policy_cache._in_use


def test_where_the_cache_is() -> None:
    assert policy_cache.cache_folder({"SLA_NO_CACHE": "1", "SLA_CACHE_DIR": "/x"}) is None
    assert policy_cache.cache_folder({"SLA_CACHE_DIR": "/x", "XDG_CACHE_HOME": "/y"}) == Path("/x")
    assert policy_cache.cache_folder({"XDG_CACHE_HOME": "/y"}) == Path("/y/sla")
    assert policy_cache.cache_folder({}) == Path.home() / ".cache" / "sla"


def test_zone_fallbacks_of_one_run_are_not_stored(cache: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "calendars:\n  desk:\n    timezone: {by: requester_tz, default: Europe/London}\n"
        "    hours: {mon-fri: ['09:00-17:00']}\n    holidays: {country: GB}\n"
        "policies: [{name: all, calendar: desk, targets: {first_response: 1h}}]\n"
    )
    policies = policy_cache.load_cached(policy)
    policies.policies[0].calendar_for({"requester_tz": "Mars/Olympus"})
    tokyo = policies.policies[0].calendar_for({"requester_tz": "Asia/Tokyo"})[0]
    tokyo.is_open_us(to_us(datetime(2026, 3, 2, 1, tzinfo=UTC)))
    assert policies.zone_fallbacks() == {"Mars/Olympus"}
    policy_cache.store_learned()
    again = policy_cache.load_cached(policy)
    assert again.zone_fallbacks() == frozenset()
    # The calendars built for the zones seen are kept, with their holidays.
    kept = {c.zone.key: c for c in again.zoned_calendars["desk"].calendars()}
    assert kept["Asia/Tokyo"].holiday_years_known() == tokyo.holiday_years_known() > 1


# ------------------------------------------------------------ calendars
@settings(max_examples=40, deadline=None)
@given(
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]),
    country=st.sampled_from([None, "DE", "US", "GB"]),
    warm=st.booleans(),
    starts=st.lists(st.integers(0, 3 * 365 * 24), min_size=1, max_size=6),
    lengths=st.lists(st.integers(0, 24 * 60), min_size=1, max_size=6),
)
def test_a_pickled_calendar_answers_as_the_original(
    zone: str, country: str | None, warm: bool, starts: list[int], lengths: list[int]
) -> None:
    mapping: dict[str, object] = {
        "timezone": zone,
        "hours": {"mon-fri": ["08:30-12:00", "13:00-17:30"], "sat": ["22:00-02:00"]},
        "overrides": {"2026-12-24": ["09:00-12:00"]},
    }
    if country is not None:
        mapping["holidays"] = {"country": country}
    original = Calendar.from_dict(mapping, name="desk")
    base = datetime(2025, 1, 1, tzinfo=UTC)
    if warm:  # index and holidays built before pickling
        original.elapsed_us(to_us(base), to_us(base + timedelta(days=900)))
    copy = pickle.loads(pickle.dumps(original))
    assert copy.holiday_years_known() == original.holiday_years_known()
    for hour, minutes in zip(starts, lengths, strict=False):
        a = to_us(base + timedelta(hours=hour))
        b = a + minutes * 60_000_000 * 17
        assert copy.elapsed_us(a, b) == original.elapsed_us(a, b)
        assert copy.add_us(a, minutes * 60_000_000) == original.add_us(a, minutes * 60_000_000)
        assert copy.is_open_us(a) == original.is_open_us(a)
    assert copy.in_zone("Asia/Tokyo").zone.key == "Asia/Tokyo"  # still knows its definition
    assert repr(copy) == repr(original)


def test_the_built_in_calendar_pickles_as_itself() -> None:
    assert pickle.loads(pickle.dumps(ALWAYS_OPEN)) is ALWAYS_OPEN
    assert pickle.loads(pickle.dumps(sla.load_policies(SCALE_POLICY))).calendars["24x7"] is ALWAYS_OPEN


def test_the_collector_is_held_off_while_a_file_compiles(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    seen: list[bool] = []
    real = policy_files.ics_files
    monkeypatch.setattr(
        policy_files, "ics_files", lambda located: (seen.append(gc.isenabled()), real(located))[1]
    )
    was = gc.isenabled()
    try:
        for state in (True, False):
            (gc.enable if state else gc.disable)()
            sla.load_policies("policies: [{name: all, targets: {first_response: 1h}}]")
            assert gc.isenabled() is state  # as it was
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [False, False]
