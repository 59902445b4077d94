"""The dependency direction the layout promises: analysis never imports crawler."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((REPO / "analysis").rglob("*.py")),
                         ids=lambda p: p.name)
def test_analysis_never_imports_crawler(path):
    assert "crawler" not in imported_modules(path)


@pytest.mark.parametrize("path", sorted((REPO / "crawler").rglob("*.py")), ids=lambda p: p.name)
def test_crawler_never_imports_analysis(path):
    assert "analysis" not in imported_modules(path)


def test_no_code_reads_outside_the_repository():
    for folder in ("analysis", "crawler", "linkaudit", "tests", "benchmarks"):
        for path in (REPO / folder).rglob("*.py"):
            if path == Path(__file__):
                continue
            text = path.read_text("utf-8")
            assert "../shared" not in text and "/work/" not in text, path
