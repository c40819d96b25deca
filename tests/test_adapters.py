"""Spark and Dask drivers on real engines: results equal the local run, row for row."""

from __future__ import annotations

import io
import json

import orjson
import pytest

from sla.io import pipeline
from sla.io.generate import generate
from sla.timefmt import parse_instant

NOW = "2026-04-01T00:00:00Z"
POLICY_TEXT = """
metrics:
  requester_wait: {pause_statuses: [pending]}
calendars:
  office:
    timezone: Europe/Berlin
    hours: {mon-fri: ["09:00-12:00", "13:00-17:00"]}
    holidays: {country: DE}
policies:
  - name: social
    match: {channel: [twitter, facebook, instagram, whatsapp]}
    targets: {first_response: 1h, next_response: 2h}
  - name: desk
    calendar: office
    targets:
      first_response: {urgent: 1h, high: 2h, default: 8h}
      next_response: 8h
      resolution: {urgent: {within: 1d, hours: calendar}, default: 3d}
      requester_wait: 2d
"""


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Events (with a rejected ticket) as JSONL and as Parquet with a line column, and the local rows."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from sla.io.policy_files import load_policies

    folder = tmp_path_factory.mktemp("history")
    events = list(generate(250, seed=21))
    events.append({"ticket_id": "BROKEN", "at": "2026-02-02T10:00:00Z", "type": "message", "author": "agent"})
    jsonl = folder / "events.jsonl"
    jsonl.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    out = io.BytesIO()
    summary = pipeline.evaluate_file(load_policies(POLICY_TEXT), str(jsonl), parse_instant(NOW), out)
    local = [json.loads(line) for line in out.getvalue().splitlines()]
    table = pa.table(
        {
            "ticket_id": [e["ticket_id"] for e in events],
            "at": [e["at"] for e in events],
            "type": [e["type"] for e in events],
            "fields": [json.dumps(e["fields"]) if "fields" in e else None for e in events],
            "status": [e.get("status") for e in events],
            "author": [e.get("author") for e in events],
            "public": pa.array([e.get("public") for e in events], pa.bool_()),
            "score": pa.array([float(e["score"]) if "score" in e else None for e in events], pa.float64()),
            "line": pa.array(range(1, len(events) + 1), pa.int64()),
        }
    )
    # Two files, split in the middle of a ticket: the drivers must regroup.
    half = len(events) // 2 + 3
    paths = [str(folder / "events-0.parquet"), str(folder / "events-1.parquet")]
    pq.write_table(table.slice(0, half), paths[0])
    pq.write_table(table.slice(half), paths[1])
    return {
        "local": local,
        "paths": paths,
        "rejected": [str(r) for r in summary.rejections],
        "events": len(events),
    }


def _key(row: dict) -> tuple:
    return (row["ticket_id"], row["metric"], row["cycle"])


def _normal(row: dict) -> dict:
    return {
        k: (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
        for k, v in row.items()
        if k != "error"
    }


def _compare(local: list[dict], remote: list[dict], rejected_local: list[str]) -> None:
    rejected = [r for r in remote if r["state"] == "rejected"]
    good = [r for r in remote if r["state"] != "rejected"]
    assert sorted(map(_key, good)) == sorted(map(_key, local))
    by_key = {_key(r): _normal(r) for r in good}
    for row in local:
        assert by_key[_key(row)] == _normal(row)
    assert [r["ticket_id"] for r in rejected] == ["BROKEN"]
    assert rejected[0]["error"] in rejected_local[0]


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark")
    import os
    import sys

    from pyspark.sql import SparkSession

    # Workers must run the interpreter that has sla installed (as on a cluster
    # where the package is installed on every node).
    os.environ["PYSPARK_PYTHON"] = sys.executable

    session = (
        SparkSession.builder.master("local[2]")
        .appName("sla-tests")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield session
    session.stop()


def test_spark_equals_local_run(spark, history):
    from sla.adapters.spark import evaluate_spark

    events = spark.read.parquet(*history["paths"])
    rows = [r.asDict(recursive=True) for r in evaluate_spark(events, POLICY_TEXT, NOW).collect()]
    _compare(history["local"], rows, history["rejected"])


def test_spark_refuses_a_bad_policy_on_the_driver(spark, history):
    from sla.adapters.spark import evaluate_spark
    from sla.errors import PolicyError

    events = spark.read.parquet(*history["paths"])
    with pytest.raises(PolicyError, match=r":3:\d+: at policies\[0\]\.targets\.first_response"):
        evaluate_spark(events, "policies:\n  - name: x\n    targets: {first_response: 1x}\n", NOW)


def test_dask_equals_local_run_on_a_local_cluster(history):
    pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("dask.distributed")
    from sla.adapters.dask import evaluate_dask

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        frame = evaluate_dask(history["paths"], POLICY_TEXT, NOW).compute()
    rows = []
    for record in frame.to_dict(orient="records"):
        row = {k: (None if v is None or (isinstance(v, float) and v != v) else v) for k, v in record.items()}
        if row.get("paused") is not None:
            row["paused"] = [list(p) for p in row["paused"]]
        rows.append(row)
    _compare(history["local"], rows, history["rejected"])
