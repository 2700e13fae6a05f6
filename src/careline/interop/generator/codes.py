"""Code systems and code tables used by the synthetic FHIR generator.

Codes come from public terminologies (SNOMED CT, LOINC, RxNorm, CVX, NUCC, HL7).
Displays are human-readable labels; the generator never claims terminology-server
validated displays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
NUCC = "http://nucc.org/provider-taxonomy"
BCP47 = "urn:ietf:bcp:47"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
DEMO_MRN_SYSTEM = "urn:oid:2.16.840.1.113883.19.5"
CONSENT_PURPOSE_SYSTEM = "https://careline.health/fhir/CodeSystem/consent-purpose"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
V2_0203 = TERMINOLOGY + "v2-0203"
V2_0131 = TERMINOLOGY + "v2-0131"
V2_0360 = TERMINOLOGY + "v2-0360/2.7"
V3_ROLE = TERMINOLOGY + "v3-RoleCode"
V3_ACT = TERMINOLOGY + "v3-ActCode"
V3_MARITAL = TERMINOLOGY + "v3-MaritalStatus"
V3_PARTICIPATION = TERMINOLOGY + "v3-ParticipationType"
V3_INTERPRETATION = TERMINOLOGY + "v3-ObservationInterpretation"
OBS_CATEGORY = TERMINOLOGY + "observation-category"
US_CORE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-category"
EXT_INTERPRETER = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"
EXT_GEOLOCATION = "http://hl7.org/fhir/StructureDefinition/geolocation"


@dataclass(frozen=True)
class Code:
    """One code of one code system."""

    system: str
    code: str
    display: str

    def coding(self) -> dict[str, Any]:
        return {"system": self.system, "code": self.code, "display": self.display}

    def concept(self, text: str | None = None) -> dict[str, Any]:
        return {"coding": [self.coding()], "text": text or self.display}


def sct(code: str, display: str) -> Code:
    return Code(SNOMED, code, display)


def loinc(code: str, display: str) -> Code:
    return Code(LOINC, code, display)


def rx(code: str, display: str) -> Code:
    return Code(RXNORM, code, display)


# --- people -----------------------------------------------------------------


@dataclass(frozen=True)
class Culture:
    """A naming culture with its language and how often its speakers prefer English."""

    language: str
    display: str
    weight: float
    english_preferred: float


CULTURES: tuple[Culture, ...] = (
    Culture("en", "English", 60.0, 1.0),
    Culture("es", "Spanish", 13.0, 0.35),
    Culture("pt", "Portuguese", 5.0, 0.35),
    Culture("zh", "Chinese", 4.0, 0.3),
    Culture("vi", "Vietnamese", 3.0, 0.3),
    Culture("ht", "Haitian Creole", 3.0, 0.3),
    Culture("ar", "Arabic", 2.0, 0.35),
    Culture("ru", "Russian", 2.0, 0.35),
    Culture("hi", "Hindi", 2.0, 0.6),
    Culture("fr", "French", 1.5, 0.5),
    Culture("ko", "Korean", 1.5, 0.35),
    Culture("pl", "Polish", 1.0, 0.4),
)
LANGUAGES = {c.language: c.display for c in CULTURES}

AR_MALE: tuple[str, ...] = (
    "Ahmed",
    "Mohamed",
    "Omar",
    "Youssef",
    "Khaled",
    "Hassan",
    "Ali",
    "Ibrahim",
)
AR_MALE += ("Mahmoud", "Mustafa", "Karim", "Tariq", "Samir", "Hamza", "Bilal", "Nabil")
AR_FEMALE: tuple[str, ...] = (
    "Fatima",
    "Aisha",
    "Mariam",
    "Layla",
    "Nour",
    "Yasmin",
    "Huda",
    "Salma",
)
AR_FEMALE += ("Rania", "Amira", "Hana", "Zainab", "Leila", "Samira", "Dina", "Reem")
AR_FAMILY: tuple[str, ...] = (
    "Haddad",
    "Khoury",
    "Nasser",
    "Saleh",
    "Hamdan",
    "Mansour",
    "Aziz",
    "El-Amin",
)
AR_FAMILY += ("Abdallah", "Farah", "Hussein", "Said", "Suleiman", "Qasim", "Al-Masri", "Darwish")
KO_MALE: tuple[str, ...] = (
    "Min-jun",
    "Seo-jun",
    "Ji-ho",
    "Jun-seo",
    "Hyun-woo",
    "Do-yoon",
    "Sung-min",
)
KO_MALE += ("Jae-won", "Dong-hyun", "Young-ho", "Sang-woo", "Jin-woo")
KO_FEMALE: tuple[str, ...] = (
    "Seo-yeon",
    "Ji-woo",
    "Min-seo",
    "Ha-eun",
    "Soo-jin",
    "Ji-young",
    "Eun-ji",
)
KO_FEMALE += ("Hye-jin", "Yoon-ah", "Mi-kyung", "Su-bin", "Ye-jin")
KO_FAMILY: tuple[str, ...] = (
    "Kim",
    "Kim",
    "Kim",
    "Lee",
    "Lee",
    "Park",
    "Choi",
    "Jung",
    "Kang",
    "Cho",
)
KO_FAMILY += ("Yoon", "Jang", "Lim", "Han", "Oh", "Seo", "Shin", "Kwon")
HT_FAMILY: tuple[str, ...] = ("Jean-Baptiste", "Pierre", "Joseph", "Louis", "Charles", "Jean-Louis")
HT_FAMILY += ("Saint-Fleur", "Desir", "Dorvil", "Toussaint", "Francois", "Etienne")
HT_FAMILY += ("Celestin", "Augustin", "Alexis", "Pierre-Louis", "Noel", "Laguerre")
EN_SUFFIXES = ("Jr.", "Sr.", "II", "III")

MARITAL = {
    "S": Code(V3_MARITAL, "S", "Never Married"),
    "M": Code(V3_MARITAL, "M", "Married"),
    "D": Code(V3_MARITAL, "D", "Divorced"),
    "W": Code(V3_MARITAL, "W", "Widowed"),
    "L": Code(V3_MARITAL, "L", "Legally Separated"),
    "UNK": Code(TERMINOLOGY + "v3-NullFlavor", "UNK", "unknown"),
}

RELATION = {
    "CGV": Code(V3_ROLE, "CGV", "caregiver"),
    "SPS": Code(V3_ROLE, "SPS", "spouse"),
    "DAU": Code(V3_ROLE, "DAU", "natural daughter"),
    "SON": Code(V3_ROLE, "SON", "natural son"),
    "MTH": Code(V3_ROLE, "MTH", "mother"),
    "FTH": Code(V3_ROLE, "FTH", "father"),
    "FRND": Code(V3_ROLE, "FRND", "unrelated friend"),
}
EMERGENCY_CONTACT = Code(V2_0131, "C", "Emergency Contact")
MRN_TYPE = Code(V2_0203, "MR", "Medical record number")
SSN_TYPE = Code(V2_0203, "SS", "Social Security number")
NPI_TYPE = Code(V2_0203, "NPI", "National provider identifier")

# --- directory ----------------------------------------------------------------


@dataclass(frozen=True)
class Specialty:
    """A clinical specialty with its NUCC taxonomy and SNOMED CT codes."""

    key: str
    nucc: Code
    snomed: Code
    weight: float
    setting: str  # "clinic", "hospital" or "ed"

    def concept(self) -> dict[str, Any]:
        codings = [self.nucc.coding(), self.snomed.coding()]
        return {"coding": codings, "text": self.snomed.display}


def _spec(key: str, nucc: str, snomed: str, display: str, weight: float, setting: str) -> Specialty:
    return Specialty(key, Code(NUCC, nucc, display), sct(snomed, display), weight, setting)


SPECIALTIES: dict[str, Specialty] = {
    s.key: s
    for s in (
        _spec("family", "207Q00000X", "419772000", "Family medicine", 30, "clinic"),
        _spec("pediatrics", "208000000X", "394537008", "Pediatrics", 14, "clinic"),
        _spec("internal", "207R00000X", "419192003", "Internal medicine", 20, "clinic"),
        _spec("cardiology", "207RC0000X", "394579002", "Cardiology", 6, "hospital"),
        _spec("obgyn", "207V00000X", "394586005", "Obstetrics and gynecology", 8, "clinic"),
        _spec("emergency", "207P00000X", "773568002", "Emergency medicine", 7, "ed"),
        _spec("radiology", "2085R0202X", "394914008", "Radiology", 5, "hospital"),
        _spec("orthopedics", "207X00000X", "394801008", "Trauma and orthopedics", 5, "hospital"),
        _spec("endocrinology", "207RE0101X", "394583002", "Endocrinology", 4, "hospital"),
    )
}
PRIMARY_CARE = ("family", "internal", "pediatrics")
ORG_TYPE_PROVIDER = Code(TERMINOLOGY + "organization-type", "prov", "Healthcare Provider")
ROLE_DOCTOR = Code(TERMINOLOGY + "practitioner-role", "doctor", "Doctor")
ROLE_NURSE = Code(TERMINOLOGY + "practitioner-role", "nurse", "Nurse")
DEGREES = {
    "MD": Code(V2_0360, "MD", "Doctor of Medicine"),
    "DO": Code(V2_0360, "DO", "Doctor of Osteopathy"),
    "NP": Code(V2_0360, "NP", "Nurse practitioner"),
}
LOCATION_TYPES = {
    "clinic": Code(V3_ROLE, "FMC", "Family Medicine Clinic"),
    "hospital": Code(V3_ROLE, "HOSP", "Hospital"),
    "ed": Code(V3_ROLE, "ER", "Emergency room"),
}
BUILDING = Code(TERMINOLOGY + "location-physical-type", "bu", "Building")
WING = Code(TERMINOLOGY + "location-physical-type", "wi", "Wing")
SYSTEM_NAMES = (
    "Commonwealth Community Health",
    "Harbor & Hills Health System",
    "Minuteman Health Partners",
    "Seacoast Regional Health",
    "Bay Colony Health Alliance",
)
CLINIC_PATTERNS = (
    "{city} Family Health Center",
    "{city} Primary Care",
    "{city} Community Health Center",
    "{city} Medical Associates",
)

# --- coverage, consent, social needs -----------------------------------------


@dataclass(frozen=True)
class Payer:
    """A payer with its plans; kind is "commercial", "medicare" or "medicaid"."""

    name: str
    kind: str
    plans: tuple[tuple[str, str], ...]
    member_prefix: str
    states: tuple[str, ...] = ("MA", "RI", "NH")


PAYERS: tuple[Payer, ...] = (
    Payer(
        "Blue Cross Blue Shield of Massachusetts",
        "commercial",
        (("BC-PPO", "Blue Care Elect PPO"), ("BC-HMO", "HMO Blue")),
        "XKM",
        ("MA",),
    ),
    Payer(
        "Blue Cross & Blue Shield of Rhode Island",
        "commercial",
        (("BCRI-VB", "VantageBlue"), ("BCRI-BD", "BlueSolutions")),
        "ZRI",
        ("RI",),
    ),
    Payer("Aetna", "commercial", (("AET-POS", "Choice POS II"), ("AET-OA", "Open Access")), "W"),
    Payer(
        "UnitedHealthcare",
        "commercial",
        (("UHC-CP", "Choice Plus"), ("UHC-NAV", "Navigate HMO")),
        "9",
    ),
    Payer("Cigna", "commercial", (("CI-OAP", "Open Access Plus"), ("CI-LP", "LocalPlus")), "U"),
    Payer(
        "Harvard Pilgrim",
        "commercial",
        (("HP-HMO", "HMO"), ("HP-PPO", "PPO")),
        "HP",
        ("MA", "NH"),
    ),
    Payer(
        "Tufts Health Plan",
        "commercial",
        (("TH-NAV", "Navigator"), ("TH-DIR", "Tufts Health Direct")),
        "TH",
        ("MA", "RI"),
    ),
    Payer("Medicare Part B", "medicare", (("MCR-B", "Original Medicare Part B"),), ""),
    Payer(
        "MassHealth (Medicaid)",
        "medicaid",
        (("MH-STD", "MassHealth Standard"), ("MH-CH", "MassHealth CommonHealth")),
        "",
        ("MA",),
    ),
    Payer("RIte Care (Medicaid)", "medicaid", (("RI-RC", "RIte Care"),), "", ("RI",)),
    Payer(
        "NH Medicaid",
        "medicaid",
        (("NH-MC", "NH Medicaid Care Management"),),
        "",
        ("NH",),
    ),
)
COVERAGE_CLASS = TERMINOLOGY + "coverage-class"
SUBSCRIBER_RELATIONSHIP = TERMINOLOGY + "subscriber-relationship"
COVERAGE_TYPES = {
    "commercial": Code(V3_ACT, "HIP", "health insurance plan policy"),
    "medicare": Code(V3_ACT, "PUBLICPOL", "public healthcare"),
    "medicaid": Code(V3_ACT, "PUBLICPOL", "public healthcare"),
}

CONSENT_SCOPE = Code(TERMINOLOGY + "consentscope", "patient-privacy", "Privacy Consent")
CONSENT_CATEGORY = loinc("59284-0", "Patient Consent")
POLICY_NOPP = Code(V3_ACT, "NOPP", "notice of privacy practices")
POLICY_OPTIN = Code(V3_ACT, "OPTIN", "opt-in")
POLICY_OPTOUT = Code(V3_ACT, "OPTOUT", "opt-out")
CONSENT_ACTION = Code(TERMINOLOGY + "consentaction", "use", "Use")
CONSENT_PURPOSES: dict[str, Code] = {
    key: Code(CONSENT_PURPOSE_SYSTEM, key, display)
    for key, display in (
        ("hipaa-notice", "HIPAA notice of privacy practices acknowledged"),
        ("sms", "Appointment reminders and messages by SMS"),
        ("email", "Messages by email"),
        ("voice", "Automated voice calls"),
        ("marketing", "Marketing and newsletters"),
        ("research", "Contact about research studies"),
        ("portal", "Patient portal access"),
    )
}

SOCIAL_HISTORY = Code(OBS_CATEGORY, "social-history", "Social History")
SDOH_CATEGORY = Code(US_CORE_CATEGORY, "sdoh", "SDOH")
ANSWER_YES = loinc("LA33-6", "Yes")
ANSWER_NO = loinc("LA32-8", "No")


@dataclass(frozen=True)
class SocialNeed:
    """A screening question with the answer meaning "has the need" and the one meaning not."""

    key: str
    question: Code
    positive: Code
    negative: Code
    prevalence: float


TRANSPORTATION = SocialNeed(
    "transportation",
    loinc(
        "93030-5",
        "Has lack of transportation kept you from medical appointments, meetings, work, "
        "or from getting things you need for daily living?",
    ),
    ANSWER_YES,
    ANSWER_NO,
    0.12,
)
FOOD = SocialNeed(
    "food",
    loinc("88124-3", "Food insecurity risk [HVS]"),
    loinc("LA19952-3", "At risk"),
    loinc("LA19983-8", "No risk"),
    0.15,
)
HOUSING = SocialNeed(
    "housing",
    loinc("71802-3", "Housing status"),
    loinc("LA30191-3", "I do not have housing"),
    loinc("LA30190-5", "I have housing"),
    0.06,
)
