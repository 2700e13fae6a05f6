"""The demo's third-next-available snapshots of the past weeks, measured as they would have
been.

Third next available cannot be recomputed later — that is why ``careline worker`` records
it weekly. A fresh demo has no past weeks of worker, so for each of them it replays what
the weekly task did: it puts back the occupancy the schedule had on that week's Monday
morning (every generated visit booked by then, not yet cancelled, not yet over — rows
``History.claims_as_of`` builds as ``book_appointment`` writes them), calls the task's own
``metrics.record_access_snapshots`` with ``now`` at that moment (the slot search measures as
of it: booking windows, released blocks), and takes the rows away again. The numbers come
from the same function and the same templates as every later week's; the audit trail keeps
the real time of each recording.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from careline.platform.actors import Actor
from careline.scheduling import metrics
from careline.scheduling.availability import local_instant
from careline.scheduling.demo.history import History
from careline.scheduling.models import Occupancy

SNAPSHOT_WEEKS = 12  # the Access metrics page's default period
SNAPSHOT_TIME = time(7)  # Monday, before the clinics open


def record_past_snapshots(*, actor: Actor, history: History, now: datetime) -> int:
    """The snapshot of each of the last ``SNAPSHOT_WEEKS`` weeks (this one included when its
    Monday morning has passed), oldest first; returns the rows written. Runs inside the
    demo's transaction, before the upcoming visits claim their time."""
    zone = ZoneInfo(settings.CARELINE_TIME_ZONE)
    this_week = metrics.week_of(now.astimezone(zone).date())
    written = 0
    for weeks_back in range(SNAPSHOT_WEEKS - 1, -1, -1):
        moment = local_instant(this_week - timedelta(weeks=weeks_back), SNAPSHOT_TIME, zone)
        if moment > now:
            continue
        claims = Occupancy.objects.bulk_create(history.claims_as_of(moment), batch_size=1000)
        written += metrics.record_access_snapshots(actor=actor, now=moment)
        Occupancy.objects.filter(pk__in=[claim.pk for claim in claims]).delete()
    return written
