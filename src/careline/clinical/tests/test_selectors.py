"""The clinical summary selector: what it reads for the allergy list and the banner."""

from __future__ import annotations

import datetime as dt

import pytest

from careline.clinical.selectors import LIST_LIMIT, get_clinical_summary
from careline.patients.tests.ui_support import patient_in_scope_of
from careline.platform.actors import Actor
from careline.platform.models import AuditChannel
from careline.testing.factories import RECEIVED, AllergyFactory

pytestmark = pytest.mark.django_db


def test_an_old_allergy_stays_on_the_banner_however_long_the_list(make_user):
    user = make_user()
    patient = patient_in_scope_of(user)
    contrast = AllergyFactory.create(
        patient=patient,
        display="Iodinated contrast",
        criticality="high",
        effective_at=RECEIVED - dt.timedelta(days=3650),
    )
    AllergyFactory.create_batch(LIST_LIMIT + 5, patient=patient, criticality="low")
    AllergyFactory.create(patient=patient, status="inactive", criticality="high")

    summary = get_clinical_summary(
        actor=Actor(user=user, channel=AuditChannel.UI), patient_id=patient.public_id
    )

    assert len(summary.allergies) == LIST_LIMIT  # the list shows the most recent
    assert contrast not in summary.allergies
    assert len(summary.allergy_banner.allergies) == LIST_LIMIT + 6
    assert summary.allergy_banner.allergies[0] == contrast
