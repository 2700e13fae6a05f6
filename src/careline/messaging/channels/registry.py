"""Which adapter serves each channel: ``CARELINE_MESSAGING_ADAPTERS`` ("channel=dotted.path"
pairs, from the environment), built once per process."""

from __future__ import annotations

import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from careline.messaging.channels.base import ChannelAdapter


def _configured() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(
        None, (part.strip() for part in settings.CARELINE_MESSAGING_ADAPTERS.split(","))
    ):
        channel, _, path = item.partition("=")
        if not path:
            raise ImproperlyConfigured(f"CARELINE_MESSAGING_ADAPTERS: {item!r} is not channel=path")
        pairs[channel.strip()] = path.strip()
    return pairs


@functools.cache
def _build(path: str) -> ChannelAdapter:
    adapter: ChannelAdapter = import_string(path)()
    return adapter


def adapter_for(channel: str) -> ChannelAdapter | None:
    """The adapter that sends on ``channel``, or None when none is configured."""
    path = _configured().get(channel)
    return _build(path) if path else None


def is_covered_by_baa(channel: str) -> bool:
    """Whether PHI may go out on ``channel``: its adapter is named in
    ``CARELINE_MESSAGING_BAA_ADAPTERS`` (or declares itself covered)."""
    adapter = adapter_for(channel)
    if adapter is None:
        return False
    return adapter.covered_by_baa or adapter.name in settings.CARELINE_MESSAGING_BAA_ADAPTERS
