"""``careline check --deploy`` refuses production with development secrets.

Settings are read once per process, so each case runs the real command in a subprocess.
"""

from __future__ import annotations

import re
import secrets
import subprocess

from cryptography.fernet import Fernet

from careline.testing.commands import run_careline

REAL_AUDIT_KEY = f"2026-11:{secrets.token_urlsafe(32)}"


def check_deploy(**env: str) -> subprocess.CompletedProcess[str]:
    return run_careline("check", "--deploy", env=env)


def careline_check_ids(result: subprocess.CompletedProcess[str]) -> list[str]:
    return sorted(set(re.findall(r"careline\.[EW]\d{3}", result.stdout + result.stderr)))


def test_production_with_development_secrets_fails() -> None:
    result = check_deploy(CARELINE_ENV="production")

    assert result.returncode == 1
    assert careline_check_ids(result) == [
        "careline.E001",
        "careline.E002",
        "careline.E005",
        "careline.E020",
    ]
    assert "(careline.E001) SECRET_KEY is the development default." in result.stderr
    assert "(careline.E002) FIELD_ENCRYPTION_KEYS holds the development key." in result.stderr
    assert "(careline.E020) AUDIT_CHAIN_KEYS is not set: the audit chain needs a key." in (
        result.stderr
    )


def test_production_refuses_the_development_or_a_short_audit_chain_key() -> None:
    real = {
        "CARELINE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgres://careline:secret@127.0.0.1:5432/careline_production_check",
    }
    development = check_deploy(
        **real,
        AUDIT_CHAIN_KEYS=f"{REAL_AUDIT_KEY},dev:careline-insecure-development-audit-chain-key",
    )
    short = check_deploy(**real, AUDIT_CHAIN_KEYS="2026-11:too-short")
    malformed = check_deploy(**real, AUDIT_CHAIN_KEYS="no separator")

    assert "(careline.E020) AUDIT_CHAIN_KEYS holds the development key." in development.stderr
    assert "secret is shorter than 32 characters" in short.stderr
    assert "'key-id:secret' pairs" in malformed.stderr
    for result in (development, short, malformed):
        assert (result.returncode, careline_check_ids(result)) == (1, ["careline.E020"])


def test_production_with_real_secrets_and_postgresql_passes_careline_checks() -> None:
    result = check_deploy(
        CARELINE_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL="postgres://careline:secret@127.0.0.1:5432/careline_production_check",
        AUDIT_CHAIN_KEYS=REAL_AUDIT_KEY,
    )

    assert careline_check_ids(result) == []
    assert result.returncode == 0, result.stderr


def test_production_refuses_debug_and_mfa_off() -> None:
    result = check_deploy(
        CARELINE_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL="postgres://careline:secret@127.0.0.1:5432/careline_production_check",
        AUDIT_CHAIN_KEYS=REAL_AUDIT_KEY,
        DEBUG="true",
        CARELINE_REQUIRE_STAFF_MFA="false",
    )

    assert result.returncode == 1
    assert careline_check_ids(result) == ["careline.E003", "careline.E004"]


def test_development_has_no_careline_deploy_errors() -> None:
    result = check_deploy()

    assert careline_check_ids(result) == []
