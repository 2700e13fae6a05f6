"""Navigation entries shown to the signed-in user, by permission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from careline.platform.models import User
from careline.platform.permissions import Perm


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str

    @property
    def url(self) -> str:
        return reverse(self.url_name)


NAVIGATION = (
    NavItem("Patients", "patients:search", Perm.VIEW_PATIENT),
    NavItem("Imports", "interop:imports", Perm.IMPORT_FHIR),
    NavItem("Audit log", "platform:audit_log", Perm.VIEW_AUDIT_LOG),
    NavItem("Break-glass review", "platform:break_glass_review", Perm.REVIEW_BREAK_GLASS),
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    items = []
    if isinstance(user, User):
        items = [item for item in NAVIGATION if user.has_careline_permission(item.permission)]
    return {
        "navigation": items,
        "demo_mode": settings.DEMO_MODE,
        "inactivity_timeout_seconds": settings.CARELINE_INACTIVITY_TIMEOUT_SECONDS,
    }
