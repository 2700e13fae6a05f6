"""The periodic jobs' scheduler: jobs from settings, one run per tick across workers, failures
logged and retried at the next tick."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from careline.platform import periodic
from careline.platform.periodic import PeriodicJob, configured_jobs, run_job

RUNS: list[str] = []
RAN = threading.Event()


def record_run() -> None:
    RUNS.append("ran")
    RAN.set()


def fail() -> None:
    raise RuntimeError("the queue is down")


@pytest.fixture(autouse=True)
def _fresh_runs() -> None:
    RUNS.clear()
    RAN.clear()


def test_the_default_jobs_name_functions_that_exist() -> None:
    jobs = {job.name: job for job in configured_jobs()}
    assert sorted(jobs) == ["waitlist sweep", "weekly access snapshot"]
    assert jobs["waitlist sweep"].target == "careline.scheduling.waitlist.sweeper.enqueue_sweep"
    assert jobs["waitlist sweep"].seconds == 300.0
    assert jobs["weekly access snapshot"].seconds == 3600.0


@pytest.mark.parametrize(
    "entry",
    [
        {"name": "x", "seconds": 5},
        {"name": "x", "target": "careline.platform.tests.test_periodic.missing", "seconds": 5},
        {"name": "x", "target": "careline.platform.tests.test_periodic.fail", "seconds": "often"},
    ],
)
def test_a_job_that_cannot_run_is_refused_at_start(settings: Any, entry: dict[str, Any]) -> None:
    settings.CARELINE_PERIODIC_JOBS = [entry]
    with pytest.raises(ImproperlyConfigured, match="needs a name, the dotted path of a function"):
        configured_jobs()


@pytest.mark.django_db(transaction=True)
def test_a_run_calls_the_function() -> None:
    job = PeriodicJob("test", "careline.platform.tests.test_periodic.record_run", 60)
    assert run_job(job) is True
    assert RUNS == ["ran"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_run_is_logged_and_does_not_stop_the_scheduler(
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = PeriodicJob("failing", "careline.platform.tests.test_periodic.fail", 60)
    assert run_job(job) is False
    assert "periodic job 'failing' failed; it runs again at its next tick" in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_job_another_worker_is_running_is_skipped(postgres_only: None) -> None:
    job = PeriodicJob("test", "careline.platform.tests.test_periodic.record_run", 60)
    other = connections.create_connection("default")  # another worker's connection
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(%s, %s)", [periodic._LOCK_NAMESPACE, job.lock_key]
            )
        assert run_job(job) is False
        assert RUNS == []
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_unlock(%s, %s)", [periodic._LOCK_NAMESPACE, job.lock_key]
            )
        assert run_job(job) is True
        assert RUNS == ["ran"]
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_the_scheduler_runs_jobs_on_their_cadence_and_leaves_out_switched_off_ones() -> None:
    jobs = [
        PeriodicJob("often", "careline.platform.tests.test_periodic.record_run", 0.1),
        PeriodicJob("off", "careline.platform.tests.test_periodic.fail", 0),
    ]
    scheduler = periodic.start_scheduler(jobs)
    try:
        assert [job.id for job in scheduler.get_jobs()] == ["often"]
        assert RAN.wait(timeout=10)
    finally:
        periodic.stop_scheduler(scheduler)
    assert RUNS[0] == "ran"
