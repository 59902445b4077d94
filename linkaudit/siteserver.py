"""A small static web server for the demo site and the tests.

It serves a folder on 127.0.0.1 on a port the OS picks and prints its base URL
on the first line of stdout, so a caller reads the line instead of racing for
a port. Beyond plain files it understands a ``_routes.txt`` file at the
folder's root, one rule per line::

    301 /old.html /new.html      # redirect (any 3xx) to a path or URL
    500 /unstable.html           # answer with that status and a short body
    delay 3 /slow.html           # wait 3 seconds, then serve the file
    drop /reset.html             # close the connection without answering
    trap /calendar/              # endless generated pages linking deeper

``{{BASE}}`` in robots.txt and ``*.xml`` files is replaced by the server's base
URL (sitemaps need absolute URLs). ``x.xml.gz`` is served gzipped from ``x.xml``
when only the latter exists. Files get an ETag and Last-Modified, and
conditional requests are answered with 304, as real servers do.

    python -m linkaudit.siteserver demo/site
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import mimetypes
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

TEXT_TYPES = {".html": "text/html", ".htm": "text/html", ".xml": "application/xml",
              ".txt": "text/plain", ".css": "text/css", ".js": "text/javascript"}


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str  # status, delay, drop, trap
    path: str
    status: int = 200
    location: str | None = None
    seconds: float = 0.0


def parse_routes(text: str) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        head = parts[0].lower()
        try:
            if head == "delay":
                rule = Rule("delay", parts[2], seconds=float(parts[1]))
            elif head in ("drop", "trap"):
                rule = Rule(head, parts[1])
            else:
                status = int(head)
                location = parts[2] if len(parts) > 2 else None
                rule = Rule("status", parts[1], status=status, location=location)
        except (IndexError, ValueError) as exc:
            raise ValueError(f"_routes.txt line {lineno}: cannot read {raw!r}") from exc
        rules[rule.path] = rule
    return rules


class SiteHandler(BaseHTTPRequestHandler):
    server_version = "linkaudit-siteserver/1"
    root: Path
    routes: dict[str, Rule]
    base_url: str

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    def do_HEAD(self) -> None:  # noqa: N802 - stdlib naming
        self._respond(send_body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._respond(send_body=True)

    def _respond(self, send_body: bool) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        rule = self.routes.get(path) or self._trap_rule(path)
        if rule is not None:
            if rule.kind == "drop":
                self.close_connection = True
                self.connection.close()
                return
            if rule.kind == "delay":
                time.sleep(rule.seconds)
            elif rule.kind == "trap":
                self._send(200, "text/html; charset=utf-8", self._trap_page(path), send_body)
                return
            elif rule.kind == "status":
                self._send_status(rule, send_body)
                return
        self._send_file(path, send_body)

    def _trap_rule(self, path: str) -> Rule | None:
        for rule in self.routes.values():
            if rule.kind == "trap" and path.startswith(rule.path):
                return rule
        return None

    def _trap_page(self, path: str) -> bytes:
        digits = "".join(ch for ch in path.rsplit("/", 2)[-2] if ch.isdigit()) or "0"
        nxt = int(digits) + 1
        base = path if path.endswith("/") else path + "/"
        root = base.split("/")[1]
        body = (f"<!doctype html><html lang='en'><head><title>Page {digits}</title></head>"
                f"<body><main><h1>Page {digits}</h1><p>Next: <a href='/{root}/{nxt}/'>"
                f"page {nxt}</a></p></main></body></html>")
        return body.encode()

    def _send_status(self, rule: Rule, send_body: bool) -> None:
        headers = {}
        if rule.location:
            headers["Location"] = rule.location
        body = f"<html><body><h1>{rule.status}</h1></body></html>".encode()
        self._send(rule.status, "text/html; charset=utf-8", body, send_body, headers)

    def _send_file(self, path: str, send_body: bool) -> None:
        file = self._resolve(path)
        gzipped = False
        if file is None and path.endswith(".gz"):
            file = self._resolve(path[:-3])
            gzipped = file is not None
        if file is None:
            body = b"<html><head><title>404</title></head><body><h1>Not found</h1></body></html>"
            self._send(404, "text/html; charset=utf-8", body, send_body)
            return
        data = file.read_bytes()
        if file.name == "robots.txt" or file.suffix == ".xml":
            data = data.replace(b"{{BASE}}", self.base_url.rstrip("/").encode())
        ctype = TEXT_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0]
        ctype = ctype or "application/octet-stream"
        if gzipped:
            data, ctype = gzip.compress(data, mtime=0), "application/gzip"
        headers = self._validators(file, data)
        if self._not_modified(headers):
            self._send(304, None, b"", False, headers)
            return
        self._send(200, ctype, data, send_body, headers)

    def _resolve(self, path: str) -> Path | None:
        candidate = (self.root / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.root):
            return None
        if candidate.is_dir():
            candidate = candidate / "index.html"
        if candidate.is_file() and not candidate.name.startswith("_"):
            return candidate
        return None

    @staticmethod
    def _validators(file: Path, data: bytes) -> dict[str, str]:
        etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(file.stat().st_mtime, usegmt=True)
        return {"ETag": etag, "Last-Modified": modified}

    def _not_modified(self, validators: dict[str, str]) -> bool:
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return validators["ETag"] in [t.strip() for t in if_none_match.split(",")]
        since = self.headers.get("If-Modified-Since")
        if since:
            try:
                since_ts = email.utils.parsedate_to_datetime(since).timestamp()
                modified_ts = email.utils.parsedate_to_datetime(
                    validators["Last-Modified"]).timestamp()
            except (TypeError, ValueError):
                return False
            return modified_ts <= since_ts
        return False

    def _send(self, status: int, ctype: str | None, body: bytes, send_body: bool,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body and body:
            self.wfile.write(body)


def make_server(root: str | Path, host: str = "127.0.0.1", port: int = 0,
                verbose: bool = False) -> ThreadingHTTPServer:
    root = Path(root).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"no site folder at {root}")
    routes_file = root / "_routes.txt"
    routes = parse_routes(routes_file.read_text("utf-8")) if routes_file.exists() else {}
    server = ThreadingHTTPServer((host, port), SiteHandler)
    server.daemon_threads = True
    server.verbose = verbose  # type: ignore[attr-defined]
    base_url = f"http://{host}:{server.server_address[1]}/"
    handler_attrs = {"root": root, "routes": routes, "base_url": base_url}
    server.RequestHandlerClass = type("BoundSiteHandler", (SiteHandler,), handler_attrs)
    server.base_url = base_url  # type: ignore[attr-defined]
    return server


def serve_in_thread(root: str | Path) -> ThreadingHTTPServer:
    """Start a server in a daemon thread (for in-process callers); ``.base_url`` holds its URL."""
    server = make_server(root)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a site folder on 127.0.0.1.")
    parser.add_argument("root", help="folder to serve")
    parser.add_argument("--port", type=int, default=0, help="port (default: one the OS picks)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    try:
        server = make_server(args.root, port=args.port, verbose=args.verbose)
    except (OSError, ValueError) as exc:
        print(f"siteserver: {exc}", file=sys.stderr)
        return 2
    print(server.base_url, flush=True)  # type: ignore[attr-defined]
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
