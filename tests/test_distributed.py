"""A crawl on a Redis frontier: a coordinator and workers, through a real redis-server.

Each test's Redis database is its own; the sites are served on 127.0.0.1 by
linkaudit's site server, with every request logged (time and path).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import DEMO_SITE, REPO

redis = pytest.importorskip("redis", reason="redis-py is not installed (pip install -e '.[test]')")

pytestmark = pytest.mark.e2e


# ---------------------------------------------------------------------------
# A real Redis and logged sites


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """redis-server on 127.0.0.1, a port the OS picked, no persistence."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed and could not be installed here "
                        "(.ci/run installs Debian's redis-server package)")
        self.directory = directory
        for _ in range(5):
            self.port = _free_port()
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(directory), "--databases", "32",
                 "--unixsocket", str(directory / "redis.sock")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._answers():
                return
            self.process.kill()
            self.process.wait()
        raise RuntimeError("redis-server did not start")

    def _answers(self) -> bool:
        client = redis.Redis(port=self.port)
        for _ in range(100):
            if self.process.poll() is not None:
                return False
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                time.sleep(0.05)
        return False

    def url(self, db: int, lease: float | None = None) -> str:
        url = f"redis://127.0.0.1:{self.port}/{db}"
        return f"{url}?lease={lease}" if lease else url

    def client(self, db: int) -> redis.Redis:
        return redis.Redis(port=self.port, db=db)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


class LoggedSite:
    """A site folder served in this process; ``log`` holds (monotonic time, path)."""

    def __init__(self, root: Path, pause: float = 0.0) -> None:
        from linkaudit.siteserver import make_server

        self.server = make_server(root)
        self.base_url = self.server.base_url
        self.log: list[tuple[float, str]] = []
        log, bound = self.log, self.server.RequestHandlerClass

        class Logged(bound):  # type: ignore[misc, valid-type]
            def _respond(self, send_body: bool) -> None:
                log.append((time.monotonic(), self.path))
                if pause:
                    time.sleep(pause)
                super()._respond(send_body)

        self.server.RequestHandlerClass = Logged
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def page_fetches(self) -> Counter:
        return Counter(path for _, path in self.log if path.endswith(".html") or
                       path.endswith("/"))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def logged_site() -> Iterator[callable]:
    started: list[LoggedSite] = []

    def start(root: Path, pause: float = 0.0) -> LoggedSite:
        site = LoggedSite(root, pause)
        started.append(site)
        return site

    yield start
    for site in started:
        site.close()


def generated_site(root: Path, pages: int) -> set[str]:
    """A tree of ``pages`` pages (page i links to 2i+1, 2i+2 and home); their paths."""
    root.mkdir(parents=True, exist_ok=True)
    words = " ".join(f"word{i % 97} text{i % 13}" for i in range(150))
    for i in range(pages):
        children = [c for c in (2 * i + 1, 2 * i + 2) if c < pages]
        links = "".join(f'<li><a href="/p{c}.html">page {c}</a></li>' for c in children)
        name = "index.html" if i == 0 else f"p{i}.html"
        (root / name).write_text(
            f"<!doctype html><html lang='en'><head><title>Page {i}</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><main><h1>Page {i}</h1><p>{words}</p>"
            f"<ul>{links}</ul></main></body></html>", "utf-8")
    return {"/"} | {f"/p{i}.html" for i in range(1, pages)}


def linkaudit(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "linkaudit", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)


def finished(process: subprocess.Popen, timeout: float = 90) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def stored(store: Path) -> tuple[list[str], set[tuple]]:
    conn = sqlite3.connect(store)
    try:
        (crawl_id,) = conn.execute("SELECT MAX(crawl_id) FROM crawls").fetchone()
        urls = [row[0] for row in conn.execute(
            "SELECT url FROM pages WHERE crawl_id = ?", (crawl_id,))]
        links = set(conn.execute("SELECT source, ord, target, anchor FROM links "
                                 "WHERE crawl_id = ?", (crawl_id,)))
    finally:
        conn.close()
    return urls, links


def paths(urls: list[str], base_url: str) -> list[str]:
    return ["/" + url[len(base_url):] for url in urls if url.startswith(base_url)]


def worker_id(process: subprocess.Popen) -> str:
    return f"{socket.gethostname()}-{process.pid}"


# ---------------------------------------------------------------------------
# End to end


