"""MkDocs hook: tidy docstring markup that the API page would show as-is.

Until the package's docstrings are written in Markdown:

- Sphinx roles (``:class:`~sla.errors.PolicyError```) become plain code with
  the name (the short name after ``~``);
- references to the design notes the docs do not ship ("(SEMANTICS.md
  section 2)") are dropped: the rules are stated in these pages.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|meth|func|data|attr|mod|exc|obj):<code>(~?)([\w.]+)</code>")
_NOTES = re.compile(r"\s*\(SEMANTICS\.md sections? [\d, and]+\)")


def _code(match: re.Match[str]) -> str:
    tilde, target = match.group(1), match.group(2)
    return f"<code>{target.rsplit('.', 1)[-1] if tilde else target}</code>"


def on_page_content(html: str, **kwargs: Any) -> str:
    return _NOTES.sub("", _ROLE.sub(_code, html))
