"""``careline serve``: the web server (gunicorn) plus a background-task worker beside it."""

from __future__ import annotations

import signal
import subprocess
import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from careline.config.bind import DEFAULT_BIND, BindError, parse_bind
from careline.config.checks import refuse_to_start_with_failing_deploy_checks


class Command(BaseCommand):
    help = "Serve the staff UI and API with gunicorn, with a task worker alongside."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--bind", default=DEFAULT_BIND, help="HOST:PORT to listen on.")
        parser.add_argument("--workers", type=int, default=2)
        # Threads per worker: an audited read waits on its commit's WAL flush, and with the
        # audit lock gone those waits overlap (bench/bench_api.py on a loaded 2-core machine:
        # 287 audited reads/s with 4 threads, 68/s with sync workers).
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start the task worker."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            bind = parse_bind(options["bind"])
        except BindError as error:
            raise CommandError(str(error)) from error
        refuse_to_start_with_failing_deploy_checks()
        call_command("collectstatic", interactive=False, verbosity=0)
        worker = None
        if not options["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "careline.config.cli", "worker"])
        self.stdout.write(f"Careline is serving on {bind.url} (Ctrl+C stops it)")
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "careline.config.wsgi",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--access-logfile",
            "-" if settings.DEBUG else "/dev/null",
        ]
        server = subprocess.Popen(command)  # noqa: S603 (this module's own arguments)
        # A supervisor (systemd, docker stop) sends SIGTERM to this process alone: pass it on,
        # so that gunicorn and the worker stop with it instead of running on as orphans.
        signal.signal(signal.SIGTERM, lambda signum, frame: server.terminate())
        try:
            server.wait()
        except KeyboardInterrupt:  # Ctrl+C reached gunicorn too (same process group)
            server.wait()
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
