"""Never crash, never lose: inputs checked before any work, failed starts, stores, locks.

Each test runs the command line as a user does (``main()`` in process when no crawl can
start, ``run_cli`` in a subprocess otherwise) and checks the exit code and the one line.
"""

from __future__ import annotations

import fcntl
import sqlite3
from pathlib import Path

import pytest

from linkaudit import storage as store
from tests.conftest import run_cli
from tests.test_cli import run_in_process


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("linkaudit: error: "), err
    return lines[0]


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# -- 1. bad arguments: exit 2 before any work --------------------------------------------

URL = "http://127.0.0.1:9/"


@pytest.mark.parametrize("argv,message", [
    (["crawl", URL, "--concurrency", "0"],
     "argument --concurrency: must be a whole number of at least 1, not '0'"),
    (["crawl", URL, "--concurrency", "-2"], "argument --concurrency: must be a whole number"),
    (["run", URL, "--max-pages", "0"],
     "argument --max-pages: must be a whole number of at least 1, not '0'"),
    (["crawl", URL, "--max-pages", "-5"], "argument --max-pages:"),
    (["crawl", URL, "--delay", "-1"], "argument --delay: must be a number of seconds, 0 or more"),
    (["crawl", URL, "--delay", "nan"], "argument --delay:"),
    (["crawl", URL, "--bogus-flag"], "unrecognized arguments: --bogus-flag"),
    (["diff", "2", "1", "--store", "s.sqlite"],
     "crawl ids reversed: OLD (2) is newer than NEW (1); `linkaudit diff 1 2`"),
    (["diff", "3", "3", "--store", "s.sqlite"], "crawl 3 compared with itself"),
    (["diff", "2", "--store", "s.sqlite"], "give both crawl ids"),
    (["crawl", "http://127.0.0.1:99999/"], "has an impossible port '99999' (a port is a number "
                                           "from 1 to 65535)"),
    (["crawl", "http://127.0.0.1:0/"], "has an impossible port '0'"),
    (["crawl", "ftp://example.org/"], "only http:// and https:// sites are crawled, not ftp://"),
    (["run", "example.org/page"], "must begin with http:// or https:// "
                                  "(e.g. http://example.org/page)"),
    (["crawl", "not a url"], "must begin with http:// or https://"),
    (["crawl", "http:///page.html"], "has no host name"),
])
def test_bad_arguments_exit_2_before_any_work(tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_in_process(*argv)
    assert code == 2
    assert message in one_error_line(err)
    assert out == ""
    assert not any(tmp_path.iterdir())  # no store, no lock, no report folder


@pytest.mark.parametrize("rule,message", [
    ("bogus", "--fail-on rule 'bogus': unknown category 'bogus'"),
    ("broken_link >> 2", "cannot read --fail-on rule 'broken_link >> 2'"),
])
def test_fail_on_rule_is_checked_before_the_crawl(tmp_path, site_server, rule, message):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html><body><h1>Home</h1></body></html>")
    served = site_server(site)
    work = tmp_path / "work"
    work.mkdir()
    result = run_cli("run", served.url("index.html"), "--store", "s.sqlite", "--quiet",
                     "--fail-on", "new:broken_link", "--fail-on", rule, cwd=work)
    assert result.returncode == 2
    assert message in one_error_line(result.stderr)
    assert result.stdout == ""  # no "crawl 1 (...)" line: the crawl never started
    assert not any(work.iterdir())


@pytest.mark.parametrize("content,message", [
    ("[crawl]\nconcurrency = 'two'\n", "[crawl] concurrency must be an integer"),
    ("[crawl]\ndelay = -1\n", "[crawl] delay must not be negative"),
    ("[crawl]\nmax_pages = 0\n", "[crawl] max_pages must be at least 1, not 0"),
    ("[crawl]\nconcurrency = 0\n", "[crawl] concurrency must be at least 1, not 0"),
])
def test_bad_config_values_are_bad_arguments(tmp_path, monkeypatch, content, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site.toml").write_text(content)
    code, _, err = run_in_process("run", URL, "--config", "site.toml")
    assert code == 2
    assert message in one_error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.toml"]


# -- 2. a start URL that reaches no HTML page: exit 1, crawl marked failed -----------------

def test_a_failed_start_is_recorded_failed_and_never_a_baseline(tmp_path, site_server):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html><head><title>Home</title></head><body><main>"
                                     "<h1>Home</h1><p>Welcome.</p></main></body></html>")
    (site / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (site / "_routes.txt").write_text("301 /old.html /index.html\n")
    served = site_server(site)
    work = tmp_path / "work"
    work.mkdir()

    def run(path: str, *extra: str):
        return run_cli("run", served.url(path), "--store", "s.sqlite", "--quiet", *extra,
                       cwd=work)

    missing = run("missing.html")
    assert missing.returncode == 1
    line = one_error_line(missing.stderr)
    assert "the start URL " + served.url("missing.html") + " answered 404, not 200" in line
    assert "crawl 1 of s.sqlite is marked failed" in line
    image = run("logo.png")
    assert image.returncode == 1
    assert "is not an HTML page (image/png)" in one_error_line(image.stderr)

    good = run("old.html", "--out", "out")  # a start URL that redirects to a page is fine
    assert good.returncode == 0, good.stderr
    conn = sqlite3.connect(work / "s.sqlite")
    states = conn.execute("SELECT crawl_id, state FROM crawls ORDER BY crawl_id").fetchall()
    assert states == [(1, "failed"), (2, "failed"), (3, "complete")]
    assert "answered 404" in conn.execute(
        "SELECT finish_reason FROM crawls WHERE crawl_id = 1").fetchone()[0]
    # Neither failed crawl is the previous crawl of the comparison: there is none.
    assert not (work / "out" / "changes.csv").exists()
    diff = run_cli("diff", "--store", "s.sqlite", cwd=work)
    assert diff.returncode == 1
    assert "holds 1 complete crawl(s)" in one_error_line(diff.stderr)
    # --resume never continues a failed crawl: it starts a fresh one.
    again = run("missing.html", "--resume")
    assert again.returncode == 1
    assert "crawl 4 of s.sqlite is marked failed" in again.stderr


def test_an_unreachable_start_url_is_a_failed_crawl(tmp_path):
    import socket

    with socket.socket() as sock:  # a port the OS just gave and took back: nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli("crawl", f"http://127.0.0.1:{port}/", "--store", "s.sqlite", "--quiet",
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot reach the start URL" in one_error_line(result.stderr)
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    assert conn.execute("SELECT state FROM crawls").fetchone()[0] == "failed"


def test_store_queries_skip_failed_crawls(tmp_path):
    conn = store.connect(tmp_path / "s.sqlite")
    ids = [store.start_crawl(conn, "site", URL, {}) for _ in range(3)]
    store.finish_crawl(conn, ids[0], "complete", "finished")
    store.finish_crawl(conn, ids[1], "complete", "finished")
    store.mark_failed(conn, ids[1], "the start URL answered 404, not 200")
    store.finish_crawl(conn, ids[2], "complete", "finished")
    assert store.previous_complete(conn, ids[2]) == (ids[0], False)
    assert store.previous_complete_crawl(conn, URL, before=ids[2]) == ids[0]
    assert store.complete_crawls(conn) == [ids[0], ids[2]]
    assert store.last_unfinished_crawl(conn, URL) is None
    assert store.newest_crawl(conn) == ids[2]


# -- 5. stores: one-line errors, and reading never writes -------------------------------

def _not_sqlite(path: Path) -> None:
    path.write_text("id,url\n1,http://example.org/\n")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _missing_a_table(path: Path) -> None:
    conn = store.connect(path)
    store.start_crawl(conn, "site", URL, {})
    conn.execute("DROP TABLE links")
    conn.commit()
    conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file to compare
    conn.close()


def _another_programs_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("make,message", [
    (_not_sqlite, "is not a crawl store (file is not a database)"),
    (_empty, "is an empty file, not a crawl store"),
    (_missing_a_table, "is not a crawl store: it has no table links"),
    (_another_programs_database, "is not a crawl store: it has no table crawls, links"),
], ids=["not-sqlite", "empty", "missing-table", "other-database"])
@pytest.mark.parametrize("argv", [["history"], ["analyze"], ["analyze", "1"], ["diff"],
                                  ["diff", "1", "2"]], ids=" ".join)
def test_a_file_that_is_not_a_store_is_a_one_line_error_and_stays_untouched(
        tmp_path, make, message, argv):
    path = tmp_path / "crawls.sqlite"
    make(path)
    before = listing(tmp_path)
    code, _, err = run_in_process(*argv, "--store", str(path))
    assert code == 1
    assert message in one_error_line(err)
    assert listing(tmp_path) == before  # same bytes, no lock file, no -wal or -shm


def test_history_and_a_failing_diff_never_write_a_store(tmp_path):
    path = tmp_path / "crawls.sqlite"
    conn = store.connect(path)
    store.finish_crawl(conn, store.start_crawl(conn, "site", URL, {}), "complete", "finished")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    before = listing(tmp_path)
    code, out, _ = run_in_process("history", "--store", str(path))
    assert code == 0 and " complete " in out
    code, _, err = run_in_process("diff", "--store", str(path))
    assert code == 1 and "holds 1 complete crawl(s)" in err
    after = listing(tmp_path)
    after.pop("crawls.sqlite.lock", None)  # diff takes the store's lock
    assert after == before


# -- 6. the run lock is per store --------------------------------------------------------

def _hold(lock: Path):
    handle = open(lock, "w")  # noqa: SIM115 - closed by the caller
    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return handle


def test_the_lock_is_per_store_and_analyze_and_diff_take_it(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    for name in ("a.sqlite", "b.sqlite"):
        conn = store.connect(site / name)
        store.start_crawl(conn, "site", URL, {})
        conn.close()
    handle = _hold(site / "a.sqlite.lock")
    try:
        for argv in (["analyze"], ["diff", "1", "2"]):
            code, _, err = run_in_process(*argv, "--store", str(site / "a.sqlite"))
            assert code == 4, err
            assert f"another linkaudit run holds {site / 'a.sqlite.lock'}" in one_error_line(err)
        same = run_cli("crawl", URL, "--store", "site/a.sqlite", "--quiet", cwd=tmp_path)
        assert same.returncode == 4
        # b.sqlite, in the same folder, is not blocked: this crawl runs (and fails, port 9).
        other = run_cli("crawl", URL, "--store", "site/b.sqlite", "--quiet", cwd=tmp_path)
        assert other.returncode == 1
        assert "cannot reach the start URL" in one_error_line(other.stderr)
        # Reading needs no lock.
        assert run_in_process("history", "--store", str(site / "a.sqlite"))[0] == 0
    finally:
        handle.close()
