"""The source imports on every Python the package claims (``requires-python``
in pyproject.toml), not only on the one CI runs.

Python 3.13 strips the indentation of docstrings when it compiles them, and
that step encodes the docstring as UTF-8: a lone surrogate in a docstring
(an escape such as ``\\ud800`` written in a non-raw string) makes the module
fail to import there with a ``UnicodeEncodeError`` (seen with 3.13.0:
``import sla`` failed that way). Checked on the source with :mod:`ast`, so
the check holds whichever Python runs it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    path
    for folder in ("sla", "tests", "benchmarks")
    for path in (ROOT / folder).rglob("*.py")
    if ".venv" not in path.parts
)
DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def unencodable_docstrings(source: str) -> list[int]:
    """Lines of the docstrings in ``source`` that UTF-8 cannot encode."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, DOCUMENTED) or not node.body:
            continue
        first = node.body[0]
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            try:
                first.value.value.encode("utf-8")
            except UnicodeEncodeError:
                lines.append(first.lineno)
    return lines


def test_the_sources_are_found():
    names = {path.name for path in SOURCES}
    assert {"jsonl.py", "events.py", "test_source_portability.py", "bench_scale.py"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_docstring_holds_a_lone_surrogate(path: Path):
    lines = unencodable_docstrings(path.read_text(encoding="utf-8"))
    assert not lines, (
        f"{path.relative_to(ROOT)}: the docstring at line(s) {lines} holds a lone surrogate; "
        "Python 3.13 cannot compile it. Write the escape doubled (\\\\ud800) or use a raw string"
    )


def test_the_check_finds_a_lone_surrogate():
    source = 'def f():\n    """a lone \\ud800 here"""\n\nx = "\\ud800 outside a docstring is fine"\n'
    assert unencodable_docstrings(source) == [2]
    assert unencodable_docstrings(source.replace("\\ud800 here", "\\\\ud800 here")) == []
