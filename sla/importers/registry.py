"""The ``SOURCE`` words of ``sla import`` and the classes that read them,
imported only when asked for (a vendor's module loads nothing for the others)."""

from __future__ import annotations

import importlib

from sla.errors import SlaError
from sla.importers.base import Source
from sla.policy.wording import suggest

#: Source word -> ``module:Class``.
SOURCES: dict[str, str] = {
    "zendesk": "sla.importers.zendesk:ZendeskSource",
    "jira": "sla.importers.jira:JiraSource",
    "freshdesk": "sla.importers.freshdesk:FreshdeskSource",
    "zammad": "sla.importers.zammad:ZammadSource",
    "csv": "sla.importers.tabular:CsvSource",
}


class UnknownSource(SlaError):
    """A source word that names no source, or one this installation lacks."""


def source_class(word: str) -> type[Source]:
    """The :class:`~sla.importers.base.Source` class of a source word
    (case-insensitive); an :class:`UnknownSource` with a did-you-mean.

    >>> source_class("csv").__name__
    'CsvSource'
    >>> source_class("zendsk")
    Traceback (most recent call last):
    ...
    sla.importers.registry.UnknownSource: 'zendsk' is not a source; did you mean 'zendesk'?
    """
    key = word.strip().lower()
    target = SOURCES.get(key)
    if target is None:
        choices = list(SOURCES)
        raise UnknownSource(
            f"{word!r} is not a source" + (suggest(key, choices) or f"; expected one of {', '.join(choices)}")
        )
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise  # the module is there but something it needs is not: a real error
        raise UnknownSource(
            f"the {key} source is not available in this installation ({module_name} is missing)"
        ) from None
    found = getattr(module, class_name, None)
    if not (isinstance(found, type) and issubclass(found, Source)):
        raise UnknownSource(f"the {key} source is not available: {module_name} has no source {class_name}")
    return found


__all__ = ["SOURCES", "UnknownSource", "source_class"]
