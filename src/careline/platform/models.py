"""Platform data: staff users, API tokens, the audit trail, break-glass grants.

Also the abstract ``SourcedModel`` every EHR-mirrored row inherits: where a fact came from
(source system + source id), when it was received, and the raw resource.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from careline.platform.permissions import Role, permissions_for_role


class SourcedModel(models.Model):
    """A row mirrored from an external system, keyed by (source system, source id)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source_system = models.CharField(max_length=200)
    source_id = models.CharField(max_length=200)
    received_at = models.DateTimeField()
    content_hash = models.CharField(max_length=64)
    raw = models.JSONField()

    class Meta:
        abstract = True
        constraints = (
            models.UniqueConstraint(
                fields=["source_system", "source_id"], name="%(app_label)s_%(class)s_source"
            ),
        )


class UserKind(models.TextChoices):
    """Staff sign in by user name to the staff site; portal accounts (patients and their
    caregivers) by email to the patient portal. One account is never both."""

    STAFF = "staff", "Staff"
    PORTAL = "portal", "Patient portal"


class User(AbstractUser):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=UserKind.choices, default=UserKind.STAFF)
    role = models.CharField(
        max_length=32,
        choices=Role.choices,
        default=Role.SCHEDULER,
        blank=True,
        help_text="Staff only; a portal account has none.",
    )
    locations = models.ManyToManyField(
        "directory.Location", blank=True, related_name="staff", help_text="Patient scope."
    )
    practitioner = models.ForeignKey(
        "directory.Practitioner",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
        help_text="The directory entry of a clinician user; puts her on her patients' care teams.",
    )

    class Meta:
        verbose_name = "user"
        verbose_name_plural = "users"
        constraints = (
            # A portal account holds no staff role and can never reach the admin.
            models.CheckConstraint(
                condition=Q(kind=UserKind.STAFF)
                | Q(kind=UserKind.PORTAL, role="", is_staff=False, is_superuser=False),
                name="user_portal_account_is_not_staff",
            ),
        )

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_portal_account(self) -> bool:
        return self.kind == UserKind.PORTAL

    @property
    def is_staff_account(self) -> bool:
        return self.kind == UserKind.STAFF

    @property
    def audit_role(self) -> str:
        """What the audit trail records as the actor's role: the staff role, or "portal"."""
        return self.role if self.is_staff_account else UserKind.PORTAL.value

    def has_careline_permission(self, name: str) -> bool:
        """Staff permissions; a portal account has none (its access is the portal's rule)."""
        return self.is_active and self.is_staff_account and name in permissions_for_role(self.role)


class ApiToken(models.Model):
    """A bearer token for integrations; only its SHA-256 is stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditAction(models.TextChoices):
    READ = "read", "Read"
    SEARCH = "search", "Search"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    IMPORT = "import", "Import"
    EXPORT = "export", "Export"
    LOGIN = "login", "Log in"
    LOGOUT = "logout", "Log out"
    LOGIN_FAILED = "login_failed", "Failed log-in"
    BREAK_GLASS = "break_glass", "Break-glass access"
    ACCESS_DENIED = "access_denied", "Access denied"


class AuditChannel(models.TextChoices):
    UI = "ui", "Staff UI"
    API = "api", "API"
    CLI = "cli", "Command line"
    TASK = "task", "Background task"
    PORTAL = "portal", "Patient portal"


class Purpose(models.TextChoices):
    """HL7 v3 PurposeOfUse codes."""

    TREATMENT = "TREAT", "Treatment"
    PAYMENT = "HPAYMT", "Payment"
    OPERATIONS = "HOPERAT", "Operations"
    EMERGENCY = "ETREAT", "Emergency treatment (break-glass)"
    COMPLIANCE = "HCOMPL", "Compliance"
    SYSTEM = "SYSADMIN", "System administration"
    PATIENT_REQUEST = "PATRQT", "Patient or caregiver request (portal)"


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    FAILURE = "failure", "Failure"


class AuditEvent(models.Model):
    """One append-only record of who did what to which patient's data.

    An entry is appended unsealed (``sequence`` null) in the transaction of the access it
    records; the sealer then gives it the next ``sequence`` and its keyed link (``hash`` over
    the entry and ``previous_hash``, made with the key ``key_id``), so ``careline audit
    verify`` finds an altered, inserted or deleted entry. A database trigger refuses every
    UPDATE but that one seal, and every DELETE (see ``platform/audit/``).
    """

    sequence = models.BigIntegerField(unique=True, null=True, blank=True)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # audit_actor_time leads with actor
    )
    actor_label = models.CharField(max_length=150)
    actor_role = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=64, blank=True)
    patient_id = models.UUIDField(null=True, blank=True)  # indexed by audit_patient_time
    purpose = models.CharField(max_length=10, choices=Purpose.choices)
    channel = models.CharField(max_length=8, choices=AuditChannel.choices)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(
        max_length=10, choices=AuditOutcome.choices, default=AuditOutcome.SUCCESS
    )
    is_break_glass = models.BooleanField(default=False)
    details = models.JSONField(default=dict, blank=True)
    # The seal, set once by the sealer.
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)
    key_id = models.CharField(max_length=32, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        indexes = (
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
            models.Index(fields=["patient_id", "occurred_at"], name="audit_patient_time"),
            # The sealer's queue: small, whatever the size of the trail.
            models.Index(
                fields=["id"], condition=models.Q(sequence__isnull=True), name="audit_unsealed"
            ),
        )

    def __str__(self) -> str:
        position = f"#{self.sequence}" if self.sequence is not None else "(unsealed)"
        return f"{position} {self.actor_label} {self.action} {self.resource_type}"

    @property
    def is_sealed(self) -> bool:
        return self.sequence is not None


class BreakGlassAccess(models.Model):
    """A staff member's stated reason for opening a patient outside her scope."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass")
    patient_id = models.UUIDField(db_index=True)
    reason = models.TextField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = (models.Index(fields=["user", "patient_id", "expires_at"], name="bg_lookup"),)

    def __str__(self) -> str:
        return f"{self.user} → {self.patient_id} at {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None
