"""Documentation stays true to the tree: every relative link in README and docs resolves."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "demo" / "README.md"]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc):
    for target in LINK.findall(doc.read_text("utf-8")):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_every_config_key_is_documented():
    from linkaudit.config import SECTIONS, field_names

    text = (REPO / "docs" / "configuration.md").read_text("utf-8")
    for section in SECTIONS:
        for key in field_names(section):
            assert f"| {key} |" in text, f"[{section}] {key}"
