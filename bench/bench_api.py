"""API read benchmark: ``GET /api/patients/{id}`` through gunicorn against the DESIGN.md §7
budget (≥ 800 requests/s on 2 cores, p99 ≤ 50 ms).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careline_bench \
        python bench/bench_api.py --requests 20000 --clients 4

It creates what it needs in that database (a bench user, a bearer token, a few patients),
starts ``gunicorn careline.config.wsgi -w 2`` on 127.0.0.1, drives it from a pool of
keep-alive ``http.client`` connections, then stops it and revokes the token. Every read is
a real, audited read: each request appends one row to the hash-chained audit trail.

Then, in this process, it splits one request into its parts (token check, patient access,
audit append, the whole view) so the report can say what limits throughput.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, percentile, setup_django, time_calls

os.environ.setdefault("DEBUG", "false")  # production-like: no query log, no debug pages
setup_django()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from careline.patients.access import access_patient  # noqa: E402
from careline.patients.models import Patient  # noqa: E402
from careline.platform import audit, clock  # noqa: E402
from careline.platform.actors import Actor  # noqa: E402
from careline.platform.models import ApiToken, AuditAction, AuditChannel, User  # noqa: E402
from careline.platform.permissions import Role  # noqa: E402
from careline.platform.services import authenticate_token, issue_api_token  # noqa: E402

BUDGET_RPS = 800
BUDGET_P99_MS = 50.0
BENCH_SOURCE = "urn:careline:bench-api"
BENCH_USER = "bench-api"
GUNICORN = Path(sys.executable).with_name("gunicorn")


def ensure_fixtures(patient_count: int) -> tuple[User, str, list[str]]:
    """The bench user (an integration engineer: all patients), a fresh token, patient ids."""
    user, _ = User.objects.get_or_create(
        username=BENCH_USER, defaults={"role": Role.INTEGRATION, "first_name": "Bench"}
    )
    now = clock.now()
    existing = list(
        Patient.objects.filter(source_system=BENCH_SOURCE).values_list("public_id", flat=True)
    )
    for index in range(len(existing), patient_count):
        patient = Patient.objects.create(
            given_names="Bench",
            family_name=f"Patient{index}",
            search_name=f"bench patient{index}",
            birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=97 * index),
            sex="female" if index % 2 else "male",
            mrn=f"BENCHAPI{index:06d}",
            source_system=BENCH_SOURCE,
            received_at=now,
            created_at=now,
            updated_at=now,
        )
        existing.append(patient.public_id)
    issued = issue_api_token(actor=Actor.system("bench_api"), user=user, name="bench-api")
    return user, issued.secret, [str(public_id) for public_id in existing[:patient_count]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_gunicorn(port: int, workers: int, threads: int, log: Path) -> subprocess.Popen[bytes]:
    """``threads`` > 1 is gunicorn's gthread worker, which keeps connections alive (the sync
    worker closes every one). Its log (Django warns on every 4xx, and the baselines are all
    4xx) goes to ``log``."""
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
    }
    process = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        [
            str(GUNICORN),
            "careline.config.wsgi",
            "-w",
            str(workers),
            "--threads",
            str(threads),
            "-b",
            f"127.0.0.1:{port}",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start within 30 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class KeepAliveClient:
    """One persistent connection; reconnects when the server closes it."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {"Authorization": f"Bearer {token}", "Connection": "keep-alive"}
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.reconnects = 0

    def get(self, path: str) -> tuple[int, float]:
        started = time.perf_counter()
        try:
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            self.reconnects += 1
            self.connection.request("GET", path, headers=self.headers)
            response = self.connection.getresponse()
        response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.will_close:
            self.connection.close()
            self.reconnects += 1
        return response.status, elapsed


