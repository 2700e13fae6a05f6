"""Pausing the cyclic garbage collector (platform/memory.py)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from careline.platform.memory import paused_collection


@pytest.fixture(autouse=True)
def _collector_enabled() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    with paused_collection():
        assert gc.isenabled() is False

    assert gc.isenabled() is True


def test_nested_pauses_end_with_the_outermost() -> None:
    with paused_collection():
        with paused_collection():
            assert gc.isenabled() is False
        assert gc.isenabled() is False

    assert gc.isenabled() is True


def test_a_collector_disabled_before_stays_disabled() -> None:
    gc.disable()

    with paused_collection():
        assert gc.isenabled() is False

    assert gc.isenabled() is False


def test_an_error_inside_still_ends_the_pause() -> None:
    with pytest.raises(ValueError, match="boom"), paused_collection():
        raise ValueError("boom")

    assert gc.isenabled() is True


def test_overlapping_pauses_in_two_threads_end_when_both_have_ended() -> None:
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with paused_collection():
            inside.set()
            release.wait(timeout=10)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(timeout=10)
    with paused_collection():
        pass
    still_paused = not gc.isenabled()
    release.set()
    thread.join(timeout=10)

    assert still_paused is True
    assert gc.isenabled() is True
