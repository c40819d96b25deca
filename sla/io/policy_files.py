"""Policy files on disk: reading one and handing it to the pure core.

:func:`read_document` reads a file and parses it by its suffix
(:mod:`sla.policy.source`); :func:`load_policies` takes a path, YAML/JSON
text or a mapping and compiles it (:func:`sla.policy.compile.compile_document`).
This is the only place the policy side of the SDK touches the file system.

>>> policies = load_policies('''
... policies:
...   - name: everyone
...     targets: {first_response: 1h}
... ''')
>>> policies.policy_for({"channel": "email"}).name
'everyone'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sla.errors import PolicyError, Problem
from sla.policy.compile import PolicySet, compile_document
from sla.policy.source import Located, parse_json, parse_toml, parse_yaml

_SUFFIXES = {".yaml", ".yml", ".json", ".toml"}


def read_document(path: str | Path) -> Located:
    """Read a policy document, choosing the parser by the file's suffix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError([Problem("", "no such file")], str(path)) from None
    except IsADirectoryError:
        raise PolicyError([Problem("", "is a directory, not a policy file")], str(path)) from None
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


def load_policies(source: str | Path | Mapping[str, object]) -> PolicySet:
    """Load and validate a policy file (a path, YAML/JSON text, or a mapping).

    A string naming a ``.yaml``/``.yml``/``.json``/``.toml`` file (one line)
    is read as a path; any other string is YAML (JSON is YAML too).

    Raises :class:`~sla.errors.PolicyError` listing every problem with file,
    line and path.
    """
    if isinstance(source, Mapping):
        located = Located(dict(source), None)
    elif isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and Path(source).suffix.lower() in _SUFFIXES
    ):
        located = read_document(source)
    else:
        located = parse_yaml(str(source))
    return compile_document(located)


__all__ = ["load_policies", "read_document"]
