"""The package as a user installs it: a wheel built from the repository, installed (not
editable) into a fresh virtualenv, run from an empty folder with no clone beside it.

The fresh virtualenv takes linkaudit from the wheel only; its third-party packages (Scrapy,
pandas, ...) are this test environment's, reached through a path file so that nothing is
downloaded. A path file adds the folder without running the folder's own path files, so the
editable install of the repository is not seen.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

SOURCES = ("pyproject.toml", "README.md", "linkaudit", "crawler", "analysis", "storage",
           "writers", "config", "demo")
LAYERS = ("crawler", "analysis", "storage", "writers")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--wheel-dir", str(out), str(source)],
                   check=True, capture_output=True, text=True, timeout=300)
    (built,) = out.glob("linkaudit-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtualenv with the wheel installed; returns its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / "bin"
    site = Path(subprocess.run(
        [bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install",
                    "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=300)
    (site / "test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return bin_dir


def test_the_wheel_holds_the_code_under_one_name_and_the_data_files(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"linkaudit", wheel.name.split("-py3")[0] + ".dist-info"}
    for layer in LAYERS:
        assert f"linkaudit/{layer}/__init__.py" in names
    for data in ("linkaudit/_data/config/defaults.toml", "linkaudit/_data/config/promo.toml",
                 "linkaudit/_data/config/stopwords/fr.txt",
                 "linkaudit/_data/config/sites/demo.toml",
                 "linkaudit/_data/demo/site/articles/baclofene-systeme-nerveux-central.html",
                 "linkaudit/writers/templates/report.js"):
        assert data in names
    demo_files = sum(1 for p in (REPO / "demo").rglob("*") if p.is_file())
    assert sum(1 for n in names if n.startswith("linkaudit/_data/demo/")) == demo_files


def _run(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)


def test_installed_package_reads_its_files_from_site_packages(installed, tmp_path):
    probe = ("import linkaudit, linkaudit.analysis.text as text, linkaudit.analysis.promo as p\n"
             "from linkaudit.resources import data_dir\n"
             "print(linkaudit.__path__[0]); print(text.STOPWORDS_DIR)\n"
             "print(p.DEFAULT_RULES_PATH)\n"
             "print(data_dir('demo'))\n"
             "import importlib.util\n"
             "print([n for n in ('analysis', 'crawler', 'storage', 'writers')"
             " if importlib.util.find_spec(n)])\n")
    done = _run(installed, "python", "-c", probe, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    package, stopwords, promo, demo, bare = done.stdout.splitlines()
    assert "site-packages" in package and not package.startswith(str(REPO))
    for path in (stopwords, promo, demo):
        assert path.startswith(package + "/_data/")
    assert bare == "[]"  # nothing generic lands in site-packages


def test_linkaudit_demo_runs_from_an_empty_folder(installed, tmp_path):
    done = _run(installed, "linkaudit", "demo", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    latest = tmp_path / "reports" / "demo" / "1"  # the first crawl's report folder
    for name in ("pages.csv", "links.csv", "findings.csv", "offtopic_links.csv", "index.html",
                 "report.xlsx"):
        assert (latest / name).stat().st_size > 0, name
    links = (latest / "links.csv").read_text("utf-8")
    assert "reconstruction-hymen" in links  # the demo article's off-topic money page
