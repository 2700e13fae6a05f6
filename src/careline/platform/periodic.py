"""Periodic work (DESIGN.md §3): one scheduler beside the workers enqueues jobs on a cadence
from settings, built on APScheduler rather than a loop per job.

``CARELINE_PERIODIC_JOBS`` lists the jobs: a name, the dotted path of a function that takes no
arguments, and how often (``seconds``; 0 or less turns the job off). Each function only
*enqueues* work — a django-tasks task runs it in a worker like any other — or checks whether
work is due and enqueues it (the weekly access snapshot), so it is quick and idempotent.

``careline worker`` starts the scheduler. Several workers may run, on several machines: each
run of a job first takes a PostgreSQL advisory lock for that job for the length of its
transaction, and a worker that does not get it skips the run, so one enqueues per tick
wherever the scheduler runs (SQLite has one worker). A run that raises is logged and tried
again at the next tick; missed ticks (a busy or sleeping machine) coalesce into one run.

The audit sealer is not a job here: it must run every fraction of a second, one at a time,
whatever the task queue is doing, so it keeps its own loop (``platform.audit.services``).
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connection, transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

_LOCK_NAMESPACE = 0x5045  # "PE": periodic jobs' advisory locks (the second key is the job's)


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    target: str
    seconds: float

    @property
    def lock_key(self) -> int:
        return zlib.crc32(self.name.encode()) & 0x7FFFFFFF


def configured_jobs() -> list[PeriodicJob]:
    """The jobs of ``CARELINE_PERIODIC_JOBS``, checked: each names a function that exists."""
    jobs = []
    for entry in settings.CARELINE_PERIODIC_JOBS:
        try:
            job = PeriodicJob(str(entry["name"]), str(entry["target"]), float(entry["seconds"]))
            import_string(job.target)
        except (KeyError, TypeError, ValueError, ImportError) as error:
            raise ImproperlyConfigured(
                f"CARELINE_PERIODIC_JOBS: {entry!r} needs a name, the dotted path of a function "
                f"and seconds ({error})"
            ) from error
        jobs.append(job)
    return jobs


def run_job(job: PeriodicJob) -> bool:
    """One run of ``job`` unless another worker is running it now; True when it ran."""
    close_old_connections()
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, job.lock_key]
                    )
                    (locked,) = cursor.fetchone()
                if not locked:
                    return False
            import_string(job.target)()
        return True
    except Exception:
        logger.exception("periodic job %r failed; it runs again at its next tick", job.name)
        return False
    finally:
        connection.close()  # the scheduler's threads hold no connection between runs


def start_scheduler(jobs: list[PeriodicJob] | None = None) -> BackgroundScheduler:
    """Start the scheduler with the configured jobs (those with seconds > 0)."""
    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=settings.CARELINE_TIME_ZONE,
    )
    for job in configured_jobs() if jobs is None else jobs:
        if job.seconds > 0:
            scheduler.add_job(
                run_job,
                IntervalTrigger(seconds=job.seconds),
                args=[job],
                id=job.name,
                name=job.name,
            )
    scheduler.start()
    return scheduler


def stop_scheduler(scheduler: BackgroundScheduler, **options: Any) -> None:
    scheduler.shutdown(wait=options.get("wait", True))
