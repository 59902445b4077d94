"""External link checks (``[crawl] check_external``, ``--check-external``) as a user runs
them: a site on one 127.0.0.1 server links to a second local server (another port, so
another host) and to a closed port. Nothing is sent anywhere but 127.0.0.1.

The queue's rules (one request in flight per host, the cap on checks in flight, HEAD then
GET, redirects) are also checked on their own, without a network."""

from __future__ import annotations

import csv
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from linkaudit import storage
from linkaudit.analysis.checks import limit_findings
from linkaudit.analysis.external import check_verdicts, external_link_findings, external_status
from linkaudit.analysis.load import load_crawl
from linkaudit.crawler.external import MAX_HOPS, ExternalChecks, Job
from linkaudit.crawler.options import USER_AGENT
from tests.conftest import run_cli, serve

PAGE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>"
        "</head><body><main><h1>{title}</h1><p>{body}</p></main></body></html>")
EXTERNAL_DELAY = 0.2
CONFIG = ("[crawl]\ndelay = 0\nautothrottle = false\nconcurrency = 4\nsitemaps = false\n"
          f"external_delay = {EXTERNAL_DELAY}\n")
# path on the external server -> (status to HEAD, status to GET)
ROUTES = {
    "/ok": (200, 200),
    "/missing": (404, 404),
    "/no-head": (405, 200),
    "/moved": (301, 301),  # to /landing
    "/landing": (200, 200),
    "/broken": (500, 500),
    "/forbidden": (403, 403),
    "/limited": (429, 429),
}


