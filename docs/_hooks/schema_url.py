"""MkDocs hook: publish the policy schema at its ``$id``.

The schema's identifier is ``https://sla.dev/schema/policy/v2.json``; the
site (``site_url`` https://sla.dev/) serves ``docs/policy.schema.json`` at
that path, so an editor that follows the ``$schema`` comment of a policy
file finds it wherever the file was copied.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

PUBLISHED_AT = Path("schema") / "policy" / "v2.json"


def on_post_build(config: Any, **kwargs: Any) -> None:
    source = Path(config["docs_dir"]) / "policy.schema.json"
    target = Path(config["site_dir"]) / PUBLISHED_AT
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
