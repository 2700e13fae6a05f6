"""``careline demo``: migrate, load a realistic demo through the real import path, serve.

The demo data comes from Careline's own deterministic generator, written as FHIR R4 bundles
and imported by the same importer EHR data takes. Running it again keeps existing data.
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from careline.config.bind import DEFAULT_BIND, BindError, parse_bind
from careline.interop.generator import seeded_random, write_bundles
from careline.interop.importer import import_fhir
from careline.interop.selectors import has_completed_import
from careline.platform import clock
from careline.platform.actors import Actor
from careline.scheduling.demo import load_demo_schedule

DEMO_SOURCE = "urn:careline:source:demo-ehr"


class Command(BaseCommand):
    help = "Set up a demo: migrate, generate and import patients, create staff users, serve."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--patients", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--bind", default=DEFAULT_BIND, help="HOST:PORT to serve on.")
        parser.add_argument("--no-serve", action="store_true", help="Load only; do not serve.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError("Run the demo with CARELINE_ENV=demo (as `make demo` does).")
        try:
            bind = parse_bind(options["bind"])
        except BindError as error:
            raise CommandError(str(error)) from error
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        if not has_completed_import(source_system=DEMO_SOURCE):
            self._load(options["patients"], options["seed"])
        else:
            self.stdout.write("Demo data already loaded; keeping it.")
        self._schedule(options["seed"])
        call_command("create_demo_users", stdout=self.stdout)
        call_command("create_demo_portal_accounts", site_url=bind.url, stdout=self.stdout)
        if not options["no_serve"]:
            call_command("serve", bind=options["bind"], stdout=self.stdout)

    def _load(self, patients: int, seed: int) -> None:
        out_dir = Path(settings.BASE_DIR) / "var" / "demo-fhir"
        self.stdout.write(f"Generating {patients} patients (seed {seed}) into {out_dir} …")
        paths = write_bundles(out_dir=out_dir, patients=patients, seed=seed)
        result = import_fhir(
            actor=Actor.system("careline demo"), paths=paths, source_system=DEMO_SOURCE
        )
        counts = {outcome: 0 for outcome in ("created", "updated", "rejected", "skipped")}
        for per_type in result.summary.values():
            for outcome in counts:
                counts[outcome] += per_type.get(outcome, 0)
        self.stdout.write(
            f"Imported {counts['created']:,} resources ({counts['rejected']} rejected, "
            f"{counts['skipped']} of unsupported types skipped)."
        )

    def _schedule(self, seed: int) -> None:
        loaded = load_demo_schedule(
            actor=Actor.system("careline demo"),
            now=clock.now(),
            rng=seeded_random(purpose="schedule", seed=seed),
        )
        if loaded is None:
            self.stdout.write("Scheduling demo data already loaded; keeping it.")
            return
        self.stdout.write(
            f"Scheduling: {loaded.visit_types} visit types, {loaded.templates} weekly sessions, "
            f"{loaded.rules} provider rules, {loaded.appointments:,} appointments "
            f"({loaded.upcoming} upcoming), {loaded.snapshots} weekly access snapshots."
        )
