"""Conditions on ticket attributes: a policy's ``match``, a derive rule's
``when``, a metric's ``pause_when``.

A condition map holds when each of its keys holds. A key is an attribute
name, whose value is a scalar (the attribute equals it), a list (the
attribute equals one of its items) or an operator map (every operator
holds); or one of the reserved keys ``any`` (a list of condition maps, one
of which holds), ``all`` (all of which hold) and ``not`` (one condition map
that does not hold).

Parsing (:func:`parse_condition`) checks the map and says where it is wrong;
:meth:`Condition.compile` turns it, once, into a plain function of the
attributes (regular expressions compiled then, no pydantic on the hot path).

Equality is the policy language's everywhere: texts equal texts, numbers
equal numbers (``1`` is ``1.0``), booleans equal booleans, lists and objects
element by element, and never across kinds. A missing attribute (absent or
null) satisfies ``exists: false``, ``ne`` and ``not_in``, and nothing else.

>>> when = parse_condition({"lifetime_value": {"gte": 10000}, "not": {"tier": "enterprise"}})
>>> when.describe()
'lifetime_value >= 10000 and tier is not enterprise'
>>> holds = when.compile()
>>> holds({"lifetime_value": 12000, "tier": "free"}), holds({"lifetime_value": True})
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sla.policy.keys import BoolKey, scalar_key
from sla.policy.wording import LocatedValueError, show, suggest

Attributes = Mapping[str, object]
Predicate = Callable[[Attributes], bool]
Problems = list[tuple[tuple[object, ...], str]]

OPERATORS = ("eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "exists", "matches", "contains")
RESERVED = ("any", "all", "not")
_MISSING = object()
_SCALAR = "a text, a number or true/false"
_WORDS = {"eq": "=", "ne": "is not", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_OPPOSITE = {"eq": "ne", "ne": "eq", "in": "not_in", "not_in": "in"}


def equal(a: object, b: object) -> bool:
    """The language's equality of two JSON values.

    >>> equal(1, 1.0), equal(True, 1), equal("1", 1), equal([1, "a"], [1.0, "a"])
    (True, False, False, True)
    """
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool or ta is str or tb is str:
        return ta is tb and a == b
    if ta in (int, float) and tb in (int, float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(v, b[k]) for k, v in a.items())
    return False


def _is_number(value: object) -> bool:
    return type(value) in (int, float)


def _text(value: object) -> str:
    """A scalar as a summary shows it: texts bare unless they would read as something else."""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        plain = re.fullmatch(r"[A-Za-z_][\w./@+-]*", value) and value not in ("true", "false", "null")
        return value if plain else '"' + value.replace('"', '\\"') + '"'
    return repr(value)


# ------------------------------------------------------------------ nodes
@dataclass(frozen=True, slots=True)
class AttributeTest:
    """One operator on one attribute."""

    key: str
    op: str
    operand: object

    def describe(self, negated: bool = False) -> str:
        """In words: ``tier = enterprise``, ``channel in twitter, facebook``,
        ``lifetime_value >= 10000``; ``negated`` says the opposite."""
        key, op, operand = self.key, self.op, self.operand
        if negated and op in _OPPOSITE:
            op, negated = _OPPOSITE[op], False
        elif negated and op == "exists":
            operand, negated = not operand, False
        if op in ("in", "not_in"):
            items = [_text(v) for v in operand]  # type: ignore[attr-defined]
            if len(items) == 1:
                text = f"{key} {'=' if op == 'in' else 'is not'} {items[0]}"
            else:
                text = f"{key} {'in' if op == 'in' else 'not in'} {', '.join(items) or '[]'}"
        elif op in _WORDS:
            text = f"{key} {_WORDS[op]} {_text(operand)}"
        elif op == "exists":
            text = f"{key} is {'set' if operand else 'not set'}"
        elif op == "matches":
            text = f"{key} matches /{operand}/"
        else:
            text = f"{key} contains {_text(operand)}"
        return f"not {text}" if negated else text

    def compile(self) -> Predicate:
        return _compile_test(self.key, self.op, self.operand)

    def keys(self) -> frozenset[str]:
        return frozenset((self.key,))

    def never(self) -> bool:
        return self.op == "in" and not self.operand

    def always(self) -> bool:
        return self.op == "not_in" and not self.operand


@dataclass(frozen=True, slots=True)
class Group:
    """``all`` (every part holds; a condition map is one), ``any`` or ``not``."""

    kind: str
    parts: tuple[Node, ...]

    def describe(self) -> str:
        if self.kind == "not":
            (inner,) = self.parts
            if isinstance(inner, Group) and inner.kind == "all" and len(inner.parts) == 1:
                inner = inner.parts[0]  # not: {tier: enterprise} reads "tier is not enterprise"
            if isinstance(inner, AttributeTest):
                return inner.describe(negated=True)
            text = inner.describe()
            return f"not ({text})" if " and " in text or " or " in text else f"not {text}"
        if not self.parts:
            return "never" if self.kind == "any" else "always"
        joiner = " and " if self.kind == "all" else " or "
        texts = [p.describe() for p in self.parts]
        texts = [f"({t})" if len(self.parts) > 1 and (" or " in t or " and " in t) else t for t in texts]
        return joiner.join(texts)

    def compile(self) -> Predicate:
        parts = tuple(p.compile() for p in self.parts)
        if self.kind == "not":
            (inner,) = parts
            return lambda attrs: not inner(attrs)
        if len(parts) == 1:
            return parts[0]
        if self.kind == "all":

            def every(attrs: Attributes) -> bool:
                for part in parts:
                    if not part(attrs):
                        return False
                return True

            return every

        def some(attrs: Attributes) -> bool:
            for part in parts:
                if part(attrs):
                    return True
            return False

        return some

    def keys(self) -> frozenset[str]:
        return frozenset().union(*(p.keys() for p in self.parts))

    def never(self) -> bool:
        if self.kind == "not":
            return self.parts[0].always()
        if self.kind == "all":
            return any(p.never() for p in self.parts)
        return all(p.never() for p in self.parts)

    def always(self) -> bool:
        if self.kind == "not":
            return self.parts[0].never()
        if self.kind == "all":
            return all(p.always() for p in self.parts)
        return any(p.always() for p in self.parts)


Node = AttributeTest | Group


@dataclass(frozen=True, slots=True)
class AttributeCondition:
    """A parsed condition map: describe it, list its attributes, compile it."""

    root: Group

    def describe(self) -> str:
        return "every ticket" if not self.root.parts else self.root.describe()

    def compile(self) -> Predicate:
        if not self.root.parts:
            return lambda attrs: True
        return self.root.compile()

    def keys(self) -> frozenset[str]:
        return self.root.keys()

    def never(self) -> bool:
        """True when no attributes can satisfy it (``any: []``, ``in: []``...)."""
        return self.root.never()

    def why_not(self, attributes: Attributes) -> str | None:
        """Why the condition does not hold for the attributes (None if it holds)."""
        for part in self.root.parts:
            if not part.compile()(attributes):
                if isinstance(part, AttributeTest):
                    value = attributes.get(part.key)
                    if value is None:
                        return f"the ticket has no {part.key!r}"
                    return f"{part.key} is {show(value)}, so not: {part.describe()}"
                return f"not: {part.describe()}"
        return None


# ------------------------------------------------------------- compiling
def _compile_test(key: str, op: str, operand: object) -> Predicate:
    missing = _MISSING
    if op in ("eq", "ne"):
        same = _equals(operand)
        if op == "eq":
            return lambda attrs: same(attrs.get(key, missing))
        return lambda attrs: (v := attrs.get(key)) is None or not same(v)
    if op in ("in", "not_in"):
        wanted = frozenset(scalar_key(v) for v in operand)  # type: ignore[attr-defined]
        if op == "in":
            return lambda attrs: scalar_key(attrs.get(key)) in wanted
        return lambda attrs: (v := attrs.get(key)) is None or scalar_key(v) not in wanted
    if op in ("gt", "gte", "lt", "lte"):
        bound: float = operand  # type: ignore[assignment]  # parse_condition checked: a number (int or float, compared exactly)
        if op == "gt":
            return lambda attrs: _is_number(v := attrs.get(key)) and v > bound  # type: ignore[operator]
        if op == "gte":
            return lambda attrs: _is_number(v := attrs.get(key)) and v >= bound  # type: ignore[operator]
        if op == "lt":
            return lambda attrs: _is_number(v := attrs.get(key)) and v < bound  # type: ignore[operator]
        return lambda attrs: _is_number(v := attrs.get(key)) and v <= bound  # type: ignore[operator]
    if op == "exists":
        if operand:
            return lambda attrs: attrs.get(key) is not None
        return lambda attrs: attrs.get(key) is None
    if op == "matches":
        search = re.compile(str(operand)).search
        return lambda attrs: type(v := attrs.get(key)) is str and search(v) is not None
    # contains
    needle = operand
    text_needle = type(needle) is str

    def contains(attrs: Attributes) -> bool:
        value = attrs.get(key)
        if type(value) is list:
            return any(equal(item, needle) for item in value)
        return text_needle and type(value) is str and needle in value  # type: ignore[operator]

    return contains


def _equals(operand: object) -> Callable[[object], bool]:
    """A test for equality with a scalar, specialised on the scalar's kind."""
    if type(operand) is str:
        return lambda v: type(v) is str and v == operand
    if type(operand) is bool:
        return lambda v: v is operand
    return lambda v: type(v) in (int, float) and v == operand


