"""A threaded local HTTP server for the provider stand-ins (no framework needed)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit


class Request:
    """One request as a stand-in sees it."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        self.method = handler.command
        self.path = parts.path
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers = handler.headers
        length = int(handler.headers.get("Content-Length") or 0)
        self.body = handler.rfile.read(length) if length else b""

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))


class Response:
    def __init__(
        self, status: int, payload: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.payload = payload
        self.headers = headers or {}


class LocalServer:
    """Serves ``handle(request) -> Response`` on 127.0.0.1 at a free port, in a thread.
    Use as a context manager; ``base_url`` is where it listens."""

    def __init__(self, *, port: int = 0) -> None:
        self.port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # Released when the server stops, so requests told to hang end too.
        self.released = threading.Event()

    def handle(self, request: Request) -> Response:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        assert self._server is not None, "the server is not started"  # noqa: S101
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _dispatch(self) -> None:
                response = owner.handle(Request(self))
                body = b"" if response.payload is None else json.dumps(response.payload).encode()
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout the test asked for)

            do_GET = do_POST = _dispatch

            def log_message(self, format: str, *args: Any) -> None:
                pass  # no request lines (they carry numbers) on stderr

        self.released.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_until_interrupted(server: LocalServer, settings: dict[str, str]) -> None:
    """Run a stand-in from the command line: print the settings that point Careline at it,
    then serve until Ctrl-C."""
    server.start()
    for name, value in settings.items():
        print(f"export {name}={value}", flush=True)  # noqa: T201 - the command's output
    try:
        server.released.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
