"""Scheduling's background work (django-tasks, run by ``careline worker``). Ids only in the
arguments, never PHI; each task calls one function and is idempotent.

- ``record_access_snapshots_task()``: this week's third-next-available per visit type and
  provider (``metrics.record_access_snapshots``); a second run in the same week writes
  nothing. Enqueued by the periodic job of ``scheduling.cadence``.
"""

from __future__ import annotations

from django_tasks import task

from careline.platform.actors import Actor
from careline.platform.models import AuditChannel
from careline.scheduling import metrics


@task()
def record_access_snapshots_task() -> int:
    actor = Actor.system("weekly access snapshot", channel=AuditChannel.TASK)
    return metrics.record_access_snapshots(actor=actor)
