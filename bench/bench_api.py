"""API read benchmark: ``GET /api/patients/{id}`` through gunicorn against the DESIGN.md §7
budget (≥ 800 requests/s on 2 cores, p99 ≤ 50 ms).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/careline_bench \
        python bench/bench_api.py --seconds 10 --clients 8

It creates what it needs in that database (a bench user, a bearer token, a few patients),
starts ``gunicorn careline.config.wsgi -w 2 --threads 4`` on 127.0.0.1 (as ``careline serve``
runs it) and the audit sealer (``careline audit seal --follow``) beside it, and drives
gunicorn with keep-alive connections: from wrk when it is installed (a load generator in C,
which leaves the shared 2 cores to the server), else from a pool of Python ``http.client``
connections (``--driver python``; that client takes 0.1 to 0.2 cores itself). Every read is a
real, audited read: each request appends one unsealed entry in its own transaction, and the
sealer links it into the keyed chain behind the request.

A response with another status than the scenario expects is a failure: it is counted and
left out of requests/s. After the audited run it reports the sealer's lag (the age of the
oldest unsealed entry when the load stopped, and how long the sealer took to catch up) and
runs ``careline audit verify`` against the sealer's checkpoints, which must pass.

Then, in this process, it splits one request into its parts (token check, patient access,
audit append, the whole view) and, with ``--profile N``, profiles N whole requests with
cProfile (CPU per request and the functions that take it).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import http.client
import io
import os
import pstats
import resource
import shutil
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

from common import ROOT, Verdicts, percentile, setup_django, time_calls

os.environ.setdefault("DEBUG", "false")  # production-like: no query log, no debug pages
setup_django()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from careline.patients.access import access_patient  # noqa: E402
from careline.patients.models import Patient  # noqa: E402
from careline.platform import audit, clock  # noqa: E402
from careline.platform.actors import Actor  # noqa: E402
from careline.platform.audit.selectors import count_unsealed  # noqa: E402
from careline.platform.audit.services import wait_until_sealed  # noqa: E402
from careline.platform.models import ApiToken, AuditAction, AuditChannel, User  # noqa: E402
from careline.platform.permissions import Role  # noqa: E402
from careline.platform.services import authenticate_token, issue_api_token  # noqa: E402

BUDGET_RPS = 800
BUDGET_P99_MS = 50.0
BENCH_SOURCE = "urn:careline:bench-api"
BENCH_USER = "bench-api"
GUNICORN = Path(sys.executable).with_name("gunicorn")
SEALER_LAG_BUDGET_SECONDS = 2.0


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


def child_environment(checkpoints: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])
        ),
        "CARELINE_AUDIT_CHECKPOINT_FILE": str(checkpoints),
        "CARELINE_AUDIT_CHECKPOINT_SECONDS": "1",
    }


def start_sealer(checkpoints: Path, log: Path) -> subprocess.Popen[bytes]:
    """``careline audit seal --follow``, as a worker would run it beside the web servers."""
    return subprocess.Popen(
        [sys.executable, "-m", "careline.config.cli", "audit", "seal", "--follow"],
        cwd=ROOT,
        env=child_environment(checkpoints),
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


def start_gunicorn(
    port: int, workers: int, threads: int, log: Path, checkpoints: Path
) -> subprocess.Popen[bytes]:
    """``threads`` > 1 is gunicorn's gthread worker, which keeps connections alive (the sync
    worker closes every one). Its log (Django warns on every 4xx, and the baselines are all
    4xx) goes to ``log``."""
    environment = child_environment(checkpoints)
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
    latencies: list[float] = []  # successful requests only
    errors = 0
    lock = threading.Lock()
    per_client = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]

    def run(index: int) -> None:
        nonlocal errors
        client = KeepAliveClient(port, token)
        own: list[float] = []
        failed = 0
        for number in range(per_client[index]):
            try:
                status, elapsed = client.get(paths[(index + number * clients) % len(paths)])
            except (http.client.HTTPException, OSError):
                failed += 1
                continue
            if status == expected:
                own.append(elapsed)
            else:
                failed += 1
        with lock:
            latencies.extend(own)
            errors += failed

    started, cpu_started = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(run, range(clients)))
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_started
    samples = latencies or [float("nan")]
    return {
        "requests": float(len(latencies)),
        "errors": float(errors),
        "rps": len(latencies) / wall,
        "p50": percentile(samples, 0.50),
        "p99": percentile(samples, 0.99),
        "mean": statistics.fmean(samples),
        "wall": wall,
        "client_cores": client_cpu / wall,  # the load generator shares the 2 cores
    }


WRK = shutil.which("wrk")
WRK_SCRIPT = """
local paths = {%(paths)s}
local token, expected, counter, threads, requests = "%(token)s", %(expected)d, 0, {}, {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  good = 0; bad = 0
  -- Built once: wrk.format on every request halved the rate wrk could drive.
  for i, path in ipairs(paths) do
    requests[i] = wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
  end
end
function request()
  counter = counter + 1
  return requests[(counter %% #requests) + 1]
end
function response(status, headers, body)
  if status == expected then good = good + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local g, b = 0, 0
  for _, thread in ipairs(threads) do g = g + thread:get("good"); b = b + thread:get("bad") end
  local e = summary.errors
  io.write(string.format(
    "careline good=%%d bad=%%d errors=%%d seconds=%%.6f p50=%%.3f p99=%%.3f mean=%%.3f\\n",
    g, b, e.connect + e.read + e.write + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.mean / 1000))
end
"""


def drive_wrk(
    port: int, token: str, paths: list[str], seconds: float, clients: int, expected: int = 200
) -> dict[str, float]:
    """wrk (one thread, ``clients`` keep-alive connections) for ``seconds``: a load generator
    in C takes a tenth of the CPU the Python one does, and the cores are shared with the
    server. Statuses are counted in wrk's Lua hooks: only ``expected`` ones are throughput."""
    script = WRK_SCRIPT % {
        "paths": ", ".join(f'"{path}"' for path in paths),
        "token": token,
        "expected": expected,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        finished = subprocess.run(  # noqa: S603 (wrk from PATH, fixed arguments)
            [
                str(WRK),
                "-t1",
                f"-c{clients}",
                f"-d{seconds:g}s",
                "--timeout",
                "30s",
                "-s",
                lua.name,
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(row for row in finished.stdout.splitlines() if row.startswith("careline "))
    figures = {key: float(value) for key, value in (part.split("=") for part in line.split()[1:])}
    client_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "requests": figures["good"],
        "errors": figures["bad"] + figures["errors"],
        "rps": figures["good"] / figures["seconds"],
        "p50": figures["p50"],
        "p99": figures["p99"],
        "mean": figures["mean"],
        "wall": figures["seconds"],
        "client_cores": client_cpu / figures["seconds"],
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


def profile_requests(token: str, patient_id: str, count: int, top: int = 25) -> None:
    """CPU per whole request (Django test client, in this process) and where it goes."""
    client = Client(headers={"Authorization": f"Bearer {token}"})
    path = f"/api/patients/{patient_id}"
    for _ in range(50):
        client.get(path)
    profiler = cProfile.Profile(time.process_time)  # CPU: the waits for PostgreSQL drop out
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    profiler.enable()
    for _ in range(count):
        client.get(path)
    profiler.disable()
    cpu = (time.process_time() - cpu_started) / count * 1000
    wall = (time.perf_counter() - wall_started) / count * 1000
    print(
        f"  cProfile (CPU time) of {count} in-process requests: {cpu:.3f} ms CPU and "
        f"{wall:.3f} ms wall per request (with the profiler's own overhead)"
    )
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print("\n".join("    " + line for line in out.getvalue().splitlines()[4:] if line.strip()))


def measure_sealer_lag(*, timeout: float) -> tuple[float, float, int]:
    """(age of the oldest unsealed entry now, seconds until all are sealed, unsealed now)."""
    unsealed = count_unsealed()
    started = time.perf_counter()
    caught_up = wait_until_sealed(timeout=timeout)
    drained = time.perf_counter() - started if caught_up else float("inf")
    return unsealed.oldest_age_seconds or 0.0, drained, unsealed.count


def verify_chain_after_run(checkpoints: Path) -> bool:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit_verify", "--checkpoints", str(checkpoints), stdout=out, stderr=err)
        passed = True
    except SystemExit as exit_:
        passed = not exit_.code
    for line in (out.getvalue() + err.getvalue()).splitlines():
        print(f"    {line}")
    return passed


def _ratio(rate: float, baseline: float) -> str:
    """A rate as a share of a baseline measured in the same run; "n/a" when nothing answered."""
    return f"{rate / baseline:.2f}" if baseline > 0 else "n/a (the baseline had no answers)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8, help="keep-alive client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help=(
            "threads per worker: 1 is gunicorn's sync worker (it closes every connection); "
            "more is gthread with keep-alive, as `careline serve` runs it (--threads 4)"
        ),
    )
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument(
        "--driver",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="the load generator: wrk when it is installed (auto), or the Python client",
    )
    parser.add_argument("--seconds", type=float, default=10, help="seconds per row with wrk")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="cProfile N in-process requests"
    )
    arguments = parser.parse_args()

    use_wrk = arguments.driver == "wrk" or (arguments.driver == "auto" and WRK is not None)
    if use_wrk and WRK is None:
        raise SystemExit("--driver wrk: wrk is not installed (apt-get install wrk)")
    if connection.vendor != "postgresql":
        print(f"note: DATABASE_URL is {connection.vendor}; the budget is for PostgreSQL")
    user, token, patient_ids = ensure_fixtures(arguments.patients)
    reads = [f"/api/patients/{public_id}" for public_id in patient_ids]
    # Baselines in the same run, unaudited: the bare stack (an unknown route: no database),
    # then the stack plus one token lookup (a refused token); then the real, audited read.
    scenarios = [
        ("baseline: unknown route (no DB)", token, ["/api/no-such-route"], 404),
        ("baseline: refused token (1 query)", "cl_00000000_refused", reads, 401),
        ("GET /api/patients/{id}", token, reads, 200),
    ]
    port = free_port()
    connection.close()  # the workers must not inherit this process's connection
    load_before = os.getloadavg()
    scratch = Path(tempfile.mkdtemp(prefix="careline-bench-api-"))
    checkpoints = scratch / "audit-checkpoints.jsonl"
    log = scratch / "gunicorn.log"
    sealer = start_sealer(checkpoints, scratch / "sealer.log")
    server = start_gunicorn(port, arguments.workers, arguments.threads, log, checkpoints)
    results = {}
    try:
        for label, secret, paths, expected in scenarios:
            if use_wrk:
                drive_wrk(port, secret, paths, 2, arguments.clients, expected)
                results[label] = drive_wrk(
                    port, secret, paths, arguments.seconds, arguments.clients, expected
                )
            else:
                drive(port, secret, paths, arguments.warmup, arguments.clients, expected)
                results[label] = drive(
                    port, secret, paths, arguments.requests, arguments.clients, expected
                )
        lag, drained, unsealed_at_end = measure_sealer_lag(timeout=60)
    finally:
        stop(server)
        stop(sealer)
    load_after = os.getloadavg()
    print(
        f"gunicorn -w {arguments.workers} --threads {arguments.threads}, "
        f"{arguments.clients} keep-alive clients, "
        + (
            f"driver wrk ({arguments.seconds:g} s per row), "
            if use_wrk
            else f"driver Python http.client ({arguments.requests} requests per row), "
        )
        + f"cpus={os.cpu_count()}, DEBUG={settings.DEBUG}, "
        f"load average before {load_before[0]:.1f} / after {load_after[0]:.1f} (1 min)"
    )
    if any(result["errors"] for result in results.values()):
        print(f"  failed requests (unexpected statuses): see {log}")
    for label, result in results.items():
        print(
            f"  {label:<36} {result['rps']:7.0f} req/s  p50 {result['p50']:6.2f} ms  "
            f"p99 {result['p99']:6.2f} ms  client {result['client_cores']:.2f} cores  "
            f"({int(result['errors'])} failed)"
        )
    read = results["GET /api/patients/{id}"]
    floor = results["baseline: unknown route (no DB)"]
    refused = results["baseline: refused token (1 query)"]
    rps_ok, p99_ok = read["rps"] >= BUDGET_RPS, read["p99"] <= BUDGET_P99_MS
    print(
        f"  budget ≥ {BUDGET_RPS} req/s: {'OK' if rps_ok else 'UNDER'};"
        f"  p99 ≤ {BUDGET_P99_MS:g} ms: {'OK' if p99_ok else 'OVER'};"
        f"  failed reads: {int(read['errors'])}"
    )
    print(
        f"  audited read / unaudited unknown route: {_ratio(read['rps'], floor['rps'])};"
        f"  / unaudited refused token: {_ratio(read['rps'], refused['rps'])}"
    )
    lag_ok = lag <= SEALER_LAG_BUDGET_SECONDS and drained <= SEALER_LAG_BUDGET_SECONDS
    print(
        f"  audit sealer: {unsealed_at_end} entries unsealed when the load stopped, the oldest "
        f"{lag:.2f} s old; all sealed {drained:.2f} s later "
        f"(lag ≤ {SEALER_LAG_BUDGET_SECONDS:g} s: {'OK' if lag_ok else 'OVER'})"
    )
    print("  careline audit verify --checkpoints (after the run):")
    verified = verify_chain_after_run(checkpoints)
    print(f"  audit verify: {'OK' if verified else 'FAILED'}")
    print("  one request, part by part (median ms, in-process, same database):")
    for name, milliseconds in breakdown(user, token, patient_ids[0], repeat=300).items():
        print(f"    {name:<36} {milliseconds:6.3f}")
    if arguments.profile:
        profile_requests(token, patient_ids[0], arguments.profile)
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=clock.now())
    return judge(results, lag=lag, drained=drained, verified=verified)


def judge(
    results: dict[str, dict[str, float]], *, lag: float, drained: float, verified: bool
) -> int:
    """Both read budgets on the read row; a failed response, in any row, fails both (it is
    never throughput). Then the sealer's lag and the chain check after the run."""
    read = results["GET /api/patients/{id}"]
    failed = int(sum(result["errors"] for result in results.values()))
    failures = f"; {failed:,} responses failed" if failed else ""
    verdicts = Verdicts("api")
    verdicts.judge(
        f"GET /api/patients/{{id}} ≥ {BUDGET_RPS} requests/s on 2 cores",
        met=read["rps"] >= BUDGET_RPS and not failed,
        measured=f"{read['rps']:,.0f} successful requests/s{failures}",
    )
    verdicts.judge(
        f"GET /api/patients/{{id}} p99 ≤ {BUDGET_P99_MS:g} ms",
        met=read["p99"] <= BUDGET_P99_MS and not failed,
        measured=f"p99 {read['p99']:.1f} ms{failures}",
    )
    verdicts.judge(
        f"audit sealer lag ≤ {SEALER_LAG_BUDGET_SECONDS:g} s",
        met=lag <= SEALER_LAG_BUDGET_SECONDS and drained <= SEALER_LAG_BUDGET_SECONDS,
        measured=f"oldest unsealed entry {lag:.2f} s old; all sealed {drained:.2f} s later",
    )
    verdicts.judge(
        "careline audit verify after the run",
        met=verified,
        measured="the chain verifies" if verified else "verification failed",
    )
    return verdicts.exit_status()


if __name__ == "__main__":
    sys.exit(main())
