"""Portal secure messages: the message is stored (a ``SinkRecord`` keyed by the reference,
never twice) and the patient reads it on the portal's Messages page, which marks it read.
Our own server holds it, so PHI and clinical content may go here."""

from __future__ import annotations

from careline.messaging.channels.base import ChannelKind
from careline.messaging.channels.sink import SinkAdapter


class PortalAdapter(SinkAdapter):
    name = "portal"
    channel = ChannelKind.PORTAL
    covered_by_baa = True
    reconciles = True
