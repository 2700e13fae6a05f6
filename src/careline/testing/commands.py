"""Run the ``careline`` command in a subprocess with a clean configuration.

Settings are read once per process, so a test of how the environment configures Careline
(production checks, demo mode) runs the real command with only the variables it names.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from cryptography.fernet import Fernet

# Configuration a test run may carry (a PostgreSQL DATABASE_URL …) that must not leak in.
CONFIGURATION = (
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "DATABASE_URL",
    "DEBUG",
    "CARELINE_ENV",
    "CARELINE_REQUIRE_STAFF_MFA",
    "AUDIT_CHAIN_KEYS",
)


def clean_environment(**env: str) -> dict[str, str]:
    """This process's environment without Careline's configuration, plus ``env``."""
    environment = {key: value for key, value in os.environ.items() if key not in CONFIGURATION}
    environment.update(DJANGO_SETTINGS_MODULE="careline.config.settings", **env)
    return environment


def production_secrets(database_url: str) -> dict[str, str]:
    """A production configuration that passes the secret checks (E001, E002, E005, E020)."""
    return {
        "CARELINE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_CHAIN_KEYS": f"2026-11:{secrets.token_urlsafe(32)}",
        "DATABASE_URL": database_url,
    }


def run_careline(
    *arguments: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``careline ARGUMENTS…`` configured by ``env`` alone; its exit code is not checked."""
    return subprocess.run(  # noqa: S603 (the interpreter and the test's own arguments)
        [sys.executable, "-m", "careline.config.cli", *arguments],
        env=clean_environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
