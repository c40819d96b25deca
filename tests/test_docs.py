"""The documentation runs as written.

For README.md and every page in docs/:

- every ```python block runs; the blocks of one page share a namespace, in
  page order, like a reader typing them into one session;
- every shell line (```sh, ```bash, ```console) that runs ``sla ...``
  (also ``.venv/bin/sla ...`` after ``&&``) runs through bash with ``sla`` on
  the PATH, and exits 0, or N when the line ends with ``# exits N``; in a
  ```console block the lines after ``$ sla ...`` are its expected output
  (standard output, then standard error), where a line ``...`` stands for
  any number of lines;
- every YAML or JSON block that is a whole policy file (it has
  ``policies``) loads.

Everything runs in a scratch copy of the repository's sample data
(``policies/``, ``samples/``, ``docs/policy.schema.json``), so commands that
write files (``--output report.html``, ``sla schema > ...``) leave the
repository alone.

Two comments, on the line before a block, steer this:

- ``<!-- docs-test: skip (reason) -->``: the block is not run (it needs a
  cluster, say); keep these few;
- ``<!-- docs-test: save-as NAME -->``: the block's text is saved as the file
  NAME before the commands after it run (an input the page shows).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
POLICY_LANGUAGES = {"yaml", "yml", "json"}
MAX_SKIPPED = 3

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<lang>[^\s`{]*)")
DIRECTIVE = re.compile(r"^<!--\s*docs-test:\s*(?P<verb>[\w-]+)\s*(?P<arg>.*?)\s*-->$")
EXITS = re.compile(r"#\s*exits\s+(?P<status>\d+)\s*$")


@dataclass
class Block:
    page: Path
    line: int  # the line of the opening fence, 1-based
    lang: str
    text: str
    verb: str | None = None  # the docs-test directive before it
    arg: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass
class Command:
    block: Block
    line: int
    text: str
    status: int
    output: list[str] | None  # expected output, from a console block


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a page, with the directive before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match["indent"], match["fence"]
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        body = [
            line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[i + 1 : end]
        ]
        before = i - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        directive = DIRECTIVE.match(lines[before].strip()) if before >= 0 else None
        found.append(
            Block(
                page,
                i + 1,
                match["lang"].lower(),
                "\n".join(body) + "\n",
                directive["verb"] if directive else None,
                directive["arg"] if directive else "",
            )
        )
        i = end + 1
    return found


def sla_commands(block: Block) -> Iterator[Command]:
    """The ``sla ...`` commands of a shell block (prompts, continuations and
    ``&&`` chains understood), with the status and output each must give."""
    lines = block.text.splitlines()
    console = block.lang == "console"
    i = 0
    while i < len(lines):
        start = i
        line = lines[i]
        i += 1
        if console and not line.startswith("$ "):
            continue
        text = line[2:] if line.startswith("$ ") else line
        while text.rstrip().endswith("\\") and i < len(lines):
            text = text.rstrip()[:-1] + " " + lines[i].strip()
            i += 1
        output = None
        if console:
            output = []
            while i < len(lines) and not lines[i].startswith("$ "):
                output.append(lines[i].rstrip())
                i += 1
        exits = EXITS.search(text)
        for part in text.split("&&"):
            part = part.strip()
            if part.startswith(".venv/bin/sla "):
                part = part.removeprefix(".venv/bin/")
            if part.startswith("sla "):
                yield Command(
                    block, block.line + 1 + start, part, int(exits["status"]) if exits else 0, output
                )


def output_matches(expected: list[str], actual: list[str]) -> bool:
    """``expected`` equals ``actual`` line by line; a line ``...`` matches any
    run of lines (also none)."""
    while expected and not expected[-1]:
        expected = expected[:-1]
    while actual and not actual[-1]:
        actual = actual[:-1]
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(output_matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and output_matches(expected[1:], actual[1:])


def all_blocks() -> list[Block]:
    return [b for page in PAGES for b in blocks(page)]


def _ids(pages: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in pages]


PYTHON_PAGES = [p for p in PAGES if any(b.lang == "python" and b.verb != "skip" for b in blocks(p))]
COMMAND_PAGES = [
    p for p in PAGES if any(list(sla_commands(b)) for b in blocks(p) if b.lang in SHELL_LANGUAGES)
]


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A scratch folder with the sample data, and ``sla`` on the PATH."""
    for folder in ("policies", "samples"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "policy.schema.json", tmp_path / "docs")
    return tmp_path


