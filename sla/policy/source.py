"""Parsing policy text (YAML, JSON, TOML) and remembering where each value
stood, so that errors can name the line and column.  Reading the text from a
file is :mod:`sla.io.policy_files`; this module only sees strings.

YAML is read safely (no object construction) with the YAML 1.2 core rules for
plain scalars: only ``true``/``false`` are booleans (``country: NO`` stays
the text ``NO``), ``25:00`` is text rather than a base-60 number and ``010``
is ten.  Unquoted dates such as ``2026-12-24`` are still dates; an impossible
one (``2026-02-30``) is kept as text so the validator can name it.

Every format goes through the same guards: a byte-order mark at the start is
skipped, control characters and lone surrogates are refused where they stand
(:func:`check_characters` on the text, :func:`document_problems` on the
parsed values, which may hold escaped ones), and nesting deeper than
:data:`MAX_DEPTH` is refused at the bracket or indent that goes too deep,
before a parser could recurse without bound.  JSON is read by a small
iterative parser of its own that keeps positions (JSON with tab indents or
long keys is not YAML).

The module runs past 400 lines because the three formats share the guards
and the position bookkeeping above; each format is one section below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from json import decoder as json_decoder
from json.scanner import NUMBER_RE
from typing import Any

import yaml

from sla.errors import PolicyError, Problem
from sla.policy.keys import BoolKey as BoolKey
from sla.policy.keys import ScalarKey as ScalarKey
from sla.policy.keys import scalar_key as scalar_key
from sla.policy.keys import scalar_text as scalar_text

PathKey = tuple[str, ...]

# Alias expansion ("billion laughs") beyond this many nodes is refused.
_MAX_NODES = 200_000
#: Mappings and lists nested deeper than this are refused, in every format:
#: a policy file needs about six levels, and parsers recurse per level.
MAX_DEPTH = 64
_BOM = "\ufeff"

# C0 controls but tab, newline and carriage return; DEL; lone surrogates.
_BAD_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_C0_NAMES = (
    *("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF"),
    *("VT", "FF", "CR", "SO", "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK"),
    *("SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS", "RS", "US"),
)


def key_name(key: object) -> str:
    """The name a mapping key stands for: two keys with the same name are the
    same key (the equality of :func:`scalar_key`; dates as YYYY-MM-DD)."""
    found = scalar_key(key)
    if found is None:
        return _key_text(key)
    kind, value = found
    return str(value) if kind == "text" else f"{kind}:{value}"


def _line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index."""
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


def character_name(char: str) -> str:
    """``U+0000 (NUL)``: how a message names a character that is not allowed."""
    code = ord(char)
    if code < 0x20:
        return f"the control character U+{code:04X} ({_C0_NAMES[code]})"
    if code == 0x7F:
        return "the control character U+007F (DEL)"
    if 0xD800 <= code <= 0xDFFF:
        return f"the lone surrogate U+{code:04X} (half of a UTF-16 pair, not a character)"
    return f"the character U+{code:04X}"


def check_characters(text: str, source: str | None) -> None:
    """Refuse control characters (but tab and line breaks) and lone surrogates, each where it stands."""
    problems = []
    for found in _BAD_CHARACTER.finditer(text):
        line, column = _line_column(text, found.start())
        problems.append(
            Problem(
                "",
                f"{character_name(found[0])} is not allowed in a policy file; remove it",
                line,
                column,
            )
        )
        if len(problems) == 10:
            break
    if problems:
        raise PolicyError(problems, source)


def _too_deep(line: int | None, column: int | None) -> Problem:
    return Problem(
        "",
        f"nested more than {MAX_DEPTH} levels deep; a policy file needs only a few levels",
        line,
        column,
    )


