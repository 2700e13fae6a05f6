"""``DATABASE_URL`` → Django ``DATABASES`` entry (sqlite:///path, postgres://user@host/db)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def database_from_url(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if path not in {"", "/:memory:"}:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path or ":memory:",
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        options: dict[str, Any] = {
            key: values[-1]
            for key, values in parse_qs(parsed.query, keep_blank_values=True).items()
        }
        # Django leaves psycopg's prepared statements off (None) unless asked; Careline
        # prepares only its hot statements (``platform.prepared.hot_cursor``), and its other
        # cursors bind on the client, which never prepares.
        options["prepare_threshold"] = _prepare_threshold(options.get("prepare_threshold", "5"))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL scheme {parsed.scheme!r} is not supported: use sqlite:/// or postgres://"
    )


def _prepare_threshold(value: str) -> int | None:
    """psycopg's ``prepare_threshold``: executions before a statement is prepared on the
    server; empty or ``none`` never prepares (for a transaction-pooling proxy)."""
    text = value.strip().lower()
    if text in {"", "none"}:
        return None
    if not text.isdigit():
        raise ImproperlyConfigured(
            f"DATABASE_URL: prepare_threshold must be a whole number or empty, not {value!r}."
        )
    return int(text)