# --------------------------------------------------------------- parsing
def _scalar_problem(value: object) -> str | None:
    if value is None:
        return f"null; a condition never names null (use {{exists: false}}); expected {_SCALAR}"
    if isinstance(value, date):
        return f"{show(value)} is a date; quote it to compare the text"
    if isinstance(value, BoolKey):
        return None
    if isinstance(value, (list, dict)):
        return f"{show(value)} is a {'list' if isinstance(value, list) else 'mapping'}; expected {_SCALAR}"
    if not isinstance(value, (str, int, float, bool)):
        return f"{show(value)}; expected {_SCALAR}"
    return None


def _operand(op: str, value: object, path: tuple[object, ...], problems: Problems) -> object:
    """Check one operator's operand; returns it as the predicate wants it."""
    if op in ("eq", "ne", "contains"):
        problem = _scalar_problem(value)
        if problem:
            problems.append((path, f"{op} takes {_SCALAR}; got {problem}" if value is not None else problem))
        return value
    if op in ("in", "not_in"):
        if not isinstance(value, list):
            problems.append((path, f"{op} takes a list of values, like [a, b]; got {show(value)}"))
            return []
        for index, item in enumerate(value):
            problem = _scalar_problem(item)
            if problem:
                problems.append((path + (index,), problem))
        return tuple(value)
    if op in ("gt", "gte", "lt", "lte"):
        if not _is_number(value):
            problems.append((path, f"{op} takes a number (not true/false); got {show(value)}"))
        elif value != value:  # NaN (YAML's .nan): no number compares with it, so it never holds
            problems.append((path, f"{op} takes a number; .nan compares with none, so it never holds"))
        return value
    if op == "exists":
        if not isinstance(value, bool):
            problems.append((path, f"exists takes true or false; got {show(value)}"))
        return value
    # matches
    if not isinstance(value, str):
        problems.append((path, f"matches takes a regular expression as text; got {show(value)}"))
        return value
    try:
        re.compile(value)
    except re.error as exc:
        where = f" at character {exc.pos + 1}" if exc.pos is not None else ""
        problems.append((path, f"the regular expression {value!r} does not compile{where}: {exc.msg}"))
    return value


