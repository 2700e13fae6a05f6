"""An import run as a straight line of stages, unit after unit:

read (``inputs``) → look up what is stored (``stored``) → validate and map (``prepare``) →
resolve identity and write, in one transaction per unit (``unit``: directory, patients,
facts) → audit (one event per patient changed, in the same transaction).

Serially, each unit is prepared and then written. Overlapped — on PostgreSQL, when the
run is not inside a caller's transaction — a writer thread with its own database connection
writes unit N while this thread reads, validates and maps unit N+1: validation is CPU work
in Python, writing mostly waits on the database, so the two overlap. Every guarantee stays:
units are written one at a time and in order, each in its own transaction; a unit that
names a resource an earlier unit still being written also names waits for that write, so
what it finds stored (and therefore skips as unchanged) is never stale.

Reading and preparing run with Python's cyclic garbage collector paused
(``platform.memory``): parsed JSON and validated models hold no cycles, and the collections
their allocations would trigger cost about a tenth of the run. It runs again between units.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import connection, connections

from careline.interop.fhir.context import source_id_of
from careline.interop.fhir.inputs import InputProblem, Unit
from careline.interop.fhir.summary import Rejection, SkippedFile, Tally
from careline.interop.fhir.unit import ReadyUnit, prepare_unit, write_unit
from careline.interop.fhir.unit_state import Run
from careline.platform.memory import paused_collection

QUEUE_DEPTH = 2  # units prepared ahead of the writer (bounds the memory held)
Key = tuple[str, str]  # (resource type, source id)


def unit_tallies(
    items: Iterable[Unit | InputProblem], run: Run, *, overlap: bool
) -> Iterator[tuple[Tally, int]]:
    """The tally of each unit or problem, in input order, with the bytes it covers."""
    if overlap and can_overlap():
        yield from _overlapped(items, run)
        return
    for item in _read(items):
        if isinstance(item, InputProblem):
            yield problem_tally(item), item.size
        else:
            with paused_collection():
                ready = prepare_unit(item, run)
            yield write_unit(ready, run), item.size


def _read(items: Iterable[Unit | InputProblem]) -> Iterator[Unit | InputProblem]:
    """The items, each read (parsed) with the cyclic collector paused."""
    iterator = iter(items)
    while True:
        with paused_collection():
            item = next(iterator, None)
        if item is None:
            return
        yield item


def can_overlap() -> bool:
    """A writer thread needs its own connection to see and commit what this one does."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def problem_tally(problem: InputProblem) -> Tally:
    tally = Tally()
    if problem.is_skip:
        tally.skipped_files.append(SkippedFile(problem.file, problem.reason))
    else:
        rejection = Rejection(problem.file, problem.entry, problem.line, None, None, problem.reason)
        tally.reject(rejection, counted=False)
    return tally


@dataclass
class _Job:
    size: int
    keys: set[Key] = field(default_factory=set)
    ready: ReadyUnit | None = None
    tally: Tally | None = None  # a problem's, already known


class _Writer(threading.Thread):
    """Writes jobs in order on its own connection; answers each job's tally, or an error."""

    def __init__(self, run: Run) -> None:
        super().__init__(name="fhir-import-writer", daemon=True)
        self.import_run = run
        self.inbox: queue.Queue[_Job | None] = queue.Queue(maxsize=QUEUE_DEPTH)
        self.outbox: queue.Queue[tuple[_Job, Tally] | BaseException] = queue.Queue()

    def run(self) -> None:
        try:
            while (job := self.inbox.get()) is not None:
                if job.ready is not None:
                    job.tally = write_unit(job.ready, self.import_run)
                    job.ready = None  # free the unit's resources
                self.outbox.put((job, job.tally or Tally()))
        except BaseException as error:  # handed to the reading thread, which raises it
            self.outbox.put(error)
        finally:
            connections.close_all()  # this thread's own connection


def _overlapped(items: Iterable[Unit | InputProblem], run: Run) -> Iterator[tuple[Tally, int]]:
    writer = _Writer(run)
    writer.start()
    in_flight: list[_Job] = []

    def finished(*, block: bool) -> Iterator[tuple[Tally, int]]:
        while in_flight:
            try:
                answer = writer.outbox.get(block=block)
            except queue.Empty:
                return
            if isinstance(answer, BaseException):
                raise answer
            job, tally = answer
            in_flight.remove(job)
            yield tally, job.size

    try:
        for item in _read(items):
            if isinstance(item, InputProblem):
                job = _Job(item.size, tally=problem_tally(item))
            else:
                job = _Job(item.size, keys=_keys(item))
                if any(job.keys & earlier.keys for earlier in in_flight):
                    yield from finished(block=True)  # what it finds stored must be current
                with paused_collection():
                    job.ready = prepare_unit(item, run)
            in_flight.append(job)
            writer.inbox.put(job)
            yield from finished(block=False)
        writer.inbox.put(None)
        yield from finished(block=True)
    finally:
        _stop(writer)


def _keys(unit: Unit) -> set[Key]:
    keys = set()
    for entry in unit.entries:
        resource_type = entry.resource.get("resourceType")
        if isinstance(resource_type, str):
            keys.add((resource_type, source_id_of(entry.resource, entry.full_url)))
    return keys


def _stop(writer: _Writer) -> None:
    """Let the writer finish what it holds (or fail) and end; never leave it running."""
    while writer.is_alive():
        try:
            writer.inbox.put(None, timeout=0.1)
            break
        except queue.Full:
            continue
    writer.join()
