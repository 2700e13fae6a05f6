"""``careline create_demo_users``: one staff user per role, to try every screen.

User names are the role with dashes (``scheduler``, ``contact-center-agent``). In demo mode
every password is ``careline-demo``; elsewhere each new user gets a random one, printed once.
Running it again changes no user and no password; it lists the users that already exist.
Roles that need patients in scope (scheduler, scheduling lead, nurse, care manager) work at
every location.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from rich.console import Console
from rich.table import Table

from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.authorization import require_permission
from careline.platform.models import AuditAction, User
from careline.platform.permissions import Permission, Role

DEMO_PASSWORD = "careline-demo"  # noqa: S105 (demo mode only, on synthetic data)
ROLES_AT_EVERY_LOCATION = frozenset(
    {Role.SCHEDULER, Role.SCHEDULING_LEAD, Role.NURSE, Role.CARE_MANAGER}
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    password: str | None  # None: the user already existed, her password is unchanged


def demo_username(role: Role) -> str:
    return role.value.replace("_", "-")


def create_demo_users(*, actor: Actor) -> list[DemoUser]:
    require_permission(actor, Permission.MANAGE_USERS, resource_type="User")
    location_model = apps.get_model("directory", "Location")
    locations = list(location_model.objects.all())
    results = []
    with transaction.atomic():
        for role in Role:
            user, result = _ensure_user(actor=actor, role=role)
            results.append(result)
            if role in ROLES_AT_EVERY_LOCATION and locations:
                user.locations.add(*locations)
    return results


def _ensure_user(*, actor: Actor, role: Role) -> tuple[User, DemoUser]:
    username = demo_username(role)
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing, DemoUser(username=username, role=role, password=None)
    password = DEMO_PASSWORD if settings.DEMO_MODE else secrets.token_urlsafe(12)
    user = User.objects.create_user(
        username=username,
        password=password,
        first_name="Demo",
        last_name=str(role.label),
        role=role,
        is_staff=role == Role.ADMIN,
    )
    audit.record_event(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="User",
        resource_id=str(user.public_id),
        details={"role": role.value},
    )
    return user, DemoUser(username=username, role=role, password=password)


class Command(BaseCommand):
    help = "Create one staff user per role (idempotent) and print their sign-in details."

    def handle(self, *args: Any, **options: Any) -> None:
        users = create_demo_users(actor=Actor.system("careline create_demo_users"))
        table = Table(title="Careline staff users")
        for column in ("User name", "Role", "Password"):
            table.add_column(column)
        for user in users:
            password = user.password if user.password is not None else "(exists; unchanged)"
            table.add_row(user.username, str(user.role.label), password)
        buffer = io.StringIO()
        Console(file=buffer, width=100, color_system=None).print(table)
        self.stdout.write(buffer.getvalue(), ending="")
        if not settings.DEMO_MODE and any(user.password for user in users):
            self.stdout.write("These passwords are shown once. Staff must set up MFA at sign-in.")
