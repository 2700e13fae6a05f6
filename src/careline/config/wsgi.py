"""WSGI entry point: ``gunicorn careline.config.wsgi``.

Django reads a body only as far as ``Content-Length`` says, so a body sent with
``Transfer-Encoding: chunked`` (no length) would be read as empty. ``ChunkedBodies`` reads it
where the server has decoded the chunks and ends the input (gunicorn sets
``wsgi.input_terminated``) — at most one byte past ``DATA_UPLOAD_MAX_MEMORY_SIZE``, so an
oversized body is refused as one with that length would be — and otherwise answers 411.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.config.settings")

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApplication = Callable[[Environ, StartResponse], Iterable[bytes]]

LENGTH_REQUIRED = json.dumps(
    {
        "error": {
            "code": "length_required",
            "message": "This server cannot read a chunked body: send it with a Content-Length.",
            "details": None,
        }
    }
).encode()


class ChunkedBodies:
    def __init__(self, application: WsgiApplication) -> None:
        self.application = application

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        encoding = environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if "chunked" in encoding and not environ.get("CONTENT_LENGTH"):
            if not environ.get("wsgi.input_terminated"):
                start_response(
                    "411 Length Required",
                    [
                        ("Content-Type", "application/json"),
                        ("Content-Length", str(len(LENGTH_REQUIRED))),
                    ],
                )
                return [LENGTH_REQUIRED]
            body = self._read(environ["wsgi.input"])
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.application(environ, start_response)

    @staticmethod
    def _read(stream: Any) -> bytes:
        from django.conf import settings

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body: bytes = stream.read() if limit is None else stream.read(limit + 1)
        return body


application = ChunkedBodies(get_wsgi_application())
