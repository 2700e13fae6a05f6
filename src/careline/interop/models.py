"""A record of each FHIR import: who ran it, from where, and its per-type summary."""

from __future__ import annotations

import uuid

from django.db import models


class ImportStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    COMPLETED_WITH_REJECTIONS = "partial", "Completed with rejections"
    FAILED = "failed", "Failed"


class ImportRun(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source_system = models.CharField(max_length=200)
    channel = models.CharField(max_length=8)
    started_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_by_label = models.CharField(max_length=150)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.RUNNING
    )
    summary = models.JSONField(default=dict, blank=True)
    rejections = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"Import {self.public_id} ({self.status})"
