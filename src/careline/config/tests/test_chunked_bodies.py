"""A body sent with ``Transfer-Encoding: chunked`` is read — gunicorn decodes it and says so
(``wsgi.input_terminated``) — or, where the server cannot (Django's development server),
answered 411 with the API's error shape; never read as an empty body.

The first tests run the real ``careline.config.wsgi`` under gunicorn, in demo mode (DEBUG off)
on a fresh SQLite database, which also shows the static files serving without DEBUG.
"""

from __future__ import annotations

import http.client
import io
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from careline.platform.actors import Actor
from careline.platform.models import User
from careline.platform.permissions import Role
from careline.platform.services import issue_api_token
from careline.testing.commands import clean_environment

_MAKE_TOKEN = """
import django; django.setup()
from careline.platform.actors import Actor
from careline.platform.models import User
from careline.platform.services import issue_api_token
user = User.objects.create_user(username="desk", password=None, role="scheduler")
print(issue_api_token(actor=Actor.system("test"), user=user, name="chunked").secret)
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(environment: dict[str, str], *arguments: str) -> str:
    result = subprocess.run(  # noqa: S603 (this module's constants)
        [sys.executable, *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return result.stdout


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """(port, API token) of gunicorn serving careline in demo mode on a fresh database."""
    database = tmp_path_factory.mktemp("chunked") / "careline.sqlite3"
    environment = clean_environment(
        CARELINE_ENV="demo",
        DATABASE_URL=f"sqlite:///{database}",
        # serve collects static files: its own folder, not the one other test workers read
        STATIC_ROOT=str(database.parent / "static"),
    )
    _run(environment, "-m", "careline.config.cli", "migrate", "--no-input")
    token = _run(environment, "-c", _MAKE_TOKEN).strip()
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 (this module's constants)
        [sys.executable, "-m", "gunicorn", "careline.config.wsgi", "--bind", f"127.0.0.1:{port}"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port, token
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _request(port: int, method: str, path: str, body: Any = None, **headers: str) -> Any:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_a_chunked_json_body_is_read_under_gunicorn(demo_server: tuple[int, str]) -> None:
    port, token = demo_server
    chunks = iter([b'{"q": ', b'"zebrow', b'ski"}'])  # http.client sends an iterable chunked

    status, _headers, body = _request(
        port,
        "POST",
        "/api/patients/search",
        chunks,
        Authorization=f"Bearer {token}",
        **{"Content-Type": "application/json"},
    )

    assert (status, json.loads(body)) == (200, [])


def test_static_files_serve_in_demo_mode_without_debug(demo_server: tuple[int, str]) -> None:
    port, _token = demo_server

    status, headers, body = _request(port, "GET", "/static/careline/careline.css")

    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert len(body) > 1000


def _call_wsgi(path: str, body: bytes, *, terminated: bool, authorization: str = "") -> Any:
    """Call ``careline.config.wsgi.application`` as a server would with a chunked body."""
    from careline.config.wsgi import application

    environ = RequestFactory().post(path, content_type="application/json").environ
    environ.pop("CONTENT_LENGTH", None)
    if authorization:
        environ["HTTP_AUTHORIZATION"] = authorization
    environ.update(HTTP_TRANSFER_ENCODING="chunked", **{"wsgi.input": io.BytesIO(body)})
    if terminated:
        environ["wsgi.input_terminated"] = True
    answered: list[Any] = []
    # As Django's test client does: a request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        answer = application(environ, lambda status, headers: answered.append((status, headers)))
        content = b"".join(answer)
        getattr(answer, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    status, response_headers = answered[0]
    return status, response_headers, content


@pytest.mark.django_db
def test_an_oversized_chunked_body_is_refused_like_one_with_that_length(
    make_user: Callable[..., User], settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    user = make_user(Role.INTEGRATION)
    secret = issue_api_token(actor=Actor.system("test"), user=user, name="t").secret
    oversized = b'{"resourceType": "Bundle", "type": "collection", "pad": "' + b"x" * 2000 + b'"}'

    status, _headers, body = _call_wsgi(
        "/api/import/fhir", oversized, terminated=True, authorization=f"Bearer {secret}"
    )

    assert status.startswith("422")
    assert json.loads(body)["error"]["message"] == (
        "The request body is too large; import big files with `careline import-fhir`."
    )


def test_a_server_that_cannot_decode_chunked_bodies_answers_411() -> None:
    status, headers, body = _call_wsgi("/api/patients/search", b'{"q": "ab"}', terminated=False)

    assert status == "411 Length Required"
    assert ("Content-Type", "application/json") in headers
    assert json.loads(body) == {
        "error": {
            "code": "length_required",
            "message": "This server cannot read a chunked body: send it with a Content-Length.",
            "details": None,
        }
    }
