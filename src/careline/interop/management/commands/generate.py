"""``careline generate --patients N --seed S --out DIR``: deterministic synthetic FHIR R4."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from careline.interop.generator import write_bundles


class Command(BaseCommand):
    help = (
        "Write synthetic patients as FHIR R4 transaction bundles: directory.json first, "
        "then one bundle per patient. The same patients and seed always give the same files."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--patients", type=int, default=100)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", type=Path, required=True, help="Folder to write into.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 1:
            raise CommandError("--patients must be at least 1.")
        out_dir: Path = options["out"]
        if out_dir.exists() and not out_dir.is_dir():
            raise CommandError(f"{out_dir} exists and is not a folder.")
        paths = write_bundles(out_dir=out_dir, patients=options["patients"], seed=options["seed"])
        self.stdout.write(f"Wrote {len(paths)} bundles to {out_dir}")
