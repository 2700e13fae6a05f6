"""Messaging benchmark (DESIGN.md §7 "outbox dispatch"):

1. outbox dispatch to a local SMTP sink (aiosmtpd) by 2 dispatcher *processes* on
   PostgreSQL: ≥ 500 messages/s, 0 duplicates, 0 lost (counted at the sink by Message-ID);
2. enqueue of a reminder batch for up to 100,000 patients with the policy gate (timed; rolled
   back afterwards, so the database keeps nothing);
3. the time that batch needs to leave by SMS at the configured carrier rate, computed from
   the pacer's schedule (not waited for).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careline_bench_100000 \
        python bench/bench_messaging.py --messages 20000 --patients 100000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from common import Verdicts, setup_django

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault(
    "CARELINE_MESSAGING_ADAPTERS",
    "email=careline.messaging.channels.email.SmtpEmailAdapter,sms=careline.messaging.channels.sink.SmsSinkAdapter",
)
setup_django()

from django.db import connection, transaction  # noqa: E402

from careline.messaging.models import Message, MessageTemplate, SinkRecord  # noqa: E402
from careline.messaging.pacing import Pacer, configured_rates  # noqa: E402
from careline.messaging.services import MessageRequest, enqueue_messages  # noqa: E402
from careline.messaging.tests.smtp_sink import start_smtp_sink  # noqa: E402
from careline.patients.models import ContactPoint, Patient  # noqa: E402
from careline.platform import clock  # noqa: E402
from careline.platform.actors import Actor  # noqa: E402

BENCH_SOURCE = "urn:careline:bench:messaging"
DISPATCH_BUDGET = 500.0  # messages per second
DISPATCHER = (
    "import threading, django; django.setup(); "
    "from careline.messaging.recovery import run_dispatcher; "
    "run_dispatcher(stop=threading.Event(), interval=0.05)"
)


class Rollback(Exception):
    pass


def ensure_templates() -> None:
    now = clock.now()
    for channel, subject, body in (
        (
            "email",
            "Your visit",
            "Dear {first_name}, your visit is on {appointment_date}. {org_name} {org_phone}",
        ),
        (
            "sms",
            "",
            "{org_name}: visit {appointment_date} {appointment_time}. Reply C to "
            "confirm. Call {org_phone}",
        ),
    ):
        MessageTemplate.objects.get_or_create(
            purpose="appointment_reminder",
            channel=channel,
            language="en",
            is_active=True,
            defaults={
                "category": "transactional",
                "subject": subject,
                "body": body,
                "created_at": now,
            },
        )


def ensure_patients(count: int) -> list[uuid.UUID]:
    """``count`` patients with an email and a mobile number (made here if the database has
    fewer of its own bench patients)."""
    have = Patient.objects.filter(source_system=BENCH_SOURCE).count()
    now = clock.now()
    if have < count:
        created = Patient.objects.bulk_create(
            [
                Patient(
                    given_names="Bench",
                    family_name=f"Patient{n}",
                    search_name=f"bench patient{n}",
                    source_system=BENCH_SOURCE,
                    received_at=now,
                    created_at=now,
                    updated_at=now,
                )
                for n in range(have, count)
            ],
            batch_size=5000,
        )
        ContactPoint.objects.bulk_create(
            [
                ContactPoint(
                    patient=p,
                    system=system,
                    value=value,
                    use="mobile",
                    source_system=BENCH_SOURCE,
                    received_at=now,
                )
                for p in created
                for system, value in (
                    ("email", f"{p.public_id}@example.org"),
                    ("sms", f"+1555{p.pk % 10_000_000:07d}"),
                )
            ],
            batch_size=5000,
        )
    return list(
        Patient.objects.filter(source_system=BENCH_SOURCE)
        .order_by("pk")
        .values_list("public_id", flat=True)[:count]
    )


def reminders(patient_ids: list[uuid.UUID], channel: str, tag: str) -> list[MessageRequest]:
    return [
        MessageRequest(
            patient_id=pid,
            purpose="appointment_reminder",
            channel=channel,
            context={"appointment_date": "Jun 12", "appointment_time": "10:00"},
            subject_ref=f"bench:{tag}",
            is_reply=channel == "email",  # no quiet hours here
        )
        for pid in patient_ids
    ]


def bench_dispatch(verdicts: Verdicts, count: int, actor: Actor) -> None:
    Message.objects.filter(subject_ref__startswith="bench:").delete()
    patient_ids = ensure_patients(count)
    controller, handler = start_smtp_sink()
    for start in range(0, count, 5000):
        with transaction.atomic():
            enqueue_messages(
                actor=actor,
                requests=reminders(patient_ids[start : start + 5000], "email", "dispatch"),
            )
    db = connection.settings_dict
    env = {
        **os.environ,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(controller.port),
        "CARELINE_MESSAGING_BATCH_SIZE": "200",
        "CARELINE_AUDIT_CHECKPOINT_FILE": "",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    launched = time.perf_counter()
    command = [sys.executable, "-c", DISPATCHER]
    workers = [subprocess.Popen(command, env=env) for _ in range(2)]  # noqa: S603 (ours)
    try:
        # The clock starts at the first arrival: Django's start-up in the new processes is
        # not dispatch time.
        while handler.total == 0 and time.perf_counter() < launched + 120:
            time.sleep(0.005)
        started = time.perf_counter()
        deadline = started + max(120.0, count / 50)
        while handler.total < count and time.perf_counter() < deadline:
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        time.sleep(0.5)  # late duplicates would arrive now
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        controller.stop()
    unique = len(handler.message_ids)
    rate = (unique - 1) / elapsed if elapsed > 0 else 0.0
    lost = count - unique
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"dispatch (load average {load}): {count:,} emails by 2 processes in "
        f"{elapsed:.2f} s = {rate:,.0f}/s; "
        f"{handler.duplicates} duplicates, {lost} lost"
    )
    verdicts.judge(
        "outbox dispatch to local SMTP, 2 workers >= 500 msg/s, 0 duplicates, 0 lost",
        met=rate >= DISPATCH_BUDGET and handler.duplicates == 0 and lost == 0,
        measured=f"{rate:,.0f} msg/s, {handler.duplicates} duplicates, {lost} lost "
        f"({count:,} messages)",
    )
    Message.objects.filter(subject_ref__startswith="bench:").delete()


def bench_enqueue(patients: int, actor: Actor) -> None:
    patient_ids = ensure_patients(patients)
    started = time.perf_counter()
    queued = 0
    try:
        with transaction.atomic():
            for start in range(0, len(patient_ids), 5000):
                made = enqueue_messages(
                    actor=actor,
                    requests=reminders(patient_ids[start : start + 5000], "sms", "enqueue"),
                )
                queued += sum(1 for m in made if m.status in ("queued", "deferred"))
            elapsed = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    print(
        f"enqueue: {len(patient_ids):,}-patient SMS reminder batch with the policy gate in "
        f"{elapsed:.1f} s ({len(patient_ids) / elapsed:,.0f}/s); {queued:,} to send"
    )
    rate = configured_rates().get("sms", 0.0)
    if rate > 0:
        leave = Pacer(rate).finished_at(clock.now(), queued) - clock.now()
        print(
            f"SMS leave time at {rate:g}/s (CARELINE_MESSAGING_RATES): {leave} "
            f"({leave.total_seconds() / 3600:.1f} h) for {queued:,} texts"
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    verdicts = Verdicts("messaging")
    if connection.vendor != "postgresql":
        verdicts.could_not_run("outbox dispatch", "needs PostgreSQL (DATABASE_URL)")
        return verdicts.exit_status()
    actor = Actor.system("bench")
    ensure_templates()
    SinkRecord.objects.filter(to_address__startswith="+1555").delete()
    bench_dispatch(verdicts, args.messages, actor)
    bench_enqueue(args.patients, actor)
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
