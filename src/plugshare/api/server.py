"""Run an app with uvicorn on a real socket, announcing where it listens, and stop cleanly.

The socket is bound and listening before the address is announced, so a caller
that reads the announcement (a test, a script, the conformance suite) can
connect at once; port 0 picks a free port and the announcement gives the one
chosen. SIGINT and SIGTERM finish the requests in flight, run the app's
shutdown (which closes the store) and return normally.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

#: Seconds given to requests in flight when asked to stop.
GRACEFUL_SHUTDOWN_SECONDS = 10


@dataclass(frozen=True)
class Listening:
    """Where a server listens, with the port actually bound (port 0 asks the system for a free one)."""

    host: str
    port: int

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


class _Server(uvicorn.Server):
    """uvicorn's server, but a stop asked for by a signal ends with exit status 0.

    uvicorn raises the captured signal again once it has shut down, so the process dies of it; a
    supervisor or a script then sees a crash where there was a clean stop.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; OSError (address in use, no such address) is the caller's to report."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without it
    # every small response waits ~40 ms for the peer's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def run(app: ASGIApp, host: str, port: int, announce: Callable[[Listening], None], *,
        access_log: bool = True, log_level: str = "info") -> None:
    """Serve ``app`` until interrupted; ``announce`` is called once the socket accepts connections."""
    sock = bind(host, port)
    where = Listening(host, sock.getsockname()[1])
    config = uvicorn.Config(app, lifespan="on", access_log=access_log, log_level=log_level, server_header=False,
                            proxy_headers=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    server = _Server(config)
    announce(where)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


@contextlib.contextmanager
def running(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> Iterator[Listening]:
    """Serve ``app`` on a real socket from a background thread for the length of a ``with`` block.

    For the demo, the conformance suite's self-test and migrations between two local servers: real
    HTTP over loopback, in one process. Leaving the block stops the server and waits for it.
    """
    sock = bind(host, port)
    where = Listening(host, sock.getsockname()[1])
    config = uvicorn.Config(app, lifespan="on", access_log=False, log_level="warning", server_header=False,
                            proxy_headers=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"plugshare-{where.port}",
                              daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            threading.Event().wait(0.01)
        if not server.started:
            raise RuntimeError(f"the server on {where.url} did not start")
        yield where
    finally:
        server.should_exit = True
        thread.join(GRACEFUL_SHUTDOWN_SECONDS + 5)
        sock.close()