class ExternalSite(BaseHTTPRequestHandler):
    """The other site: answers by ROUTES and logs (method, path, time, User-Agent)."""

    log: list[tuple[str, str, float, str]] = []
    lock = threading.Lock()

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(send_body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(send_body=True)

    def _answer(self, send_body: bool) -> None:
        with self.lock:
            self.log.append((self.command, self.path, time.monotonic(),
                             self.headers.get("User-Agent", "")))
        head, get = ROUTES.get(self.path, (404, 404))
        status = get if send_body else head
        body = b"<html><body>" + b"x" * 200_000 + b"</body></html>"
        self.send_response(status)
        if self.path == "/moved":
            self.send_header("Location", "/landing")
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the checker stops reading once it has the headers

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture(scope="module")
def external_server() -> Iterator[tuple[str, type[ExternalSite]]]:
    handler = type("Handler", (ExternalSite,), {"log": [], "lock": threading.Lock()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    """A port nothing listens on (the OS picked it, then it was closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory, external_server):
    """index -> a, b; every page links to every external URL (some twice)."""
    base, _ = external_server
    dead = f"http://127.0.0.1:{closed_port()}/nothing"
    targets = [f"{base}{path}" for path in ROUTES if path != "/landing"] + [dead]
    external = " ".join(f'<a href="{url}">link {n}</a>' for n, url in enumerate(targets))
    root = tmp_path_factory.mktemp("external") / "site"
    root.mkdir()
    pages = {"index.html": ("Home", f'<a href="a.html">A</a> <a href="b.html">B</a> {external}'),
             "a.html": ("Page A", f"{external} {external}"),
             "b.html": ("Page B", f'<a href="index.html">home</a> {external}')}
    for name, (title, body) in pages.items():
        (root / name).write_text(PAGE.format(title=title, body=body), encoding="utf-8")
    served = serve(root)
    yield served, base, dead
    served.process.terminate()
    served.process.wait(timeout=10)


def audit(work: Path, site_url: str, *flags: str, config: str = CONFIG,
          command: str = "run") -> None:
    """``linkaudit run`` (or ``crawl``, which writes no report) into ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "crawl.toml").write_text(config, encoding="utf-8")
    out = ("--out", "out") if command == "run" else ()
    result = run_cli(command, site_url, "--store", "store.sqlite", "--config", "crawl.toml",
                     *out, "--quiet", *flags, cwd=work)
    assert result.returncode == 0, result.stderr


def stored_checks(work: Path) -> int:
    conn = sqlite3.connect(work / "store.sqlite")
    try:
        return conn.execute("SELECT COUNT(*) FROM external_checks").fetchone()[0]
    finally:
        conn.close()


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def checked(site, external_server, tmp_path_factory):
    """One audit with the checks on and max_pages exactly the site's 3 pages."""
    served, base, dead = site
    _, handler = external_server
    handler.log.clear()
    work = tmp_path_factory.mktemp("checked")
    started = time.monotonic()
    audit(work, served.url("index.html"), "--check-external", "--max-pages", "3")
    elapsed = time.monotonic() - started
    return work, base, dead, list(handler.log), elapsed


def test_each_external_target_is_asked_once_head_first_get_when_refused(checked) -> None:
    _, _, _, log, _ = checked
    asked: dict[str, list[str]] = {}
    for method, path, _, _ in log:
        asked.setdefault(path, []).append(method)
    assert asked == {
        "/ok": ["HEAD"], "/moved": ["HEAD"], "/landing": ["HEAD"],
        "/no-head": ["HEAD", "GET"], "/missing": ["HEAD", "GET"], "/broken": ["HEAD", "GET"],
        "/forbidden": ["HEAD", "GET"],
        "/limited": ["HEAD"],  # 429: asked to slow down, not asked again
    }
    assert {agent for *_, agent in log} == {USER_AGENT}


def test_requests_to_the_external_host_keep_the_delay(checked) -> None:
    _, _, _, log, _ = checked
    times = sorted(at for _, _, at, _ in log)
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= EXTERNAL_DELAY * 0.95, gaps


def test_statuses_reach_links_csv_and_the_store(checked) -> None:
    work, base, dead, _, _ = checked
    links = read_csv(next((work / "out").glob("links.csv")))
    status = {row["target"]: row["target_status"] for row in links if row["internal"] == "false"}
    assert status == {f"{base}/ok": "200", f"{base}/missing": "404", f"{base}/no-head": "200",
                      f"{base}/moved": "301", f"{base}/broken": "500",
                      f"{base}/forbidden": "403", f"{base}/limited": "429", dead: ""}
    conn = sqlite3.connect(work / "store.sqlite")
    rows = {url: rest for url, *rest in conn.execute(
        "SELECT url, method, final_url, final_status, error FROM external_checks")}
    conn.close()
    assert rows[f"{base}/no-head"][:3] == ["GET", None, 200]
    assert rows[f"{base}/moved"][:3] == ["HEAD", f"{base}/landing", 200]
    assert rows[dead][2] is None and "refused" in rows[dead][3].lower()
    assert len(rows) == 8


def test_findings_name_exactly_the_broken_targets(checked) -> None:
    work, base, dead, _, _ = checked
    findings = read_csv(work / "out" / "findings.csv")
    broken = [row for row in findings if row["category"] == "broken_external_link"]
    refused = [row for row in findings if row["category"] == "unverified_external_link"]
    assert {row["target"] for row in broken} == {f"{base}/missing", f"{base}/broken", dead}
    assert {row["target"] for row in refused} == {f"{base}/forbidden", f"{base}/limited"}
    assert {row["severity"] for row in broken} == {"warning"}
    assert {row["severity"] for row in refused} == {"notice"}
    # one per link occurrence: a.html links twice to each target
    assert sum(row["url"].endswith("/a.html") for row in broken) == 6
    details = {row["target"]: row["detail"] for row in broken + refused}
    assert details[f"{base}/missing"].startswith(f"{base}/missing: HTTP 404 (anchor")
    assert details[dead].startswith(f"{dead}: no response: ")
    assert "open the link in a browser" in details[f"{base}/forbidden"]
    assert not any(row["category"] == "broken_link" for row in findings)


def test_external_checks_do_not_use_the_page_budget(checked) -> None:
    work, _, _, _, _ = checked
    pages = read_csv(work / "out" / "pages.csv")
    assert len(pages) == 3
    findings = read_csv(work / "out" / "findings.csv")
    assert not any(row["category"] == "crawl_limit" for row in findings)


def test_nothing_external_is_requested_when_the_switch_is_off(site, external_server,
                                                               tmp_path) -> None:
    served, _, _ = site
    _, handler = external_server
    handler.log.clear()
    audit(tmp_path / "default", served.url("index.html"), command="crawl")
    audit(tmp_path / "flag", served.url("index.html"), "--no-check-external",
          config=CONFIG + "check_external = true\n", command="crawl")
    assert handler.log == []
    assert stored_checks(tmp_path / "default") == stored_checks(tmp_path / "flag") == 0


def test_max_external_caps_the_checks_and_says_so(site, external_server, tmp_path) -> None:
    served, _, _ = site
    audit(tmp_path, served.url("index.html"), command="crawl",
          config=CONFIG + "check_external = true\nmax_external = 2\n")
    assert stored_checks(tmp_path) == 2
    limits = load_crawl(tmp_path / "store.sqlite").limits
    assert limits["max_external"]["count"] == 6 and limits["max_external"]["limit"] == 2
    [finding] = limit_findings(limits, served.url("index.html")).to_dict("records")
    assert finding["detail"].startswith("max_external = 2 left 6 external URLs unchecked")


# -- the queue, without a network ------------------------------------------------------


class FakeSpider:
    """What ExternalChecks needs of the spider: the callbacks its requests name."""

    def parse_external(self, response: object) -> None: ...

    def external_failed(self, failure: object) -> None: ...


def jobs(requests: list) -> list[Job]:
    return [request.meta["la_external"] for request in requests]


def test_one_request_in_flight_per_host_and_a_cap_over_all_hosts() -> None:
    checks = ExternalChecks(cap=100, timeout=5, parallel=2)
    spider = FakeSpider()
    for url in ("http://a.test/1", "http://a.test/2", "http://b.test/1", "http://c.test/1"):
        assert checks.add(url)
    assert checks.add("http://a.test/1")  # taken already: not queued twice
    first = jobs(checks.release(spider))
    assert [job.url for job in first] == ["http://a.test/1", "http://b.test/1"]
    assert checks.release(spider) == []  # two in flight: the cap
    assert checks.answered(first[0], 200, None, 0.1).final_status == 200
    # hosts take turns: c.test waited longer than a.test's second URL
    assert [job.url for job in jobs(checks.release(spider))] == ["http://c.test/1"]
    assert checks.failed(first[1], "DNSLookupError: no such host").error.startswith("DNS")
    assert [job.url for job in jobs(checks.release(spider))] == ["http://a.test/2"]


def test_head_refused_then_get_and_redirects_followed() -> None:
    checks = ExternalChecks(cap=100, timeout=5)
    spider = FakeSpider()
    checks.add("http://a.test/x")
    [head] = checks.release(spider)
    assert head.method == "HEAD" and head.meta["dont_obey_robotstxt"]
    assert checks.answered(head.meta["la_external"], 405, None, None) is None
    [get] = checks.release(spider)
    assert get.method == "GET" and get.url == "http://a.test/x"
    assert checks.answered(get.meta["la_external"], 302, "/y", None) is None
    [hop] = checks.release(spider)
    assert hop.method == "GET" and hop.url == "http://a.test/y"
    done = checks.answered(hop.meta["la_external"], 200, None, 0.2)
    assert (done.url, done.status, done.final_url, done.final_status, done.method,
            done.redirects) == ("http://a.test/x", 302, "http://a.test/y", 200, "GET", 1)


def test_a_redirect_loop_ends_the_check() -> None:
    checks = ExternalChecks(cap=100, timeout=5)
    spider = FakeSpider()
    checks.add("http://a.test/x")
    answers = {"http://a.test/x": "/y", "http://a.test/y": "/x"}
    done = None
    for _ in range(2 * MAX_HOPS + 4):
        [request] = checks.release(spider)
        done = checks.answered(request.meta["la_external"], 301, answers[request.url], None)
        if done is not None:
            break
    assert done is not None and done.method == "GET"  # HEAD looped: GET looped too
    assert done.error == "redirect loop" and done.final_status == 301


def test_cap_refuses_new_urls() -> None:
    checks = ExternalChecks(cap=1, timeout=5)
    assert checks.add("http://a.test/1")
    assert not checks.add("http://a.test/2")
    assert checks.refused == {"http://a.test/2"}


def test_verdicts_of_checked_urls() -> None:
    checks = pd.DataFrame([
        ("https://x.test/a", 200, None, 200, None),
        ("https://x.test/b", 404, None, 404, None),
        ("https://x.test/c", 301, "https://x.test/d", 410, None),
        ("https://x.test/e", None, None, None, "DNSLookupError: no such host"),
        ("https://x.test/f", 999, None, 999, None),
        ("https://x.test/g", 301, "https://x.test/g2", 301, "redirect loop"),
        ("https://x.test/h", 301, "https://x.test/i", 200, None),
    ], columns=["url", "status", "final_url", "final_status", "error"])
    verdicts = check_verdicts(checks).set_index("url")
    assert verdicts["verdict"].to_dict() == {
        "https://x.test/a": "", "https://x.test/b": "broken", "https://x.test/c": "broken",
        "https://x.test/e": "broken", "https://x.test/f": "refused",
        "https://x.test/g": "broken", "https://x.test/h": ""}
    assert verdicts.loc["https://x.test/c", "reason"] == (
        "redirects to HTTP 410 at https://x.test/d")
    assert verdicts.loc["https://x.test/e", "reason"] == (
        "no response: DNSLookupError: no such host")
    assert verdicts.loc["https://x.test/g", "reason"] == "redirect loop"
    links = pd.DataFrame({"source": ["https://s.test/p"] * 2, "anchor": ["one", "two"],
                          "target": ["https://x.test/b", "https://s.test/q"],
                          "internal": [False, True]})
    findings = external_link_findings(links, checks)
    assert findings["target"].tolist() == ["https://x.test/b"]
    assert findings["detail"].tolist() == ['https://x.test/b: HTTP 404 (anchor "one")']
    assert external_status(links, checks).tolist() == [404, pd.NA]
    nothing = checks.iloc[:0]  # a crawl without checks: no status, no finding
    assert external_status(links, nothing).isna().all()
    assert external_link_findings(links, nothing).empty


def test_an_older_store_opens_and_gains_the_table(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    conn = storage.connect(path)
    crawl_id = storage.start_crawl(conn, "s", "http://127.0.0.1:1/", {})
    conn.execute("DROP TABLE external_checks")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    stored = storage.read_crawl(path, crawl_id)  # read-only: the table is not there yet
    assert stored.frames["external_checks"].empty
    assert list(stored.frames["external_checks"].columns)[:3] == ["url", "status", "final_url"]
    conn = storage.connect(path)  # any writing command upgrades it
    assert storage.has_table(conn, "external_checks")
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(storage.SCHEMA_VERSION),)
    storage.write_external_check(conn, crawl_id, {"url": "https://x.test/", "status": 200,
                                                  "final_status": 200, "method": "HEAD"})
    assert storage.checked_external(conn, crawl_id) == {"https://x.test/"}
    conn.close()
