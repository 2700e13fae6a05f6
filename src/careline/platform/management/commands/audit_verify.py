"""``careline audit verify``: walk the audit trail's hash chain; exit 1 at the first break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from careline.platform.audit import verify_chain
from careline.platform.models import AuditEvent


class Command(BaseCommand):
    help = (
        "Check that no audit entry was altered, inserted or deleted (the hash chain). "
        "Exits 0 when intact, 1 at the first broken entry."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        entries = AuditEvent.objects.count()  # the entries that exist now are all verified
        problem = verify_chain()
        if problem is not None:
            self.stderr.write(f"Audit trail broken at entry #{problem.sequence}: {problem.reason}")
            raise SystemExit(1)
        self.stdout.write(f"Audit trail intact: {entries} entries")
