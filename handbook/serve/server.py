"""The preview's HTTP server: its page, two assets, the pictures and the state; nothing else.

No address maps to a file: the page is a template, the assets a fixed list
read once, each picture looked up by name among those drawn. A request
whose path climbs (``..``, encoded or not), is absolute-form or names
anything else is refused before any lookup.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from dataclasses import asdict
from functools import cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import jinja2

from handbook.serve.state import PreviewState

PAGE_DIR = Path(__file__).parent / "page"
ASSETS = {"serve.js": "text/javascript", "serve.css": "text/css"}
_PICTURE = re.compile(r"/pictures/([a-z0-9][a-z0-9-]*)\.png")
# Only what the page loads, from this server: no inline script, nothing from elsewhere.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'"
)


# A state number the page sends back: ASCII digits, as few as a counter needs.
_SINCE = re.compile(r"-?[0-9]{1,18}")


class PreviewServer(ThreadingHTTPServer):
    """A threading HTTP server holding the preview's state."""

    daemon_threads = True  # a page's waiting request never holds up the stop

    def __init__(self, state: PreviewState, host: str, port: int, title: str):
        self.state, self.title = state, title
        super().__init__((host, port), PreviewHandler)

    def handle_error(self, request, client_address) -> None:
        """A page closed (or reloaded) while its request waited: nothing to report."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/"

    def loopback(self) -> bool:
        return ip_address(self.server_address[0]).is_loopback


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    server_version = "handbook-serve"
    sys_version = ""

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def log_message(self, format: str, *args) -> None:
        """Quiet: the terminal shows the builds, not every request."""

    def _answer(self, head: bool) -> None:
        path, query = _request_path(self.path)
        if path is None:
            self._send(HTTPStatus.BAD_REQUEST, b"refused\n", "text/plain", head)
        elif not self._host_allowed():
            self._send(HTTPStatus.MISDIRECTED_REQUEST, b"unknown host\n", "text/plain", head)
        elif path == "/":
            self._send(HTTPStatus.OK, self._page(), "text/html; charset=utf-8", head)
        elif path.startswith("/assets/") and path[len("/assets/") :] in ASSETS:
            name = path[len("/assets/") :]
            self._send(HTTPStatus.OK, _asset(name), f"{ASSETS[name]}; charset=utf-8", head)
        elif path == "/state":
            self._send_state(query, head)
        elif match := _PICTURE.fullmatch(path):
            self._send_picture(match[1], head)
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head)

    def _host_allowed(self) -> bool:
        """On loopback, only requests addressed to a loopback name (no DNS rebinding)."""
        if not self.server.loopback():
            return True
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
        return host in ("localhost", "127.0.0.1", "::1", str(self.server.server_address[0]))

    def _page(self) -> bytes:
        return _template().render(title=self.server.title).encode()

    def _send_state(self, query: dict[str, list[str]], head: bool) -> None:
        since = query.get("since", [""])[0]
        newer_than = int(since) if _SINCE.fullmatch(since) else None
        snapshot = self.server.state.snapshot(newer_than)
        body = json.dumps(asdict(snapshot), ensure_ascii=False).encode()
        self._send(HTTPStatus.OK, body, "application/json", head)

    def _send_picture(self, name: str, head: bool) -> None:
        picture = self.server.state.picture(name)
        if picture is None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain", head)
            return
        tag = f'"{picture.version}"'
        if self.headers.get("If-None-Match") == tag:
            self._send(HTTPStatus.NOT_MODIFIED, b"", "image/png", head=True, etag=tag)
            return
        self._send(HTTPStatus.OK, picture.png, "image/png", head, etag=tag)

    def _send(
        self, status: HTTPStatus, body: bytes, kind: str, head: bool, etag: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", POLICY)
        self.send_header("Referrer-Policy", "no-referrer")
        if etag:
            self.send_header("ETag", etag)
        self.end_headers()
        if not head:
            self.wfile.write(body)


def _request_path(target: str) -> tuple[str | None, dict[str, list[str]]]:
    """The request's path, decoded, or None when it is refused: not origin-form
    (``http://...`` or ``*``), a backslash or NUL, or a segment that climbs."""
    if not target.startswith("/") or target.startswith("//"):
        return None, {}
    parts = urlsplit(target)
    path = unquote(parts.path)
    if "\\" in path or "\0" in path or path.startswith("//"):
        return None, {}
    if path != "/" and (".." in path.split("/") or posixpath.normpath(path) != path):
        return None, {}
    return path, parse_qs(parts.query)


@cache
def _asset(name: str) -> bytes:
    return (PAGE_DIR / name).read_bytes()


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PAGE_DIR), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template("index.html.j2")
