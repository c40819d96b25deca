"""What the import driver does, without it, for unit tests of one source:
read fixture documents, recognise, read, group by ticket (through JSON, as
the spill does), finish, and sort each ticket's events by time keeping ties."""

from __future__ import annotations

import json
from pathlib import Path

from sla.importers.base import Emit, Source
from sla.timefmt import parse_instant


def fixture_documents(folder: Path, *names: str) -> list[object]:
    """The fixture files' documents: a whole JSON file, or one per JSON line."""
    docs: list[object] = []
    for name in names or sorted(p.name for p in folder.iterdir()):
        text = (folder / name).read_text()
        if name.endswith(".jsonl"):
            docs += [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            docs.append(json.loads(text))
    return docs


def run_source(source: Source, docs: list[object]) -> dict[str, list[dict[str, object]]]:
    """Each ticket's final events, by final ticket id."""
    emitted: dict[str, list[dict[str, object]]] = {}
    for doc in docs:
        found = source.recognise(doc)
        assert found is not None, doc
        for kind, records in found:
            for record in records:
                for item in source.read(kind, record):
                    assert isinstance(item, Emit)
                    emitted.setdefault(item.ticket, []).append(json.loads(json.dumps(item.event)))
    out = {}
    for ticket, events in emitted.items():
        final, finished = source.finish_ticket(ticket, events)
        assert all(not key.startswith("_") for e in finished for key in e)
        out[final] = sorted(finished, key=lambda e: parse_instant(str(e["at"])))
    return out
