"""Immunization (CVX) and allergy (SNOMED CT) code tables."""

from __future__ import annotations

from dataclasses import dataclass

from .codes import CVX, TERMINOLOGY, Code, sct

ALLERGY_CLINICAL = TERMINOLOGY + "allergyintolerance-clinical"
ALLERGY_VERIFICATION = TERMINOLOGY + "allergyintolerance-verification"


def cvx(code: str, display: str) -> Code:
    return Code(CVX, code, display)


VACCINES: dict[str, Code] = {
    "flu": cvx("140", "Influenza, seasonal, injectable, preservative free"),
    "covid-pfizer": cvx("208", "SARS-COV-2 (COVID-19) vaccine, mRNA, 30 mcg/0.3 mL dose"),
    "covid-moderna": cvx("207", "SARS-COV-2 (COVID-19) vaccine, mRNA, 100 mcg/0.5 mL dose"),
    "tdap": cvx("115", "Tdap"),
    "pneumococcal": cvx("33", "pneumococcal polysaccharide vaccine, 23 valent"),
    "zoster-live": cvx("121", "zoster vaccine, live"),
    "zoster-recombinant": cvx("187", "zoster vaccine recombinant"),
    "hepb": cvx("08", "Hep B, adolescent or pediatric"),
    "dtap": cvx("20", "DTaP"),
    "mmr": cvx("03", "MMR"),
    "varicella": cvx("21", "varicella"),
}
VACCINE_ROUTE = Code(TERMINOLOGY + "v3-RouteOfAdministration", "IM", "Injection, intramuscular")
VACCINE_SITES = (
    Code(TERMINOLOGY + "v3-ActSite", "LA", "left arm"),
    Code(TERMINOLOGY + "v3-ActSite", "RA", "right arm"),
)
ADMINISTERING = Code(TERMINOLOGY + "v2-0443", "AP", "Administering Provider")
PATIENT_OBJECTION = Code(TERMINOLOGY + "v3-ActReason", "PATOBJ", "patient objection")
RECORD_ORIGIN = Code(TERMINOLOGY + "immunization-origin", "record", "Written Record")


@dataclass(frozen=True)
class Allergy:
    key: str
    code: Code
    category: str
    weight: float
    reactions: tuple[Code, ...]
    high_risk: float
    text: str | None = None


ANAPHYLAXIS = sct("39579001", "Anaphylaxis")
HIVES = sct("126485001", "Urticaria")
RASH = sct("271807003", "Eruption of skin")
ANGIOEDEMA = sct("41291007", "Angioedema")
WHEEZING = sct("56018004", "Wheezing")
ITCHING = sct("418290006", "Itching")
ALLERGIES: tuple[Allergy, ...] = (
    Allergy(
        "penicillin",
        sct("91936005", "Allergy to penicillin"),
        "medication",
        35,
        (HIVES, RASH, ANAPHYLAXIS),
        0.2,
    ),
    Allergy(
        "contrast",
        sct("293637006", "Allergy to contrast media"),
        "medication",
        15,
        (ANAPHYLAXIS, HIVES, ANGIOEDEMA),
        0.5,
        "Iodinated contrast media",
    ),
    Allergy(
        "peanut",
        sct("91935009", "Allergy to peanut"),
        "food",
        15,
        (ANAPHYLAXIS, HIVES, ANGIOEDEMA),
        0.5,
    ),
    Allergy(
        "latex",
        sct("300916003", "Latex allergy"),
        "environment",
        10,
        (RASH, ITCHING, WHEEZING),
        0.1,
    ),
    Allergy(
        "shellfish",
        sct("300913006", "Shellfish allergy"),
        "food",
        15,
        (HIVES, ANGIOEDEMA, ANAPHYLAXIS),
        0.3,
    ),
)
NO_KNOWN_ALLERGY = sct("716186003", "No known allergy")
