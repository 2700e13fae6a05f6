"""What some tests need from the machine, and what happens when it is missing.

Two kinds of tests need more than ``make install`` gives: the ones that read the shared test
data beside the checkout (marker ``shared_testdata``) and the browser tests (marker
``browser``, Debian's chromium and Playwright). On a fresh clone they are skipped with a
printed reason. CI has both, so ``.ci/run`` sets ``CARELINE_REQUIRE_ALL_TESTS=1``: then a
missing prerequisite fails the test instead of skipping it, and CI cannot go green on a run
that silently left them out.

Loaded as a pytest plugin (``pytest_plugins`` in ``src/careline/conftest.py``); it imports
no Django, so the benchmarks use ``SHARED_TESTDATA`` too.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import NoReturn

import pytest

REPOSITORY_ROOT = Path(__file__).resolve().parents[3]
REQUIRE_ALL_TESTS = "CARELINE_REQUIRE_ALL_TESTS"
SHARED_TESTDATA = Path(
    os.environ.get("CARELINE_SHARED_TESTDATA", REPOSITORY_ROOT.parent / "shared" / "testdata")
).resolve()
CHROMIUM = Path(os.environ.get("CARELINE_CHROMIUM", "/usr/bin/chromium"))


def all_tests_required() -> bool:
    return os.environ.get(REQUIRE_ALL_TESTS, "") not in ("", "0")


def prerequisite_missing(reason: str) -> NoReturn:
    """Skip with ``reason`` (printed in the summary), or fail when every test is required."""
    if all_tests_required():
        pytest.fail(
            f"{reason}; {REQUIRE_ALL_TESTS} is set (by .ci/run), so this test must run",
            pytrace=False,
        )
    pytest.skip(reason)  # `-ra` (pyproject addopts) prints the reason in the summary


def shared_testdata_missing() -> str | None:
    if SHARED_TESTDATA.is_dir():
        return None
    return (
        f"{SHARED_TESTDATA} is absent (a fresh clone has no ../shared; "
        "CARELINE_SHARED_TESTDATA names another place); CI has it and runs these tests"
    )


def browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: apt-get install chromium to run the browser tests"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed: make install adds it"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, missing in (
        ("shared_testdata", shared_testdata_missing),
        ("browser", browser_missing),
    ):
        if marker in item.keywords and (reason := missing()):
            prerequisite_missing(reason)


@pytest.fixture(scope="session")
def shared_testdata() -> Path:
    """``../shared/testdata``; the test skips (or, under CI, fails) where it is absent."""
    if reason := shared_testdata_missing():
        prerequisite_missing(reason)
    return SHARED_TESTDATA
