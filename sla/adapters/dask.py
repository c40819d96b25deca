"""Dask driver: a Dask DataFrame (or Parquet files) of events in, a Dask
DataFrame of cycle rows out, on any scheduler (a ``LocalCluster`` or a real
cluster's address).

    from dask.distributed import Client
    from sla.adapters.dask import evaluate_dask

    client = Client("tcp://scheduler:8786")
    rows = evaluate_dask(["events-0.parquet", "events-1.parquet"], open("policies.yaml").read(),
                         now="2026-04-01T00:00:00Z")
    rows.to_parquet("sla-rows/")
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sla.adapters.kernel import ArrowKernel, kernel_schema
from sla.engine.batch import as_us
from sla.policy.runtime import PolicySet


@lru_cache(maxsize=8)
def _policies(text: str) -> PolicySet:
    from sla import load_policies

    return load_policies(text)


def _evaluate_partition(frame: Any, policies_text: str, now_us: int) -> Any:
    import pandas as pd
    import pyarrow as pa

    if len(frame) == 0:
        return kernel_schema().empty_table().to_pandas()
    frame = (
        frame.sort_values(["ticket_id", "line"], kind="stable")
        if "line" in frame.columns
        else frame.sort_values(["ticket_id"], kind="stable")
    )
    table = pa.Table.from_pandas(frame, preserve_index=False)
    kernel = ArrowKernel(_policies(policies_text), now_us)
    batches = list(kernel(table.to_batches()))
    out = pa.Table.from_batches(batches, schema=kernel_schema()) if batches else kernel_schema().empty_table()
    return out.to_pandas(types_mapper=pd.ArrowDtype)


def evaluate_dask(
    events: Any, policies_text: str, now: datetime | str | int, *, clustered: bool = False
) -> Any:
    """Evaluate events given as a Dask DataFrame or a list of Parquet paths.

    Unless ``clustered`` says each partition already holds whole tickets,
    events are shuffled by ``ticket_id`` first.  Include a ``line`` column
    (the input order) to keep the order of events at the same instant.
    """
    import dask.dataframe as dd

    _policies(policies_text)  # fail fast, on the client
    if isinstance(events, (list, tuple, str)):
        events = dd.read_parquet(events)
    if not clustered:
        events = events.shuffle("ticket_id")
    import pandas as pd

    meta = kernel_schema().empty_table().to_pandas(types_mapper=pd.ArrowDtype)
    return events.map_partitions(_evaluate_partition, policies_text, as_us(now), meta=meta)
