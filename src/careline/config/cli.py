"""The ``careline`` console command: Django's management commands with friendlier names.

``careline import-fhir PATH`` runs ``import_fhir``; ``careline audit verify`` runs
``audit_verify``; anything else is passed to Django unchanged (``careline migrate``).
"""

from __future__ import annotations

import os
import sys

# Two-word commands: ``careline audit verify`` → ``audit_verify``.
COMPOUND_COMMANDS = {
    ("audit", "verify"),
    ("audit", "export"),
    ("audit", "seal"),
    ("directory", "geocode"),
}


def translate(argv: list[str]) -> list[str]:
    if len(argv) < 2:
        return [argv[0], "help"]
    command, rest = argv[1], argv[2:]
    if rest and (command, rest[0]) in COMPOUND_COMMANDS:
        return [argv[0], f"{command}_{rest[0]}", *rest[1:]]
    return [argv[0], command.replace("-", "_"), *rest]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careline.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(translate(sys.argv))


if __name__ == "__main__":
    main()