def _environment(workspace: Path) -> dict[str, str]:
    bin_dir = workspace / ".bin"
    bin_dir.mkdir(exist_ok=True)
    sla = bin_dir / "sla"
    sla.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m sla.cli "$@"\n')
    sla.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("COLUMNS", None)
    return env


def _save(block: Block, workspace: Path) -> None:
    target = workspace / block.arg
    assert block.arg and target.resolve().is_relative_to(workspace.resolve()), f"{block.where}: bad save-as"
    target.write_text(block.text, encoding="utf-8")


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=_ids(PYTHON_PAGES))
def test_python_blocks_run(page: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workspace)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in blocks(page):
        if block.verb == "save-as":
            _save(block, workspace)
        if block.lang != "python" or block.verb == "skip":
            continue
        # Padded so that a traceback names the line in the page.
        code = compile("\n" * block.line + block.text, str(page), "exec")
        try:
            exec(code, namespace)
        except Exception as exc:
            pytest.fail(f"{block.where}: the example raises {exc!r}")


@pytest.mark.parametrize("page", COMMAND_PAGES, ids=_ids(COMMAND_PAGES))
def test_sla_commands_run(page: Path, workspace: Path) -> None:
    env = _environment(workspace)
    for block in blocks(page):
        if block.verb == "save-as":
            _save(block, workspace)
        if block.lang not in SHELL_LANGUAGES or block.verb == "skip":
            continue
        for command in sla_commands(block):
            where = f"{page.relative_to(ROOT)}:{command.line}: {command.text}"
            done = subprocess.run(
                ["bash", "-c", command.text],
                cwd=workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == command.status, (
                f"{where}\nexits {done.returncode}, the page says {command.status}\n{done.stderr[-2000:]}"
            )
            if command.output:
                actual = (done.stdout + done.stderr).splitlines()
                assert output_matches(command.output, [line.rstrip() for line in actual]), (
                    f"{where}\nthe page shows:\n"
                    + "\n".join(command.output)
                    + "\n\nit prints:\n"
                    + "\n".join(actual)
                )


def policy_blocks() -> list[Block]:
    found = []
    for block in all_blocks():
        if block.lang not in POLICY_LANGUAGES or block.verb in ("skip", "save-as"):
            continue
        try:
            data = yaml.safe_load(block.text)
        except yaml.YAMLError:
            continue  # not one document (JSON lines, a fragment)
        if isinstance(data, dict) and "policies" in data:
            found.append(block)
    return found


@pytest.mark.parametrize("block", policy_blocks(), ids=lambda b: b.where)
def test_policy_examples_load(block: Block) -> None:
    import sla

    try:
        sla.load_policies(block.text)
    except sla.PolicyError as exc:
        pytest.fail(f"{block.where}: the policy example does not load:\n{exc}")


def test_the_pages_are_tested() -> None:
    """The parsing above finds what the pages hold (an empty harvest would pass silently)."""
    every = all_blocks()
    assert sum(b.lang == "python" and b.verb != "skip" for b in every) >= 8
    assert sum(len(list(sla_commands(b))) for b in every if b.lang in SHELL_LANGUAGES) >= 20
    assert len(policy_blocks()) >= 8
    readme = blocks(ROOT / "README.md")
    assert any(c.text.startswith("sla report") for b in readme for c in sla_commands(b))


def test_few_blocks_are_skipped_and_each_says_why() -> None:
    skipped = [b for b in all_blocks() if b.verb == "skip"]
    assert len(skipped) <= MAX_SKIPPED, [b.where for b in skipped]
    for block in skipped:
        assert re.fullmatch(r"\(.{10,}\)", block.arg), f"{block.where}: say why, as 'skip (reason)'"
    unknown = [b.where for b in all_blocks() if b.verb not in (None, "skip", "save-as")]
    assert not unknown, f"unknown docs-test directives at {unknown}"


def test_the_checks_catch_breakage() -> None:
    """The harvest and the output match fail on what they should."""
    block = Block(ROOT / "README.md", 1, "console", "$ sla evaluate x  # exits 1\nrow\n...\nlast\n")
    (command,) = sla_commands(block)
    assert command.status == 1 and command.output == ["row", "...", "last"]
    assert output_matches(command.output, ["row", "a", "b", "last"])
    assert output_matches(command.output, ["row", "last"])
    assert not output_matches(command.output, ["row", "a"])
    assert not output_matches(["only"], ["only", "more"])
    chained = Block(ROOT / "README.md", 1, "sh", "pip install . && .venv/bin/sla report --x\n")
    assert [c.text for c in sla_commands(chained)] == ["sla report --x"]
