"""Where each role starts: the first page of its work, or a home page saying what is coming.

A role lands on the first page of the navigation it may open (patient search for the front
office and clinicians, the audit log for compliance). Roles whose workspaces are not built
yet land on a home page that says what Careline will do for them and what they can do now.
"""

from __future__ import annotations

from careline.platform.permissions import Role

UPCOMING_WORK: dict[str, str] = {
    Role.MARKETER: (
        "Segments, multi-step campaigns across email and text, A/B tests and their results "
        "arrive with later releases."
    ),
    Role.LIAISON: (
        "Referring practices, referral volumes and leakage, liaison activities, opportunities "
        "and agreements arrive with later releases."
    ),
    Role.EXECUTIVE: (
        "Dashboards of access (no-show rate, third-next-available), engagement, campaign "
        "return and referral leakage arrive with later releases."
    ),
}
GENERIC_UPCOMING_WORK = "The pages for your role arrive with later releases."


def upcoming_work(role: str) -> str:
    return UPCOMING_WORK.get(role, GENERIC_UPCOMING_WORK)
