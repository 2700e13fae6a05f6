"""Pacing per channel and sender at the configured rates (``CARELINE_MESSAGING_RATES``).

A ``Pacer`` is the arithmetic: at ``rate`` messages a second, the n-th message of a batch
starting at ``start`` leaves at ``start + n / rate`` — so it can also *compute* when a whole
batch will have left without sending anything (the benchmark reports the 100,000-SMS time
from it). ``reserve_departures`` applies it across processes: the ``SendPacer`` row of the
channel and sender holds the next free instant and is advanced under a row lock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from careline.messaging.models import SendPacer


def configured_rates() -> dict[str, float]:
    """``"sms=1,fax=0.2"`` → {channel: messages per second}; absent or 0 = unpaced."""
    rates: dict[str, float] = {}
    for item in filter(
        None, (part.strip() for part in settings.CARELINE_MESSAGING_RATES.split(","))
    ):
        channel, _, rate = item.partition("=")
        rates[channel.strip()] = float(rate)
    return rates


@dataclass(frozen=True, slots=True)
class Pacer:
    rate: float  # messages per second (> 0)

    def departure(self, start: datetime, index: int) -> datetime:
        return start + timedelta(seconds=index / self.rate)

    def departures(self, start: datetime, count: int) -> list[datetime]:
        return [self.departure(start, index) for index in range(count)]

    def finished_at(self, start: datetime, count: int) -> datetime:
        """When the last of ``count`` messages starting at ``start`` has left."""
        return start if count <= 0 else self.departure(start, count - 1)

    def capacity(self, start: datetime, until: datetime) -> int:
        """How many departures fit in [start, until]."""
        if until < start:
            return 0
        return math.floor((until - start).total_seconds() * self.rate) + 1


def pacer_for(channel: str) -> Pacer | None:
    rate = configured_rates().get(channel, 0.0)
    return Pacer(rate) if rate > 0 else None


def reserve_departures(
    *, channel: str, sender: str, count: int, now: datetime, horizon: timedelta
) -> list[datetime]:
    """Reserve up to ``count`` departures no later than ``now + horizon`` (call inside the
    claiming transaction); unpaced channels leave at once."""
    pacer = pacer_for(channel)
    if pacer is None:
        return [now] * count
    SendPacer.objects.get_or_create(channel=channel, sender=sender, defaults={"next_free_at": now})
    row = SendPacer.objects.select_for_update().get(channel=channel, sender=sender)
    start = max(row.next_free_at, now)
    kept = min(count, pacer.capacity(start, now + horizon))
    times = pacer.departures(start, kept)
    if kept:
        row.next_free_at = pacer.departure(start, kept)
        row.save(update_fields=["next_free_at"])
    return times
