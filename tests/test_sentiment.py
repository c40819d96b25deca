"""Sentiment scoring (``sla report --score-sentiment``, sla.io.sentiment):
VADER's compound score on the body of public customer messages that carry
no sentiment, checked by hand on short sentences; supplied scores win; every
reading path (streaming, in memory, spilled, parallel ranges and partitions)
scores the same records."""

from __future__ import annotations

import copy
import json
import math
import pickle
import random
import sys
from pathlib import Path

import orjson
import pytest

from sla.cli.app import main
from sla.engine.events import TicketEvents
from sla.io import pipeline
from sla.io import sentiment as scoring
from sla.io.generate import generate
from sla.io.sentiment import MAX_SCORED_CHARS, SentimentScorer, polarity, scored_text, sentiment_scorer

pytest.importorskip("vaderSentiment")  # the sentiment extra (CI installs it with "all")

ROOT = Path(__file__).resolve().parent.parent
B2B = str(ROOT / "policies" / "b2b-tiers.yaml")
NOW = "2026-04-01T00:00:00Z"


def lexicon() -> dict[str, float]:
    return scoring._analyzer().lexicon  # type: ignore[no-any-return]


def normalize(total: float) -> float:
    """VADER's compound: the sum of the word valences (plus punctuation
    emphasis) over sqrt(sum^2 + 15), rounded to 4 places."""
    return round(total / math.sqrt(total * total + 15), 4)


# ------------------------------------------------------------ scores by hand
def test_one_lexicon_word():
    # "good" is 1.9 in the lexicon; "The", "app", "is" carry nothing, boost
    # nothing and negate nothing; a full stop adds no emphasis.
    assert lexicon()["good"] == 1.9
    assert normalize(1.9) == 0.4404
    assert polarity("The app is good.") == 0.4404


def test_an_exclamation_mark_adds_emphasis():
    # "thanks" 1.9, plus 0.292 for one "!": 2.192 / sqrt(2.192^2 + 15).
    assert lexicon()["thanks"] == 1.9
    assert normalize(1.9 + 0.292) == 0.4926
    assert polarity("Thanks!") == 0.4926


def test_negation_flips_and_damps():
    # "not" right before "good" multiplies its 1.9 by -0.74: -1.406.
    assert normalize(1.9 * -0.74) == -0.3412
    assert polarity("The app is not good.") == -0.3412


def test_two_negative_words_add_up():
    # "terrible" -2.1 and "angry" -2.3, nothing between them that boosts or negates.
    assert (lexicon()["terrible"], lexicon()["angry"]) == (-2.1, -2.3)
    assert normalize(-2.1 - 2.3) == -0.7506
    assert polarity("This is terrible and I am angry") == -0.7506
    assert polarity("This is terrible and I am angry") < -0.5


def test_a_clearly_positive_message():
    # "love" 3.2; "thank" 1.5 times 1.25 because "this" comes right before
    # it (VADER's "so"/"this" rule); one "!": 3.2 + 1.875 + 0.292.
    assert (lexicon()["love"], lexicon()["thank"]) == (3.2, 1.5)
    assert normalize(3.2 + 1.5 * 1.25 + 0.292) == 0.8109
    assert polarity("I love this, thank you so much!") == 0.8109
    assert polarity("I love this, thank you so much!") > 0.5


def test_neutral_text_and_other_languages_score_zero():
    assert polarity("The invoice was sent on Tuesday.") == 0.0
    assert polarity("Das ist schrecklich, ich bin wütend") == 0.0  # German: no word is in the lexicon


def test_sarcasm_is_read_literally():
    """A documented limit: the lexicon sees "Great" and "needed", not the irony."""
    assert polarity("Great, another outage. Just what I needed.") > 0.5


# ------------------------------------------------------------ which records
def message(**extra: object) -> dict[str, object]:
    return {"ticket_id": "T1", "at": "2026-03-02T08:00:00Z", "type": "message", "author": "customer", **extra}


@pytest.mark.parametrize(
    "record",
    [
        message(body="I love this, thank you so much!"),
        message(body="I love this, thank you so much!", public=True),
        message(body="I love this, thank you so much!", public=None),  # null: a public message
        message(body="I love this, thank you so much!", sentiment=None),  # null: none supplied
    ],
)
def test_public_customer_messages_without_a_score_are_scored(record):
    assert SentimentScorer()(record) is record
    assert record["sentiment"] == 0.8109


