"""``careline audit verify [--checkpoints FILE] [--json]``: walk the audit chain.

Reports the entries verified, the entries still unsealed and the age of the oldest (an error
past ``CARELINE_AUDIT_UNSEALED_MAX_AGE_SECONDS``: the sealer is not keeping up or not
running), and the first problem with its position and kind (altered, inserted, deleted,
truncated, unknown key). Exit status 0 when all is well, 1 otherwise.
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from careline.platform.audit.chain import verify_chain
from careline.platform.audit.checkpoints import CheckpointFileError, read_checkpoints
from careline.platform.audit.selectors import count_unsealed


class Command(BaseCommand):
    help = (
        "Check that no audit entry was altered, inserted or deleted (the keyed chain) and that "
        "the sealer keeps up. Exits 0 when intact, 1 otherwise."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--checkpoints",
            type=Path,
            help="The sealer's checkpoint file (or a syslog extract): also finds entries "
            "removed from the end and a rebuilt chain.",
        )
        parser.add_argument("--json", action="store_true", dest="as_json")

    def handle(self, *args: Any, **options: Any) -> None:
        checkpoints = []
        if options["checkpoints"] is not None:
            try:
                checkpoints = read_checkpoints(options["checkpoints"])
            except CheckpointFileError as error:
                raise CommandError(str(error)) from error
        try:
            verified, problem = verify_chain(checkpoints=checkpoints)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from error
        unsealed = count_unsealed()
        bound = settings.CARELINE_AUDIT_UNSEALED_MAX_AGE_SECONDS
        age = unsealed.oldest_age_seconds
        is_late = age is not None and age > bound
        if options["as_json"]:
            report = {
                "ok": problem is None and not is_late,
                "entries_verified": verified,
                "checkpoints": len(checkpoints),
                "unsealed": unsealed.count,
                "oldest_unsealed_seconds": None if age is None else round(age, 3),
                "unsealed_bound_seconds": bound,
                "problem": None
                if problem is None
                else {"position": problem.position, "kind": problem.kind, "detail": problem.detail},
            }
            self.stdout.write(json.dumps(report, sort_keys=True))
        else:
            self._write_text(verified, len(checkpoints), unsealed.count, age, bound)
            if problem is not None:
                self.stderr.write(
                    f"Audit trail broken at entry #{problem.position}: {problem.kind} "
                    f"({problem.detail})"
                )
        if problem is not None or is_late:
            raise SystemExit(1)

    def _write_text(
        self, verified: int, checkpoints: int, unsealed: int, age: float | None, bound: float
    ) -> None:
        against = f" against {checkpoints} checkpoints" if checkpoints else ""
        self.stdout.write(f"Audit trail: {verified} entries verified{against}")
        if age is None:
            self.stdout.write("Unsealed: 0")
        elif age > bound:
            self.stderr.write(
                f"Unsealed: {unsealed}, the oldest for {age:.0f} s (more than {bound:g} s): "
                "is the sealer running (`careline worker` or `careline audit seal --follow`)?"
            )
        else:
            self.stdout.write(f"Unsealed: {unsealed}, the oldest for {age:.1f} s")
