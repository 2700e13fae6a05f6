"""The switch that turns a missing CI-only prerequisite from a skip into a failure.

Each case runs pytest in a subprocess on a tiny test file, with ../shared/testdata and
chromium pointed at places that do not exist.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = """
import pytest

@pytest.mark.shared_testdata
def test_marked_for_shared_testdata():
    pass

def test_asks_for_the_shared_testdata(shared_testdata):
    pass

@pytest.mark.browser
def test_marked_for_the_browser():
    pass

def test_needs_nothing():
    pass
"""
MARKERS = """
[pytest]
markers =
    shared_testdata: reads the shared test data
    browser: drives chromium
"""


@pytest.fixture
def machine_without_prerequisites(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> pytest.Pytester:
    monkeypatch.setenv("CARELINE_SHARED_TESTDATA", str(tmp_path / "no-shared" / "testdata"))
    monkeypatch.setenv("CARELINE_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("CARELINE_REQUIRE_ALL_TESTS", raising=False)
    pytester.makeini(MARKERS)
    pytester.makepyfile(test_prerequisites=TESTS)
    return pytester


def run(pytester: pytest.Pytester) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "careline.testing.environment", "-p", "no:django", "-p", "no:xdist", "-ra"
    )


def test_a_fresh_clone_skips_them_with_the_reason(
    machine_without_prerequisites: pytest.Pytester, tmp_path: Path
) -> None:
    result = run(machine_without_prerequisites)

    result.assert_outcomes(passed=1, skipped=3)
    assert result.ret == pytest.ExitCode.OK
    absent = (
        f"{tmp_path}/no-shared/testdata is absent (a fresh clone has no ../shared; "
        "CARELINE_SHARED_TESTDATA names another place); CI has it and runs these tests"
    )
    result.stdout.fnmatch_lines(
        [
            f"SKIPPED [[]1[]] *: {absent}",
            f"SKIPPED [[]1[]] *: {absent}",
            f"SKIPPED [[]1[]] *: {tmp_path}/no-chromium is missing: apt-get install chromium "
            "to run the browser tests",
        ],
        consecutive=True,
    )


def test_ci_fails_each_of_them_and_says_why(
    machine_without_prerequisites: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("CARELINE_REQUIRE_ALL_TESTS", "1")

    result = run(machine_without_prerequisites)

    result.assert_outcomes(passed=1, errors=3)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    must_run = "CARELINE_REQUIRE_ALL_TESTS is set (by .ci/run), so this test must run"
    absent = f"{tmp_path}/no-shared/testdata is absent (a fresh clone has no ../shared; *"
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_marked_for_shared_testdata*",
            f"{absent}; {must_run}",
            "*ERROR at setup of test_asks_for_the_shared_testdata*",
            f"{absent}; {must_run}",
            "*ERROR at setup of test_marked_for_the_browser*",
            f"{tmp_path}/no-chromium is missing: apt-get install chromium to run the browser "
            f"tests; {must_run}",
        ],
        consecutive=True,
    )


def test_ci_runs_them_where_the_prerequisites_exist(
    machine_without_prerequisites: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    (tmp_path / "no-shared" / "testdata").mkdir(parents=True)
    monkeypatch.setenv("CARELINE_REQUIRE_ALL_TESTS", "1")
    monkeypatch.setenv("CARELINE_CHROMIUM", "/bin/sh")  # any file that exists

    result = run(machine_without_prerequisites)

    result.assert_outcomes(passed=4)
