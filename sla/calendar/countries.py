"""Holiday countries of the ``holidays`` package, loading only the countries used.

``holidays.country_holidays("DE")`` imports the package ``holidays.countries``,
whose ``__init__`` imports all of its 250 countries: about 50 ms, a sixth of a
short command's start-up. The package's registry (``holidays.registry.COUNTRIES``)
names each country's module and codes, so the codes are known without an
import and only the modules of the countries a calendar names are loaded.

A country module that builds on another country (some territories do) imports
``holidays.countries`` itself, and so costs what it always did. When the
registry or a module file is not where this version of the package keeps it,
every function falls back to the package's own functions: the answers are the
same, only slower.

>>> "DE" in supported_countries() and "DEU" in supported_countries()
True
>>> sorted(country_holidays("DE", subdiv="BE", years=2026).keys())[:2]
[datetime.date(2026, 1, 1), datetime.date(2026, 3, 8)]
>>> "BE" in subdivisions("DE")
True
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections.abc import Iterable
from types import ModuleType
from typing import Any

_PACKAGE = "holidays.countries"
# A country's module is loaded at most once; the lock keeps two threads that
# meet the same country from loading it twice (harmless, but wasted).
_LOCK = threading.Lock()
_LOADED: dict[str, Any] = {}


def _registry() -> dict[str, tuple[str, ...]] | None:
    """``{module name: (class name, alpha-2, alpha-3, aliases...)}``, or None
    when this version of ``holidays`` keeps no such registry."""
    try:
        from holidays.registry import COUNTRIES
    except ImportError:  # pragma: no cover - holidays older than the registry
        return None
    return COUNTRIES if isinstance(COUNTRIES, dict) else None


def _codes(entry: tuple[str, ...]) -> Iterable[str]:
    # the codes ``holidays.list_supported_countries()`` lists: every code of
    # two or three letters after the class name (alpha-2, alpha-3, aliases)
    return (code for code in entry[1:] if 2 <= len(code) <= 3)


def supported_countries() -> tuple[str, ...]:
    """Every country code ``holidays.country_holidays`` accepts (alpha-2,
    alpha-3 and aliases such as ``UK``), found without importing a country,
    in the order of ``holidays.list_supported_countries()``.

    >>> {"US", "USA", "GB", "UK"} <= set(supported_countries())
    True
    """
    registry = _registry()
    if registry is None:  # pragma: no cover - holidays older than the registry
        import holidays

        return tuple(holidays.list_supported_countries())
    return tuple(code for entry in registry.values() for code in _codes(entry))


def _module_of(code: str) -> str | None:
    """The module of a country's code or class name, or None if unknown
    (the names ``holidays`` itself answers to, e.g. ``DE``, ``DEU``, ``Germany``)."""
    registry = _registry()
    if registry is None:  # pragma: no cover - holidays older than the registry
        return None
    for module, entry in registry.items():
        if code in entry:
            return module
    return None


def _load_alone(module: str) -> ModuleType | None:
    """A country's module run from its file without the package ``__init__``
    (so without the other 249 countries), or None when the file is not there.

    The module is not entered in ``sys.modules``: a later ``import
    holidays.countries`` by anyone runs the package as usual.
    """
    import holidays

    path = os.path.join(os.path.dirname(holidays.__file__), "countries", f"{module}.py")
    spec = importlib.util.spec_from_file_location(f"{_PACKAGE}.{module}", path)
    if spec is None or spec.loader is None or not os.path.isfile(path):
        return None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def country_entity(code: str) -> Any:
    """The ``holidays`` class of a country code (or of its class name).

    Raises ``NotImplementedError`` (as ``holidays.country_holidays`` does) for
    a code the package does not know.

    >>> country_entity("DE").__name__, country_entity("Germany").__name__
    ('DE', 'Germany')
    """
    if code in _LOADED:
        return _LOADED[code]
    if _registry() is None:  # pragma: no cover - holidays older than the registry
        import holidays

        try:
            return getattr(holidays, code)
        except AttributeError:
            raise NotImplementedError(f"Country {code} not available") from None
    module = _module_of(code)
    if module is None:
        raise NotImplementedError(f"Country {code} not available")
    with _LOCK:
        if code not in _LOADED:
            # once the package is imported, its own module is the cheap one
            loaded = sys.modules.get(f"{_PACKAGE}.{module}") or (
                None if _PACKAGE in sys.modules else _load_alone(module)
            )
            if loaded is None:
                loaded = importlib.import_module(f"{_PACKAGE}.{module}")
            # by the name asked for, as the package does: DE is a subclass of Germany
            _LOADED[code] = getattr(loaded, code)
    return _LOADED[code]


def country_holidays(
    code: str,
    *,
    subdiv: str | None = None,
    years: int | Iterable[int] | None = None,
    categories: Iterable[str] | None = None,
    language: str | None = None,
) -> Any:
    """``holidays.country_holidays`` for the options a calendar uses.

    >>> country_holidays("US", years=2026)[__import__("datetime").date(2026, 7, 4)]
    'Independence Day'
    """
    entity = country_entity(code)
    return entity(years=years, subdiv=subdiv, categories=categories, language=language)


def subdivisions(code: str) -> list[str]:
    """The subdivision codes of a country (``[]`` when it has none).

    >>> subdivisions("SG")
    []
    """
    return [str(s) for s in country_entity(code).subdivisions]
