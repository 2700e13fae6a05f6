"""The "Find a location" page: who may open it, what it shows, and that it writes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from careline.directory import geo
from careline.directory.models import Location, PractitionerRole
from careline.platform.authorization import ANONYMOUS_REFUSALS
from careline.platform.models import AuditEvent, User
from careline.platform.permissions import Role
from careline.testing.factories import RECEIVED, LocationFactory, PractitionerFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("directory:nearest")
RESULTS = reverse("directory:nearest_results")
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _staff_without_mfa(settings: Any) -> None:
    settings.CARELINE_REQUIRE_STAFF_MFA = False


@pytest.fixture
def signed_in(client: Client, make_user: Callable[..., User]) -> Callable[[str], User]:
    def sign_in(role: str) -> User:
        user = make_user(role)
        client.force_login(user)
        return user

    return sign_in


@pytest.fixture
def clinics() -> None:
    for name, zip_code, hours in [
        ("Cambridge Clinic", "02139", [{"daysOfWeek": ["sat"], "allDay": True}]),
        ("Providence Clinic", "02903", []),
    ]:
        area = geo.find_zip_area(zip_code)
        assert area is not None
        LocationFactory.create(
            name=name,
            postal_code=zip_code,
            line="1 Harbor Way",
            city=area.city,
            latitude=area.latitude,
            longitude=area.longitude,
            phone="(401) 555-0111",
            hours=hours,
        )
    LocationFactory.create(name="Annex", postal_code="", latitude=None, longitude=None)


def shown(html: str) -> list[str]:
    return re.findall(r'<strong class="nearest__name">([^<]+)</strong>', html)


def test_anonymous_is_sent_to_sign_in_and_counted(client: Client) -> None:
    counted = ANONYMOUS_REFUSALS["ui"]

    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert ANONYMOUS_REFUSALS["ui"] == counted + 1
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("url", [PAGE, RESULTS])
def test_a_role_without_the_directory_permission_gets_403_audited(
    client: Client, signed_in: Callable[[str], User], url: str
) -> None:
    user = signed_in(Role.COMPLIANCE)

    response = client.post(url, {"place": "02118"})

    assert response.status_code == 403
    events = AuditEvent.objects.exclude(resource_type="Session")
    assert list(events.values_list("actor", "action", "resource_type", "details")) == [
        (user.pk, "access_denied", "Location", {"permission": "directory.view_directory"})
    ]


@pytest.mark.parametrize("role", [Role.SCHEDULER, Role.NURSE, Role.MARKETER, Role.EXECUTIVE])
def test_the_page_opens_for_roles_that_see_the_directory(
    client: Client, signed_in: Callable[[str], User], role: str
) -> None:
    signed_in(role)

    response = client.get(PAGE)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="search__title">Find a location</h1>' in html
    assert f'href="{PAGE}" aria-current="page"' in html  # the navigation entry
    assert 'name="place"' in html
    assert response["Cache-Control"].startswith("max-age=0")
    assert "style=" not in html and "onclick" not in html  # the CSP allows neither


def test_a_search_shows_the_sorted_table_and_writes_no_audit_entry(
    client: Client, signed_in: Callable[[str], User], clinics: None
) -> None:
    signed_in(Role.SCHEDULER)
    before = AuditEvent.objects.count()

    response = client.post(PAGE, {"place": "1 Main St, Boston, MA 02118"})

    html = response.content.decode()
    assert response.status_code == 200
    assert shown(html) == ["Cambridge Clinic", "Providence Clinic", "Annex"]
    assert "Nearest to ZIP 02118 (Boston, MA)." in html
    assert "1 with no address to measure from is listed last." in html
    cambridge = geo.distance_km(geo.point_from_zip("02118"), geo.point_from_zip("02139"))
    assert f"{cambridge:.1f} km" in html
    assert f"{geo.km_to_miles(cambridge):.1f} mi" in html
    assert "Distance unknown" in html
    assert "Sat 24 hours" in html and "Hours unknown" in html
    assert '<a href="tel:(401) 555-0111">(401) 555-0111</a>' in html
    assert "https://www.openstreetmap.org/directions?engine=fossgis_osrm_car&amp;route=;" in html
    assert AuditEvent.objects.count() == before


def test_htmx_gets_only_the_results(
    client: Client, signed_in: Callable[[str], User], clinics: None
) -> None:
    signed_in(Role.SCHEDULER)

    response = client.post(RESULTS, {"place": "02118", "radius_km": "60"}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert shown(html) == ["Cambridge Clinic", "Annex"]
    assert "within 60 km" in html


def test_providers_are_found_from_the_same_form(
    client: Client, signed_in: Callable[[str], User], clinics: None
) -> None:
    signed_in(Role.SCHEDULER)
    doctor = PractitionerFactory.create(given_name="Ana", family_name="Reyes", languages=["es"])
    PractitionerRole.objects.create(
        practitioner=doctor,
        location=Location.objects.get(name="Cambridge Clinic"),
        specialty="Cardiology",
        source_system="urn:test:ehr",
        source_id="role-1",
        received_at=RECEIVED,
        content_hash="0" * 64,
        raw={},
    )

    found = client.post(
        RESULTS, {"place": "02118", "find": "practitioners", "language": "es"}, headers=HTMX
    )
    none = client.post(
        RESULTS, {"place": "02118", "find": "practitioners", "language": "fr"}, headers=HTMX
    )

    html = found.content.decode()
    assert '<th scope="col">Provider</th>' in html
    assert "<strong>Dr. Ana Reyes</strong>" in html and "Speaks es" in html
    assert shown(html) == ["Cambridge Clinic"]
    assert "Nothing found." in none.content.decode()


@pytest.mark.parametrize(
    ("place", "hint"),
    [
        ("99999", "ZIP code 99999 is not a known US ZIP code; check the digits."),
        ("91.5, 10.0", "Latitude must be a number from -90 to 90 (decimal degrees)."),
        ("Main Street", "The address has no ZIP code: add its 5-digit ZIP"),
        ("", "Address, ZIP or coordinates: This field is required."),
    ],
)
def test_a_place_that_cannot_be_found_says_why(
    client: Client, signed_in: Callable[[str], User], place: str, hint: str
) -> None:
    signed_in(Role.SCHEDULER)

    response = client.post(RESULTS, {"place": place}, headers=HTMX)

    assert response.status_code == 200
    assert hint in response.content.decode()


def test_the_place_is_never_put_in_a_url(client: Client, signed_in: Callable[[str], User]) -> None:
    signed_in(Role.SCHEDULER)

    html = client.get(PAGE).content.decode()

    assert re.search(r'<form[^>]+method="post"[^>]+action="/directory/locations/"', html)
    assert client.get(f"{PAGE}?place=02118").status_code == 200  # shows the empty form
    assert client.put(PAGE).status_code == 405