def test_coordinator_and_two_workers_store_each_demo_page_once_like_one_process(
        redis_server, logged_site, tmp_path):
    single_site = logged_site(DEMO_SITE)
    start = "articles/baclofene-systeme-nerveux-central.html"
    code, out, err = finished(linkaudit(
        "crawl", single_site.base_url + start, "--store", str(tmp_path / "one.sqlite"),
        "--delay", "0", "--concurrency", "4", "--quiet", cwd=tmp_path))
    assert code == 0, err

    site = logged_site(DEMO_SITE)
    frontier = redis_server.url(1)
    workers = [linkaudit("worker", "--frontier", frontier, cwd=tmp_path) for _ in range(2)]
    coordinator = linkaudit("crawl", site.base_url + start, "--store",
                            str(tmp_path / "many.sqlite"), "--frontier", frontier,
                            "--delay", "0", "--concurrency", "4", "--quiet", cwd=tmp_path)
    code, out, err = finished(coordinator)
    assert code == 0, err
    assert "(complete)" in out
    sent = []
    for worker in workers:
        wcode, wout, werr = finished(worker, timeout=30)
        assert wcode == 0, werr
        line = re.fullmatch(rf"worker {re.escape(worker_id(worker))}: (\d+) pages\n", wout)
        assert line, wout
        sent.append(int(line.group(1)))

    one_urls, one_links = stored(tmp_path / "one.sqlite")
    many_urls, many_links = stored(tmp_path / "many.sqlite")
    one = sorted(paths(one_urls, single_site.base_url))
    many = sorted(paths(many_urls, site.base_url))
    assert many == one
    assert len(many_urls) == len(set(many_urls)) == len(one_urls) > 40

    def local(links, base):
        return {tuple(v.replace(base, "/") if isinstance(v, str) else v for v in link)
                for link in links}
    assert local(many_links, site.base_url) == local(one_links, single_site.base_url)
    # Each page was fetched once by one of the three processes, as in one process.
    assert max(site.page_fetches().values()) == 1
    assert site.page_fetches() == single_site.page_fetches()
    assert sum(sent) <= len(many)


def test_a_crawl_runs_on_a_frontier_reached_by_its_unix_socket(redis_server, logged_site,
                                                              tmp_path):
    site = logged_site(DEMO_SITE)
    frontier = f"unix://{redis_server.directory / 'redis.sock'}?db=5&lease=30"
    code, out, err = finished(linkaudit(
        "crawl", site.base_url + "articles/baclofene-systeme-nerveux-central.html", "--store",
        str(tmp_path / "s.sqlite"), "--frontier", frontier, "--delay", "0", "--quiet",
        cwd=tmp_path))
    assert code == 0, err
    assert "(complete)" in out
    assert redis_server.client(5).dbsize() > 0  # the crawl's queue and seen set were there
    assert max(site.page_fetches().values()) == 1


def test_worker_killed_mid_crawl_loses_nothing_and_refetches_only_what_it_held(
        redis_server, logged_site, tmp_path):
    expected = generated_site(tmp_path / "site", 300)
    site = logged_site(tmp_path / "site", pause=0.02)
    frontier = redis_server.url(2, lease=1.5)
    client = redis_server.client(2)
    victim, survivor = (linkaudit("worker", "--frontier", frontier, cwd=tmp_path)
                        for _ in range(2))
    coordinator = linkaudit("crawl", site.base_url, "--store", str(tmp_path / "s.sqlite"),
                            "--frontier", frontier, "--delay", "0", "--concurrency", "4",
                            "--quiet", cwd=tmp_path)
    deadline = time.monotonic() + 60
    while int(client.hget("linkaudit:workers", worker_id(victim)) or 0) < 10:
        assert time.monotonic() < deadline, "the worker sent no pages"
        assert coordinator.poll() is None, coordinator.communicate()
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    # What it held when it died: leased, not acknowledged (put back only after the lease).
    held = [m for m, owner in client.hgetall("linkaudit:owner").items()
            if owner.decode().startswith(worker_id(victim) + "|")]
    code, out, err = finished(coordinator)
    assert code == 0, err
    scode, sout, serr = finished(survivor, timeout=30)
    assert scode == 0, serr
    assert sout.startswith(f"worker {worker_id(survivor)}: ")

    urls, _ = stored(tmp_path / "s.sqlite")
    assert sorted(paths(urls, site.base_url)) == sorted(expected)  # nothing missing, once each
    fetched = site.page_fetches()
    twice = {path for path, n in fetched.items() if n > 1}
    assert set(fetched) == expected
    assert len(twice) <= len(held), (twice, len(held))
    assert all(n == 2 for n in fetched.values() if n > 1)
    print(f"killed worker held {len(held)} requests; {len(twice)} pages fetched twice")


