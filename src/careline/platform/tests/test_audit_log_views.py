"""The compliance officer's audit log: who may see it, what it shows, filters, pages, exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

from careline.platform import audit
from careline.platform.actors import Actor
from careline.platform.audit.export import CSV_HEADER
from careline.platform.models import (
    AuditAction,
    AuditChannel,
    AuditEvent,
    AuditOutcome,
    BreakGlassAccess,
    Purpose,
    User,
)
from careline.platform.permissions import Permission, Role
from careline.platform.services import grant_break_glass

pytestmark = pytest.mark.django_db

AUDIT_LOG = reverse("platform:audit_log")
EXPORT_CSV = reverse("platform:audit_export_csv")
EXPORT_FHIR = reverse("platform:audit_export_fhir")
PATIENT = uuid.UUID("7d9f2c1e-4b5a-4c3d-8e2f-1a2b3c4d5e6f")
OTHER_PATIENT = uuid.UUID("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d")


def record(
    actor: Actor,
    action: str = AuditAction.READ,
    *,
    patient_id: uuid.UUID | None = PATIENT,
    resource_type: str = "Patient",
    is_break_glass: bool = False,
    outcome: str = AuditOutcome.SUCCESS,
) -> AuditEvent:
    return audit.record_event(
        actor=actor,
        action=action,
        resource_type=resource_type,
        resource_id=str(patient_id) if patient_id else "",
        patient_id=patient_id,
        is_break_glass=is_break_glass,
        outcome=outcome,
    )


def streamed_text(response: Any) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()  # type: ignore[arg-type]


# --- authorization matrix -----------------------------------------------------------------


@pytest.mark.parametrize(
    "url", [AUDIT_LOG, EXPORT_CSV, EXPORT_FHIR, reverse("platform:break_glass_review")]
)
def test_anonymous_is_sent_to_sign_in_and_nothing_is_recorded(client: Client, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(url)}"
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "permission"),
    [
        (AUDIT_LOG, Permission.VIEW_AUDIT_LOG),
        (EXPORT_CSV, Permission.EXPORT_AUDIT_LOG),
        (EXPORT_FHIR, Permission.EXPORT_AUDIT_LOG),
    ],
)
def test_staff_without_the_permission_gets_403_exports_nothing_and_is_audited(
    client: Client, sign_in: Callable[..., User], audit_trail, url: str, permission: str
) -> None:
    scheduler = sign_in(Role.SCHEDULER)
    audit_trail.mark()

    response = client.get(url)

    assert response.status_code == 403
    assert not isinstance(response, StreamingHttpResponse)
    assert "Content-Disposition" not in response
    [denial] = audit_trail.new_events()
    assert (denial.action, denial.outcome, denial.resource_type) == (
        AuditAction.ACCESS_DENIED,
        AuditOutcome.DENIED,
        "AuditEvent",
    )
    assert denial.actor == scheduler
    assert denial.details == {"permission": permission}
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.parametrize("url", [AUDIT_LOG, EXPORT_CSV, EXPORT_FHIR])
def test_compliance_officer_may_view_and_export(
    client: Client, sign_in: Callable[..., User], url: str
) -> None:
    sign_in(Role.COMPLIANCE)

    response = client.get(url)

    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


# --- the page -----------------------------------------------------------------------------


def test_log_shows_who_did_what_to_which_patient_newest_first(
    client: Client, sign_in: Callable[..., User], make_user: Callable[..., User], actor_for
) -> None:
    sign_in(Role.COMPLIANCE)
    nurse = make_user(Role.NURSE, username="nina")
    first = record(actor_for(nurse), AuditAction.READ)
    second = record(actor_for(nurse, AuditChannel.API), AuditAction.UPDATE, is_break_glass=True)

    response = client.get(AUDIT_LOG, {"actor": "nina"})

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.event.sequence for row in rows] == [second.sequence, first.sequence]
    assert [row.role_label for row in rows] == ["Nurse", "Nurse"]
    html = response.content.decode()
    # A compliance officer opens no record: the id narrows the log to that patient instead.
    assert (
        f'<a href="{AUDIT_LOG}?patient={PATIENT}" title="This patient\u2019s audit trail">'
        f"<code>{PATIENT}</code></a>"
    ) in html
    assert f'href="/patients/{PATIENT}/"' not in html
    assert "<td>nina<br><small>Nurse</small></td>" in html
    assert "<td>Update</td>" in html
    assert "<td>API</td>" in html
    assert "<td>127.0.0.1</td>" in html
    assert "<td>Treatment</td>" in html
    assert "<td><strong>Yes</strong></td>" in html


def test_viewing_the_log_is_itself_audited_without_filter_values(
    client: Client, sign_in: Callable[..., User], audit_trail, actor_for
) -> None:
    officer = sign_in(Role.COMPLIANCE)
    record(actor_for(officer))
    audit_trail.mark()

    client.get(AUDIT_LOG, {"patient": str(PATIENT), "action": "read"}, REMOTE_ADDR="10.1.2.3")

    [view] = audit_trail.new_events()
    assert (view.action, view.resource_type, view.purpose, view.channel) == (
        AuditAction.READ,
        "AuditEvent",
        Purpose.COMPLIANCE,
        AuditChannel.UI,
    )
    assert (view.actor, view.remote_addr, view.patient_id) == (officer, "10.1.2.3", None)
    assert view.details == {"filters": ["action", "patient_id"], "rows": 1}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor": "NINA"}, ["nina access_denied", "nina read"]),
        ({"action": "update"}, ["omar update"]),
        ({"patient": str(OTHER_PATIENT)}, ["omar update"]),
        ({"channel": "api"}, ["omar update"]),
        ({"outcome": "denied"}, ["nina access_denied"]),
        ({"break_glass": "on"}, ["nina read"]),
        ({"actor": "nina", "action": "read", "break_glass": "on"}, ["nina read"]),
        ({"actor": "nobody"}, []),
    ],
)
def test_filters_narrow_the_log(
    client: Client,
    sign_in: Callable[..., User],
    make_user: Callable[..., User],
    actor_for,
    params: dict[str, str],
    expected: list[str],
) -> None:
    sign_in(Role.COMPLIANCE, username="olga")
    nina = make_user(Role.NURSE, username="nina")
    omar = make_user(Role.SCHEDULER, username="omar")
    record(actor_for(nina), AuditAction.READ, is_break_glass=True)
    record(actor_for(omar, AuditChannel.API), AuditAction.UPDATE, patient_id=OTHER_PATIENT)
    record(actor_for(nina), AuditAction.ACCESS_DENIED, outcome=AuditOutcome.DENIED)

    response = client.get(AUDIT_LOG, params)

    assert response.status_code == 200
    shown = [f"{row.event.actor_label} {row.event.action}" for row in response.context["rows"]]
    assert shown == expected


def test_date_filter_uses_the_clinic_day(
    client: Client, sign_in: Callable[..., User], make_user: Callable[..., User], actor_for
) -> None:
    nurse = make_user(Role.NURSE, username="nina")
    # 2026-03-02 03:00 UTC is 22:00 on March 1st in New York (the clinic's time zone).
    with time_machine.travel(dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC), tick=False):
        late_evening = record(actor_for(nurse))
    with time_machine.travel(dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC), tick=False):
        next_morning = record(actor_for(nurse))
    sign_in(Role.COMPLIANCE)

    march_1 = client.get(
        AUDIT_LOG, {"actor": "nina", "date_from": "2026-03-01", "date_to": "2026-03-01"}
    )
    march_2 = client.get(AUDIT_LOG, {"actor": "nina", "date_from": "2026-03-02"})

    assert [row.event for row in march_1.context["rows"]] == [late_evening]
    assert [row.event for row in march_2.context["rows"]] == [next_morning]
    assert "2026-03-01 22:00:00 EST" in march_1.content.decode()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"patient": "Robert Jones"}, "patient", "Enter a valid UUID."),
        ({"date_from": "2026-13-01"}, "date_from", "Enter a valid date."),
        (
            {"action": "steal"},
            "action",
            "Select a valid choice. steal is not one of the available choices.",
        ),
        (
            {"channel": "fax"},
            "channel",
            "Select a valid choice. fax is not one of the available choices.",
        ),
        ({"before": "-3"}, "before", "Ensure this value is greater than or equal to 1."),
        ({"before": "x"}, "before", "Enter a whole number."),
        (
            {"date_from": "2026-03-02", "date_to": "2026-03-01"},
            "date_to",
            "The end date is before the start date.",
        ),
        (
            {"before": "5", "after": "2"},
            "__all__",
            "Ask for the page before or after an entry, not both.",
        ),
    ],
)
@pytest.mark.parametrize("url", [AUDIT_LOG, EXPORT_CSV, EXPORT_FHIR])
def test_bad_filter_values_show_form_errors_not_500(
    client: Client,
    sign_in: Callable[..., User],
    audit_trail,
    url: str,
    params: dict[str, str],
    field: str,
    message: str,
) -> None:
    sign_in(Role.COMPLIANCE)
    audit_trail.mark()

    response = client.get(url, params)

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert audit_trail.new_events() == []  # nothing was shown or exported


def test_pages_are_keyed_by_sequence_fifty_at_a_time(
    client: Client, sign_in: Callable[..., User], make_user: Callable[..., User], actor_for
) -> None:
    actor = actor_for(make_user(Role.NURSE))
    written = [record(actor, AuditAction.UPDATE).sequence for _ in range(120)]
    sign_in(Role.COMPLIANCE)

    first = client.get(AUDIT_LOG, {"action": "update"})
    second = client.get(first.context["older_url"])
    third = client.get(second.context["older_url"])
    back = client.get(third.context["newer_url"])

    newest_first = written[::-1]
    assert [row.event.sequence for row in first.context["rows"]] == newest_first[:50]
    assert [row.event.sequence for row in second.context["rows"]] == newest_first[50:100]
    assert [row.event.sequence for row in third.context["rows"]] == newest_first[100:]
    assert [row.event.sequence for row in back.context["rows"]] == newest_first[50:100]
    assert first.context["newer_url"] is None
    assert first.context["older_url"] == f"{AUDIT_LOG}?action=update&before={newest_first[49]}"
    assert third.context["older_url"] is None
    assert third.context["newer_url"] == f"{AUDIT_LOG}?action=update&after={newest_first[100]}"


def test_page_query_count_does_not_grow_with_the_log(
    client: Client, sign_in: Callable[..., User], make_user: Callable[..., User], actor_for
) -> None:
    actors = [actor_for(make_user(Role.NURSE)) for _ in range(3)]
    sign_in(Role.COMPLIANCE)
    record(actors[0])
    client.get(AUDIT_LOG)  # warm the session (MFA check is cached in it)

    with CaptureQueriesContext(connection) as few:
        client.get(AUDIT_LOG, {"action": "read"})
    for index in range(60):
        record(actors[index % 3])
    with CaptureQueriesContext(connection) as many:
        response = client.get(AUDIT_LOG, {"action": "read"})

    assert len(response.context["rows"]) == 50
    assert len(many.captured_queries) == len(few.captured_queries)


# --- exports ------------------------------------------------------------------------------


def test_csv_export_streams_the_filtered_trail_oldest_first_and_is_audited(
    client: Client,
    sign_in: Callable[..., User],
    make_user: Callable[..., User],
    actor_for,
    audit_trail,
) -> None:
    nurse = make_user(Role.NURSE, username="nina")
    with time_machine.travel(dt.datetime(2026, 3, 2, 14, 0, 5, tzinfo=dt.UTC), tick=False):
        first = record(actor_for(nurse), AuditAction.READ)
        record(actor_for(nurse), AuditAction.READ, patient_id=OTHER_PATIENT)
        second = record(actor_for(nurse, AuditChannel.API), AuditAction.UPDATE)
    officer = sign_in(Role.COMPLIANCE)
    audit_trail.mark()

    with time_machine.travel(dt.datetime(2026, 3, 3, 9, 30, tzinfo=dt.UTC), tick=False):
        response = client.get(EXPORT_CSV, {"patient": str(PATIENT)})

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="careline-audit-20260303T093000Z.csv"'
    )
    rows = list(csv.reader(io.StringIO(streamed_text(response))))
    assert rows[0] == list(CSV_HEADER)
    assert [row[0] for row in rows[1:]] == [str(first.sequence), str(second.sequence)]
    assert rows[1] == [
        str(first.sequence),
        str(first.public_id),
        "2026-03-02T14:00:05Z",
        "nina",
        str(nurse.public_id),
        "nurse",
        "read",
        "Patient",
        str(PATIENT),
        str(PATIENT),
        "TREAT",
        "ui",
        "127.0.0.1",
        "",
        "success",
        "no",
        "",
        first.previous_hash,
        first.hash,
        "dev",
        "2026-03-02T14:00:05Z",
    ]
    [export] = audit_trail.new_events()
    assert (export.action, export.resource_type, export.actor, export.purpose) == (
        AuditAction.EXPORT,
        "AuditEvent",
        officer,
        Purpose.COMPLIANCE,
    )
    assert export.details == {"filters": ["patient_id"], "rows": 2, "format": "csv"}


def test_fhir_export_streams_valid_audit_events(
    client: Client,
    sign_in: Callable[..., User],
    make_user: Callable[..., User],
    actor_for,
    audit_trail,
) -> None:
    nurse = make_user(Role.NURSE, username="nina")
    read = record(actor_for(nurse), AuditAction.READ, is_break_glass=True)
    record(actor_for(nurse), AuditAction.UPDATE)
    sign_in(Role.COMPLIANCE)
    audit_trail.mark()

    response = client.get(EXPORT_FHIR, {"action": "read", "break_glass": "on"})

    assert response["Content-Type"] == "application/fhir+ndjson"
    assert response["Content-Disposition"].endswith('.ndjson"')
    lines = streamed_text(response).splitlines()
    assert len(lines) == 1
    resource = json.loads(lines[0])
    FhirAuditEvent.model_validate(resource)
    assert resource["id"] == str(read.public_id)
    assert resource["entity"][0]["what"] == {"reference": f"Patient/{PATIENT}"}
    assert resource["agent"][0]["who"]["identifier"]["value"] == str(nurse.public_id)
    [export] = audit_trail.new_events()
    assert export.details == {
        "filters": ["action", "break_glass_only"],
        "rows": 1,
        "format": "fhir",
    }


def test_export_is_frozen_at_its_start_and_excludes_its_own_entry(
    client: Client, sign_in: Callable[..., User], actor_for
) -> None:
    officer = sign_in(Role.COMPLIANCE)
    login = AuditEvent.objects.get()  # force_login's audit entry
    record(actor_for(officer))

    response = client.get(EXPORT_CSV)
    record(actor_for(officer))  # written while the download is still streaming
    rows = list(csv.reader(io.StringIO(streamed_text(response))))

    assert login.sequence is not None
    assert [row[0] for row in rows[1:]] == [str(login.sequence), str(login.sequence + 1)]
    export = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert export.details["rows"] == 2


def test_export_links_carry_the_current_filter_but_not_the_page(
    client: Client, sign_in: Callable[..., User]
) -> None:
    sign_in(Role.COMPLIANCE)

    response = client.get(AUDIT_LOG, {"action": "read", "before": "40"})

    html = response.content.decode()
    assert f'href="{EXPORT_CSV}?action=read"' in html
    assert f'href="{EXPORT_FHIR}?action=read"' in html


# --- break-glass review -------------------------------------------------------------------

REVIEW = reverse("platform:break_glass_review")


def grant(
    user: User, reason: str = "Patient collapsed in the lobby, chart needed now"
) -> BreakGlassAccess:
    return grant_break_glass(
        actor=Actor(user=user, channel=AuditChannel.UI), patient_id=PATIENT, reason=reason
    )


def mark_url(access: BreakGlassAccess) -> str:
    return reverse("platform:break_glass_mark_reviewed", args=[access.public_id])


def test_review_page_lists_unreviewed_accesses_first_oldest_first(
    client: Client, sign_in: Callable[..., User], make_user: Callable[..., User], audit_trail
) -> None:
    nurse = make_user(Role.NURSE, username="nina")
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        older = grant(nurse)
    with time_machine.travel(dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        newer = grant(nurse, "Covering for Dr. Ana on call tonight")
        done = grant(nurse, "Follow-up call requested by the ED")
    officer = sign_in(Role.COMPLIANCE)
    BreakGlassAccess.objects.filter(pk=done.pk).update(
        reviewed_by=officer, reviewed_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC), review_note="ok"
    )
    audit_trail.mark()

    response = client.get(REVIEW)

    assert response.status_code == 200
    assert [row.access for row in response.context["pending_rows"]] == [older, newer]
    assert response.context["pending_total"] == 2
    assert response.context["reviewed"] == [done]
    html = response.content.decode()
    assert "Patient collapsed in the lobby, chart needed now" in html
    assert f'action="{mark_url(older)}"' in html
    assert f'action="{mark_url(done)}"' not in html
    assert f'<a href="/patients/{PATIENT}/">' in html
    [view] = audit_trail.new_events()
    assert (view.action, view.resource_type, view.details) == (
        AuditAction.READ,
        "BreakGlassAccess",
        {"pending": 2, "reviewed": 1},
    )


def test_review_page_anonymous_and_unpermitted(
    client: Client, sign_in: Callable[..., User]
) -> None:
    anonymous = client.get(REVIEW)
    sign_in(Role.NURSE)
    nurse = client.get(REVIEW)

    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/accounts/login/?next={quote(REVIEW)}"
    assert nurse.status_code == 403
    denial = AuditEvent.objects.get(action=AuditAction.ACCESS_DENIED)
    assert denial.details == {"permission": Permission.REVIEW_BREAK_GLASS}


def test_marking_reviewed_records_the_reviewer_and_note(
    client: Client, sign_in: Callable[..., User], make_user: Callable[..., User], audit_trail
) -> None:
    access = grant(make_user(Role.NURSE, username="nina"))
    officer = sign_in(Role.COMPLIANCE)
    audit_trail.mark()

    with time_machine.travel(dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC), tick=False):
        response = client.post(mark_url(access), {"note": "  Confirmed with the ED roster.  "})
        followed = client.get(REVIEW)

    assert response.status_code == 302
    assert response["Location"] == REVIEW
    access.refresh_from_db()
    assert access.reviewed_by == officer
    assert access.reviewed_at == dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)
    assert access.review_note == "Confirmed with the ED roster."
    review, page_view = audit_trail.new_events()
    assert page_view.action == AuditAction.READ
    assert (review.action, review.resource_type, review.resource_id, review.purpose) == (
        AuditAction.UPDATE,
        "BreakGlassAccess",
        str(access.public_id),
        Purpose.COMPLIANCE,
    )
    assert "Break-glass access by nina marked reviewed." in followed.content.decode()
    assert followed.context["pending_rows"] == []


def test_marking_reviewed_needs_a_note(
    client: Client, sign_in: Callable[..., User], make_user: Callable[..., User]
) -> None:
    access = grant(make_user(Role.NURSE))
    sign_in(Role.COMPLIANCE)

    response = client.post(mark_url(access), {"note": "   "})

    assert response.status_code == 400
    [row] = response.context["pending_rows"]
    assert row.form.errors == {"note": ["This field is required."]}
    assert f'id="id_note_{access.public_id}"' in response.content.decode()
    access.refresh_from_db()
    assert (access.reviewed_at, access.reviewed_by, access.review_note) == (None, None, "")


def test_marking_an_unknown_access_is_404(client: Client, sign_in: Callable[..., User]) -> None:
    sign_in(Role.COMPLIANCE)

    response = client.post(
        reverse("platform:break_glass_mark_reviewed", args=[uuid.uuid4()]), {"note": "checked"}
    )

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(resource_type="BreakGlassAccess").exists()


@pytest.mark.parametrize("role", [None, Role.SCHEDULER, Role.NURSE])
def test_marking_reviewed_is_refused_and_changes_nothing(
    client: Client,
    sign_in: Callable[..., User],
    make_user: Callable[..., User],
    audit_trail,
    role: str | None,
) -> None:
    access = grant(make_user(Role.NURSE))
    if role is not None:
        sign_in(role)
    audit_trail.mark()

    response = client.post(mark_url(access), {"note": "looks fine"})

    if role is None:
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={quote(mark_url(access))}"
        assert audit_trail.new_events() == []
    else:
        assert response.status_code == 403
        assert [event.action for event in audit_trail.new_events()] == [AuditAction.ACCESS_DENIED]
    access.refresh_from_db()
    assert (access.reviewed_at, access.reviewed_by, access.review_note) == (None, None, "")


def test_review_needs_post(client: Client, sign_in: Callable[..., User], make_user) -> None:
    access = grant(make_user(Role.NURSE))
    sign_in(Role.COMPLIANCE)

    assert client.get(mark_url(access)).status_code == 405


# --- the filter bar -----------------------------------------------------------------------


def test_filter_bar_is_compact_with_no_checkbox_and_a_patient_picker(
    client: Client, sign_in: Callable[..., User]
) -> None:
    sign_in(Role.COMPLIANCE)

    html = client.get(AUDIT_LOG).content.decode()

    bar = html.split('class="filter-bar"', 1)[1].split("</form>", 1)[0]
    assert 'type="checkbox"' not in html
    assert bar.count('class="filter-bar__field"') == 7  # user, action, from, to, channel, …
    assert '<select name="break_glass" id="id_break_glass">' in bar
    assert '<input type="hidden" name="patient" id="id_patient">' in bar
    assert "Find a patient by name, birth date or MRN" in html
    assert f'hx-post="{reverse("patients:audit_patient_picker")}"' in html


def test_a_patient_filter_shows_as_a_chip_that_can_be_removed(
    client: Client, sign_in: Callable[..., User]
) -> None:
    sign_in(Role.COMPLIANCE)

    html = client.get(AUDIT_LOG, {"patient": str(PATIENT), "action": "read"}).content.decode()

    assert f"Patient <code>{PATIENT}</code> · " in html
    assert f'<a href="{AUDIT_LOG}?action=read">all patients</a>' in html
    assert f'<input type="hidden" name="patient" value="{PATIENT}" id="id_patient">' in html
