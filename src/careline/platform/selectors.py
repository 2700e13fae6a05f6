"""Platform reads for the compliance pages: the break-glass review queue.

The audit log's own reads are in ``platform.audit.selectors``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from careline.platform.models import BreakGlassAccess

PENDING_LIMIT = 200
REVIEWED_LIMIT = 50


def list_pending_break_glass() -> QuerySet[BreakGlassAccess]:
    """Unreviewed accesses, oldest first: the review queue."""
    return (
        BreakGlassAccess.objects.filter(reviewed_at__isnull=True)
        .select_related("user")
        .order_by("created_at", "pk")
    )


def list_reviewed_break_glass() -> QuerySet[BreakGlassAccess]:
    return (
        BreakGlassAccess.objects.filter(reviewed_at__isnull=False)
        .select_related("user", "reviewed_by")
        .order_by("-reviewed_at", "-pk")
    )


@dataclass(frozen=True)
class BreakGlassQueue:
    pending: list[BreakGlassAccess]
    pending_total: int  # all unreviewed, even beyond the ones listed
    reviewed: list[BreakGlassAccess]


def get_break_glass_queue(
    *, pending_limit: int = PENDING_LIMIT, reviewed_limit: int = REVIEWED_LIMIT
) -> BreakGlassQueue:
    """The oldest unreviewed accesses (counted in full only past the limit) and the latest
    reviewed ones."""
    pending_queryset = list_pending_break_glass()
    pending = list(pending_queryset[:pending_limit])
    pending_total = len(pending)
    if pending_total == pending_limit:
        pending_total = pending_queryset.count()
    reviewed = list(list_reviewed_break_glass()[:reviewed_limit])
    return BreakGlassQueue(pending=pending, pending_total=pending_total, reviewed=reviewed)
