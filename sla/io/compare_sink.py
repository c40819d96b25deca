"""``sla compare`` on the one pipeline: :class:`CompareSink` feeds every
ticket, read once, to a :class:`~sla.report.compare.CompareBuilder` that
evaluates it under both policy sets; :func:`compare_file` runs it over an
event file.

Parts work like :class:`~sla.io.sinks.ReportSink`'s: each builds its own
comparison of its tickets, and :meth:`CompareSink.gather` merges them in
input order, so ``--jobs`` changes nothing in the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sla.io.pipeline import run
from sla.io.sinks import Progress
from sla.io.summary import RunSummary
from sla.policy.runtime import PolicySet
from sla.report.compare import CompareBuilder, Comparison


@dataclass
class ComparePiece:
    """What a part hands back: its builder, and the attribute values that named
    no known time zone under the second policy set (the pipeline collects the
    first set's itself)."""

    builder: CompareBuilder
    zone_fallbacks: frozenset[str]


class _ComparePart:
    def __init__(self, builder: CompareBuilder, after: PolicySet):
        self.builder, self.after = builder, after
        self.add = builder.add

    def close(self) -> ComparePiece:
        return ComparePiece(self.builder, self.after.zone_fallbacks())


@dataclass(frozen=True)
class CompareMaker:
    """Makes the parts of :class:`CompareSink` in worker processes (picklable)."""

    policies: PolicySet  # the first set, under the name the pipeline looks for
    after: PolicySet
    now: int
    options: dict[str, Any]

    def __call__(self, path: str) -> _ComparePart:
        return _ComparePart(CompareBuilder(self.policies, self.after, self.now, **self.options), self.after)


class CompareSink:
    """``sla compare``: both policy sets' figures and the changed cycles, in mergeable builders."""

    writes_rows = False  # figures and changed cycles, no rows

    def __init__(
        self,
        before: PolicySet,
        after: PolicySet,
        now: int,
        *,
        by: Sequence[str] = (),
        names: tuple[str, str] = ("before", "after"),
    ):
        self.policies = before
        self.maker = CompareMaker(before, after, now, {"by": tuple(by), "names": names})
        self.builder = self.maker("").builder  # bad options fail here, before any reading
        self.zone_fallbacks: frozenset[str] = frozenset()

    def open(self) -> _ComparePart:
        """A part for the whole input, in this process (starting over if called again)."""
        part = self.maker("")
        self.builder = part.builder
        return part

    def part_maker(self) -> CompareMaker:
        """The picklable factory of parts for pieces of the input."""
        return self.maker

    def gather(self, parts: Sequence[ComparePiece], *, interleaved: bool) -> None:
        """Merge the pieces' builders, given in input order (``interleaved``: hashed partitions)."""
        self.builder = self.maker("").builder
        for piece in parts:
            self.builder.merge(piece.builder)
            self.zone_fallbacks |= piece.zone_fallbacks
        if interleaved:  # hashed partitions: tickets back in order of first line
            self.builder.sort_by_first_line()

    def finish(self) -> Comparison:
        """The comparison; :attr:`zone_fallbacks` then holds the second set's as well."""
        self.zone_fallbacks |= self.maker.after.zone_fallbacks()
        return self.builder.finish()


def compare_file(
    before: PolicySet,
    after: PolicySet,
    path: str,
    now: int,
    *,
    by: Sequence[str] = (),
    names: tuple[str, str] = ("before", "after"),
    jobs: int = 1,
    input_format: str | None = None,
    workdir: str | None = None,
    progress: Progress | None = None,
) -> tuple[Comparison, RunSummary]:
    """Compare two policy sets over an event file; returns the comparison and
    the run's rejections (time-zone fallbacks of both sets included)."""
    sink = CompareSink(before, after, now, by=by, names=names)
    summary = run(sink, path, jobs=jobs, input_format=input_format, workdir=workdir, progress=progress)
    comparison = sink.finish()
    summary.zone_fallbacks |= sink.zone_fallbacks
    return comparison, summary


__all__ = ["CompareSink", "ComparePiece", "compare_file"]
