"""The layers the layout promises, checked on the source.

    storage    imports none of linkaudit's packages: it is the bottom
    crawler    imports storage and itself only
    analysis   imports storage and itself only (never the crawler)
    writers    import the finished audit's model (analysis.model) and themselves only
    linkaudit  the command line: may import every other package

Every SQL statement is written in storage; nothing is read from a file when the crawler's
settings are imported.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LAYERS = ("storage", "crawler", "analysis", "writers")
OURS = {*LAYERS, "linkaudit"}
# Where the installation keeps its data files: below every layer, it imports nothing of ours.
RESOURCES = "linkaudit.resources"
# What each package may import of ours, as module-name prefixes (linkaudit.<layer> is
# written <layer>: installed, every layer is a subpackage of linkaudit).
ALLOWED = {
    "storage": ("storage", RESOURCES),
    "crawler": ("crawler", "storage", RESOURCES),
    "analysis": ("analysis", "storage", RESOURCES),
    "writers": ("writers", "analysis.model", RESOURCES),
    "linkaudit": tuple(OURS),
}
SQL = re.compile(r"\b(?:SELECT\b[\s\S]*\bFROM|INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|"
                 r"DELETE\s+FROM|CREATE\s+(?:TABLE|INDEX)|ALTER\s+TABLE|PRAGMA\s)")


def imported_modules(path: Path) -> set[str]:
    """Full names of the modules a file imports (relative imports made absolute)."""
    tree = ast.parse(path.read_text("utf-8"))
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names |= {f"{base}.{alias.name}" for alias in node.names}
            if base != "linkaudit":  # `from linkaudit import storage` imports a layer only
                names.add(base)
    return names


def sources(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (REPO / package).rglob("*.py"))


def layer_name(name: str) -> str:
    """``linkaudit.analysis.model`` -> ``analysis.model``; other names unchanged."""
    head, _, rest = name.partition(".")
    if head == "linkaudit" and rest.split(".")[0] in LAYERS:
        return rest
    return name


def ours(name: str) -> bool:
    return name.split(".")[0] in OURS


@pytest.mark.parametrize("path", sources(*ALLOWED), ids=lambda p: str(p.relative_to(REPO)))
def test_each_package_imports_only_the_layers_below_it(path):
    package = path.relative_to(REPO).parts[0]
    allowed = ALLOWED[package]
    names = {layer_name(name) for name in imported_modules(path)}
    wrong = sorted(name for name in names if ours(name)
                   and not any(name == a or name.startswith(a + ".") for a in allowed))
    assert not wrong, f"{package} may import only {allowed}"


@pytest.mark.parametrize("path", sources(*ALLOWED, "tests", "benchmarks"),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_every_layer_is_imported_under_the_linkaudit_name(path):
    # Installed, there is no top-level `analysis` or `crawler`: only linkaudit.analysis, ...
    own = path.relative_to(REPO).parts[0]
    bare = sorted(name for name in imported_modules(path)
                  if name.split(".")[0] in LAYERS and name.split(".")[0] != own)
    assert not bare, "import them as linkaudit.<layer>"


def test_the_layers_exist_as_packages():
    for package in ALLOWED:
        assert (REPO / package / "__init__.py").is_file(), package


@pytest.mark.parametrize("path", sources("crawler", "analysis", "writers", "linkaudit"),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_no_sql_outside_storage(path):
    tree = ast.parse(path.read_text("utf-8"))
    assert "sqlite3" not in {name.split(".")[0] for name in imported_modules(path)}
    statements = [node.value for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and SQL.search(node.value)]
    assert not statements


def test_the_sql_detector_finds_the_statements_storage_holds():
    found = [path.name for path in sources("storage")
             if any(isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and SQL.search(node.value)
                    for node in ast.walk(ast.parse(path.read_text("utf-8"))))]
    assert {"schema.py", "crawls.py", "pages.py", "frames.py", "snapshots.py"} <= set(found)


def test_importing_the_crawler_settings_reads_no_file():
    probe = (
        "import json, sys\n"
        "opened = []\n"
        "def hook(event, args):\n"
        "    if event == 'open' and isinstance(args[0], str) and args[0].startswith(sys.argv[1])"
        " and not args[0].endswith(('.py', '.pyc')):\n"
        "        opened.append(args[0])\n"
        "sys.addaudithook(hook)\n"
        "import linkaudit.crawler.settings\n"
        "print(json.dumps(opened))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe, str(REPO)], cwd=REPO,
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_no_code_reads_outside_the_repository():
    for folder in ("analysis", "crawler", "linkaudit", "storage", "writers", "tests",
                   "benchmarks"):
        for path in (REPO / folder).rglob("*.py"):
            if path == Path(__file__):
                continue
            text = path.read_text("utf-8")
            assert "../shared" not in text and "/work/" not in text, path
