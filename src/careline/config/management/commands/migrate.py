"""``careline migrate``: Django's migrate, refused in production while a deployment check fails."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import migrate

from careline.config.checks import refuse_to_start_with_failing_deploy_checks


class Command(migrate.Command):
    def execute(self, *args: Any, **options: Any) -> str | None:
        # Before the system checks, which already open the database.
        refuse_to_start_with_failing_deploy_checks()
        result: str | None = super().execute(*args, **options)
        return result
