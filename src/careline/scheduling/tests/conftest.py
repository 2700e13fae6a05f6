"""Scheduling test setup: the clinic (``careline.testing.scheduling``) at a fixed "now"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import time_machine

from careline.testing.scheduling import NOW, Clinic, make_clinic


@pytest.fixture
def frozen_now() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def clinic(db: None, frozen_now: None) -> Clinic:
    return make_clinic()
