"""Build script: the engine's and the importers' hot modules compiled with
mypyc when they can be.

Everything about the package is declared in ``pyproject.toml``; this file
only adds the compiled extension modules.  The same annotated Python source
is compiled (there is no second implementation): mypyc turns the modules in
:data:`COMPILED` into C extensions that Python imports in place of the
``.py`` files beside them.

The compile is optional.  It is skipped, and the package installs as pure
Python, when:

- the environment variable ``SLA_NO_COMPILE`` is set to anything but ``0``
  or an empty string (``SLA_NO_COMPILE=1 pip install .``);
- mypyc cannot be imported (it ships with mypy, a build requirement);
- mypyc fails on the source, or there is no working C compiler: the build
  then warns and carries on without the extensions.

``sla --version`` says which engine is running (``engine: compiled`` or
``engine: interpreted``; the same for ``report:`` and ``importers:``); so do
:func:`sla.engine.engine_kind`, :func:`sla.report.report_kind` and
:func:`sla.importers.importer_kind`.

After editing one of the compiled modules in an editable install, build
again (``pip install -e .``, or ``python setup.py build_ext --inplace``), or
remove the ``*.so`` files beside the sources: an extension module is
imported in preference to its ``.py`` file.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

#: The hot path: reading and validating events, the clock, judging, row
#: building, instants and business-calendar arithmetic
#: (sla.engine.COMPILED_MODULES names the same), the report's tallies
#: (sla.report.COMPILED_MODULES), then the import's (sla.importers.COMPILED_MODULES).
COMPILED = [
    "sla/timefmt.py",
    "sla/engine/lines.py",
    "sla/engine/events.py",
    "sla/engine/clock.py",
    "sla/engine/judge.py",
    "sla/engine/rows.py",
    "sla/engine/jsonl_run.py",
    "sla/engine/replay.py",
    "sla/calendar/index.py",
    # A ticket's report figures and tallies, local dates (sla.report.COMPILED_MODULES).
    "sla/report/accumulators.py",
    "sla/report/localtime.py",
    "sla/report/tally.py",
    "sla/report/watch.py",
    # The Zendesk importer and the import driver (sla.importers.COMPILED_MODULES).
    "sla/importers/zendesk_values.py",
    "sla/importers/zendesk_audits.py",
    "sla/importers/zendesk_finish.py",
    "sla/importers/zendesk.py",
    "sla/importers/run.py",
]
#: The compiled modules share one support library, ``sla._engine__mypyc``.
GROUP = "sla._engine"


def _skip(reason: str) -> list[Any]:
    warnings.warn(f"sla: installing the interpreted engine only ({reason})", stacklevel=2)
    return []


def _extensions() -> list[Any]:
    if os.environ.get("SLA_NO_COMPILE", "") not in ("", "0"):
        return []
    if sys.implementation.name != "cpython":
        return _skip("mypyc compiles for CPython only")
    try:
        from mypyc.build import mypycify
    except ImportError:
        return _skip("mypyc is not available")
    here = os.path.dirname(os.path.abspath(__file__))
    cwd = os.getcwd()
    os.chdir(here)  # mypyc writes its C sources under build/ and reads the mypy settings here
    try:
        return list(
            mypycify(
                # The project's mypy settings; the modules they import from
                # optional extras (pyarrow, icalendar...) need not be
                # installed in the build environment, nor checked here.
                [
                    "--config-file",
                    "pyproject.toml",
                    "--ignore-missing-imports",
                    "--follow-imports=silent",
                    *COMPILED,
                ],
                opt_level="3",
                group_name=GROUP,
            )
        )
    except (Exception, SystemExit) as exc:  # a type error mypyc refuses, a missing stub
        return _skip(f"mypyc failed: {exc}")
    finally:
        os.chdir(cwd)


class OptionalBuildExt(build_ext):
    """Builds the extensions if it can; without a working C compiler the
    package installs as pure Python (the interpreted engine)."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler, no Python headers
            self._give_up(exc)

    def build_extensions(self) -> None:
        try:
            super().build_extensions()
        except Exception as exc:
            self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        # A partial build would leave modules that cannot import without
        # their support library: remove whatever was built, so that every
        # module stays interpreted.
        for ext in self.extensions:
            with contextlib.suppress(OSError):
                os.remove(self.get_ext_fullpath(ext.name))
        self.extensions = []
        warnings.warn(
            f"sla: could not compile the engine ({exc}); installing the interpreted engine",
            stacklevel=2,
        )


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
