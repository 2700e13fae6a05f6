"""A local HTTP server that receives provider callbacks and checks them with a verifier, as
the messaging views will: a bad signature is refused (403) and nothing is kept."""

from __future__ import annotations

from collections.abc import Callable

from careline.messaging.testing.http_server import LocalServer, Request, Response


class CallbackSink(LocalServer):
    def __init__(self, verify: Callable[[str, dict[str, str], str], bool], header: str) -> None:
        super().__init__()
        self._verify = verify
        self._header = header
        self.accepted: list[tuple[str, dict[str, str]]] = []
        self.refused = 0

    def handle(self, request: Request) -> Response:
        query = "&".join(f"{k}={v}" for k, v in request.query.items())
        url = self.base_url + request.path + (f"?{query}" if query else "")
        params = request.form()
        if not self._verify(url, params, request.headers.get(self._header, "")):
            self.refused += 1
            return Response(403)
        self.accepted.append((url, params))
        return Response(204)
