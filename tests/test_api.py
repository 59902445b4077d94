"""The Python API from a fresh interpreter, as a notebook uses it: `import linkaudit`
loads neither Scrapy nor pandas, `linkaudit.crawl` runs twice in one process, `audit` and
`load` give DataFrames, errors are `LinkauditError`s with the one-line message."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO, serve
from tests.test_crawl_controls import write_site

pytestmark = pytest.mark.e2e

SCRIPT = """
import json, sys
import linkaudit

out = {"lazy": sorted(m for m in ("scrapy", "pandas", "twisted") if m in sys.modules)}
fast = dict(delay=0, autothrottle=False, concurrency=4)
first = linkaudit.crawl(BASE + "index.html", store="site.sqlite", **fast)
second = linkaudit.crawl(BASE + "index.html", store="site.sqlite", exclude=[r"/tag/"], **fast)
out["crawls"] = [(r.crawl_id, r.state, r.pages, str(r.store_path)) for r in (first, second)]

audit = linkaudit.audit("site.sqlite")
out["audit"] = {"crawl_id": audit.crawl_id, "type": type(audit.pages).__name__,
                "pages": sorted(audit.pages["url"].str.removeprefix(BASE)),
                "link_columns": [c for c in ("source", "target", "anchor", "relevance",
                                             "off_topic") if c in audit.links],
                "finding_columns": list(audit.findings.columns),
                "changed": audit.changes is not None}
raw = linkaudit.load("site.sqlite", crawl_id=1)
out["load"] = {"crawl_id": raw.crawl_id, "pages": len(raw.pages),
               "tag_fetched": bool(raw.pages["url"].str.endswith("/tag/x.html").any())}

errors = []
for call in (lambda: linkaudit.crawl(BASE + "missing.html", store="site.sqlite", **fast),
             lambda: linkaudit.crawl(BASE, store="site.sqlite", max_pagez=3),
             lambda: linkaudit.crawl(BASE, store="site.sqlite", include=["a("]),
             lambda: linkaudit.audit("no-such.sqlite")):
    try:
        call()
    except linkaudit.LinkauditError as exc:
        errors.append([exc.code, str(exc)])
out["errors"] = errors
print(json.dumps(out))
"""


def test_the_python_api_crawls_twice_audits_and_loads_from_a_fresh_interpreter(tmp_path):
    served = serve(write_site(tmp_path / "site"))
    script = tmp_path / "notebook.py"
    script.write_text(f"BASE = {served.base_url!r}\n" + textwrap.dedent(SCRIPT))
    try:
        proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, timeout=180,
                              capture_output=True, text=True,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    finally:
        served.process.terminate()
        served.process.wait(timeout=10)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])

    assert out["lazy"] == []
    assert out["crawls"] == [[1, "complete", 6, "site.sqlite"], [2, "complete", 5, "site.sqlite"]]
    assert out["audit"]["crawl_id"] == 2 and out["audit"]["type"] == "DataFrame"
    assert out["audit"]["pages"] == ["a.html", "b.html", "deep.html", "index.html",
                                     "orphan.html"]  # tag/x.html excluded from crawl 2
    assert out["audit"]["link_columns"] == ["source", "target", "anchor", "relevance", "off_topic"]
    assert out["audit"]["finding_columns"][:5] == ["url", "category", "severity", "detail",
                                                   "target"]
    assert out["audit"]["changed"]  # compared with crawl 1
    assert out["load"] == {"crawl_id": 1, "pages": 6, "tag_fetched": True}

    missing, unknown, pattern, store = out["errors"]
    assert missing[0] == 1 and missing[1].startswith(
        f"the start URL {served.base_url}missing.html answered 404, not 200")
    assert unknown[0] == 2 and unknown[1].startswith("unknown crawl option(s): max_pagez")
    assert pattern == [2, "[crawl] include pattern 'a(' is not a valid regular expression: "
                          "missing ), unterminated subpattern at position 1"]
    assert store == [1, "no crawl store at no-such.sqlite"]