def _attribute(key: str, value: object, path: tuple[object, ...], problems: Problems) -> list[Node]:
    if isinstance(value, dict):
        if not value:
            problems.append(
                (path, f"an empty operator map; expected operators like {{gte: 10}} ({', '.join(OPERATORS)})")
            )
            return []
        tests: list[Node] = []
        for op, operand in value.items():
            if op not in OPERATORS:
                hint = suggest(op, OPERATORS) or f"; operators are {', '.join(OPERATORS)}"
                problems.append((path + (op,), f"unknown operator {show(op)}{hint}"))
                continue
            tests.append(AttributeTest(key, str(op), _operand(str(op), operand, path + (op,), problems)))
        return tests
    if isinstance(value, list):
        if not value:
            problems.append((path, f"an empty list never matches; expected {_SCALAR}, or a list of them"))
        for index, item in enumerate(value):
            problem = _scalar_problem(item)
            if problem:
                problems.append((path + (index,), f"{problem} inside a list; a list holds plain values"))
        return [AttributeTest(key, "in", tuple(value))]
    problem = _scalar_problem(value)
    if problem:
        problems.append((path, problem))
    return [AttributeTest(key, "eq", value)]


def _parse_map(value: object, path: tuple[object, ...], problems: Problems, what: str) -> Group:
    if not isinstance(value, dict):
        problems.append((path, f"{show(value)}; expected a condition map, like {{channel: email}}"))
        return Group("all", ())
    parts: list[Node] = []
    for key, item in value.items():
        here = path + (key,)
        if not isinstance(key, str) or isinstance(key, BoolKey):
            problems.append((here, f"{what} key {show(key)} is not an attribute name; write it as text"))
            continue
        if key in ("any", "all"):
            if not isinstance(item, list):
                problems.append((here, f"{key} takes a list of condition maps; got {show(item)}"))
                continue
            maps = tuple(_parse_map(m, here + (i,), problems, what) for i, m in enumerate(item))
            parts.append(Group(key, maps))
        elif key == "not":
            parts.append(Group("not", (_parse_map(item, here, problems, what),)))
        else:
            parts.extend(_attribute(key, item, here, problems))
    return Group("all", tuple(parts))


def parse_condition(value: object, path: Sequence[object] = (), what: str = "match") -> AttributeCondition:
    """Check a condition map (``what`` names it in messages: match, when...);
    raises :class:`LocatedValueError` listing every problem (path below
    ``path``, message) when it is not a valid one."""
    problems: Problems = []
    root = _parse_map({} if value is None else value, tuple(path), problems, what)
    if problems:
        raise LocatedValueError.collect(problems)
    return AttributeCondition(root)
