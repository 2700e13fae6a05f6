"""``careline worker``: run background tasks (django-tasks' database worker) and the audit
sealer.

The sealer runs here as a thread beside the task loop (``--no-sealer`` leaves it out, e.g.
when ``careline audit seal --follow`` runs as its own process). DESIGN.md §3 wants periodic
work enqueued by one scheduler on a maintained library; sealing is not a job to enqueue — it
must run every fraction of a second, one at a time, and survive the task queue being busy —
so it is a plain loop (``platform.audit.services.run_sealer``) that several workers may all
run safely: one seals at a time (an advisory lock), the others skip their round. The
waitlist's sweeper thread (``scheduling.waitlist.sweeper``) and the weekly access snapshot's
cadence (``scheduling.cadence``) run beside it the same way.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from careline.config.checks import refuse_to_start_with_failing_deploy_checks
from careline.platform.audit.services import start_sealer_thread
from careline.scheduling.cadence import start_snapshot_thread
from careline.scheduling.waitlist.sweeper import start_sweeper_thread


class Command(BaseCommand):
    help = (
        "Run the background-task worker (claims tasks with SKIP LOCKED on PostgreSQL) and the "
        "audit sealer beside it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--queue-name", default="*")
        parser.add_argument(
            "--no-sealer", action="store_true", help="Do not run the audit sealer here."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_to_start_with_failing_deploy_checks()
        sealer = None if options["no_sealer"] else start_sealer_thread()
        sweeper = start_sweeper_thread()
        snapshots = start_snapshot_thread()
        try:
            call_command("db_worker", queue_name=options["queue_name"], reload=False)
        finally:
            for thread, stop in (snapshots, sweeper):
                stop.set()
                thread.join(timeout=10)
            if sealer is not None:
                thread, stop = sealer
                stop.set()
                thread.join(timeout=10)
