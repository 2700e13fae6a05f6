"""The directory: organizations, locations, practitioners and their roles."""

from __future__ import annotations

from django.db import models

from careline.platform.models import SourcedModel


class Organization(SourcedModel):
    name = models.CharField(max_length=300)
    kind = models.CharField(max_length=100, blank=True)
    npi = models.CharField(max_length=10, blank=True, db_index=True)
    phone = models.CharField(max_length=32, blank=True)
    address = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta(SourcedModel.Meta):
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Location(SourcedModel):
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="locations"
    )
    name = models.CharField(max_length=300)
    line = models.CharField(max_length=300, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    hours = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta(SourcedModel.Meta):
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Practitioner(SourcedModel):
    npi = models.CharField(max_length=10, blank=True, db_index=True)
    prefix = models.CharField(max_length=20, blank=True)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    gender = models.CharField(max_length=10, blank=True)
    specialties = models.JSONField(default=list, blank=True)
    languages = models.JSONField(default=list, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    email = models.CharField(max_length=254, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta(SourcedModel.Meta):
        ordering = (
            "family_name",
            "given_name",
        )

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = " ".join(part for part in (self.given_name, self.family_name) if part)
        return f"{self.prefix} {name}".strip() if self.prefix else name


class PractitionerRole(SourcedModel):
    practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.CASCADE, related_name="roles"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="roles"
    )
    specialty = models.CharField(max_length=200, blank=True)
    specialty_code = models.CharField(max_length=50, blank=True)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.practitioner} — {self.specialty}"
