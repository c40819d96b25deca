"""Spark driver: a DataFrame of events in, a DataFrame of cycle rows out.

Uses ``mapInArrow`` over the Arrow kernel (one Python call per Arrow batch,
not per ticket).  The per-group APIs (``applyInPandas``, ``applyInArrow``)
cost milliseconds per ticket and are deliberately not used.

    from pyspark.sql import SparkSession
    from sla.adapters.spark import evaluate_spark

    spark = SparkSession.builder.getOrCreate()
    events = spark.read.parquet("s3://helpdesk/events/")      # or spark.read.json(...)
    rows = evaluate_spark(events, open("policies.yaml").read(), now="2026-04-01T00:00:00Z")
    rows.write.parquet("s3://helpdesk/sla-rows/")
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sla.adapters.kernel import SPARK_DDL, ArrowKernel
from sla.engine.batch import as_us
from sla.io.sources import EVENT_COLUMNS
from sla.policy.runtime import PolicySet

if TYPE_CHECKING:
    import pyarrow as pa


@lru_cache(maxsize=8)
def _policies(text: str) -> PolicySet:
    from sla import load_policies

    return load_policies(text)


def evaluate_spark(
    events: Any,
    policies_text: str,
    now: datetime | str | int,
    *,
    clustered: bool = False,
    partitions: int | None = None,
) -> Any:
    """Evaluate a Spark DataFrame of events (columns as in the JSONL format).

    ``policies_text`` is the policy file's text (validated here, on the
    driver, before any job starts).  Unless ``clustered`` says each
    partition already holds whole tickets in input order, events are
    repartitioned by ``ticket_id`` and sorted by ticket and ``line`` (added
    from the input order when missing).  Returns a DataFrame with the
    columns of ``sla evaluate`` plus ``error`` (rejected tickets have
    ``state = "rejected"``).
    """
    from pyspark.sql import functions as F

    _policies(policies_text)  # fail fast with file, line and path on the driver
    now_us = as_us(now)
    if "line" not in events.columns:
        events = events.withColumn("line", F.monotonically_increasing_id() + 1)
    if not clustered:
        target = partitions or events.rdd.getNumPartitions()
        events = events.repartition(target, "ticket_id").sortWithinPartitions("ticket_id", "line")
    if "fields" in events.columns and dict(events.dtypes)["fields"] != "string":
        events = events.withColumn("fields", F.to_json("fields"))
    columns = [c for c in (*EVENT_COLUMNS, "line") if c in events.columns]
    events = events.select(*columns)

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        kernel = ArrowKernel(_policies(policies_text), now_us)
        yield from kernel(batches)

    return events.mapInArrow(run, SPARK_DDL)
