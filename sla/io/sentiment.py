"""Sentiment scores for customer messages that carry none (``sla report
--score-sentiment``, the ``sentiment`` extra).

A :class:`SentimentScorer` is a record transform for :func:`sla.io.pipeline.run`
(its ``prepare``): a public ``message`` from ``customer`` whose ``sentiment``
is absent or null and whose ``body`` is text that is not blank gets
``sentiment``, the ``compound`` score of VADER (``vaderSentiment``, a lexicon
and rule scorer for English that ships its lexicon and runs offline), a
number in [-1, 1] rounded to 4 places. Every other record is left as it is;
a supplied ``sentiment`` always wins, whatever its value (a bad one rejects
its ticket as usual).

VADER's rules cost time that grows with the square of a text's length, and
its score saturates near -1 or 1 on long texts anyway, so only the start of
a body is scored: :data:`MAX_SCORED_CHARS` characters, counting an emoji as
the words VADER reads it as, cut at a word boundary.

The scorer holds no state and pickles as nothing: each process (a worker of
``--jobs`` too) loads the lexicon once, on its first message.
"""

from __future__ import annotations

import functools
from typing import Any

from sla.errors import SlaError

#: Characters of a body that are scored (an emoji counts as its description's length).
MAX_SCORED_CHARS = 2_000

MISSING = '--score-sentiment needs the sentiment extra: pip install "sla[sentiment]"'


@functools.cache
def _analyzer() -> Any:
    """VADER's analyzer, loaded once per process (it reads its lexicon files)."""
    try:
        from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
            SentimentIntensityAnalyzer,
        )
    except ImportError:
        raise SlaError(MISSING) from None
    return SentimentIntensityAnalyzer()


def scored_text(body: str, emojis: dict[str, str], limit: int = MAX_SCORED_CHARS) -> str:
    """The start of ``body`` that is scored: at most ``limit`` characters once
    each emoji of ``emojis`` is replaced by its description, cut after the
    last whole word when the cut falls inside one (a body of one long word
    is cut where it is).

    >>> scored_text("good service here", {}, 10)
    'good'
    >>> scored_text("ok \\U0001f600", {"\\U0001f600": "grinning face"}, 10)
    'ok'
    """
    used = 0
    for index, char in enumerate(body):
        used += len(emojis[char]) + 1 if char in emojis else 1
        if used > limit:
            head = body[:index]
            if char.isspace() or not head or head[-1].isspace():
                return head.rstrip()  # the cut falls between words
            words = head.rsplit(None, 1)
            return words[0] if len(words) == 2 else head
    return body


def polarity(text: str) -> float:
    """VADER's compound score of ``text`` (its start, see :func:`scored_text`):
    a number in [-1, 1] rounded to 4 places, 0.0 for text without a word
    VADER knows.

    Raises :class:`~sla.errors.SlaError` when ``vaderSentiment`` is not installed.
    """
    analyzer = _analyzer()
    compound = analyzer.polarity_scores(scored_text(text, analyzer.emojis))["compound"]
    return float(compound)


class SentimentScorer:
    """Fills ``sentiment`` in on the public customer messages of raw event
    records that have none; a record transform (``prepare``) for
    :func:`sla.io.pipeline.run` that pickles to worker processes.

    Construct it with :func:`sentiment_scorer` to fail early when the
    package is missing; a scorer constructed directly loads VADER on its
    first message.
    """

    __slots__ = ()

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        """Score ``record`` in place (see the module) and return it."""
        if record.get("type") != "message" or record.get("author") != "customer":
            return record
        public = record.get("public")
        if (public is None or public is True) and record.get("sentiment") is None:
            body = record.get("body")
            if isinstance(body, str) and body.strip():
                record["sentiment"] = polarity(body)
        return record

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SentimentScorer)

    def __hash__(self) -> int:
        return hash(SentimentScorer)

    def __repr__(self) -> str:
        return "SentimentScorer()"


def sentiment_scorer() -> SentimentScorer:
    """A :class:`SentimentScorer` with VADER loaded in this process.

    Raises :class:`~sla.errors.SlaError` (exit status 2 on the command line)
    naming the extra to install when ``vaderSentiment`` is missing, before any
    event is read.
    """
    _analyzer()
    return SentimentScorer()


__all__ = ["MAX_SCORED_CHARS", "SentimentScorer", "polarity", "scored_text", "sentiment_scorer"]
