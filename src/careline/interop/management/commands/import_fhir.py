"""``careline import-fhir PATH...``: import FHIR R4 bundles, resources and Bulk-FHIR ndjson.

Shows a progress bar (on stderr, when it is a terminal) and ends with a table per resource
type. ``--json`` prints only the summary object on stdout. Exit status: 0 when everything
was imported or skipped, 1 when anything was rejected, 2 for a usage error.
"""

from __future__ import annotations

import getpass
import json
import sys
import time
from argparse import ArgumentParser
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from careline.interop.fhir.summary import OUTCOMES
from careline.interop.importer import DEFAULT_BATCH_SIZE, ImportResult, import_fhir
from careline.platform.actors import Actor

REJECTIONS_SHOWN = 50
USAGE_ERROR = 2


class RichProgress:
    """The importer's progress, as a rich bar over the bytes to read."""

    def __init__(self, console: Console) -> None:
        self.bar = Progress(
            TextColumn("Importing"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[resources]:,} resources"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task: TaskID | None = None
        self.resources = 0

    def start(self, total: int) -> None:
        self.task = self.bar.add_task("import", total=max(total, 1), resources=0)

    def advance(self, amount: int, *, resources: int) -> None:
        self.resources += resources
        if self.task is not None:
            self.bar.update(self.task, advance=amount, resources=self.resources)


class Command(BaseCommand):
    help = "Import FHIR R4 bundles, resources and Bulk-FHIR ndjson (files or folders)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
        parser.add_argument(
            "--source",
            help="source system name (default: each bundle's meta.source, else the configured "
            "CARELINE_DEFAULT_SOURCE)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help="ndjson lines per transaction (default %(default)s)",
        )
        parser.add_argument("--json", action="store_true", help="print only the JSON summary")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        paths = [Path(path) for path in options["paths"]]
        for path in paths:
            if not path.exists():
                raise CommandError(f"{path} does not exist.", returncode=USAGE_ERROR)
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.", returncode=USAGE_ERROR)
        started = time.monotonic()
        with self._progress(enabled=not options["no_progress"]) as progress:
            result = import_fhir(
                actor=Actor.system(f"careline import-fhir ({getpass.getuser()})"),
                paths=paths,
                source_system=options["source"] or None,
                batch_size=options["batch_size"],
                progress=progress,
            )
        if options["json"]:
            self.stdout.write(json.dumps(result.as_json()))
        else:
            self._report(result, time.monotonic() - started)
        if result.has_rejections:
            sys.exit(1)

    @contextmanager
    def _progress(self, *, enabled: bool) -> Iterator[RichProgress | None]:
        console = Console(stderr=True)
        if not enabled or not console.is_terminal:
            yield None
            return
        progress = RichProgress(console)
        with progress.bar:
            yield progress

    def _report(self, result: ImportResult, seconds: float) -> None:
        console = Console(file=cast(IO[str], self.stdout), highlight=False, soft_wrap=True)
        console.print(_table(result))
        total = result.tally.resources
        console.print(
            f"Import run {result.run_id}: {total:,} resources in {seconds:.1f} s "
            f"({total / max(seconds, 1e-9):,.0f}/s), {len(result.rejections):,} rejected."
        )
        for rejection in result.rejections[:REJECTIONS_SHOWN]:
            where = _where(rejection.file, rejection.entry, rejection.line)
            path = f" {rejection.path}:" if rejection.path else ""
            console.print(f"  rejected: {where}:{path} {rejection.reason}")
        if len(result.rejections) > REJECTIONS_SHOWN:
            more = len(result.rejections) - REJECTIONS_SHOWN
            console.print(f"  … and {more:,} more rejections (--json lists them all)")
        for skipped in result.skipped_files:
            console.print(f"  skipped file: {skipped.file}: {skipped.reason}")
        cleaned = result.cleaned_values
        if cleaned:
            console.print(
                f"{len(cleaned):,} names or contact values were imported without the control "
                "characters they held:"
            )
        for value in cleaned[:REJECTIONS_SHOWN]:
            where = _where(value.file, value.entry, value.line)
            console.print(f"  cleaned: {where}: {value.path}: removed {', '.join(value.removed)}")
        if len(cleaned) > REJECTIONS_SHOWN:
            console.print(f"  … and {len(cleaned) - REJECTIONS_SHOWN:,} more (--json lists them)")


def _where(file: str | None, entry: int | None, line: int | None) -> str:
    where = file or "request"
    if entry is not None:
        where += f" entry {entry}"
    if line is not None:
        where += f" line {line}"
    return where


def _table(result: ImportResult) -> Table:
    table = Table(title="FHIR import")
    table.add_column("Resource type")
    for outcome in OUTCOMES:
        table.add_column(outcome, justify="right")
    totals = dict.fromkeys(OUTCOMES, 0)
    for resource_type, counts in result.summary.items():
        table.add_row(resource_type, *(f"{counts[o]:,}" for o in OUTCOMES))
        for outcome in OUTCOMES:
            totals[outcome] += counts[outcome]
    table.add_section()
    table.add_row("Total", *(f"{totals[o]:,}" for o in OUTCOMES))
    return table
