"""``careline serve`` stopped by SIGTERM (what systemd and ``docker stop`` send to the main
process alone) stops gunicorn and the task worker with it: nothing keeps serving, or holding
the port, as an orphan."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from careline.testing.commands import clean_environment, run_careline


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_sigterm_stops_gunicorn_and_the_worker(tmp_path: Path) -> None:
    environment = {
        "CARELINE_ENV": "demo",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # serve collects static files: its own folder, not the one other test workers read
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    assert run_careline("migrate", "--no-input", env=environment).returncode == 0
    port = _free_port()
    serve = subprocess.Popen(  # noqa: S603 (the interpreter and this test's arguments)
        [sys.executable, "-m", "careline.config.cli", "serve", "--bind", f"127.0.0.1:{port}"],
        env=clean_environment(**environment),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children: list[int] = []
    try:
        assert _wait_until(lambda: _answers(port), 60)
        children = _children(serve.pid)
        assert len(children) == 2  # gunicorn's master and the task worker

        os.kill(serve.pid, signal.SIGTERM)

        assert serve.wait(timeout=30) == 0
        assert _wait_until(lambda: not any(_is_running(child) for child in children), 30)
        assert not _answers(port)
    finally:
        for pid in [serve.pid, *children, *_children(serve.pid)]:
            if _is_running(pid):
                os.kill(pid, signal.SIGKILL)
