"""``careline worker``: run background tasks (django-tasks' database worker), the periodic
jobs' scheduler and the audit sealer.

The scheduler (``platform.periodic``, APScheduler) enqueues the periodic jobs of
``CARELINE_PERIODIC_JOBS`` — the waitlist sweep, the weekly access snapshot — on their cadence;
several workers may each run it, and one of them enqueues per tick. The sealer runs as a thread
beside the task loop (``--no-sealer`` leaves it out, e.g. when ``careline audit seal --follow``
runs as its own process): sealing is not a job to enqueue — it must run every fraction of a
second, one at a time, and survive the task queue being busy — so it is a plain loop
(``platform.audit.services.run_sealer``) that several workers may all run safely: one seals at
a time (an advisory lock), the others skip their round. The messaging dispatcher
(``messaging.recovery``) is such a loop too: sending goes on every second whatever the task
queue holds, and dispatchers on several workers share the outbox (SKIP LOCKED claims);
``--no-dispatcher`` leaves it out.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from careline.config.checks import refuse_to_start_with_failing_deploy_checks
from careline.messaging.recovery import start_dispatcher_thread
from careline.platform.audit.services import start_sealer_thread
from careline.platform.periodic import start_scheduler, stop_scheduler


class Command(BaseCommand):
    help = (
        "Run the background-task worker (claims tasks with SKIP LOCKED on PostgreSQL), the "
        "periodic jobs' scheduler and the audit sealer beside it."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--queue-name", default="*")
        parser.add_argument(
            "--no-sealer", action="store_true", help="Do not run the audit sealer here."
        )
        parser.add_argument(
            "--no-scheduler", action="store_true", help="Do not enqueue periodic jobs here."
        )
        parser.add_argument(
            "--no-dispatcher", action="store_true", help="Do not send outbox messages here."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_to_start_with_failing_deploy_checks()
        sealer = None if options["no_sealer"] else start_sealer_thread()
        scheduler = None if options["no_scheduler"] else start_scheduler()
        dispatcher = None if options["no_dispatcher"] else start_dispatcher_thread()
        try:
            call_command("db_worker", queue_name=options["queue_name"], reload=False)
        finally:
            if scheduler is not None:
                stop_scheduler(scheduler)
            for loop in (dispatcher, sealer):
                if loop is not None:
                    thread, stop = loop
                    stop.set()
                    thread.join(timeout=10)