def drive(
    port: int, token: str, paths: list[str], total: int, clients: int, expected: int = 200
) -> dict[str, float]:
    """``total`` requests spread over ``clients`` threads, each with its own connection."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]

    def run(index: int) -> None:
        nonlocal errors
        client = KeepAliveClient(port, token)
        own: list[float] = []
        failed = 0
        for number in range(per_client[index]):
            status, elapsed = client.get(paths[(index + number * clients) % len(paths)])
            own.append(elapsed)
            failed += status != expected
        with lock:
            latencies.extend(own)
            errors += failed

    started, cpu_started = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(run, range(clients)))
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_started
    return {
        "requests": float(len(latencies)),
        "errors": float(errors),
        "rps": len(latencies) / wall,
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "mean": statistics.fmean(latencies),
        "wall": wall,
        "client_cores": client_cpu / wall,  # the load generator shares the 2 cores
    }


def breakdown(user: User, token: str, patient_id: str, repeat: int) -> dict[str, float]:
    """Median milliseconds of each part of one request, measured in this process."""
    import uuid

    actor = Actor(user=user, channel=AuditChannel.API, remote_addr="127.0.0.1")
    public_id = uuid.UUID(patient_id)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    parts: dict[str, Callable[[], object]] = {
        "token check": lambda: authenticate_token(token),
        "access check (no audit)": lambda: access_patient(
            actor=actor, patient_id=public_id, action=None
        ),
        "audit append": lambda: audit.record_event(
            actor=actor,
            action=AuditAction.READ,
            resource_type="Patient",
            resource_id=patient_id,
            patient_id=public_id,
        ),
        "whole request (Django test client)": lambda: client.get(f"/api/patients/{patient_id}"),
    }
    return {name: statistics.median(time_calls(call, repeat)) for name, call in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4, help="keep-alive client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help=(
            "threads per worker: 1 is gunicorn's sync worker (it closes every connection); "
            "more is gthread with keep-alive, as `careline serve` runs (--threads 4)"
        ),
    )
    parser.add_argument("--patients", type=int, default=20)
    arguments = parser.parse_args()

    if connection.vendor != "postgresql":
        print(f"note: DATABASE_URL is {connection.vendor}; the budget is for PostgreSQL")
    user, token, patient_ids = ensure_fixtures(arguments.patients)
    reads = [f"/api/patients/{public_id}" for public_id in patient_ids]
    # Baselines in the same run: the bare stack (an unknown route: no database), then the
    # stack plus one token lookup (a refused token), then the real read.
    scenarios = [
        ("baseline: unknown route (no DB)", token, ["/api/no-such-route"], 404),
        ("baseline: refused token (1 query)", "cl_00000000_refused", reads, 401),
        ("GET /api/patients/{id}", token, reads, 200),
    ]
    port = free_port()
    connection.close()  # the workers must not inherit this process's connection
    load_before = os.getloadavg()[0]
    log = Path(tempfile.gettempdir()) / "careline-bench-api-gunicorn.log"
    server = start_gunicorn(port, arguments.workers, arguments.threads, log)
    results = {}
    try:
        for label, secret, paths, expected in scenarios:
            drive(port, secret, paths, arguments.warmup, arguments.clients, expected)
            results[label] = drive(
                port, secret, paths, arguments.requests, arguments.clients, expected
            )
    finally:
        stop(server)
    print(
        f"gunicorn -w {arguments.workers} --threads {arguments.threads}, "
        f"{arguments.clients} keep-alive clients, "
        f"{arguments.requests} requests per row, cpus={os.cpu_count()}, DEBUG={settings.DEBUG}, "
        f"load average before {load_before:.1f}"
    )
    if any(result["errors"] for result in results.values()):
        print(f"  unexpected statuses: see {log}")
    for label, result in results.items():
        print(
            f"  {label:<36} {result['rps']:7.0f} req/s  p50 {result['p50']:6.2f} ms  "
            f"p99 {result['p99']:6.2f} ms  client {result['client_cores']:.2f} cores  "
            f"({int(result['errors'])} unexpected statuses)"
        )
    read = results["GET /api/patients/{id}"]
    floor = results["baseline: unknown route (no DB)"]
    rps_ok, p99_ok = read["rps"] >= BUDGET_RPS, read["p99"] <= BUDGET_P99_MS
    print(
        f"  budget ≥ {BUDGET_RPS} req/s: {'OK' if rps_ok else 'UNDER'};"
        f"  p99 ≤ {BUDGET_P99_MS:g} ms: {'OK' if p99_ok else 'OVER'};"
        f"  read / bare-stack throughput: {read['rps'] / floor['rps']:.2f}"
    )
    print("  one request, part by part (median ms, in-process, same database):")
    for name, milliseconds in breakdown(user, token, patient_ids[0], repeat=300).items():
        print(f"    {name:<36} {milliseconds:6.3f}")
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=clock.now())


if __name__ == "__main__":
    main()
