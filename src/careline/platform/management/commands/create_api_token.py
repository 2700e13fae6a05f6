"""``careline create_api_token --user USERNAME --name NAME``: a bearer token for an integration.

The secret is printed once; only its SHA-256 is stored.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from careline.platform.actors import Actor
from careline.platform.models import User
from careline.platform.services import issue_api_token


class Command(BaseCommand):
    help = "Issue an API token for a user; the secret is shown once and never stored."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--user", required=True, help="The user the token acts as.")
        parser.add_argument("--name", required=True, help="What the token is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].strip()
        if not name:
            raise CommandError("--name must not be blank.")
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {options['user']!r}.")
        issued = issue_api_token(
            actor=Actor.system("careline create_api_token"), user=user, name=name
        )
        self.stdout.write(
            f"Token {name!r} for {user.username} (prefix {issued.token.prefix}). "
            "Copy the secret now; it is not shown again:"
        )
        self.stdout.write(issued.secret)
