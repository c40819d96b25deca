"""Reading structured files (YAML, JSON, TOML) and remembering where each
value stood, so that errors can name the line and column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import PolicyError, Problem

PathKey = tuple[str, ...]


def path_key(loc: tuple[object, ...]) -> PathKey:
    return tuple(str(part) for part in loc)


def render_path(loc: tuple[object, ...]) -> str:
    """``('policies', 1, 'targets')`` -> ``policies[1].targets``."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class Located:
    """A parsed document and the (line, column) of every value in it (1-based)."""

    data: object
    source: str | None = None
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: tuple[object, ...]) -> tuple[int | None, int | None]:
        """The position of ``loc``, else of its nearest located ancestor."""
        key = path_key(loc)
        while True:
            if key in self.positions:
                return self.positions[key]
            if not key:
                return None, None
            key = key[:-1]

    def problem(self, loc: tuple[object, ...], message: str) -> Problem:
        line, column = self.position(loc)
        return Problem(render_path(loc), message, line, column)


class _Loader(yaml.SafeLoader):
    """Safe loading (no object construction) that keeps node positions."""


def _walk(node: yaml.Node, loc: tuple[str, ...], out: dict[PathKey, tuple[int, int]], loader: _Loader) -> None:
    mark = node.start_mark
    out.setdefault(loc, (mark.line + 1, mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            try:
                key = loader.construct_object(key_node, deep=True)
            except yaml.YAMLError:
                key = key_node.value
            child = loc + (str(key),)
            # Point at the key: that is where a reader looks for a bad entry.
            out[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk(value_node, child, out, loader)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, loc + (str(index),), out, loader)


def parse_yaml(text: str, source: str | None = None) -> Located:
    """Parse YAML (or JSON, a subset of it) keeping positions."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located({}, source)
        data = loader.construct_document(node)
        positions: dict[PathKey, tuple[int, int]] = {}
        _walk(node, (), positions, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        reason = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise PolicyError([Problem("", f"YAML syntax error: {reason}", line, column)], source) from None
    except yaml.YAMLError as exc:
        raise PolicyError([Problem("", f"YAML error: {exc}", None, None)], source) from None
    finally:
        loader.dispose()
    return Located(data, source, positions)


def parse_json(text: str, source: str | None = None) -> Located:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError([Problem("", f"JSON syntax error: {exc.msg}", exc.lineno, exc.colno)], source) from None
    # Valid JSON is YAML; parsing it as YAML gives us the positions.
    return parse_yaml(text, source)


def parse_toml(text: str, source: str | None = None) -> Located:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([Problem("", f"TOML syntax error: {exc}", None, None)], source) from None
    return Located(data, source)


def read_document(path: str | Path) -> Located:
    """Read a policy document, choosing the parser by the file's suffix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([Problem("", f"cannot read the file: {exc.strerror or exc}")], str(path)) from None
    except UnicodeDecodeError:
        raise PolicyError([Problem("", "the file is not UTF-8 text")], str(path)) from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return parse_json(text, str(path))
    if suffix == ".toml":
        return parse_toml(text, str(path))
    return parse_yaml(text, str(path))
