"""The hook that tells patients about offers: ``CARELINE_WAITLIST_OFFER_NOTIFIER`` names a
function ``(offer_ids: list[uuid.UUID]) -> None`` called once the offers have committed.

Until the messaging app (issue 10) exists, nothing is sent: the patient sees her offers
through ``selectors.list_patient_offers`` (the portal shows them), staff see them on the
Waitlist page, and every offer is on the patient's timeline. Messaging plugs in here with a
function that enqueues an outbox message per offer (consent, quiet hours and PHI-minimum
content are its rules), e.g. ``careline.messaging.waitlist.enqueue_offer_messages``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def offers_recorded(offer_ids: Sequence[uuid.UUID]) -> None:
    """The default: no channel yet; log the count (ids are not PHI, but a count suffices)."""
    logger.info("waitlist: %d offer(s) recorded; no message channel is configured", len(offer_ids))


def notify_offers(offer_ids: Sequence[uuid.UUID]) -> None:
    notifier = import_string(settings.CARELINE_WAITLIST_OFFER_NOTIFIER)
    notifier(list(offer_ids))