def test_politeness_and_max_pages_hold_for_the_crawl_not_per_worker(
        redis_server, logged_site, tmp_path):
    generated_site(tmp_path / "site", 40)
    site = logged_site(tmp_path / "site")
    frontier = redis_server.url(3)
    delay = 0.3
    workers = [linkaudit("worker", "--frontier", frontier, cwd=tmp_path) for _ in range(2)]
    coordinator = linkaudit("crawl", site.base_url, "--store", str(tmp_path / "s.sqlite"),
                            "--frontier", frontier, "--delay", str(delay), "--concurrency",
                            "1", "--max-pages", "10", "--quiet", cwd=tmp_path)
    code, out, err = finished(coordinator)
    assert code == 0, err
    sent = [int(finished(w, timeout=30)[1].split(": ")[-1].split()[0]) for w in workers]
    assert sum(sent) > 0  # the workers did fetch pages
    urls, _ = stored(tmp_path / "s.sqlite")
    assert len(urls) == 10 and len(site.page_fetches()) == 10
    times = sorted(t for t, _ in site.log)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # The delay is randomised between 0.5x and 1.5x, as in one process; robots.txt (one
    # per process) and the sitemaps wait for the same slot. The slot is granted in Redis;
    # 50 ms allow for the time between the grant and the request reaching the server.
    assert len(times) >= 10 + 3
    assert min(gaps) >= 0.5 * delay - 0.05, [(round(t - times[0], 3), p) for t, p in site.log]


def test_killed_coordinator_is_resumed_from_its_store(redis_server, logged_site, tmp_path):
    expected = generated_site(tmp_path / "site", 120)
    site = logged_site(tmp_path / "site", pause=0.03)
    frontier = redis_server.url(4, lease=1)
    store = tmp_path / "s.sqlite"
    args = ("crawl", site.base_url, "--store", str(store), "--frontier", frontier,
            "--delay", "0", "--concurrency", "2", "--quiet")
    first = linkaudit(*args, cwd=tmp_path)
    deadline = time.monotonic() + 60
    while len(site.page_fetches()) < 30:
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    # The crawl's recorded settings hold its frontier: --resume alone continues it there.
    code, out, err = finished(linkaudit("crawl", site.base_url, "--store", str(store),
                                        "--resume", "--quiet", cwd=tmp_path))
    assert code == 0, err
    assert "crawl 1 (complete)" in out
    assert redis_server.client(4).get("linkaudit:done") == b"finished"
    urls, _ = stored(store)
    assert sorted(paths(urls, site.base_url)) == sorted(expected)


def test_lost_redis_is_a_one_line_error_for_coordinator_and_worker(logged_site, tmp_path):
    generated_site(tmp_path / "site", 200)
    site = logged_site(tmp_path / "site", pause=0.05)
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis")
    try:
        frontier = server.url(0)
        worker = linkaudit("worker", "--frontier", frontier, cwd=tmp_path)
        coordinator = linkaudit("crawl", site.base_url, "--store", str(tmp_path / "s.sqlite"),
                                "--frontier", frontier, "--delay", "0", "--quiet",
                                cwd=tmp_path)
        deadline = time.monotonic() + 60
        while len(site.page_fetches()) < 10:
            assert time.monotonic() < deadline and coordinator.poll() is None
            time.sleep(0.02)
    finally:
        server.process.kill()
        server.process.wait()
    code, out, err = finished(coordinator)
    assert code == 1
    assert err.splitlines() == [err.strip()], err
    assert err.startswith("linkaudit: error: lost the frontier redis://127.0.0.1:")
    assert "--resume" in err and "Traceback" not in err
    wcode, wout, werr = finished(worker, timeout=30)
    assert wcode == 1
    assert wout.startswith(f"worker {worker_id(worker)}: ")
    assert werr.splitlines() == [werr.strip()], werr
    assert werr.startswith("linkaudit: error: ")


# ---------------------------------------------------------------------------
# Errors before any work


