"""A stand-in for the vendor API that serves the sample pages, for tests and demonstrations.

``samples/hr-rest/<set>/`` holds, per entity set, the pages ``<EntitySet>.page-1.json``,
``.page-2.json``... An entity set whose first page carries ``@odata.nextLink``
is served page by page as stored (server-driven paging: the links name
``$skiptoken=page-N``); the others are served by ``$top`` and ``$skip`` over
their pages read in order, so any page size works. The token endpoint issues
bearer tokens to the sample client only; pages need one of them.

    client = httpx.Client(transport=sample_transport(SAMPLES / "good"))
    adapter = HrRestAdapter(sample_options(), http=client)
    outcomes = list(adapter.read(SAMPLE_BASE_URL))
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "hr-rest"
SAMPLE_BASE_URL = "https://hr.example-vendor.test/odata/v4"
SAMPLE_TOKEN_URL = "https://login.example-vendor.test/oauth2/token"
SAMPLE_CLIENT_ID = "plugshare-demo"
SAMPLE_CLIENT_SECRET = "demo-secret-not-a-real-one"


def sample_options(council: str = "E07000991", **more: str) -> dict[str, str]:
    """The options that read the samples (the sample client's credentials, a fixed extract time)."""
    return {"council": council, "as_at": "2025-09-30T17:00:00Z", "token_url": SAMPLE_TOKEN_URL,
            "client_id": SAMPLE_CLIENT_ID, "client_secret": SAMPLE_CLIENT_SECRET, **more}


def sample_handler(directory: Path, *, base_url: str = SAMPLE_BASE_URL, token_url: str = SAMPLE_TOKEN_URL,
                   client_id: str = SAMPLE_CLIENT_ID, client_secret: str = SAMPLE_CLIENT_SECRET,
                   expires_in: int = 3600) -> Callable[[httpx.Request], httpx.Response]:
    """A request -> response function serving ``directory`` (usable as a respx side effect)."""
    issued: list[str] = []
    base = httpx.URL(base_url)

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.copy_with(query=None) == httpx.URL(token_url):
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            basic = request.headers.get("Authorization", "")
            if basic.startswith("Basic "):
                form["client_id"], _, form["client_secret"] = base64.b64decode(basic[6:]).decode().partition(":")
            if form.get("grant_type") != "client_credentials":
                return httpx.Response(400, json={"error": "unsupported_grant_type"})
            if (form.get("client_id"), form.get("client_secret")) != (client_id, client_secret):
                return httpx.Response(401, json={"error": "invalid_client",
                                                 "error_description": "client authentication failed"})
            issued.append(f"sample-token-{len(issued) + 1}")
            return httpx.Response(200, json={"access_token": issued[-1], "token_type": "Bearer",
                                             "expires_in": expires_in})
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in issued:
            return httpx.Response(401, json={"error": {"code": "Unauthorized", "message": "no valid bearer token"}})
        path = request.url.path
        if request.method != "GET" or request.url.host != base.host or not path.startswith(base.path + "/"):
            return _not_found(path)
        return serve_page(directory, path[len(base.path) + 1:], dict(request.url.params))

    return handle


def sample_transport(directory: Path, **settings: Any) -> httpx.MockTransport:
    return httpx.MockTransport(sample_handler(directory, **settings))


def serve_page(directory: Path, entity_set: str, params: dict[str, str]) -> httpx.Response:
    """One page of ``entity_set`` as the API would answer ``params`` ($top, $skip or $skiptoken)."""
    pages = sorted(directory.glob(f"{entity_set}.page-*.json"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    if not pages or "/" in entity_set:
        return _not_found(entity_set)
    if "$skiptoken" in params:
        page = directory / f"{entity_set}.{params['$skiptoken']}.json"
        return httpx.Response(200, json=_load(page)) if page in pages else _not_found(entity_set)
    first = _load(pages[0])
    if "@odata.nextLink" in first:
        return httpx.Response(200, json=first)
    try:
        top, skip = int(params.get("$top", "1000000")), int(params.get("$skip", "0"))
    except ValueError:
        return httpx.Response(400, json={"error": {"code": "BadRequest", "message": "$top and $skip are numbers"}})
    items = [item for page in pages for item in _load(page)["value"]]
    return httpx.Response(200, json={"@odata.context": first.get("@odata.context"), "value": items[skip:skip + top]})


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _not_found(what: str) -> httpx.Response:
    return httpx.Response(404, json={"error": {"code": "NotFound", "message": f"no entity set {what}"}})


@dataclass(frozen=True)
class LoopbackApi:
    """A sample API being served on loopback: where its pages and its token endpoint are."""

    base_url: str
    token_url: str

    def options(self, council: str = "E07000991", **more: str) -> dict[str, str]:
        return sample_options(council, token_url=self.token_url, **more)


@contextmanager
def loopback_api(directory: Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[LoopbackApi]:
    """Serve a sample directory over real HTTP on a loopback port, for the demo and end-to-end tests.

    The same handler as :func:`sample_transport` answers; absolute links in the stored pages are
    rewritten to the loopback address, so server-driven paging stays on one origin.
    """
    server = ThreadingHTTPServer((host, port), _LoopbackHandler)
    server.daemon_threads = True
    address = f"http://{host}:{server.server_address[1]}"
    api = LoopbackApi(address + httpx.URL(SAMPLE_BASE_URL).path, address + httpx.URL(SAMPLE_TOKEN_URL).path)
    server.sample_handler = sample_handler(directory, base_url=api.base_url, token_url=api.token_url)
    server.rewrite = (SAMPLE_BASE_URL.encode(), api.base_url.encode())
    thread = threading.Thread(target=server.serve_forever, name="plugshare-sample-api", daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _LoopbackHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (the standard library's naming)
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host, port = self.server.server_address[:2]
        request = httpx.Request(self.command, f"http://{host}:{port}{self.path}",
                                headers=dict(self.headers.items()), content=body)
        response = self.server.sample_handler(request)
        content = response.content.replace(*self.server.rewrite)
        self.send_response(response.status_code)
        self.send_header("Content-Type", response.headers.get("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:  # requests are not logged: they carry tokens
        return
