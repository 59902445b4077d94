"""The command line as a user runs it: help, errors, and the one-line error contract."""

from __future__ import annotations

import io
import sqlite3

import pytest

from linkaudit.cli import build_parser, main
from tests.conftest import run_cli

COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)


def run_in_process(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(list(argv), stdout=out, stderr=err)
    except SystemExit as exc:  # argparse's --help and usage errors
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "usage: linkaudit " + command in text
    assert "example" in text


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for command in COMMANDS:
        assert command in text


def test_readme_shows_every_command():
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text("utf-8")
    for command in COMMANDS:
        assert f"  {command} " in readme
    assert "make demo" in readme and "make test" in readme


@pytest.mark.parametrize("url", ["not a url", "ftp://example.org/", "example.org/page"])
def test_malformed_start_url_is_a_one_line_error(tmp_path, url):
    result = run_cli("crawl", url, "--store", "s.sqlite", cwd=tmp_path)
    assert result.returncode == 2  # a bad argument (tests/test_cli_inputs.py has the rest)
    assert result.stderr.startswith(f"linkaudit: error: start URL {url!r}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "s.sqlite").exists()


def test_unreachable_start_url_is_recorded_and_reported(tmp_path):
    # A port the OS just gave us and closed again: nothing listens there.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli("run", f"http://127.0.0.1:{port}/", "--store", "s.sqlite", "--quiet",
                     cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot reach the start URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    conn = sqlite3.connect(tmp_path / "s.sqlite")
    status, error = conn.execute("SELECT status, error FROM pages").fetchone()
    assert status is None and "refused" in error.lower()
    assert conn.execute("SELECT state FROM crawls").fetchone()[0] == "failed"


@pytest.mark.parametrize("content,message", [
    ("[crawl]\nmax_pages = 'many'\n", "[crawl] max_pages must be an integer"),
    ("[crawl]\nmax_pagez = 3\n", "unknown key [crawl] max_pagez"),
    ("[crawling]\n", "unknown section [crawling]"),
    ("[crawl\n", "is not valid TOML"),
    ("[promo]\ncta_phrases = ['(unclosed']\n", "[promo]"),
])
def test_bad_config_is_a_one_line_error(tmp_path, content, message):
    config = tmp_path / "bad.toml"
    config.write_text(content)
    code, _, err = run_in_process("crawl", "http://127.0.0.1:9/", "--config", str(config))
    assert code == 2  # settings are arguments: nothing was done
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_missing_config_file_is_a_one_line_error(tmp_path):
    code, _, err = run_in_process("crawl", "http://127.0.0.1:9/", "--config",
                                  str(tmp_path / "nope.toml"))
    assert code == 2
    assert "config file not found" in err


def test_analyze_without_a_store_says_what_to_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_in_process("analyze")
    assert code == 1
    assert "pass --store FILE" in err


def test_analyze_of_a_missing_crawl_is_a_one_line_error(tmp_path):
    from linkaudit import storage as store

    store.connect(tmp_path / "s.sqlite").close()
    code, _, err = run_in_process("analyze", "7", "--store", str(tmp_path / "s.sqlite"))
    assert code == 1
    assert "no crawl 7" in err


def test_unknown_fail_on_rule_is_rejected(tmp_path):
    from linkaudit.alerts import AlertRuleError, parse_rule

    with pytest.raises(AlertRuleError, match="unknown category"):
        parse_rule("broken_links>2", {"broken_link"})
    with pytest.raises(AlertRuleError, match="cannot read"):
        parse_rule("broken_link >> 2", {"broken_link"})


def test_version_is_printed(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("linkaudit ")


def test_store_of_an_older_schema_gains_the_new_columns(tmp_path):
    import sqlite3 as sql

    from linkaudit import storage as store

    old = sql.connect(tmp_path / "old.sqlite")
    old.executescript("CREATE TABLE crawls (crawl_id INTEGER PRIMARY KEY AUTOINCREMENT, "
                      "site TEXT NOT NULL, start_url TEXT NOT NULL, started_at TEXT NOT NULL, "
                      "finished_at TEXT, state TEXT NOT NULL DEFAULT 'running', "
                      "finish_reason TEXT, settings_json TEXT NOT NULL DEFAULT '{}', "
                      "job_dir TEXT);"
                      "INSERT INTO crawls(site, start_url, started_at) VALUES ('s', 'u', 't');")
    old.commit()
    old.close()
    conn = store.connect(tmp_path / "old.sqlite")
    store.finish_crawl(conn, 1, "complete", "finished", {"downloader/response_bytes": 10})
    assert store.crawl_stats(conn, 1) == {"downloader/response_bytes": 10}
    assert store.get_crawl(conn, 1).state == "complete"


def test_example_site_file_is_a_valid_config():
    from linkaudit.config import load_config
    from tests.conftest import REPO

    config = load_config(REPO / "config" / "sites" / "example.toml")
    assert config.site.name == "example"
    assert config.crawl.max_seconds == 3600.0


def test_unwritable_report_folder_fails_before_crawling(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run_in_process("run", "http://127.0.0.1:9/", "--store",
                                  str(tmp_path / "s.sqlite"), "--out", str(blocker / "out"))
    assert code == 1
    assert err.startswith("linkaudit: error: cannot write reports to")
    assert not (tmp_path / "s.sqlite").exists()


def test_unwritable_store_is_a_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = run_in_process("crawl", "http://127.0.0.1:9/", "--store",
                                  str(blocker / "site" / "s.sqlite"))
    assert code == 1
    assert err.startswith("linkaudit: error: cannot create")
    assert len(err.strip().splitlines()) == 1


def test_history_without_analysis_shows_dashes(tmp_path):
    from linkaudit import storage as store

    conn = store.connect(tmp_path / "s.sqlite")
    store.start_crawl(conn, "site", "http://127.0.0.1:9/", {})
    conn.close()
    code, out, _ = run_in_process("history", "--store", str(tmp_path / "s.sqlite"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["crawl", "started", "(UTC)", "state"]
    assert lines[1].split()[2] == "running" and " - " in lines[1]


@pytest.mark.e2e
def test_run_of_a_site_with_no_indexable_page_still_writes_every_report(tmp_path, site_server):
    site = tmp_path / "site"
    site.mkdir()
    (site / "_routes.txt").write_text("503 /down.html\n")
    served = site_server(site)
    result = run_cli("run", served.url("down.html"), "--store", "s.sqlite", "--out", "out",
                     "--quiet", cwd=tmp_path)
    # A start URL that answers no page is a failed crawl: no report from `run`...
    assert result.returncode == 1
    assert "answered 503, not 200" in result.stderr
    assert not (tmp_path / "out" / "pages.csv").exists()
    # ... but asked for by id, the analysis of that crawl still writes every report.
    result = run_cli("analyze", "1", "--store", "s.sqlite", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("pages.csv", "links.csv", "headings.csv", "findings.csv",
                 "offtopic_links.csv", "index.html"):
        assert (tmp_path / "out" / name).exists(), name
    findings = (tmp_path / "out" / "findings.csv").read_text("utf-8-sig")
    assert "server_error" in findings


def test_crawls_left_running_by_a_killed_process_are_marked_interrupted(tmp_path):
    from linkaudit import storage as store

    conn = store.connect(tmp_path / "s.sqlite")
    killed = store.start_crawl(conn, "site", "http://127.0.0.1:9/", {})
    resumed = store.start_crawl(conn, "site", "http://127.0.0.1:9/", {})
    assert store.mark_abandoned(conn, keep=resumed) == 1
    assert store.get_crawl(conn, killed).state == "interrupted"
    assert store.get_crawl(conn, killed).finish_reason == "killed"
    assert store.get_crawl(conn, resumed).state == "running"
