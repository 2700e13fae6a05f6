"""``careline revoke_api_token PREFIX``: stop an API token from authenticating."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from careline.platform.actors import Actor
from careline.platform.errors import CarelineError
from careline.platform.services import TOKEN_PREFIX, revoke_api_token


class Command(BaseCommand):
    help = "Revoke the active API token with this prefix (as printed when it was issued)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("prefix", help="The token's prefix, e.g. 1a2b3c4d (or cl_1a2b3c4d).")

    def handle(self, *args: Any, **options: Any) -> None:
        prefix = options["prefix"].strip().removeprefix(TOKEN_PREFIX)
        actor = Actor.system("careline revoke_api_token")
        try:
            token = revoke_api_token(actor=actor, prefix=prefix)
        except CarelineError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Revoked token {token.name!r} of {token.user.username} ({prefix}).")
