"""Parsing policy text (YAML, JSON, TOML) and remembering where each value
stood, so that errors can name the line and column.  Reading the text from a
file is :mod:`sla.io.policy_files`; this module only sees strings.

YAML is read safely (no object construction) with the YAML 1.2 core rules for
plain scalars: only ``true``/``false`` are booleans (``country: NO`` stays
the text ``NO``), ``25:00`` is text rather than a base-60 number and ``010``
is ten.  Unquoted dates such as ``2026-12-24`` are still dates; an impossible
one (``2026-02-30``) is kept as text so the validator can name it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

import yaml

from sla.errors import PolicyError, Problem

PathKey = tuple[str, ...]

# Alias expansion ("billion laughs") beyond this many nodes is refused.
_MAX_NODES = 200_000


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
    """A parsed document and the (line, column) of every value in it (1-based).

    ``duplicates`` lists mapping keys given twice: (path, line, column, line
    of the first one).
    """

    data: object
    source: str | None = None
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[tuple[tuple[object, ...], int, int, int]] = field(default_factory=list)

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


# ------------------------------------------------------------------ YAML
class _Loader(yaml.SafeLoader):
    """Safe loading (no object construction) with YAML 1.2 core scalars."""

    def construct_date_or_text(self, node: yaml.ScalarNode) -> date | str:
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError:  # 2026-02-30: keep the text, the validator names it
            return self.construct_scalar(node)

    def construct_int_12(self, node: yaml.ScalarNode) -> int:
        """YAML 1.2 core integers: decimal (``010`` is ten), ``0o`` octal, ``0x`` hex."""
        text = str(self.construct_scalar(node))
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)


_Loader.yaml_implicit_resolvers = {}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:timestamp",
    re.compile(
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
        |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
         (?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
         (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        re.X,
    ),
    list("0123456789"),
)
_Loader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_int_12)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_date_or_text)


def _key_text(key: object) -> str:
    return key.isoformat() if isinstance(key, date) else str(key)


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = 1  # cycles (recursive aliases) count once
    size = 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            size += _expanded_size(key_node, memo) + _expanded_size(value_node, memo)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            size += _expanded_size(item, memo)
    memo[id(node)] = size
    return size


def _walk(
    node: yaml.Node, loc: tuple[object, ...], located: Located, loader: _Loader, depth: int = 0
) -> None:
    mark = node.start_mark
    located.positions.setdefault(path_key(loc), (mark.line + 1, mark.column + 1))
    if depth > 50:
        return
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            try:
                key = loader.construct_object(key_node, deep=True)
            except (yaml.YAMLError, ValueError, TypeError):
                key = key_node.value
            text = _key_text(key)
            child = loc + (text,)
            line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
            if text in seen:
                located.duplicates.append((child, line, column, seen[text]))
                continue
            seen[text] = line
            # Point at the key: that is where a reader looks for a bad entry.
            located.positions[path_key(child)] = (line, column)
            _walk(value_node, child, located, loader, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, loc + (index,), located, loader, depth + 1)


def parse_yaml(text: str, source: str | None = None) -> Located:
    """Parse YAML (or JSON, a subset of it) keeping positions."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, source)
        if _expanded_size(node, {}) > _MAX_NODES:
            raise PolicyError(
                [
                    Problem(
                        "",
                        f"the document is too large (more than {_MAX_NODES} values once aliases are expanded)",
                        1,
                        1,
                    )
                ],
                source,
            )
        # Walk before constructing: construction folds merge keys (<<) into
        # the mapping node, which would look like keys given twice.
        located = Located(None, source)
        _walk(node, (), located, loader)
        located.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        reason = "; ".join(str(part) for part in (exc.problem, exc.context) if part)
        hint = ""
        if "\t" in text and "found character '\\t'" in reason:
            hint = " (YAML indents with spaces, not tabs)"
        raise PolicyError([Problem("", f"YAML syntax error: {reason}{hint}", line, column)], source) from None
    except yaml.YAMLError as exc:
        raise PolicyError([Problem("", f"YAML error: {exc}", None, None)], source) from None
    except (ValueError, TypeError, RecursionError) as exc:  # e.g. an unhashable or odd key
        raise PolicyError([Problem("", f"YAML error: {exc}", None, None)], source) from None
    finally:
        loader.dispose()
    return located


def parse_json(text: str, source: str | None = None) -> Located:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            [Problem("", f"JSON syntax error: {exc.msg}", exc.lineno, exc.colno)], source
        ) from None
    # Valid JSON is YAML; parsing it as YAML gives us the positions.
    return parse_yaml(text, source)


# ------------------------------------------------------------------ TOML
_TOML_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_TOML_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_TOML_PART = re.compile(r"""\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*(?:\.|$)""")


def _toml_parts(dotted: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _TOML_PART.findall(dotted))


def _toml_positions(text: str) -> dict[PathKey, tuple[int, int]]:
    """Best-effort positions of tables and keys (not inside inline tables)."""
    positions: dict[PathKey, tuple[int, int]] = {(): (1, 1)}
    table: tuple[str, ...] = ()
    counts: dict[tuple[str, ...], int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TOML_HEADER.match(line)
        if header:
            parts = _toml_parts(header[2])
            # A prefix that names an array of tables means its latest element.
            resolved: tuple[str, ...] = ()
            for i, part in enumerate(parts):
                resolved += (part,)
                if resolved in counts and (i < len(parts) - 1 or header[1] == "["):
                    resolved += (str(counts[resolved] - 1),)
            if header[1] == "[[":
                index = counts.get(resolved, 0)
                counts[resolved] = index + 1
                resolved += (str(index),)
            table = resolved
            positions.setdefault(table, (number, line.index("[") + 1))
            continue
        key = _TOML_KEY.match(line)
        if key:
            column = len(line) - len(line.lstrip()) + 1
            positions.setdefault(table + _toml_parts(key[1]), (number, column))
    return positions


def parse_toml(text: str, source: str | None = None) -> Located:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = int(found[1]) if found else None
        column = int(found[2]) if found else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise PolicyError([Problem("", f"TOML syntax error: {message}", line, column)], source) from None
    return Located(data, source, _toml_positions(text))
