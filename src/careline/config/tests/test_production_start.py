"""In production, ``careline serve``, ``careline worker`` and ``careline migrate`` refuse to
start while a deployment check fails (careline.E001 to E005 and any other deploy check error).

Settings are read once per process, so each case runs the real command in a subprocess.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from careline.testing.commands import production_secrets, run_careline

# A command that got past the guard would serve (or work) until killed: the timeout says so.
STARTED_INSTEAD = 90


def careline(*arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_careline(*arguments, env=env, timeout=STARTED_INSTEAD)


def free_port() -> int:
    with socket.socket() as probe:  # a port nothing listens on, should the guard let it serve
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


COMMANDS = {
    "serve": ("serve", "--bind", f"127.0.0.1:{free_port()}", "--no-worker"),
    "worker": ("worker",),
    "migrate": ("migrate", "--no-input"),
}


@pytest.mark.parametrize("command", COMMANDS)
def test_refuses_to_start_with_development_secrets_and_sqlite(command: str, tmp_path: Path) -> None:
    database = tmp_path / "careline.sqlite3"

    result = careline(
        *COMMANDS[command], CARELINE_ENV="production", DATABASE_URL=f"sqlite:///{database}"
    )

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "CommandError: Careline refuses to start in production while deployment checks fail:",
        "  careline.E001: SECRET_KEY is the development default.",
        "  careline.E002: FIELD_ENCRYPTION_KEYS holds the development key.",
        "  careline.E005: Production needs PostgreSQL (DATABASE_URL).",
        "  careline.E020: AUDIT_CHAIN_KEYS is not set: the audit chain needs a key.",
        "Fix them (`careline check --deploy` lists them) and start again.",
    ]
    assert not database.exists()  # nothing was migrated, nothing was served from it


@pytest.mark.parametrize("command", COMMANDS)
def test_refuses_debug_and_mfa_off_even_with_real_secrets(command: str) -> None:
    result = careline(
        *COMMANDS[command],
        **production_secrets("postgres://careline:secret@127.0.0.1:1/careline_never_reached"),
        DEBUG="true",
        CARELINE_REQUIRE_STAFF_MFA="false",
    )

    assert result.returncode == 1
    assert "  careline.E003: DEBUG must be off in production." in result.stderr
    assert "  careline.E004: Staff MFA cannot be switched off in production." in result.stderr


def test_outside_production_the_guard_lets_migrate_run(tmp_path: Path) -> None:
    database = tmp_path / "careline.sqlite3"

    result = careline("migrate", "--no-input", DATABASE_URL=f"sqlite:///{database}")

    assert result.returncode == 0, result.stderr
    assert database.exists()
