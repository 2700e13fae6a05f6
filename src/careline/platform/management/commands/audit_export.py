"""``careline audit export --format csv|fhir --out FILE``: the audit trail for offline review.

Takes the audit log's filters; the export is itself audited. The file is created readable by
its owner only (it names staff and patients' ids); ``--out -`` writes to standard output.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import uuid
from argparse import ArgumentParser
from collections.abc import Iterable
from typing import Any, Protocol, TextIO

from django.core.management.base import BaseCommand, CommandError

from careline.platform.actors import Actor
from careline.platform.audit import export as audit_export
from careline.platform.audit.selectors import AuditFilter
from careline.platform.models import AuditAction, AuditChannel, AuditOutcome

_FORMATS = [code for code, _label in audit_export.ExportFormat.CHOICES]


class Command(BaseCommand):
    help = "Export the audit trail (optionally filtered) as CSV or FHIR AuditEvent ndjson."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--format", choices=_FORMATS, required=True, dest="export_format")
        parser.add_argument("--out", required=True, help="File to write, or - for stdout.")
        parser.add_argument("--user", default="", help="Only this user's entries.")
        parser.add_argument("--action", choices=AuditAction.values, default="")
        parser.add_argument("--patient", type=uuid.UUID, help="A patient's public id.")
        parser.add_argument("--date-from", type=dt.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--date-to", type=dt.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--channel", choices=AuditChannel.values, default="")
        parser.add_argument("--outcome", choices=AuditOutcome.values, default="")
        parser.add_argument("--break-glass-only", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        audit_filter = AuditFilter(
            actor=options["user"],
            action=options["action"],
            patient_id=options["patient"],
            date_from=options["date_from"],
            date_to=options["date_to"],
            channel=options["channel"],
            outcome=options["outcome"],
            break_glass_only=options["break_glass_only"],
        )
        date_from, date_to = audit_filter.date_from, audit_filter.date_to
        if date_from and date_to and date_from > date_to:
            raise CommandError("--date-to is before --date-from.")
        out = options["out"]
        target = "standard output" if out == "-" else out
        file = None if out == "-" else _open_private(out)
        export = audit_export.start_export(
            actor=Actor.system("careline audit export"),
            audit_filter=audit_filter,
            export_format=options["export_format"],
        )
        if file is None:
            try:
                _write(self.stdout, audit_export.export_lines(export))
            except BrokenPipeError:  # e.g. piped into `head`: the reader has had enough
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return
        else:
            with file:
                _write(file, audit_export.export_lines(export))
        self.stderr.write(f"Exported {export.row_count} audit entries to {target}")


def _open_private(path: str) -> TextIO:
    """Create (or empty) ``path`` with mode 0600."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        raise CommandError(f"Cannot write {path}: {error.strerror}") from error
    return open(descriptor, "w", encoding="utf-8", newline="")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def _write(stream: _Writable, lines: Iterable[str]) -> None:
    for line in lines:
        stream.write(line)
