"""Compiled policy files kept between commands, so that a command whose
policy file has not changed starts without parsing, validating or compiling
it, and without importing the libraries that do (PyYAML, pydantic): on this
machine those cost a command more CPU time than reading 10,000 tickets
(``docs/performance.md``).

An entry is the pickled :class:`~sla.policy.runtime.PolicySet`, stored
under a 256-bit BLAKE2b digest of everything its compilation depends on:
the file's bytes, the path as given and the working folder (error texts and
iCalendar files are read relative to them), Python's version, ``sla``'s own
files and the libraries whose results it holds (name, size and modification
time of each: pydantic, PyYAML, holidays, tzdata and the system's zone
folders). The iCalendar files a policy names are checked on every load by
their digest. Any difference is a miss: the file is compiled again and the
entry replaced. Files that fail to compile are never stored, so every error
is told as before, with its file and line.

Where: ``$SLA_CACHE_DIR``, else ``$XDG_CACHE_HOME/sla``, else ``~/.cache/sla``;
``SLA_NO_CACHE=1`` turns the cache off. The folder is made private to the
user (mode 700), an entry owned by anyone else is ignored, at most
:data:`MAX_ENTRIES` entries are kept (the least recently used go), and a
folder that cannot be written only means no cache.

>>> import os, tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> policy = folder / "policy.yaml"
>>> _ = policy.write_text("policies: [{name: all, targets: {first_response: 1h}}]")
>>> env = {"SLA_CACHE_DIR": str(folder / "cache")}
>>> first = load_cached(policy, env)     # compiled, then stored
>>> again = load_cached(policy, env)     # loaded from the cache
>>> again.policies[0].name, len(list((folder / "cache" / "policies").iterdir()))
('all', 1)
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sla.io import policy_files

try:
    # CPython's own BLAKE2 module, not hashlib: importing hashlib loads
    # OpenSSL's library too, 3 ms of every command's start.
    from _blake2 import blake2b
except ImportError:  # (a Python without it)
    from hashlib import blake2b

if TYPE_CHECKING:
    from sla.policy.runtime import PolicySet

#: Bumped when an entry's layout changes; older entries then miss.
FORMAT = 1
#: Entries kept; beyond this, the least recently used are removed.
MAX_ENTRIES = 64
#: The libraries whose results an entry holds, named by their import names.
_LIBRARIES = ("pydantic", "pydantic_core", "yaml", "holidays", "tzdata")

_build: bytes | None = None
#: The entries this process loaded or stored since :func:`store_learned`
#: last ran, by entry (one each, so a long-lived caller holds no more than
#: its files): the policy set, how many years of holidays its calendars knew
#: then, and its iCalendar files' digests.
_in_use: dict[Path, tuple[PolicySet, int, tuple[tuple[str, str | None], ...]]] = {}


def cache_folder(env: Mapping[str, str] | None = None) -> Path | None:
    """The folder of the policy cache (None: turned off by ``SLA_NO_CACHE``,
    or no home folder to put it in)."""
    env = os.environ if env is None else env
    if env.get("SLA_NO_CACHE"):
        return None
    if env.get("SLA_CACHE_DIR"):
        return Path(env["SLA_CACHE_DIR"])
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "sla"
    try:
        return Path.home() / ".cache" / "sla"
    except RuntimeError:  # no home folder to be found: no cache
        return None


def load_cached(path: str | Path, env: Mapping[str, str] | None = None) -> PolicySet:
    """The compiled policy file at ``path``, from the cache when it is there
    and still right, else compiled (and stored). Errors are those of
    :func:`sla.io.policy_files.load_policies`."""
    raw = policy_files.read_bytes(path)
    folder = cache_folder(env)
    if folder is None:
        return _compile(raw, path)[0]
    entry = folder / "policies" / f"{_key(path, raw)}.pickle"
    found = _read(entry)
    if found is not None:
        policies, dependencies = found
    else:
        policies, dependencies = _compile(raw, path)
        _write(entry, policies, dependencies)
    _in_use[entry] = (policies, policies.holiday_years_known(), dependencies)
    return policies


def store_learned() -> None:
    """Store again each policy set loaded since the last call whose calendars
    have looked up the holidays of more years since: the next command then
    starts with them, without the holidays library. ``sla`` calls this when
    a command has finished."""
    while _in_use:
        entry, (policies, known, dependencies) = _in_use.popitem()
        if policies.holiday_years_known() > known:
            _write(entry, policies, dependencies)


def _compile(raw: bytes, path: str | Path) -> tuple[PolicySet, tuple[tuple[str, str | None], ...]]:
    located = policy_files.parse_bytes(raw, path)
    # The iCalendar files' digests are taken before they are read for the
    # compiler, so a file changed in between is read again next time.
    dependencies = tuple((str(p.resolve()), _digest(p)) for p in policy_files.ics_paths(located).values())
    return policy_files.compile_located(located), dependencies


def _digest(path: Path) -> str | None:
    try:
        return blake2b(path.read_bytes(), digest_size=32).hexdigest()
    except OSError:
        return None


def _key(path: str | Path, raw: bytes) -> str:
    key = blake2b(digest_size=32)
    for part in (str(FORMAT), sys.version, os.getcwd(), str(path)):
        key.update(part.encode("utf-8", "surrogateescape") + b"\0")
    key.update(_build_fingerprint())
    key.update(raw)
    return key.hexdigest()


def _build_fingerprint() -> bytes:
    """What the compiled form depends on besides the file: sla's own files
    and the libraries' (each file's name, size and modification time)."""
    global _build
    if _build is None:
        import importlib.util
        import zoneinfo

        import sla

        parts: list[str] = [sla.__version__]
        package = Path(sla.__file__).parent
        for folder, dirs, files in os.walk(package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".so", ".pyd")):
                    parts.append(_stat_text(Path(folder, name)))
        for library in _LIBRARIES:
            spec = importlib.util.find_spec(library)
            parts.append(f"{library}:{_stat_text(Path(spec.origin)) if spec and spec.origin else '-'}")
        parts += [_stat_text(Path(folder)) for folder in zoneinfo.TZPATH]
        _build = "\n".join(parts).encode("utf-8", "surrogateescape")
    return _build


def _stat_text(path: Path) -> str:
    try:
        found = path.stat()
    except OSError:
        return f"{path}:-"
    return f"{path}:{found.st_size}:{found.st_mtime_ns}"


def _read(entry: Path) -> tuple[PolicySet, tuple[tuple[str, str | None], ...]] | None:
    """The entry's policy set and iCalendar digests if it is there, ours and
    still right; else None (a damaged entry is removed)."""
    try:
        with entry.open("rb") as stream:
            owner = getattr(os, "getuid", None)  # (none on Windows, where folders are per user)
            if owner is not None and os.fstat(stream.fileno()).st_uid != owner():
                return None
            data = stream.read()
    except OSError:
        return None
    try:
        version, dependencies, policies = pickle.loads(data)
    except Exception:  # a damaged or foreign entry: compile again
        _remove(entry)
        return None
    if version != FORMAT or any(_digest(Path(name)) != digest for name, digest in dependencies):
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # recently used
    return policies, dependencies


def _write(entry: Path, policies: PolicySet, dependencies: tuple[tuple[str, str | None], ...]) -> None:
    """Store an entry (atomically); a policy set that cannot be pickled or a
    folder that cannot be written only means no entry."""
    try:
        data = pickle.dumps((FORMAT, dependencies, policies), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an object pickle cannot carry: go without the cache
        return
    try:
        entry.parent.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        entry.parent.mkdir(exist_ok=True, mode=0o700)
        import tempfile

        handle, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, entry)
        except BaseException:
            _remove(Path(temporary))
            raise
        _prune(entry.parent)
    except OSError:
        pass


def _prune(folder: Path) -> None:
    entries = []
    for found in folder.glob("*.pickle"):
        try:
            entries.append((found.stat().st_mtime_ns, found))
        except OSError:
            continue
    for _, old in sorted(entries, reverse=True)[MAX_ENTRIES:]:
        _remove(old)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


__all__ = ["FORMAT", "MAX_ENTRIES", "cache_folder", "load_cached", "store_learned"]
