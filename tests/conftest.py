"""Settings for the whole test run."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Commands the tests run keep their policy cache (sla.io.policy_cache) in
    # a folder of this run, never the user's ~/.cache/sla; subprocesses inherit it.
    folder = tempfile.mkdtemp(prefix="sla-test-cache-")
    os.environ["SLA_CACHE_DIR"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
