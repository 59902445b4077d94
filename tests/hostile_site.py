"""A hostile web site, generated on the fly (nothing big is committed), for the tests
and the benchmark that must end with reports whatever a site serves.

    python -m tests.hostile_site        # prints its base URL, serves until killed

Every case is one path; ``CASES`` says what each one does. The server binds
127.0.0.1 on a port the OS picks and logs every request path to stderr.
"""

from __future__ import annotations

import gzip
import io
import random
import socket
import struct
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_BYTES = 30 * 1024 * 1024
BOMB_BYTES = 100 * 1024 * 1024  # decompressed size of the gzip bombs
STALL_SECONDS = 60
OFFSITE = "http://127.0.0.2:9"  # another host (loopback): must never be requested

CASES = {
    "/huge.html": "a 30 MB page",
    "/links.html": "100,000 links on one page",
    "/nested.html": "a link inside 20,000 nested elements",
    "/binary.html": "random bytes served as text/html",
    "/bad-utf8.html": "invalid UTF-8 declared as UTF-8",
    "/bogus-charset.html": "bogus charsets in the header and in <meta>",
    "/sections.html": "5,000 tiny sections",
    "/formula.html": "title and anchors that start with =, +, -, @",
    "/script.html": "script and markup in the title and an anchor",
    "/bomb.html": "a gzip bomb page (100 MB once decompressed)",
    "/loop-a.html": "a redirect loop",
    "/chain/0.html": "a 30-hop redirect chain",
    "/stall.html": "headers, then nothing",
    "/reset.html": "the connection is reset",
    "/error.html": "a 500",
    "/longhref.html": "a 10,000-character href",
    "/identical.html": "2,000 identical sections",
}


def _page(title: str, body: str) -> bytes:
    return (f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>{title}</title>"
            f"</head><body><main><h1>{title}</h1>{body}</main></body></html>").encode()


def _index() -> bytes:
    links = "".join(f'<li><a href="{path}">{what}</a></li>' for path, what in CASES.items())
    return _page("Site hostile", f"<p>Chaque lien est un piège.</p><ul>{links}</ul>")


def _gzip_bomb(size: int) -> bytes:
    out = io.BytesIO()
    chunk = b" " * (1024 * 1024)
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as archive:
        for _ in range(size // len(chunk)):
            archive.write(chunk)
    return out.getvalue()


_BOMB = _gzip_bomb(BOMB_BYTES)


def _body(path: str) -> tuple[int, dict[str, str], bytes] | None:
    text_html = {"Content-Type": "text/html; charset=utf-8"}
    if path in ("/", "/index.html"):
        return 200, text_html, _index()
    if path == "/links.html":
        links = " ".join(f'<a href="/t/{i % 50}.html">lien {i}</a>' for i in range(100_000))
        return 200, text_html, _page("Cent mille liens", f"<p>{links}</p>")
    if path == "/nested.html":
        deep = '<p>Tout au fond, <a href="/deep-target.html">la cible</a>.</p>'
        return 200, text_html, _page("Imbrication", "<div>" * 20_000 + deep + "</div>" * 20_000)
    if path == "/binary.html":
        return 200, {"Content-Type": "text/html"}, random.Random(7).randbytes(200_000)
    if path == "/bad-utf8.html":
        return 200, text_html, _page("Octets", "<p>caf\xe9</p>").replace(b"caf", b"caf\xe9\xff\xfe")
    if path == "/bogus-charset.html":
        body = ("<html><head><meta charset='klingon-42'><title>Jeu de caractères</title></head>"
                "<body><p>Texte accentué : été.</p></body></html>").encode("latin-1")
        return 200, {"Content-Type": "text/html; charset=x-bogus"}, body
    if path == "/sections.html":
        sections = "".join(f"<h2>Section {i}</h2><p>Texte {i}.</p>" for i in range(5_000))
        return 200, text_html, _page("Cinq mille sections", sections)
    if path == "/formula.html":
        anchors = "".join(f'<p><a href="/t/{i}.html">{a}</a></p>' for i, a in
                          enumerate(["=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3",
                                     "@SUM(A1:A9)"]))
        return 200, text_html, _page("=1+1 formule", anchors)
    if path == "/script.html":
        return 200, text_html, _page(
            "&lt;script&gt;alert(1)&lt;/script&gt; titre",
            '<p><a href="/t/9.html">&lt;img src=x onerror=alert(1)&gt;</a></p>')
    if path == "/bomb.html":
        return 200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, _BOMB
    if path == "/sitemap.xml":
        ns = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        body = (f'<?xml version="1.0"?><sitemapindex {ns}>'
                "<sitemap><loc>/sitemap.xml</loc></sitemap>"
                "<sitemap><loc>/bomb-sitemap.xml.gz</loc></sitemap>"
                f"<sitemap><loc>{OFFSITE}/sitemap.xml</loc></sitemap></sitemapindex>").encode()
        return 200, {"Content-Type": "application/xml"}, body
    if path == "/bomb-sitemap.xml.gz":
        return 200, {"Content-Type": "application/gzip"}, _BOMB
    if path == "/robots.txt":
        garbage = random.Random(3).randbytes(1024 * 1024) + f"\nSitemap: {OFFSITE}/s\n".encode()
        return 200, {"Content-Type": "text/plain"}, garbage
    if path == "/error.html":
        return 500, text_html, b"<html><body>Erreur</body></html>"
    if path == "/longhref.html":
        href = "/" + "x" * 10_000 + ".html"
        return 200, text_html, _page("Lien long", f'<p><a href="{href}">très long</a></p>')
    if path == "/identical.html":
        section = "<h2>Même titre</h2><p>" + "même texte répété " * 16 + "</p>"
        return 200, text_html, _page("Deux mille sections identiques", section * 2_000)
    if path.startswith(("/t/", "/chain/")) or path == "/deep-target.html":
        return 200, text_html, _page("Cible", "<p>Une page cible ordinaire.</p>")
    return None


class HostileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass  # every request is logged once, by do_GET

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        path = self.path.split("?", 1)[0]
        print(f"REQUEST {self.client_address[0]} {path}", file=sys.stderr, flush=True)
        if path == "/huge.html":
            return self._huge()
        if path == "/stall.html":
            return self._stall()
        if path == "/reset.html":
            return self._reset()
        if path == "/loop-a.html" or path == "/loop-b.html":
            return self._redirect("/loop-b.html" if path == "/loop-a.html" else "/loop-a.html")
        if path.startswith("/chain/"):
            hop = int(path.split("/")[2].split(".")[0])
            if hop < 30:
                return self._redirect(f"/chain/{hop + 1}.html")
        found = _body(path)
        if found is None:
            status, headers, body = 404, {"Content-Type": "text/html"}, b"<p>absent</p>"
        else:
            status, headers, body = found
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        block = b"<p>" + b"mot " * 254 + b"</p>\n"
        sent = 0
        try:
            while sent < HUGE_BYTES:
                piece = block[: HUGE_BYTES - sent]
                self.wfile.write(piece)
                sent += len(piece)
        except OSError:  # the client gave up at its size limit
            pass

    def _stall(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.flush()
        time.sleep(STALL_SECONDS)

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout: close() sends a RST instead of a FIN. The request's
        # file objects hold the socket open until they are closed too.
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.wfile.close()
        self.connection.close()


def serve() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileHandler)
    server.daemon_threads = True
    return server


def main() -> int:
    server = serve()
    print(f"http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
