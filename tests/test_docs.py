"""The Python examples in the README and docs/embedding.md run as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page", ["README.md", "docs/embedding.md"])
def test_python_blocks_run(page, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # the examples load policies/ by relative path
    text = (ROOT / page).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    namespace: dict = {}
    for block in blocks:
        # "..." lines stand for the product's own code between two calls.
        exec(compile(block.replace("...\n", ""), f"{page} example", "exec"), namespace)
    assert os.getcwd() == str(ROOT)
