"""``careline create_api_token --user USERNAME --name NAME [--expires DAYS|YYYY-MM-DD]``: a
bearer token for an integration.

The secret is printed once; only its SHA-256 is stored. The token expires after
``CARELINE_API_TOKEN_LIFETIME_DAYS`` (90 by default) unless ``--expires`` says when: a number
of days, or a date through which it works (UTC).
"""

from __future__ import annotations

import re
from argparse import ArgumentParser
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from careline.platform import clock
from careline.platform.actors import Actor
from careline.platform.models import User
from careline.platform.services import default_token_expiry, issue_api_token

_DAYS = re.compile(r"^\d{1,5}$")


def parse_expiry(value: str, *, now: datetime) -> datetime:
    """``--expires``: days from now, or a date the token works through (until 00:00 UTC after)."""
    if _DAYS.match(value) and int(value) >= 1:
        return now + timedelta(days=int(value))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or _DAYS.match(value):
        raise CommandError(
            f"--expires must be a number of days (1 or more) or a date (YYYY-MM-DD), not {value!r}."
        )
    expires_at = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    if expires_at <= now:
        raise CommandError(f"--expires {value} is in the past.")
    return expires_at


class Command(BaseCommand):
    help = "Issue an API token for a user; the secret is shown once and never stored."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--user", required=True, help="The user the token acts as.")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument(
            "--expires",
            help="Days until it expires, or the last date (YYYY-MM-DD, UTC) it works; "
            "default CARELINE_API_TOKEN_LIFETIME_DAYS.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("--name must not be blank.")
        now = clock.now()
        expires_at = default_token_expiry(now)
        if options["expires"] is not None:
            expires_at = parse_expiry(options["expires"].strip(), now=now)
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {options['user']!r}.")
        issued = issue_api_token(
            actor=Actor.system("careline create_api_token"),
            user=user,
            name=name,
            expires_at=expires_at,
        )
        self.stdout.write(
            f"Token {name!r} for {user.username} (prefix {issued.token.prefix}), valid until "
            f"{expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC. "
            "Copy the secret now; it is not shown again:"
        )
        self.stdout.write(issued.secret)
