"""Portal data: which account may act for which patient, and the two ways to earn it.

- ``PortalLink``: an account acts for a patient — her own record (``self``) or as a proxy
  (a caregiver) with a scope and an expiry. Revoked, never deleted.
- ``PortalInvitation``: a staff member (or the patient, for a proxy) sends a single-use,
  expiring link to an email address already on file; only its SHA-256 is stored.
Patients are referred to by their public id (``to_field``), which is what every other
app passes around.

- ``ProofChallenge``: a person named a patient and a birth date; when exactly one patient
  matched, a one-time code went to an email on file. Only a keyed hash of the code is
  stored; a challenge that matched nobody is stored too, so both look the same.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q


class Relationship(models.TextChoices):
    SELF = "self", "Own record"
    PROXY = "proxy", "Proxy (caregiver)"


class ProxyScope(models.TextChoices):
    APPOINTMENTS = "appointments", "Appointments"
    MESSAGES = "messages", "Messages"


class LinkMethod(models.TextChoices):
    INVITATION = "invitation", "Staff invitation"
    PROOF = "proof", "Proof against contacts on file"
    PATIENT_GRANT = "patient_grant", "Granted by the patient"
    DEMO = "demo", "Demo data"


class PortalLink(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        "platform.User", on_delete=models.CASCADE, related_name="portal_links"
    )
    patient = models.ForeignKey(
        "patients.Patient", to_field="public_id", on_delete=models.CASCADE, related_name="+"
    )
    relationship = models.CharField(max_length=8, choices=Relationship.choices)
    scopes = models.JSONField(default=list, blank=True, help_text="Proxies only: ProxyScope.")
    related_person_id = models.UUIDField(
        null=True, blank=True, help_text="The caregiver's RelatedPerson (public id), if any."
    )
    method = models.CharField(max_length=16, choices=LinkMethod.choices)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("relationship", "created_at")
        constraints = (
            models.UniqueConstraint(
                fields=["account", "patient"],
                condition=Q(revoked_at__isnull=True),
                name="portal_link_one_active_per_patient",
            ),
            # One person, one own record; one record, one owner.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(revoked_at__isnull=True, relationship="self"),
                name="portal_link_one_own_record",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(revoked_at__isnull=True, relationship="self"),
                name="portal_link_one_owner",
            ),
        )

    def __str__(self) -> str:
        return f"{self.relationship} link {self.public_id}"

    @property
    def patient_public_id(self) -> uuid.UUID:
        """The patient's public id (what ``patient_id`` holds: the key is ``to_field``)."""
        return uuid.UUID(str(self.patient_id))

    def is_active_at(self, moment: datetime) -> bool:
        not_expired = self.expires_at is None or self.expires_at > moment
        return self.revoked_at is None and not_expired

    def allows(self, scope: str) -> bool:
        return self.relationship == Relationship.SELF or scope in self.scopes


class PortalInvitation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(
        "patients.Patient", to_field="public_id", on_delete=models.CASCADE, related_name="+"
    )
    relationship = models.CharField(max_length=8, choices=Relationship.choices)
    scopes = models.JSONField(default=list, blank=True)
    related_person_id = models.UUIDField(null=True, blank=True)
    email = models.CharField(max_length=254, help_text="Where it was sent (on file).")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey("platform.User", on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    grant_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Proxies: when the access it grants ends."
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        "platform.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"invitation {self.public_id}"

    @property
    def patient_public_id(self) -> uuid.UUID:
        """The patient's public id (what ``patient_id`` holds: the key is ``to_field``)."""
        return uuid.UUID(str(self.patient_id))


class ProofChallenge(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    account = models.ForeignKey(
        "platform.User", on_delete=models.CASCADE, related_name="portal_proofs"
    )
    patient = models.ForeignKey(
        "patients.Patient",
        to_field="public_id",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    code_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = (models.Index(fields=["account", "created_at"], name="portal_proof_account"),)

    def __str__(self) -> str:
        return f"proof {self.public_id}"

    @property
    def patient_public_id(self) -> uuid.UUID | None:
        return uuid.UUID(str(self.patient_id)) if self.patient_id is not None else None
