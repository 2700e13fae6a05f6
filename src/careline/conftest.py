"""Shared pytest setup: database-specific skips, personas; the machine-dependent skips (shared
test data, browser) and the `shared_testdata` fixture come from careline.testing.environment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from careline.platform.actors import Actor
from careline.platform.models import AuditChannel, User
from careline.platform.permissions import Role

pytest_plugins = ["pytester", "careline.testing.environment"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Argon2 takes ~0.5 s a hash by design; tests need no protection against brute force."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _audit_seals_on_append(settings: Any) -> None:
    """Tests see each audit entry sealed at once (``sequence``, ``hash``); the sealer's own
    tests switch this off (``deferred_sealing``). No checkpoint file is written."""
    settings.CARELINE_AUDIT_SEAL_ON_APPEND = True
    settings.CARELINE_AUDIT_CHECKPOINT_FILE = ""
    settings.CARELINE_AUDIT_CHECKPOINT_SYSLOG = ""


@pytest.fixture
def deferred_sealing(settings: Any) -> None:
    """Entries are appended unsealed, as in a server; the test runs the sealer itself."""
    settings.CARELINE_AUDIT_SEAL_ON_APPEND = False


@pytest.fixture
def postgres_only(db: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL, this run uses {connection.vendor}")


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    from careline.testing.factories import UserFactory

    def make(role: str = Role.SCHEDULER, **fields: Any) -> User:
        return UserFactory.create(role=role, **fields)

    return make


@pytest.fixture
def actor_for() -> Callable[[User], Actor]:
    def make(user: User, channel: str = AuditChannel.UI) -> Actor:
        return Actor(user=user, channel=channel, remote_addr="127.0.0.1")

    return make
