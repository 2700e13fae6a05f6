"""What every staff page knows about the signed-in user: her navigation and her permissions.

``navigation`` lists the pages her role may open (and that exist); ``may`` answers "may she
open it" in templates by permission name without the app prefix (``may.view_audit_log``),
so a link is shown only to a role that may follow it. Both come from the declarations in
``careline.platform.permissions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from careline.platform.models import User
from careline.platform.permissions import Permission, permissions_for_role


@dataclass(frozen=True)
class NavItem:
    """A page in the main menu. A workspace is where a role's work starts (``/`` opens the
    first one she may open); a tool (``is_workspace=False``) is shared by many roles and is
    no role's start page."""

    label: str
    url_name: str
    permission: str
    is_workspace: bool = True
    description: str = ""  # what a tool is for, on the home page

    @property
    def url(self) -> str:
        return reverse(self.url_name)


NAVIGATION = (
    NavItem("Patients", "patients:search", Permission.VIEW_PATIENT),
    NavItem(
        "Locations",
        "directory:nearest",
        Permission.VIEW_DIRECTORY,
        is_workspace=False,
        description="the locations and providers nearest to an address, ZIP or coordinates, "
        "with hours and directions",
    ),
    NavItem("Schedule", "scheduling:schedule", Permission.BOOK_APPOINTMENT),
    NavItem("Day list", "scheduling:day", Permission.VIEW_SCHEDULE),
    NavItem("Waitlist", "waitlist:list", Permission.VIEW_SCHEDULE),
    NavItem("Flagged visits", "scheduling:flagged", Permission.RESOLVE_FLAGGED_APPOINTMENT),
    NavItem("Scheduling set-up", "scheduling:setup", Permission.MANAGE_SCHEDULES),
    NavItem("Access metrics", "scheduling:metrics", Permission.VIEW_ACCESS_METRICS),
    NavItem(
        "Outbox",
        "messaging:outbox",
        Permission.VIEW_MESSAGES,
        is_workspace=False,
        description="every message in or out, with its status and the rule that decided it",
    ),
    NavItem("Imports", "interop:imports", Permission.IMPORT_FHIR),
    NavItem("Audit log", "platform:audit_log", Permission.VIEW_AUDIT_LOG),
    NavItem("Break-glass review", "platform:break_glass_review", Permission.REVIEW_BREAK_GLASS),
)

# ``may`` keys: "patients.view_patient" → "view_patient".
_SHORT_NAMES = {
    value: value.partition(".")[2] for name, value in vars(Permission).items() if name.isupper()
}


def granted_permissions(user: Any) -> frozenset[str]:
    """The permissions of a signed-in, active staff user (none for anyone else)."""
    if not isinstance(user, User) or not user.is_active or not user.is_staff_account:
        return frozenset()
    return permissions_for_role(user.role)


def navigation_for(user: Any, items: Sequence[NavItem] = NAVIGATION) -> list[NavItem]:
    """The pages ``user`` may open, in menu order (apps still being built are left out)."""
    granted = granted_permissions(user)
    return [item for item in items if item.permission in granted and _exists(item)]


def _exists(item: NavItem) -> bool:
    try:
        reverse(item.url_name)
    except NoReverseMatch:
        return False
    return True


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    granted = granted_permissions(user)
    return {
        "navigation": navigation_for(user),
        "may": {short: permission in granted for permission, short in _SHORT_NAMES.items()},
        "demo_mode": settings.DEMO_MODE,
        "inactivity_timeout_seconds": settings.CARELINE_INACTIVITY_TIMEOUT_SECONDS,
    }
