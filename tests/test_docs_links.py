"""The documentation stays inside the repository and in one piece.

- Relative links in README.md and docs/ lead to files that exist; links in
  docs/ stay inside docs/ (the site has nothing else; files elsewhere in the
  repository are shown through pages such as examples.md).
- No page sends readers to notes that are not shipped, and no schema link
  points at a placeholder host.
- The editor schema comments of the example policies find the shipped schema.
- mkdocs.yml's nav lists every page once, and the API page documents exactly
  the public names of ``sla``.

``mkdocs build --strict`` checks links and anchors inside the site too; these
tests say the same things faster, and about README.md, which is not part of
the site.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

import sla

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
FENCED = re.compile(r"^([ \t]*)(`{3,}).*?^\1\2[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def prose(page: Path) -> str:
    """The page without its code, where link syntax is only an example."""
    return INLINE_CODE.sub("", FENCED.sub("", page.read_text(encoding="utf-8")))


def local_links(page: Path) -> list[str]:
    links = []
    for match in LINK.finditer(prose(page)):
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL, or an anchor on the same page
        links.append(target.split("#", 1)[0])
    return links


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_lead_to_files(page: Path) -> None:
    for target in local_links(page):
        resolved = (page.parent / target).resolve()
        assert resolved.exists(), f"{page.name}: link to {target}, which does not exist"
        assert resolved.is_relative_to(ROOT), f"{page.name}: link to {target}, outside the repository"
        if page.parent == DOCS:
            assert resolved.is_relative_to(DOCS), (
                f"{page.name}: link to {target}, outside docs/ (the site would not have it)"
            )


DOCUMENTS = [*PAGES, ROOT / "mkdocs.yml", DOCS / "policy.schema.json", *sorted((ROOT / "policies").glob("*"))]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_pointers_outside_the_repository(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    for pattern in (r"SEMANTICS(\.md)?", r"example\.(org|com)", r"\bthe (spec|contract)\b"):
        found = re.search(pattern, text)
        assert not found, f"{path.name} mentions {found.group(0)!r}: state the rule in docs/ instead"


@pytest.mark.parametrize("path", sorted((ROOT / "policies").glob("*.yaml")), ids=lambda p: p.name)
def test_example_policies_point_editors_at_the_shipped_schema(path: Path) -> None:
    from sla.policy.schema import SCHEMA_ID

    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, f"{path.name}: the first line should select the schema for editors"
    # a URL, not a path into this repository: it still works in a copy of the file elsewhere
    assert match[1] == SCHEMA_ID


def _nav_pages(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in _nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in _nav_pages(value)]
    return []


def test_the_nav_lists_every_page_once() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    nav = _nav_pages(config["nav"])
    assert len(nav) == len(set(nav)), "a page is in the nav twice"
    assert sorted(nav) == sorted(p.name for p in DOCS.glob("*.md"))
    assert config["site_dir"] == "site" and "site/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_api_page_documents_the_public_names() -> None:
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    documented = re.findall(r"^::: sla\.(\w+)\s*$", text, re.M)
    assert len(documented) == len(set(documented)), "a name is documented twice"
    assert sorted(documented) == sorted(sla.__all__)