@pytest.mark.parametrize(
    "record",
    [
        message(body="I love this!", sentiment=-0.5),  # supplied scores win
        message(body="I love this!", sentiment=0),
        message(body="I love this!", sentiment="bad"),  # even a bad one: its ticket is rejected as usual
        message(body="I love this!", author="agent"),
        message(body="I love this!", author="bot"),
        message(body="I love this!", public=False),  # an internal note
        message(body="I love this!", public=1),  # not true: rejected later, not scored here
        message(body="I love this!", type="status", status="open"),
        message(body="I love this!", type="csat", score=5),
        message(),  # no body
        message(body=None),
        message(body=42),
        message(body=["I love this!"]),
        message(body=""),  # nothing to score
        message(body=" \n\t "),
    ],
)
def test_other_records_are_left_as_they_are(record):
    before = copy.deepcopy(record)
    assert SentimentScorer()(record) is record
    assert record == before


def test_the_scorer_pickles_and_is_one_value():
    scorer = sentiment_scorer()
    again = pickle.loads(pickle.dumps(scorer))
    assert again == scorer == SentimentScorer() and hash(again) == hash(scorer)
    assert repr(again) == "SentimentScorer()"
    assert again(message(body="Thanks!"))["sentiment"] == 0.4926


# ------------------------------------------------------------ long bodies
def test_long_bodies_are_scored_by_their_start():
    head = "The app is not good. " * 20
    body = head + "I love this, thank you so much! " * 5_000
    scored = scored_text(body, lexicon_emojis())
    assert len(scored) <= MAX_SCORED_CHARS and body.startswith(scored)
    assert not scored.endswith(" ") and body[len(scored)] == " "  # cut at a word boundary
    assert polarity(body) == polarity(scored)


def lexicon_emojis() -> dict[str, str]:
    return scoring._analyzer().emojis  # type: ignore[no-any-return]


def test_an_emoji_counts_as_the_words_it_stands_for():
    emojis = lexicon_emojis()
    grin = "\U0001f601"
    scored = scored_text(grin * 10_000, emojis)
    assert set(scored) == {grin}
    assert len(scored) == MAX_SCORED_CHARS // (len(emojis[grin]) + 1)
    assert polarity(grin * 10_000) > 0.5


@pytest.mark.parametrize(
    ("body", "limit", "expected"),
    [
        ("good service here", 10, "good"),
        ("good service here", 4, "good"),
        ("good service here", 5, "good"),
        ("good service here", 17, "good service here"),
        ("goodservicehere", 4, "good"),  # one long word is cut where it is
        ("good   service", 6, "good"),
    ],
)
def test_the_cut(body, limit, expected):
    assert scored_text(body, {}, limit) == expected


# ------------------------------------------------------------ missing package
@pytest.fixture
def no_vader(monkeypatch):
    scoring._analyzer.cache_clear()
    monkeypatch.setitem(sys.modules, "vaderSentiment", None)
    monkeypatch.setitem(sys.modules, "vaderSentiment.vaderSentiment", None)
    yield
    scoring._analyzer.cache_clear()


def test_a_missing_package_names_the_extra(no_vader):
    from sla.errors import SlaError

    with pytest.raises(SlaError, match=r'pip install "sla\[sentiment\]"'):
        sentiment_scorer()


