"""``careline rotate_field_keys``: re-encrypt every encrypted field under the first key.

Rotating a key: put the new key first in ``FIELD_ENCRYPTION_KEYS`` (keep the old one after
it), deploy, run this command, then remove the old key. Fields are found through the app
registry (every ``EncryptedTextField`` of every model), so the platform imports no app.
"""

from __future__ import annotations

from argparse import ArgumentParser
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import models, transaction
from django.db.models.functions import Cast

from careline.platform import audit, crypto
from careline.platform.actors import Actor
from careline.platform.models import AuditAction

DEFAULT_BATCH_SIZE = 500
_CIPHERTEXT = "careline_ciphertext"  # the stored value, read without decrypting


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: crypto.EncryptedTextField

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"


def encrypted_columns() -> list[EncryptedColumn]:
    return [
        EncryptedColumn(model=model, field=field)
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
        for field in model._meta.concrete_fields
        if isinstance(field, crypto.EncryptedTextField)
    ]


def rotate_column(column: EncryptedColumn, *, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Re-encrypt one column in primary-key batches, each batch locked and committed alone."""
    manager = column.model._default_manager
    ciphertext = Cast(column.field.attname, output_field=models.TextField())
    rotated, last_pk = 0, None
    while True:
        with transaction.atomic():
            rows = manager.annotate(**{_CIPHERTEXT: ciphertext})
            rows = rows.exclude(**{f"{_CIPHERTEXT}__isnull": True}).exclude(**{_CIPHERTEXT: ""})
            rows = rows.order_by("pk")
            if last_pk is not None:
                rows = rows.filter(pk__gt=last_pk)
            batch = list(rows.select_for_update().values_list("pk", _CIPHERTEXT)[:batch_size])
            if not batch:
                return rotated
            for pk, stored in batch:
                new_token = models.Value(crypto.rotate(stored), output_field=models.TextField())
                manager.filter(pk=pk).update(**{column.field.attname: new_token})
            rotated += len(batch)
            last_pk = batch[-1][0]


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field value under the first FIELD_ENCRYPTION_KEYS key."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("careline rotate_field_keys")
        total = 0
        for column in encrypted_columns():
            count = rotate_column(column, batch_size=max(1, options["batch_size"]))
            audit.record_event(
                actor=actor,
                action=AuditAction.UPDATE,
                resource_type="EncryptedField",
                resource_id=column.label,
                details={"change": "re-encrypted under the first key", "rows": count},
            )
            self.stdout.write(f"{column.label}: re-encrypted {count} values")
            total += count
        self.stdout.write(f"Done: {total} values now under the first key.")
