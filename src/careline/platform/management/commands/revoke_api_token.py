"""``careline revoke_api_token PREFIX``: stop an API token from authenticating."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.models import ApiToken, AuditAction
from careline.platform.services import TOKEN_PREFIX


class Command(BaseCommand):
    help = "Revoke the active API token with this prefix (as printed when it was issued)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("prefix", help="The token's prefix, e.g. 1a2b3c4d (or cl_1a2b3c4d).")

    def handle(self, *args: Any, **options: Any) -> None:
        prefix = options["prefix"].strip().removeprefix(TOKEN_PREFIX)
        token = revoke_token(actor=Actor.system("careline revoke_api_token"), prefix=prefix)
        self.stdout.write(f"Revoked token {token.name!r} of {token.user.username} ({prefix}).")


def revoke_token(*, actor: Actor, prefix: str) -> ApiToken:
    """Revoke the one active token with ``prefix``; audited. (Belongs in platform.services.)"""
    with transaction.atomic():
        tokens = list(
            ApiToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(prefix=prefix, revoked_at__isnull=True)[:2]
        )
        if not tokens:
            raise CommandError(f"No active API token has the prefix {prefix!r}.")
        if len(tokens) > 1:
            raise CommandError(f"More than one active token has the prefix {prefix!r}.")
        token = tokens[0]
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit.record_event(
            actor=actor,
            action=AuditAction.UPDATE,
            resource_type="ApiToken",
            resource_id=str(token.public_id),
            details={"change": "revoked", "user": str(token.user.public_id)},
        )
    return token
