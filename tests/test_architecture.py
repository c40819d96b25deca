"""The folder tree is the architecture: the pure core (calendar, policy,
engine, report figures and the shared base modules) imports nothing from the
shell (io, cli, adapters, importers, service), and reads no files, clock or
environment. Checked on the source, so a lazy import inside a function
counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "sla"
CORE = ("calendar", "policy", "engine", "report")
BASE = ("errors", "timefmt", "texts")
SHELL = ("io", "cli", "adapters", "importers", "service")
# Output formats of a report write text and pages: shell modules that live
# beside the figures they print.
SHELL_IN_CORE = {
    "report/formats.py",
    "report/charts.py",
    "report/html.py",
    "report/text.py",
    "report/compare_html.py",
}
# Calls that reach the outside world. ZoneInfo reads the tz database, which
# we treat as part of the platform, like the holidays package's tables.
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
    ("os", "getenv"),
    ("Path", "read_text"),
    ("Path", "read_bytes"),
}
FORBIDDEN_NAMES = {"open", "input"}
FORBIDDEN_ATTRIBUTES = {"environ", "read_text", "read_bytes", "write_text", "write_bytes"}


def core_modules() -> list[Path]:
    found = [p for p in PACKAGE.glob("*.py") if p.stem in BASE]
    for package in CORE:
        found += sorted((PACKAGE / package).rglob("*.py"))
    return [p for p in found if p.relative_to(PACKAGE).as_posix() not in SHELL_IN_CORE]


def imported_modules(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """Absolute names of every import in a module, with line numbers."""
    package = module.rsplit(".", 1)[0]
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names += [(node.lineno, f"{base}.{alias.name}" if base else alias.name) for alias in node.names]
            names.append((node.lineno, base))
    return names


def module_name(path: Path) -> str:
    return ".".join(("sla", *path.relative_to(PACKAGE).with_suffix("").parts))


def test_the_core_is_found():
    names = {module_name(p) for p in core_modules()}
    assert {"sla.calendar.index", "sla.policy.compile", "sla.engine.clock", "sla.report.figures"} <= names


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_core_imports_nothing_from_the_shell(path: Path):
    tree = ast.parse(path.read_text(), str(path))
    bad = [
        f"line {line}: imports {name}"
        for line, name in imported_modules(tree, module_name(path))
        if any(name == f"sla.{shell}" or name.startswith(f"sla.{shell}.") for shell in SHELL)
        or name.replace(".", "/") + ".py" in {f"sla/{m}" for m in SHELL_IN_CORE}
    ]
    assert not bad, f"{path.name} is pure core but " + "; ".join(bad)


@pytest.mark.parametrize("path", core_modules(), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_core_reads_no_files_clock_or_environment(path: Path):
    tree = ast.parse(path.read_text(), str(path))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_NAMES:
                bad.append(f"line {node.lineno}: calls {func.id}()")
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and (func.value.id, func.attr) in FORBIDDEN_CALLS
            ):
                bad.append(f"line {node.lineno}: calls {func.value.id}.{func.attr}()")
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            bad.append(f"line {node.lineno}: uses .{node.attr}")
    assert not bad, f"{path.name} is pure core but " + "; ".join(bad)


def test_the_check_catches_a_shell_import(tmp_path: Path):
    """The walker sees lazy and relative imports, so the tests above can fail."""
    tree = ast.parse("def f():\n    from ..io import pipeline\n    import sla.cli.app\n")
    names = {name for _, name in imported_modules(tree, "sla.engine.batch")}
    assert "sla.io.pipeline" in names and "sla.cli.app" in names


# Distribution name -> the module it is imported as, where they differ.
IMPORT_NAMES = {
    "PyYAML": "yaml",
    "python-dateutil": "dateutil",
    "mkdocstrings": "mkdocstrings",
    "vaderSentiment": "vaderSentiment",
}
# Tools run from the command line or as plugins, never imported.
TOOLS = {
    "ruff",
    "mypy",
    "pytest-cov",
    "pytest-xdist",
    "types-PyYAML",
    "types-python-dateutil",
    "pyarrow-stubs",
    "mkdocs-material",
    "mkdocstrings",
    "tzdata",
    "pytest",
}


def declared_dependencies() -> dict[str, str]:
    import re
    import tomllib

    project = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += [s for s in extra if not s.startswith("sla[")]
    names = {re.match(r"[A-Za-z0-9_.-]+", spec).group(0) for spec in specs}  # type: ignore[union-attr]
    return {name: IMPORT_NAMES.get(name, name.lower().replace("-", "_")) for name in names - TOOLS}


def test_every_declared_dependency_is_imported():
    sources = [PACKAGE, PACKAGE.parent / "tests", PACKAGE.parent / "benchmarks"]
    imported: set[str] = set()
    for folder in sources:
        for path in folder.rglob("*.py"):
            tree = ast.parse(path.read_text())
            for _, name in imported_modules(tree, "x.y"):
                imported.add(name.split(".")[0])
            imported |= {  # pytest.importorskip("name") imports too
                node.args[0].value
                for node in ast.walk(tree)
                if isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "importorskip"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            }
    unused = {dist for dist, module in declared_dependencies().items() if module not in imported}
    assert not unused, f"declared in pyproject.toml but never imported: {sorted(unused)}"


def test_every_module_imports_first():
    """Any module of the package can be the first one a program imports
    (``import sla`` loads nothing but the errors, so nothing else sets an
    order in which modules meet): no import cycle that works only one way
    round. Each in a fresh interpreter, two at a time."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    names = sorted(
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in PACKAGE.rglob("*.py")
        if path.name != "__main__.py"
    )
    assert "sla.engine.lines" in names and "sla" in names

    def failure(name: str) -> str | None:
        run = subprocess.run(
            [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, cwd=PACKAGE.parent
        )
        return None if run.returncode == 0 else f"{name}: {run.stderr.strip().splitlines()[-1]}"

    with ThreadPoolExecutor(2) as pool:
        failed = [f for f in pool.map(failure, names) if f is not None]
    assert failed == []
