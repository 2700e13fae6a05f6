"""Field encryption for the most sensitive identifiers (SSN and the like).

Values are Fernet tokens (AES-128-CBC + HMAC-SHA256) under ``settings.FIELD_ENCRYPTION_KEYS``
via ``MultiFernet``: the first key encrypts, every key decrypts, and ``rotate`` re-encrypts
a token under the first key — so a key is rotated without downtime.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField[str | None, str | None]):
    """A text column stored encrypted; it cannot be filtered on (by design)."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:  # None, or a blank that was never encrypted
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
