"""The shared directory: health system, hospital, clinics, practitioners and their roles."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import codes, geo
from .codes import SPECIALTIES
from .common import (
    REFERENCE_DATE,
    Resource,
    add_years,
    chance,
    fhir_date,
    format_phone,
    local_ref,
    new_id,
    phone_number,
    random_day,
    weighted,
)
from .names import FakerPool, Name, draw_name, fold

FIRST_SPECIALTIES = (
    "family",
    "pediatrics",
    "internal",
    "cardiology",
    "obgyn",
    "emergency",
    "radiology",
    "orthopedics",
    "endocrinology",
)
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
ALL_DAYS = [*WEEKDAYS, "sat", "sun"]


@dataclass(frozen=True)
class Site:
    """A place of care: an Organization with its main Location."""

    setting: str
    organization_id: str
    location_id: str
    place: geo.Place


@dataclass(frozen=True)
class Clinician:
    id: str
    specialty: str
    site: Site
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Directory:
    system_id: str
    hospital: Site
    emergency: Site
    clinics: tuple[Site, ...]
    clinicians: tuple[Clinician, ...]
    resources: tuple[Resource, ...]

    def pick(
        self, rng: random.Random, specialties: Sequence[str], site: Site | None = None
    ) -> Clinician:
        """A clinician of one of the specialties, preferring `site`, else any primary care."""
        fitting = [c for c in self.clinicians if c.specialty in specialties]
        local = [c for c in fitting if c.site == site]
        fallback = [c for c in self.clinicians if c.specialty in codes.PRIMARY_CARE]
        return rng.choice(local or fitting or fallback or list(self.clinicians))


def luhn_check_digit(payload: str) -> int:
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    """NPI check: Luhn over the 80840 card-issuer prefix plus the first nine digits."""
    ok_shape = len(npi) == 10 and npi.isdigit() and npi[0] in "12"
    return ok_shape and luhn_check_digit("80840" + npi[:9]) == int(npi[9])


def make_npi(rng: random.Random, used: set[str]) -> str:
    while True:
        base = f"{rng.choice('12')}{rng.randrange(10**8):08d}"
        npi = base + str(luhn_check_digit("80840" + base))
        if npi not in used:
            used.add(npi)
            return npi


def _npi_identifier(rng: random.Random, used: set[str]) -> dict[str, Any]:
    npi = make_npi(rng, used)
    return {
        "use": "official",
        "type": codes.NPI_TYPE.concept(),
        "system": codes.NPI_SYSTEM,
        "value": npi,
    }


def _phone(rng: random.Random, place: geo.Place) -> dict[str, Any]:
    number = phone_number(rng, rng.choice(place.area_codes))
    return {"system": "phone", "value": format_phone(rng, number, style=0), "use": "work"}


# --- places -------------------------------------------------------------------


def _hospital_place(rng: random.Random) -> geo.Place:
    """A ZIP in eastern Massachusetts, within reach of Rhode Island and New Hampshire."""
    eastern = [p for p in geo.places()["MA"] if -71.6 < p.longitude < -70.9]
    return rng.choice([p for p in eastern if 42.0 < p.latitude < 42.7])


def _clinic_places(rng: random.Random, hospital: geo.Place, count: int) -> list[geo.Place]:
    table = (("MA", 7.0), ("RI", 1.5), ("NH", 1.5))
    states = [weighted(rng, table) for _ in range(count)]
    if count >= 4:
        states[:2] = ["RI", "NH"]
    rng.shuffle(states)
    used = {hospital.city}
    chosen: list[geo.Place] = []
    for state in states:
        ranked = geo.closest(hospital, state, 60)
        place = rng.choice([p for p in ranked if p.city not in used] or list(ranked))
        used.add(place.city)
        chosen.append(place)
    return chosen


# --- organizations and locations ---------------------------------------------------


def _organization(context: _Builder, name: str, place: geo.Place, part_of: str | None) -> Resource:
    org: Resource = {"resourceType": "Organization", "id": new_id(context.rng)}
    org |= {"identifier": [_npi_identifier(context.rng, context.npis)], "active": True}
    org |= {"type": [codes.ORG_TYPE_PROVIDER.concept()], "name": name}
    org |= {
        "telecom": [_phone(context.rng, place)],
        "address": [place.address([context.street()], "work")],
    }
    if part_of:
        org["partOf"] = {"reference": f"urn:uuid:{part_of}"}
    context.resources.append(org)
    return org


def _hours(rng: random.Random, setting: str) -> list[dict[str, Any]]:
    if setting != "clinic":
        return [{"daysOfWeek": ALL_DAYS, "allDay": True}]
    closing = rng.choice(("17:00:00", "17:30:00", "18:00:00", "19:00:00"))
    hours = [{"daysOfWeek": WEEKDAYS, "openingTime": "08:00:00", "closingTime": closing}]
    if chance(rng, 0.4):
        hours.append({"daysOfWeek": ["sat"], "openingTime": "09:00:00", "closingTime": "12:00:00"})
    return hours


def _location(
    context: _Builder, setting: str, org: Resource, name: str, part_of: str | None
) -> Resource:
    place = context.place_of(org)
    kind = codes.WING if part_of else codes.BUILDING
    loc: Resource = {"resourceType": "Location", "id": new_id(context.rng), "status": "active"}
    loc |= {"name": name, "mode": "instance", "type": [codes.LOCATION_TYPES[setting].concept()]}
    loc |= {"telecom": [_phone(context.rng, place)], "address": org["address"][0]}
    loc |= {"physicalType": kind.concept()}
    loc["position"] = {"longitude": place.longitude, "latitude": place.latitude}
    loc |= {
        "managingOrganization": local_ref(org),
        "hoursOfOperation": _hours(context.rng, setting),
    }
    if part_of:
        loc["partOf"] = {"reference": f"urn:uuid:{part_of}"}
    context.resources.append(loc)
    return loc


# --- practitioners ---------------------------------------------------------------


def _language(code: str) -> dict[str, Any]:
    display = codes.LANGUAGES[code]
    return {"coding": [{"system": codes.BCP47, "code": code, "display": display}], "text": display}


def _practitioner(context: _Builder, specialty: str) -> tuple[Resource, tuple[str, ...], str]:
    rng = context.rng
    culture = weighted(
        rng, [(c, c.weight if c.language != "en" else 150.0) for c in codes.CULTURES]
    )
    sex = rng.choice(("male", "female"))
    name = draw_name(context.pool, rng, culture.language, sex)
    nurse = specialty in codes.PRIMARY_CARE and chance(rng, 0.15)
    degree = "NP" if nurse else weighted(rng, (("MD", 0.85), ("DO", 0.15)))
    languages = ["en"] + (
        [culture.language] if culture.language != "en" and chance(rng, 0.85) else []
    )
    if languages == ["en"] and chance(rng, 0.1):
        languages.append("es")
    born = random_day(rng, add_years(REFERENCE_DATE, -68), add_years(REFERENCE_DATE, -30))
    doc: Resource = {"resourceType": "Practitioner", "id": new_id(rng)}
    doc |= {"identifier": [_npi_identifier(rng, context.npis)], "active": True}
    prefix = () if nurse else ("Dr.",)
    doc["name"] = Name(name.given, name.family, (degree,)).human_names(prefix=prefix)
    doc["telecom"] = [_phone(rng, context.hospital_place), _work_email(name)]
    doc |= {"gender": sex, "birthDate": fhir_date(born)}
    qualified = fhir_date(random_day(rng, add_years(born, 26), add_years(born, 30)))
    doc["qualification"] = [
        {"code": codes.DEGREES[degree].concept(), "period": {"start": qualified}}
    ]
    doc["communication"] = [_language(code) for code in languages]
    context.resources.append(doc)
    return doc, tuple(languages), "nurse" if nurse else "doctor"


def _work_email(name: Name) -> dict[str, Any]:
    first = "".join(ch for ch in fold(name.given[0]).lower() if ch.isalpha())
    last = "".join(ch for ch in fold(name.family).lower() if ch.isalpha())
    return {"system": "email", "value": f"{first}.{last}@careline.example.org", "use": "work"}


def _role(context: _Builder, doc: Resource, specialty: str, site: Site, role: str) -> None:
    rng = context.rng
    code = codes.ROLE_NURSE if role == "nurse" else codes.ROLE_DOCTOR
    start = random_day(rng, date(2005, 1, 1), add_years(REFERENCE_DATE, -1))
    item: Resource = {"resourceType": "PractitionerRole", "id": new_id(rng), "active": True}
    item |= {"period": {"start": fhir_date(start)}, "practitioner": local_ref(doc)}
    item |= {"organization": {"reference": f"urn:uuid:{site.organization_id}"}}
    item |= {"code": [code.concept()], "specialty": [SPECIALTIES[specialty].concept()]}
    item["location"] = [{"reference": f"urn:uuid:{site.location_id}"}]
    item["telecom"] = [_phone(rng, site.place)]
    if site.setting == "clinic":
        item["availableTime"] = [
            {
                "daysOfWeek": WEEKDAYS,
                "availableStartTime": "08:00:00",
                "availableEndTime": "17:00:00",
            }
        ]
    else:
        item["availableTime"] = [{"daysOfWeek": ALL_DAYS, "allDay": True}]
    context.resources.append(item)


class _Builder:
    """Mutable state while the directory is built."""

    def __init__(self, rng: random.Random, pool: FakerPool) -> None:
        self.rng = rng
        self.pool = pool
        self.npis: set[str] = set()
        self.resources: list[Resource] = []
        self.places: dict[str, geo.Place] = {}
        self.hospital_place = _hospital_place(rng)

    def street(self) -> str:
        faker = self.pool.seeded("en_US", self.rng)
        return f"{self.rng.randint(1, 999)} {faker.street_name()}"

    def place_of(self, org: Resource) -> geo.Place:
        return self.places[org["id"]]

    def site(self, setting: str, name: str, place: geo.Place, part_of: str) -> Site:
        org = _organization(self, name, place, part_of)
        self.places[org["id"]] = place
        loc = _location(self, setting, org, name, None)
        return Site(setting, org["id"], loc["id"], place)

    def emergency(self, hospital: Site, name: str) -> Site:
        org = next(r for r in self.resources if r["id"] == hospital.organization_id)
        loc = _location(self, "ed", org, name, hospital.location_id)
        return Site("ed", hospital.organization_id, loc["id"], hospital.place)


def _sizes(patients: int) -> tuple[int, int]:
    clinics = min(12, max(4, round(math.sqrt(max(patients, 1)) / 2.5)))
    return clinics, min(200, max(5, patients // 8))


def _specialty_plan(rng: random.Random, count: int) -> list[str]:
    table = [(key, spec.weight) for key, spec in SPECIALTIES.items()]
    extra = [weighted(rng, table) for _ in range(max(0, count - len(FIRST_SPECIALTIES)))]
    return [*FIRST_SPECIALTIES[:count], *extra]


def build_directory(rng: random.Random, pool: FakerPool, patients: int) -> Directory:
    context = _Builder(rng, pool)
    clinic_count, clinician_count = _sizes(patients)
    system_name = rng.choice(codes.SYSTEM_NAMES)
    system = _organization(context, system_name, context.hospital_place, None)
    city = context.hospital_place.city
    hospital = context.site(
        "hospital", f"{city} General Hospital", context.hospital_place, system["id"]
    )
    emergency = context.emergency(hospital, f"{city} General Hospital Emergency Department")
    clinics = []
    for place in _clinic_places(rng, context.hospital_place, clinic_count):
        name = rng.choice(codes.CLINIC_PATTERNS).format(city=place.city)
        clinics.append(context.site("clinic", name, place, system["id"]))
    clinicians = _clinicians(context, clinician_count, hospital, emergency, clinics)
    return Directory(
        system["id"], hospital, emergency, tuple(clinics), clinicians, tuple(context.resources)
    )


def _clinicians(
    context: _Builder, count: int, hospital: Site, emergency: Site, clinics: list[Site]
) -> tuple[Clinician, ...]:
    found: list[Clinician] = []
    roles: list[tuple[Resource, str, Site, str]] = []
    for index, specialty in enumerate(_specialty_plan(context.rng, count)):
        setting = SPECIALTIES[specialty].setting
        site = {"hospital": hospital, "ed": emergency}.get(setting, clinics[index % len(clinics)])
        doc, languages, role = _practitioner(context, specialty)
        roles.append((doc, specialty, site, role))
        if setting == "hospital" and chance(context.rng, 0.3):
            roles.append((doc, specialty, context.rng.choice(clinics), role))
        found.append(Clinician(doc["id"], specialty, site, languages))
    for doc, specialty, site, role in roles:
        _role(context, doc, specialty, site, role)
    return tuple(found)
