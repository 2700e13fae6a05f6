"""The hook that tells bumped patients: ``CARELINE_BUMP_NOTIFIER`` names a function
``(notice_ids: list[uuid.UUID]) -> None`` called once the bump has committed.

As with waitlist offers (``waitlist.notify``), nothing is sent until the messaging app plugs
in here with a function that enqueues an outbox message per ``BumpNotice`` (consent, quiet
hours and PHI-minimum content are its rules) and sets its ``sent_at``. Meanwhile the bump is
on the patient's timeline and the notice waits, unsent, for the channel.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def bumps_recorded(notice_ids: Sequence[uuid.UUID]) -> None:
    """The default: no channel yet; log the count (a count suffices)."""
    logger.info("bumps: %d notice(s) recorded; no message channel is configured", len(notice_ids))


def notify_bumps(notice_ids: Sequence[uuid.UUID]) -> None:
    notifier = import_string(settings.CARELINE_BUMP_NOTIFIER)
    notifier(list(notice_ids))