def run_main(*args: str) -> tuple[int, str, str]:
    from linkaudit.cli import main

    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(list(args), stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379/0", "redis://127.0.0.1:99999/0",
                                 "redis://127.0.0.1:6379/x", "redis://127.0.0.1/0?lease=0",
                                 "redis://"])
def test_a_bad_frontier_url_is_a_one_line_usage_error(url, tmp_path):
    for args in (("crawl", "http://127.0.0.1:1/", "--frontier", url),
                 ("worker", "--frontier", url)):
        code, out, err = run_main(*args)
        assert code == 2
        assert err.count("\n") == 1 and err.startswith("linkaudit: error: argument --frontier")


def test_a_bad_frontier_in_the_site_file_names_the_key(tmp_path):
    from linkaudit.config import ConfigError, load_config

    site = tmp_path / "site.toml"
    site.write_text('[crawl]\nfrontier = "localhost:6379"\n', "utf-8")
    with pytest.raises(ConfigError, match=r"^\[crawl\] frontier 'localhost:6379' must be"):
        load_config(site)
    site.write_text('[crawl]\nfrontier = "redis://127.0.0.1:6379/0"\n', "utf-8")
    assert load_config(site).crawl.frontier == "redis://127.0.0.1:6379/0"


def test_an_unreachable_frontier_is_a_one_line_error_before_any_work(tmp_path):
    frontier = f"redis://127.0.0.1:{_free_port()}/0"
    store = tmp_path / "s.sqlite"
    code, out, err = run_main("crawl", "http://127.0.0.1:1/", "--store", str(store),
                              "--frontier", frontier)
    assert code == 1
    assert err.startswith(f"linkaudit: error: cannot reach the frontier {frontier}: ")
    assert err.count("\n") == 1
    assert not store.exists()
    code, out, err = run_main("worker", "--frontier", frontier)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"linkaudit: error: cannot reach the frontier {frontier}: ")


def test_a_worker_with_no_crawl_to_join_says_so(redis_server):
    code, out, err = run_main("worker", "--frontier", redis_server.url(5), "--wait", "0.3")
    assert code == 1
    assert err.startswith("linkaudit: error: no crawl is running on the frontier")
    assert err.count("\n") == 1


def test_a_second_crawl_on_a_busy_frontier_is_refused_with_exit_4(redis_server, tmp_path):
    client = redis_server.client(6)
    client.hset("linkaudit:meta", "start_url", "http://127.0.0.1:9/")
    client.set("linkaudit:coordinator", "elsewhere", px=30_000)
    store = tmp_path / "s.sqlite"
    code, out, err = run_main("crawl", "http://127.0.0.1:1/", "--store", str(store),
                              "--frontier", redis_server.url(6))
    assert code == 4
    assert err == (f"linkaudit: error: another crawl (http://127.0.0.1:9/) is running on the "
                   f"frontier {redis_server.url(6)}; nothing done\n")
    assert not store.exists()


# ---------------------------------------------------------------------------
# The workers' systemd unit (deploy/linkaudit-worker.service, docs/distributed.md)


def test_worker_unit_runs_a_worker_that_comes_back_for_the_next_crawl():
    import configparser
    import shlex

    from linkaudit.cli import build_parser

    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment, method-assign]
    unit.read(REPO / "deploy" / "linkaudit-worker.service", encoding="utf-8")
    service = unit["Service"]
    assert service["Restart"] == "always"
    assert service["WorkingDirectory"] == "/opt/linkaudit"
    name, _, value = service["Environment"].partition("=")
    words = shlex.split(service["ExecStart"].replace("${" + name + "}", value))
    assert words[0] == "/opt/linkaudit/.venv/bin/linkaudit"
    args = build_parser().parse_args(words[1:])
    assert args.command == "worker" and args.frontier == value and args.wait > 0
    assert "network-online.target" in unit["Unit"]["After"].split()
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed")
def test_worker_unit_passes_systemd_analyze_verify(tmp_path):
    if not (REPO / ".venv" / "bin" / "linkaudit").exists():
        pytest.skip("no .venv/bin/linkaudit in this checkout")
    text = (REPO / "deploy" / "linkaudit-worker.service").read_text("utf-8")
    unit = tmp_path / "linkaudit-worker.service"
    unit.write_text(text.replace("/opt/linkaudit", str(REPO)), "utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert [line for line in (result.stdout + result.stderr).splitlines()
            if "linkaudit-worker" in line] == []
