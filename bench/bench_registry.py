"""Registry benchmark: bulk-load N synthetic patients with timelines into PostgreSQL, then
measure patient search and the 360 view against the DESIGN.md §7 budgets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careline_bench \
        python bench/bench_registry.py --patients 100000

The load uses COPY (the fast bulk path), not the importer: ingest speed has its own script.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import random
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

from common import Verdicts, report, setup_django, time_calls

setup_django()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from faker.providers.person.en_US import Provider as EnglishNames  # noqa: E402
from faker.providers.person.es_MX import Provider as SpanishNames  # noqa: E402

from careline.clinical.selectors import summarize  # noqa: E402
from careline.patients.normalize import search_name  # noqa: E402
from careline.patients.selectors import (  # noqa: E402
    get_patient_registry_view,
    search_patients,
)
from careline.platform.actors import Actor  # noqa: E402
from careline.platform.errors import ValidationFailed  # noqa: E402
from careline.platform.models import AuditChannel, User  # noqa: E402
from careline.platform.permissions import Role  # noqa: E402

BASE_ID = 10_000_000
SOURCE = "urn:careline:bench"
MRN_SYSTEM = "urn:careline:bench:mrn"
NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
GIVEN = sorted(set(EnglishNames.first_names) | set(SpanishNames.first_names))
FAMILY = sorted(set(EnglishNames.last_names) | set(SpanishNames.last_names))
KINDS = ["encounter", "call", "message", "appointment", "campaign", "survey", "note"]
AREA_CODES = ["617", "508", "781", "978", "413", "212", "305", "773"]
FULL_SIZE = 1_000_000  # DESIGN.md §7 states the search and 360 budgets at 1 M patients
SEARCH_BUDGET_P95_MS = 30
VIEW_BUDGET_P95_MS = 50


def patient_rows(count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for index in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(34_000))
        yield (
            BASE_ID + index,
            uuid.UUID(int=rng.getrandbits(128), version=4),
            f"B{index:08d}",
            given,
            family,
            search_name(given, family),
            birth,
            rng.choice(["female", "male"]),
            SOURCE,
            NOW,
            NOW,
            NOW,
        )


def phone_of(index: int) -> str:
    return f"+1{AREA_CODES[index % len(AREA_CODES)]}{2_000_000 + index // len(AREA_CODES):07d}"


def copy_rows(table: str, columns: str, rows: Iterator[tuple[Any, ...]]) -> int:
    written = 0
    connection.ensure_connection()
    statement = f"COPY {table} ({columns}) FROM STDIN"
    with connection.connection.cursor() as raw, raw.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def load(count: int, events_per_patient: int, seed: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    copy_rows(
        "patients_patient",
        "id, public_id, mrn, given_names, family_name, search_name, birth_date, sex, "
        "source_system, received_at, created_at, updated_at, prefix, suffix, "
        "is_deceased, marital_status, language, interpreter_needed, race, ethnicity, "
        "address_line, city, state, postal_code",
        (
            (*row, "", "", False, "", "en", False, "", "", "", "", "", "")
            for row in patient_rows(count, rng)
        ),
    )
    copy_rows(
        "patients_contactpoint",
        "public_id, patient_id, source_system, source_id, received_at, system, value, use, "
        "rank, is_active",
        (
            (uuid.uuid4(), BASE_ID + i, SOURCE, f"p{i}", NOW, "phone", phone_of(i), "mobile", 1, 1)
            for i in range(count)
        ),
    )
    copy_rows(
        "patients_patientidentifier",
        "public_id, patient_id, source_system, source_id, received_at, system, value, type_code",
        (
            (uuid.uuid4(), BASE_ID + i, SOURCE, f"m{i}", NOW, MRN_SYSTEM, f"B{i:08d}", "MR")
            for i in range(count)
        ),
    )
    events = copy_rows(
        "patients_timelineevent",
        "public_id, patient_id, kind, occurred_at, title, detail, source_system, source_key, "
        "received_at, actor_label",
        timeline_rows(count, events_per_patient, rng),
    )
    with connection.cursor() as cursor:
        for table in ("patients_patient", "patients_contactpoint", "patients_timelineevent"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("ANALYZE")
    seconds = time.perf_counter() - started
    print(f"loaded {count:,} patients and {events:,} timeline events in {seconds:.1f} s")


def timeline_rows(count: int, per_patient: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for index in range(count):
        for _ in range(rng.randint(per_patient // 2, per_patient * 3 // 2)):
            kind = rng.choice(KINDS)
            occurred = NOW - dt.timedelta(minutes=rng.randrange(5 * 365 * 24 * 60))
            yield (
                uuid.uuid4(),
                BASE_ID + index,
                kind,
                occurred,
                f"{kind} touch",
                "",
                SOURCE,
                "",
                NOW,
                "bench",
            )


def add_history(patient_id: int, events: int) -> None:
    rng = random.Random(patient_id)
    rows = (
        (
            uuid.uuid4(),
            patient_id,
            rng.choice(KINDS),
            NOW - dt.timedelta(hours=i),
            "touch",
            "",
            SOURCE,
            "",
            NOW,
            "bench",
        )
        for i in range(events)
    )
    copy_rows(
        "patients_timelineevent",
        "public_id, patient_id, kind, occurred_at, title, detail, source_system, source_key, "
        "received_at, actor_label",
        rows,
    )


def bench_user() -> Actor:
    user, _ = User.objects.get_or_create(
        username="bench-agent", defaults={"role": Role.CONTACT_CENTER_AGENT}
    )
    return Actor(user=user, channel=AuditChannel.API, remote_addr="127.0.0.1")


def search_samples(count: int, rng: random.Random) -> dict[str, list[str]]:
    rows = list(
        connection.cursor()
        .execute(
            "SELECT id, family_name, given_names, birth_date FROM patients_patient "
            "WHERE source_system = %s AND id = ANY(%s)",
            [SOURCE, [BASE_ID + rng.randrange(count) for _ in range(200)]],
        )
        .fetchall()
    )
    return {
        "name fragment": [f"{family[:4]}" for _, family, _, _ in rows],
        # four letters from inside the name: only names long enough to have them
        "fragment inside a name": [f"{family[1:5]}" for _, family, _, _ in rows if len(family) > 5],
        "given + family fragment": [f"{given[:3]} {family[:3]}" for _, family, given, _ in rows],
        "date of birth (MM/DD/YYYY)": [f"{birth:%m/%d/%Y}" for _, _, _, birth in rows],
        "phone (any format)": [_formatted(phone_of(pk - BASE_ID)) for pk, _, _, _ in rows],
        "MRN": [f"B{pk - BASE_ID:08d}" for pk, _, _, _ in rows],
    }


def _formatted(e164: str) -> str:
    return f"({e164[2:5]}) {e164[5:8]}-{e164[8:]}"


def bench_search(actor: Actor, count: int, verdicts: Verdicts) -> None:
    for label, texts in search_samples(count, random.Random(7)).items():
        budget = f"search, {label}: p95 ≤ {SEARCH_BUDGET_P95_MS} ms"
        if not texts:
            verdicts.could_not_run(budget, "no sample patient has a name to take it from")
            continue
        if refused := _refused_samples(actor, texts):
            verdicts.could_not_run(budget, f"the search refuses samples such as {refused[:3]}")
            continue
        queue = itertools.cycle(texts)
        samples = time_calls(lambda q=queue: search_patients(actor=actor, text=next(q)), 150)
        p95 = report(f"search: {label}", samples)
        verdicts.judge(budget, met=p95 <= SEARCH_BUDGET_P95_MS, measured=_at(p95, count))


def _refused_samples(actor: Actor, texts: list[str]) -> list[str]:
    """Search each sample once (which also warms the caches); the ones the search refuses."""
    refused = []
    for text in texts:
        try:
            search_patients(actor=actor, text=text)
        except ValidationFailed:
            refused.append(text)
    return refused


def _at(p95: float, patients: int) -> str:
    size = "" if patients >= FULL_SIZE else " (the budget is for 1 M: make bench-full)"
    return f"p95 {p95:.1f} ms at {patients:,} patients{size}"


def view_360(actor: Actor, public_id: uuid.UUID) -> None:
    registry = get_patient_registry_view(actor=actor, patient_id=public_id)
    summarize(registry.access)


def bench_360(actor: Actor, patients: int, events_large: int, verdicts: Verdicts) -> None:
    small, large = (
        connection.cursor()
        .execute(
            "SELECT public_id, id FROM patients_patient WHERE id = ANY(%s) ORDER BY id",
            [[BASE_ID, BASE_ID + 1]],
        )
        .fetchall()
    )
    if (
        not connection.cursor()
        .execute(
            "SELECT 1 FROM patients_timelineevent WHERE patient_id = %s AND title = 'touch'",
            [large[1]],
        )
        .fetchone()
    ):
        add_history(large[1], events_large)
    counts = []
    for label, (public_id, pk) in (("typical history", small), ("long history", large)):
        events = (
            connection.cursor()
            .execute("SELECT count(*) FROM patients_timelineevent WHERE patient_id = %s", [pk])
            .fetchone()[0]
        )
        with CaptureQueriesContext(connection) as queries:
            view_360(actor, public_id)
        counts.append(len(queries))
        samples = time_calls(lambda p=public_id: view_360(actor, p), 200)
        p95 = report(f"360 view: {label} ({events:,} events)", samples)
        verdicts.judge(
            f"360 view, {label}: p95 ≤ {VIEW_BUDGET_P95_MS} ms",
            met=p95 <= VIEW_BUDGET_P95_MS,
            measured=f"{_at(p95, patients)}, {events:,} events",
        )
    verdicts.judge(
        "360 view: query count constant in history size",
        met=counts[0] == counts[1],
        measured=f"{counts[0]} queries (typical) vs {counts[1]} (long history)",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=20, help="timeline events per patient")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench_registry needs PostgreSQL: set DATABASE_URL=postgres://…")
    loaded = (
        connection.cursor()
        .execute("SELECT count(*) FROM patients_patient WHERE source_system = %s", [SOURCE])
        .fetchone()[0]
    )
    if loaded != options.patients:
        if loaded:
            raise SystemExit(f"the database holds {loaded:,} bench patients: use a fresh one")
        load(options.patients, options.events, options.seed)
    actor = bench_user()
    print(f"--- {options.patients:,} patients ---")
    verdicts = Verdicts("registry")
    bench_search(actor, options.patients, verdicts)
    bench_360(actor, options.patients, options.events * 100, verdicts)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