def document_problems(located: Located) -> list[Problem]:
    """What no format may hold: nesting deeper than MAX_DEPTH, text with control characters.

    Catches what the text check cannot see: escaped characters (JSON
    ``"\\ud800"``), TOML dotted keys nesting without brackets, mappings
    given from Python, aliases that refer to themselves.
    """
    problems: list[Problem] = []

    def text_problem(text: str, loc: tuple[object, ...]) -> None:
        found = _BAD_CHARACTER.search(text)
        if found and len(problems) < 20:
            problems.append(
                located.problem(loc, f"text with {character_name(found[0])} is not allowed; remove it")
            )

    def visit(value: object, loc: tuple[object, ...], depth: int) -> bool:
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                line, column = located.position(loc)
                problems.append(_too_deep(line, column))
                return False
            pairs: list[tuple[object, object]] = (
                list(value.items()) if isinstance(value, dict) else list(enumerate(value))
            )
            for key, item in pairs:
                child = loc + ((key,) if isinstance(value, list) else (_key_text(key),))
                if isinstance(key, str):
                    text_problem(key, child)
                if not visit(item, child, depth + 1):
                    return False
        elif isinstance(value, str):
            text_problem(value, loc)
        return True

    visit(located.data, (), 1)
    return problems


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

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Refuse a mapping or list nested deeper than MAX_DEPTH before recursing into it."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH and self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent):
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise _TooDeepError(mark.line + 1, mark.column + 1)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """As PyYAML does, but a boolean key next to an equal number (``1:``, ``true:``) stays apart."""
        self.flatten_mapping(node)
        pairs = []
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    "found unhashable key",
                    key_node.start_mark,
                ) from None
            pairs.append((key, value_node))
        numbers = {k for k, _ in pairs if isinstance(k, int | float) and not isinstance(k, bool)}
        mapping: dict[Any, Any] = {}
        for key, value_node in pairs:
            if isinstance(key, bool) and key in numbers:
                key = BoolKey(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

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


class _TooDeepError(Exception):
    def __init__(self, line: int, column: int):
        super().__init__(line, column)
        self.line = line
        self.column = column


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
    if depth > MAX_DEPTH:
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
            # 1 and 1.0 are one key (and one priority), true is another.
            name = key_name(key)
            if name in seen:
                located.duplicates.append((child, line, column, seen[name]))
                continue
            seen[name] = line
            # Point at the key: that is where a reader looks for a bad entry.
            located.positions[path_key(child)] = (line, column)
            _walk(value_node, child, located, loader, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, loc + (index,), located, loader, depth + 1)


def parse_yaml(text: str, source: str | None = None) -> Located:
    """Parse YAML (or JSON, a subset of it) keeping positions."""
    text = text.removeprefix(_BOM)
    check_characters(text, source)
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, e.g. U+FFFE
        at_line, at_column = _line_column(text, exc.position)
        raise PolicyError(
            [
                Problem(
                    "",
                    f"{character_name(chr(exc.character)) if isinstance(exc.character, int) else 'a character'} "
                    "is not allowed in a YAML file; remove it",
                    at_line,
                    at_column,
                )
            ],
            source,
        ) from None
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
    except PolicyError:
        raise
    except _TooDeepError as exc:
        raise PolicyError([_too_deep(exc.line, exc.column)], source) from None
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
    """Parse JSON keeping positions; the same values as :func:`json.loads`."""
    text = text.removeprefix(_BOM)
    check_characters(text, source)
    located = Located(None, source)
    try:
        located.data = _JsonReader(text, located).document()
    except _TooDeepError as exc:
        raise PolicyError([_too_deep(exc.line, exc.column)], source) from None
    except _JsonSyntaxError as exc:
        line, column = _line_column(text, exc.index)
        message = exc.message
        if not message:  # json's own words for the first error
            try:
                json.loads(text)
            except json.JSONDecodeError as decode_error:
                message = decode_error.msg
                line, column = decode_error.lineno, decode_error.colno
            except (ValueError, RecursionError):
                pass
        raise PolicyError(
            [Problem("", f"JSON syntax error: {message or 'unexpected text'}", line, column)], source
        ) from None
    return located


class _JsonSyntaxError(Exception):
    def __init__(self, index: int, message: str = ""):
        super().__init__(index, message)
        self.index = index
        self.message = message


_scanstring: Callable[[str, int, bool], tuple[str, int]] = json_decoder.scanstring  # type: ignore[attr-defined]
_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_CONSTANTS: dict[str, object] = {
    "null": None,
    "true": True,
    "false": False,
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
}


class _JsonReader:
    """JSON with the position of every value, without recursion: an explicit stack, MAX_DEPTH deep."""

    def __init__(self, text: str, located: Located):
        self.text = text
        self.located = located
        self.index = 0

    def _space(self) -> None:
        end = _JSON_SPACE.match(self.text, self.index)
        self.index = end.end() if end else self.index

    def _peek(self) -> str:
        return self.text[self.index : self.index + 1]

    def _mark(self, loc: tuple[object, ...], *, override: bool = False) -> None:
        where = _line_column(self.text, self.index)
        if override:
            self.located.positions[path_key(loc)] = where
        else:
            self.located.positions.setdefault(path_key(loc), where)

    def _string(self) -> str:
        try:
            value, self.index = _scanstring(self.text, self.index + 1, True)
        except json.JSONDecodeError:
            raise _JsonSyntaxError(self.index) from None
        return value

    def _scalar(self) -> object:
        char = self._peek()
        if char == '"':
            return self._string()
        number = NUMBER_RE.match(self.text, self.index)
        if number:
            integer, fraction, exponent = number.groups()
            self.index = number.end()
            if fraction or exponent:
                return float(integer + (fraction or "") + (exponent or ""))
            try:
                return int(integer)
            except ValueError:  # more digits than Python converts
                raise _JsonSyntaxError(number.start(), "the number has too many digits") from None
        for word, value in _JSON_CONSTANTS.items():
            if self.text.startswith(word, self.index):
                self.index += len(word)
                return value
        raise _JsonSyntaxError(self.index)

    def document(self) -> object:
        # Each open container: (the container, its path, the first line of each key).
        stack: list[tuple[dict[str, object] | list[object], tuple[object, ...], dict[str, int]]] = []
        loc: tuple[object, ...] = ()
        self._space()
        while True:
            # A value at self.index, for the path loc.
            self._mark(loc)
            char = self._peek()
            value: object
            if char in ("{", "["):
                if len(stack) >= MAX_DEPTH:
                    raise _TooDeepError(*_line_column(self.text, self.index))
                container: dict[str, object] | list[object] = {} if char == "{" else []
                stack.append((container, loc, {}))
                self.index += 1
                self._space()
                closing = "}" if char == "{" else "]"
                if self._peek() == closing:
                    self.index += 1
                    stack.pop()
                    value = container
                else:
                    loc = self._next_slot(stack)
                    continue
            else:
                value = self._scalar()
            # Place the finished value, closing containers as they end.
            while True:
                if not stack:
                    self._space()
                    if self.index != len(self.text):
                        raise _JsonSyntaxError(self.index)
                    return value
                container, container_loc, _seen = stack[-1]
                if isinstance(container, dict):
                    container[str(loc[-1])] = value
                else:
                    container.append(value)
                self._space()
                char = self._peek()
                if char == ",":
                    self.index += 1
                    self._space()
                    loc = self._next_slot(stack)
                    break
                if char == ("}" if isinstance(container, dict) else "]"):
                    self.index += 1
                    stack.pop()
                    value, loc = container, container_loc
                    continue
                raise _JsonSyntaxError(self.index)

    def _next_slot(
        self, stack: list[tuple[dict[str, object] | list[object], tuple[object, ...], dict[str, int]]]
    ) -> tuple[object, ...]:
        """The path of the next value in the innermost container (reading its key, if a mapping)."""
        container, container_loc, seen = stack[-1]
        if isinstance(container, list):
            return container_loc + (len(container),)
        if self._peek() != '"':
            raise _JsonSyntaxError(self.index)
        line, column = _line_column(self.text, self.index)
        key = self._string()
        child = container_loc + (key,)
        if key in seen:
            self.located.duplicates.append((child, line, column, seen[key]))
        else:
            seen[key] = line
            self.located.positions[path_key(child)] = (line, column)
        self._space()
        if self._peek() != ":":
            raise _JsonSyntaxError(self.index)
        self.index += 1
        self._space()
        return child


def parse_text(text: str, source: str | None = None) -> Located:
    """Text of unknown format: JSON if it starts with ``{`` and is JSON, else YAML."""
    if text.removeprefix(_BOM).lstrip().startswith("{"):
        try:
            return parse_json(text, source)
        except PolicyError as json_error:
            try:
                return parse_yaml(text, source)  # YAML flow style: {policies: [...]}
            except PolicyError:
                raise json_error from None
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


def _toml_nesting(text: str, source: str | None) -> None:
    """Refuse brackets nested deeper than MAX_DEPTH before the TOML parser recurses into them."""
    depth = 0
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "#":
            end = text.find("\n", index)
            index = length if end < 0 else end
        elif char in "\"'":
            quote = text[index : index + 3] if text.startswith(char * 3, index) else char
            index += len(quote)
            while index < length and not text.startswith(quote, index):
                if char == '"' and text[index] == "\\":
                    index += 1
                elif len(quote) == 1 and text[index] == "\n":
                    break  # an unclosed string: the parser names it
                index += 1
            index += len(quote)
            continue
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line, column = _line_column(text, index)
                raise PolicyError([_too_deep(line, column)], source)
        elif char in "]}":
            depth = max(depth - 1, 0)
        index += 1


def parse_toml(text: str, source: str | None = None) -> Located:
    import tomllib

    text = text.removeprefix(_BOM)
    check_characters(text, source)
    _toml_nesting(text, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = int(found[1]) if found else None
        column = int(found[2]) if found else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        raise PolicyError([Problem("", f"TOML syntax error: {message}", line, column)], source) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer with too many digits
        raise PolicyError([Problem("", f"TOML error: {exc}", None, None)], source) from None
    return Located(data, source, _toml_positions(text))
