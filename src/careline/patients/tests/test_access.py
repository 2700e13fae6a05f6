"""Patient-level access: permission, scope (care team, location), break-glass."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine

from careline.patients.access import access_patient, break_glass
from careline.patients.models import CareTeamMember
from careline.platform.actors import Actor
from careline.platform.errors import (
    BreakGlassRequired,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from careline.platform.models import AuditEvent, BreakGlassAccess
from careline.platform.permissions import Role
from careline.testing.factories import LocationFactory, PatientFactory, PractitionerFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def scheduler(make_user, actor_for):
    return actor_for(make_user(Role.SCHEDULER))


def test_out_of_scope_patient_needs_break_glass_and_the_refusal_is_audited(scheduler):
    patient = PatientFactory.create()

    with pytest.raises(BreakGlassRequired):
        access_patient(actor=scheduler, patient_id=patient.public_id)
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.patient_id, event.details) == (
        "access_denied",
        "denied",
        patient.public_id,
        {"reason": "break_glass_required"},
    )


def test_patient_at_one_of_her_locations_is_in_scope(scheduler):
    location = LocationFactory.create()
    scheduler.user.locations.add(location)
    patient = PatientFactory.create(primary_location=location)

    access = access_patient(actor=scheduler, patient_id=patient.public_id)

    assert (access.patient, access.is_break_glass) == (patient, False)
    event = AuditEvent.objects.get()
    assert (event.action, event.patient_id, event.is_break_glass) == (
        "read",
        patient.public_id,
        False,
    )


def test_care_team_membership_as_user_or_as_practitioner_is_in_scope(make_user, actor_for):
    practitioner = PractitionerFactory.create()
    nurse = actor_for(make_user(Role.NURSE, practitioner=practitioner))
    by_practitioner, by_user = PatientFactory.create(), PatientFactory.create()
    CareTeamMember.objects.create(
        patient=by_practitioner, practitioner=practitioner, role="PCP", received_at=NOW
    )
    CareTeamMember.objects.create(patient=by_user, user=nurse.user, role="Nurse", received_at=NOW)

    assert not access_patient(actor=nurse, patient_id=by_practitioner.public_id).is_break_glass
    assert not access_patient(actor=nurse, patient_id=by_user.public_id).is_break_glass


def test_contact_center_agents_reach_every_patient(make_user, actor_for):
    agent = actor_for(make_user(Role.CONTACT_CENTER_AGENT))
    patient = PatientFactory.create()

    assert not access_patient(actor=agent, patient_id=patient.public_id).is_break_glass


def test_break_glass_opens_the_patient_for_an_hour_and_flags_every_read(scheduler):
    patient = PatientFactory.create()
    with time_machine.travel(NOW, tick=False):
        grant = break_glass(
            actor=scheduler, patient_id=patient.public_id, reason="Patient at the desk, urgent"
        )
        access = access_patient(actor=scheduler, patient_id=patient.public_id)

    assert access.is_break_glass
    assert grant.expires_at == NOW + dt.timedelta(hours=1)
    events = list(AuditEvent.objects.order_by("sequence").values_list("action", "is_break_glass"))
    assert events == [("break_glass", True), ("read", True)]
    with (
        time_machine.travel(NOW + dt.timedelta(hours=1, seconds=1), tick=False),
        pytest.raises(BreakGlassRequired),
    ):
        access_patient(actor=scheduler, patient_id=patient.public_id)


def test_break_glass_needs_a_real_reason_and_an_existing_patient(scheduler):
    patient = PatientFactory.create()

    with pytest.raises(ValidationFailed, match="at least 10 characters"):
        break_glass(actor=scheduler, patient_id=patient.public_id, reason="  because ")
    with pytest.raises(NotFound):
        break_glass(actor=scheduler, patient_id=uuid.uuid4(), reason="A long enough reason")
    assert BreakGlassAccess.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_missing_patient_is_not_found(scheduler):
    with pytest.raises(NotFound):
        access_patient(actor=scheduler, patient_id=uuid.uuid4())


def test_role_without_the_permission_is_denied_and_the_denial_audited(make_user, actor_for):
    marketer = actor_for(make_user(Role.MARKETER))
    patient = PatientFactory.create()

    with pytest.raises(PermissionDenied):
        access_patient(actor=marketer, patient_id=patient.public_id)
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.patient_id, event.details) == (
        "access_denied",
        "denied",
        patient.public_id,
        {"permission": "patients.view_patient"},
    )


def test_system_actors_are_in_scope():
    patient = PatientFactory.create()

    access = access_patient(actor=Actor.system("test"), patient_id=patient.public_id)

    assert not access.is_break_glass


def test_the_access_check_of_an_all_patients_role_is_one_query(
    make_user, actor_for, django_assert_num_queries
):
    """The patient comes with her location and practitioner, the SSN left undecrypted."""
    location, practitioner = LocationFactory.create(name="Harbor"), PractitionerFactory.create()
    patient = PatientFactory.create(
        primary_location=location, primary_care_practitioner=practitioner, ssn="123-45-6789"
    )
    integration = actor_for(make_user(Role.INTEGRATION))

    with django_assert_num_queries(1):
        access = access_patient(actor=integration, patient_id=patient.public_id, action=None)
        read = access.patient
        read_location = read.primary_location
        names = (read.display_name, read_location, read.primary_care_practitioner)

    assert names == (patient.display_name, location, practitioner)
    assert read_location is not None and read_location.name == "Harbor"
    assert read.birth_date == patient.birth_date
    assert read.updated_at == patient.updated_at
    assert read.get_deferred_fields() == {"ssn"}
    assert read_location.get_deferred_fields() == {"raw"}
    assert read.ssn == "123-45-6789"  # loaded and decrypted only when asked for