def test_the_cli_stops_before_reading_events_without_the_package(no_vader, tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    events.write_text("not json\n")  # read, it would be a rejected line (exit 1)
    status = main(["report", "--policies", B2B, "--events", str(events), "--now", NOW, "--score-sentiment"])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert '--score-sentiment needs the sentiment extra: pip install "sla[sentiment]"' in err
    assert "rejected" not in err


# ------------------------------------------------------------ every reading path
SENTENCES = [
    "I love this, thank you so much!",
    "This is terrible and I am angry",
    "The invoice was sent on Tuesday.",
    "Still waiting. Not good at all.",
    "Great, it works now :)",
    "Please help, the export fails again",
]


@pytest.fixture(scope="module")
def records() -> list[dict[str, object]]:
    """Generated tickets with text on messages: customer messages get a
    sentence, every fifth one a supplied score, some a null one, some are
    internal notes; agent messages and status events get text too."""
    found = []
    for index, generated in enumerate(generate(150, seed=7)):
        record = {k: v for k, v in generated.items() if k not in ("body", "sentiment")}  # ours only
        if record["type"] == "message" or index % 3 == 0:
            record["body"] = SENTENCES[index % len(SENTENCES)]
        if record["type"] == "message" and record.get("author") == "customer":
            if index % 5 == 0:
                record["sentiment"] = round((index % 21) / 10 - 1, 1)
            elif index % 7 == 0:
                record["sentiment"] = None
            elif index % 11 == 0:
                record["public"] = False
        found.append(record)
    return found


def write_jsonl(path: Path, records: list[dict[str, object]]) -> str:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return str(path)


class _Captured:
    """A part that keeps what evaluation sees of each ticket's messages."""

    def __init__(self) -> None:
        self.tickets: list[tuple[str, list[tuple[int, str | None, bool, float | None]]]] = []

    def add(self, ticket: TicketEvents) -> None:
        self.tickets.append(
            (
                ticket.ticket_id,
                [(e.at, e.author, e.public, getattr(e, "sentiment", None)) for e in ticket.events],
            )
        )

    def close(self) -> list[tuple[str, list[tuple[int, str | None, bool, float | None]]]]:
        return self.tickets


class _CapturedMaker:
    def __call__(self, path: str) -> _Captured:
        return _Captured()


class CaptureSink:
    """A pipeline sink that returns every ticket's (instant, author, public,
    sentiment) events; like the real sinks, it starts over when streaming
    gives up and the input is read again."""

    def __init__(self) -> None:
        self.seen: dict[str, list[tuple[int, str | None, bool, float | None]]] = {}
        self.part: _Captured | None = None

    def open(self) -> _Captured:
        self.part = _Captured()
        return self.part

    def part_maker(self) -> _CapturedMaker:
        return _CapturedMaker()

    def gather(self, parts, *, interleaved: bool) -> None:
        self.part = None
        for part in parts:
            self.seen.update(part)

    def finish(self) -> dict[str, list[tuple[int, str | None, bool, float | None]]]:
        if self.part is not None:
            self.seen.update(self.part.tickets)
        return self.seen


def force(monkeypatch, mode: str) -> tuple[int, list[str]]:
    """Make small input take the path under test; the jobs to ask for, and
    what the path did."""
    taken: list[str] = []
    monkeypatch.setattr(pipeline, "PARTITION_BYTES", 20_000)
    # What the parent spills: records as read (spill), or JSONL by byte range
    # (spill_range), scoring as it reads; with jobs, the workers do, never the parent.
    for name in ("spill", "spill_range"):
        original = getattr(pipeline, name)
        monkeypatch.setattr(pipeline, name, lambda *a, _f=original, _n=name: taken.append(_n) or _f(*a))
    if mode == "spill":
        monkeypatch.setattr(pipeline, "IN_MEMORY_LIMIT_BYTES", 0)
        monkeypatch.setattr(pipeline, "_stream", lambda *a: None)
    if mode == "parallel":
        monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
        pool = pipeline._pool
        monkeypatch.setattr(pipeline, "_pool", lambda *a: taken.append("pool") or pool(*a))
        return 2, taken
    return 1, taken


@pytest.mark.parametrize("grouped", [True, False], ids=["grouped", "shuffled"])
@pytest.mark.parametrize("mode", ["serial", "spill", "parallel"])
def test_every_reading_path_scores_the_same_records(records, tmp_path, monkeypatch, grouped, mode):
    data = records if grouped else random.Random(3).sample(records, len(records))
    # The oracle: the scorer applied to the file beforehand, read without it.
    scored = [SentimentScorer()(dict(r)) for r in data]
    want = pipeline.run(sink := CaptureSink(), write_jsonl(tmp_path / "scored.jsonl", scored))
    want_seen = sink.finish()
    path = write_jsonl(tmp_path / "events.jsonl", data)
    jobs, taken = force(monkeypatch, mode)
    summary = pipeline.run(sink := CaptureSink(), path, jobs=jobs, prepare=SentimentScorer())
    got = sink.finish()
    assert (
        taken
        == {"serial": [], "spill": ["spill_range"], "parallel": ["pool"] if grouped else ["pool"] * 2}[mode]
    )
    assert got == want_seen
    assert summary.rejections == want.rejections == []
    sentiments = {s for events in got.values() for *_, s in events if s is not None}
    from_text = {0.8109, -0.7506, 0.0, -0.3412, 0.7964, 0.296}  # the six sentences, by polarity()
    supplied = {r["sentiment"] for r in data if r.get("sentiment") is not None}
    assert sentiments == from_text | supplied
    for events in got.values():
        for _, author, public, s in events:
            if author != "customer" or not public:
                assert s is None  # agent and bot messages, internal notes: never scored


def test_without_the_scorer_only_supplied_scores_are_read(records, tmp_path):
    sink = CaptureSink()
    pipeline.run(sink, write_jsonl(tmp_path / "events.jsonl", records))
    supplied = [r["sentiment"] for r in records if r.get("sentiment") is not None]
    got = [s for events in sink.finish().values() for *_, s in events if s is not None]
    assert sorted(got) == sorted(supplied)


def test_csv_input_is_scored_too(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "ticket_id,at,type,author,body,fields\n"
        'T1,2026-03-02T08:00:00Z,created,,,"{""tier"": ""free""}"\n'
        'T1,2026-03-02T08:00:00Z,message,customer,"This is terrible and I am angry",\n'
    )
    sink = CaptureSink()
    pipeline.run(sink, str(path), prepare=SentimentScorer())
    assert [s for *_, s in sink.finish()["T1"]] == [None, -0.7506]


# ------------------------------------------------------------ the command
def report(capsys, path: str, *argv: str) -> tuple[int, dict[str, object], str]:
    status = main(["report", "--policies", B2B, "--events", path, "--now", NOW, "--format", "json", *argv])
    out, err = capsys.readouterr()
    return status, json.loads(out), err


def test_report_score_sentiment_fills_the_kpis_figure(records, tmp_path, capsys):
    path = write_jsonl(tmp_path / "events.jsonl", records)
    status, plain, _ = report(capsys, path)
    assert status == 0
    status, scored, _ = report(capsys, path, "--score-sentiment")
    assert status == 0
    (kpis,) = scored["kpis"]  # type: ignore[misc]
    assert "sentiment" in kpis, "the report's sentiment figure (SEMANTICS.md section 13) is not there yet"
    figure = kpis["sentiment"]
    assert figure["tickets"] > plain["kpis"][0]["sentiment"]["tickets"]  # type: ignore[index]
    assert all(figure[k] is not None for k in ("first_mean", "last_mean", "change_mean"))
    # The SLA section does not depend on sentiment.
    assert scored["sla"] == plain["sla"]


def test_report_is_the_same_with_one_job_or_two(records, tmp_path, capsys, monkeypatch):
    path = write_jsonl(tmp_path / "events.jsonl", records)
    monkeypatch.setattr(pipeline, "MIN_PARALLEL_BYTES", 0)
    one = report(capsys, path, "--score-sentiment", "--jobs", "1")
    two = report(capsys, path, "--score-sentiment", "--jobs", "2")
    assert one == two and one[0] == 0


def test_report_sentiment_by_hand(tmp_path, capsys):
    """Two tickets: one scored from its text (-0.7506 then 0.8109), one whose
    supplied -0.9 wins over the text's -0.3412; an internal note and an agent
    message are not scored."""
    lines = [
        {"ticket_id": "C1", "at": "2026-03-02T09:00:00Z", "type": "created", "fields": {"tier": "free"}},
        message(ticket_id="C1", at="2026-03-02T09:00:00Z", body="This is terrible and I am angry"),
        message(ticket_id="C1", at="2026-03-02T09:20:00Z", author="agent", body="Sorry, I love this!"),
        message(ticket_id="C1", at="2026-03-02T10:05:00Z", body="I love this, thank you so much!"),
        {"ticket_id": "C2", "at": "2026-03-02T11:00:00Z", "type": "created", "fields": {"tier": "free"}},
        message(ticket_id="C2", at="2026-03-02T11:00:00Z", body="The app is not good.", sentiment=-0.9),
        message(ticket_id="C2", at="2026-03-02T11:30:00Z", public=False, body="Thanks!"),
    ]
    path = write_jsonl(tmp_path / "events.jsonl", lines)  # type: ignore[arg-type]
    status, scored, _ = report(capsys, path, "--score-sentiment")
    assert status == 0
    kpis = scored["kpis"][0]  # type: ignore[index]
    if "sentiment" not in kpis:
        pytest.fail("the report's sentiment figure (SEMANTICS.md section 13) is not there yet")
    figure = kpis["sentiment"]
    assert figure["tickets"] == 2
    assert figure["first_mean"] == pytest.approx((-0.7506 - 0.9) / 2)
    assert figure["last_mean"] == pytest.approx((0.8109 - 0.9) / 2)
    assert figure["change_mean"] == pytest.approx((0.8109 + 0.7506 + 0.0) / 2)
