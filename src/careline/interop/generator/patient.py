"""Patient demographics: who the patient is, where they live, and who cares for them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from . import codes, geo
from .codes import Culture
from .common import (
    REFERENCE_DATE,
    Resource,
    add_years,
    at_time,
    chance,
    directory_ref,
    fhir_date,
    fhir_datetime,
    format_phone,
    new_id,
    phone_number,
    random_day,
    weighted,
    years_between,
)
from .directory import Clinician, Directory
from .names import FakerPool, Name, draw_name, email_for

AGE_BANDS = (
    ((0, 0), 0.04),
    ((1, 17), 0.18),
    ((18, 44), 0.34),
    ((45, 64), 0.25),
    ((65, 79), 0.13),
    ((80, 95), 0.06),
)
GENDERS = (("male", 48.5), ("female", 48.5), ("other", 1.5), ("unknown", 1.5))
MARITAL_BY_AGE = (
    (65, (("M", 50.0), ("W", 28.0), ("D", 14.0), ("S", 8.0))),
    (50, (("M", 60.0), ("D", 20.0), ("S", 15.0), ("W", 5.0))),
    (30, (("M", 55.0), ("S", 30.0), ("D", 12.0), ("L", 3.0))),
    (18, (("S", 75.0), ("M", 22.0), ("D", 3.0))),
)


@dataclass(frozen=True)
class Caregiver:
    resource: Resource
    relationship: str


@dataclass
class PatientContext:
    """Everything later steps need to know about one patient."""

    rng: random.Random
    pool: FakerPool
    directory: Directory
    id: str
    culture: Culture
    language: str
    sex: str
    gender: str
    birth: date
    death: datetime | None
    name: Name
    home: geo.Place
    pcp: Clinician
    medicaid: bool
    marital: str | None = None
    email: str | None = None
    mobile: bool = False
    caregivers: list[Caregiver] = field(default_factory=list)

    @property
    def end(self) -> date:
        """Last day the patient can have records: the day of death, else the reference date."""
        return self.death.date() if self.death else REFERENCE_DATE

    def age(self, on: date | None = None) -> int:
        return years_between(self.birth, on or self.end)

    def ref(self) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self.id}"}

    def phone(self) -> str:
        return phone_number(self.rng, self.rng.choice(self.home.area_codes))


def _birth_date(rng: random.Random) -> date:
    low, high = weighted(rng, AGE_BANDS)
    age = rng.randint(low, high)
    latest = add_years(REFERENCE_DATE, -age) - timedelta(days=7)
    return random_day(rng, add_years(latest, -1) + timedelta(days=1), latest)


def _death(rng: random.Random, birth: date) -> datetime | None:
    age = years_between(birth, REFERENCE_DATE)
    risk = 0.005 if age < 18 else 0.012 if age < 65 else 0.1 if age < 80 else 0.2
    if not chance(rng, risk):
        return None
    earliest = max(birth + timedelta(days=60), REFERENCE_DATE - timedelta(days=3 * 365))
    return at_time(rng, random_day(rng, earliest, REFERENCE_DATE - timedelta(days=20)), 0, 23)


def _primary_care(rng: random.Random, directory: Directory, age: int) -> Clinician:
    if age < 18:
        wanted = weighted(rng, ((("pediatrics",), 0.8), (("family",), 0.2)))
    else:
        wanted = weighted(rng, ((("family",), 0.6), (("internal",), 0.4)))
    return directory.pick(rng, wanted)


def new_patient(rng: random.Random, pool: FakerPool, directory: Directory) -> PatientContext:
    culture = weighted(rng, [(c, c.weight) for c in codes.CULTURES])
    speaks_english = culture.language == "en" or chance(rng, culture.english_preferred)
    gender = weighted(rng, GENDERS)
    sex = gender if gender in ("male", "female") else rng.choice(("male", "female"))
    birth = _birth_date(rng)
    age = years_between(birth, REFERENCE_DATE)
    pcp = _primary_care(rng, directory, age)
    home = rng.choice(geo.nearby(pcp.site.place))
    return PatientContext(
        rng=rng,
        pool=pool,
        directory=directory,
        id=new_id(rng),
        culture=culture,
        language="en" if speaks_english else culture.language,
        sex=sex,
        gender=gender,
        birth=birth,
        death=_death(rng, birth),
        name=draw_name(pool, rng, culture.language, sex),
        home=home,
        pcp=pcp,
        medicaid=chance(rng, 0.35 if age < 18 else 0.15 if age < 65 else 0.1),
    )


# --- the Patient resource ----------------------------------------------------------


def language_concept(code: str) -> dict[str, Any]:
    display = codes.LANGUAGES[code]
    return {"coding": [{"system": codes.BCP47, "code": code, "display": display}], "text": display}


def _communication(context: PatientContext) -> list[dict[str, Any]]:
    spoken = [context.language]
    if context.culture.language not in spoken and chance(context.rng, 0.6):
        spoken.append(context.culture.language)
    elif context.language != "en" and chance(context.rng, 0.4):
        spoken.append("en")
    return [
        {"language": language_concept(code), "preferred": True}
        if i == 0
        else {"language": language_concept(code)}
        for i, code in enumerate(spoken)
    ]


def _interpreter(context: PatientContext) -> list[dict[str, Any]]:
    if context.language == "en":
        return []
    needed = chance(context.rng, 0.85 if context.age() >= 65 else 0.7)
    return [{"url": codes.EXT_INTERPRETER, "valueBoolean": needed}]


def _identifiers(context: PatientContext, mrn: str, ssn: str) -> list[dict[str, Any]]:
    found = [
        {
            "use": "usual",
            "type": codes.MRN_TYPE.concept(),
            "system": codes.DEMO_MRN_SYSTEM,
            "value": mrn,
            "assigner": directory_ref("Organization", context.directory.system_id),
        }
    ]
    if context.age() >= 18 and chance(context.rng, 0.7):
        found.append(
            {
                "use": "official",
                "type": codes.SSN_TYPE.concept(),
                "system": codes.SSN_SYSTEM,
                "value": ssn,
            }
        )
    return found


def _telecom(context: PatientContext) -> list[dict[str, Any]]:
    rng, age = context.rng, context.age()
    context.mobile = chance(rng, 0.9) if age >= 18 else age >= 13 and chance(rng, 0.5)
    has_home = age < 18 or chance(rng, 0.45) or not context.mobile
    found: list[dict[str, Any]] = []
    if context.mobile:
        found.append(
            {
                "system": "phone",
                "value": format_phone(rng, context.phone()),
                "use": "mobile",
                "rank": 1,
            }
        )
    if has_home:
        found.append(
            {"system": "phone", "value": format_phone(rng, context.phone()), "use": "home"}
        )
    if age >= 18 and chance(rng, 0.85 if age < 75 else 0.5):
        context.email = email_for(rng, context.name)
        found.append({"system": "email", "value": context.email, "use": "home"})
    return found


def home_address(context: PatientContext) -> dict[str, Any]:
    rng = context.rng
    street = f"{rng.randint(1, 399)} {context.pool.seeded('en_US', rng).street_name()}"
    lines = [street]
    if chance(rng, 0.35):
        lines.append(
            rng.choice(("Apt ", "Apt. ", "Unit ", "#")) + f"{rng.randint(1, 6)}{rng.choice('ABCD')}"
        )
    address = context.home.address(lines, "home")
    latitude = round(context.home.latitude + rng.uniform(-0.01, 0.01), 6)
    longitude = round(context.home.longitude + rng.uniform(-0.01, 0.01), 6)
    return {"extension": [geo.geolocation(latitude, longitude)], **address}


def _marital(context: PatientContext) -> str | None:
    age = context.age()
    for min_age, table in MARITAL_BY_AGE:
        if age >= min_age:
            return "UNK" if chance(context.rng, 0.03) else weighted(context.rng, table)
    return None


def patient_resource(context: PatientContext, mrn: str, ssn: str) -> Resource:
    """The Patient; also notes on context the marital status, mobile phone and email it drew."""
    patient: Resource = {"resourceType": "Patient", "id": context.id}
    if extension := _interpreter(context):
        patient["extension"] = extension
    patient |= {"identifier": _identifiers(context, mrn, ssn), "active": True}
    patient |= {
        "name": context.name.human_names(),
        "telecom": _telecom(context),
        "gender": context.gender,
    }
    patient["birthDate"] = fhir_date(context.birth)
    if context.death:
        patient["deceasedDateTime"] = fhir_datetime(context.death)
    patient["address"] = [home_address(context)]
    context.marital = _marital(context)
    if context.marital:
        patient["maritalStatus"] = codes.MARITAL[context.marital].concept()
    patient["communication"] = _communication(context)
    patient["generalPractitioner"] = [directory_ref("Practitioner", context.pcp.id)]
    patient["managingOrganization"] = directory_ref(
        "Organization", context.pcp.site.organization_id
    )
    return patient


# --- caregivers --------------------------------------------------------------------


def _caregiver_plan(context: PatientContext) -> list[str]:
    rng, age = context.rng, context.age()
    if age < 18:
        if not chance(rng, 0.85):
            return []
        first = weighted(rng, (("MTH", 0.75), ("FTH", 0.25)))
        return [first, "FTH" if first == "MTH" else "MTH"] if chance(rng, 0.45) else [first]
    if age >= 65:
        if not chance(rng, 0.5):
            return []
        options = [("DAU", 3.0), ("SON", 2.0), ("CGV", 1.5), ("FRND", 0.5)]
        if context.marital == "M":
            options.append(("SPS", 4.0))
        return [weighted(rng, options)] + (["CGV"] if age >= 80 and chance(rng, 0.3) else [])
    if not chance(rng, 0.1):
        return []
    return [
        "SPS"
        if context.marital == "M"
        else weighted(rng, (("FRND", 2.0), ("MTH", 1.0), ("FTH", 1.0)))
    ]


def _relative_sex(context: PatientContext, relationship: str) -> str:
    fixed = {"MTH": "female", "DAU": "female", "FTH": "male", "SON": "male"}
    if relationship in fixed:
        return fixed[relationship]
    if relationship == "SPS":
        return "female" if context.sex == "male" and chance(context.rng, 0.95) else "male"
    return context.rng.choice(("male", "female"))


def _relative_name(context: PatientContext, relationship: str, sex: str) -> Name:
    rng, language = context.rng, context.culture.language
    if relationship in ("CGV", "FRND"):
        other = weighted(rng, [(c.language, c.weight) for c in codes.CULTURES])
        return draw_name(context.pool, rng, other, sex)
    shares_family = relationship in ("MTH", "FTH", "SON") or chance(rng, 0.6)
    return draw_name(
        context.pool, rng, language, sex, context.name.family if shares_family else None
    )


def _caregiver(
    context: PatientContext, relationship: str, emergency: bool, address: dict[str, Any]
) -> Caregiver:
    rng = context.rng
    sex = _relative_sex(context, relationship)
    name = _relative_name(context, relationship, sex)
    person: Resource = {"resourceType": "RelatedPerson", "id": new_id(rng), "active": True}
    person["patient"] = context.ref()
    person["relationship"] = [codes.RELATION[relationship].concept()]
    if emergency:
        person["relationship"].append(codes.EMERGENCY_CONTACT.concept())
    person |= {"name": name.human_names(), "gender": sex}
    telecom = [{"system": "phone", "value": format_phone(rng, context.phone()), "use": "mobile"}]
    if chance(rng, 0.4):
        telecom.append({"system": "email", "value": email_for(rng, name), "use": "home"})
    person["telecom"] = telecom
    if relationship in ("MTH", "FTH"):
        parent_age = rng.randint(19, 42)
        person["birthDate"] = fhir_date(
            add_years(context.birth, -parent_age) - timedelta(days=rng.randint(0, 364))
        )
    if relationship in ("MTH", "FTH", "SPS"):
        person["address"] = [{key: value for key, value in address.items() if key != "extension"}]
    return Caregiver(person, relationship)


def caregivers(context: PatientContext, patient: Resource) -> list[Resource]:
    plan = _caregiver_plan(context)
    address = patient["address"][0]
    for index, relationship in enumerate(plan):
        emergency = index == 0 and chance(context.rng, 0.8)
        context.caregivers.append(_caregiver(context, relationship, emergency, address))
    return [c.resource for c in context.caregivers]


def guardian(context: PatientContext) -> Caregiver | None:
    """The parent who signs for a minor, if the record has one."""
    parents = [c for c in context.caregivers if c.relationship in ("MTH", "FTH")]
    return parents[0] if parents and context.age() < 18 else None
