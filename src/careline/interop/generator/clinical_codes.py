"""Clinical code tables: problems, medications, observations, vaccines, procedures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .codes import TERMINOLOGY, V3_ACT, Code, rx, sct

CONDITION_CLINICAL = TERMINOLOGY + "condition-clinical"
CONDITION_VERIFICATION = TERMINOLOGY + "condition-ver-status"
CONDITION_CATEGORY = TERMINOLOGY + "condition-category"
CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
ASSESS_PLAN = Code(CAREPLAN_CATEGORY, "assess-plan", "Assessment and Plan of Treatment")

ENCOUNTER_CLASSES = {
    "AMB": Code(V3_ACT, "AMB", "ambulatory"),
    "EMER": Code(V3_ACT, "EMER", "emergency"),
    "IMP": Code(V3_ACT, "IMP", "inpatient encounter"),
    "VR": Code(V3_ACT, "VR", "virtual"),
}
ENCOUNTER_TYPES = {
    "wellness": sct("185349003", "Encounter for check up"),
    "well-child": sct("410620009", "Well child visit"),
    "followup": sct("390906007", "Follow-up encounter"),
    "acute": sct("185345009", "Encounter for symptom"),
    "emergency": sct("50849002", "Emergency room admission"),
    "inpatient": sct("32485007", "Hospital admission"),
    "virtual": sct("448337001", "Telemedicine consultation with patient"),
    "screening": sct("371883000", "Outpatient procedure"),
}
PRIMARY_PERFORMER = Code(TERMINOLOGY + "v3-ParticipationType", "PPRF", "primary performer")
ATTENDER = Code(TERMINOLOGY + "v3-ParticipationType", "ATND", "attender")
ADMIT_FROM_ED = Code(TERMINOLOGY + "admit-source", "emd", "From accident/emergency department")
DISCHARGE_HOME = Code(TERMINOLOGY + "discharge-disposition", "home", "Home")
DISCHARGE_EXPIRED = Code(TERMINOLOGY + "discharge-disposition", "exp", "Expired")


@dataclass(frozen=True)
class Medication:
    code: Code
    instruction: str
    per_day: int
    as_needed: bool = False


MEDICATIONS: dict[str, Medication] = {
    "metformin": Medication(
        rx("860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"),
        "Take 1 tablet (500 mg) by mouth once daily with the evening meal",
        1,
    ),
    "lisinopril": Medication(
        rx("314076", "lisinopril 10 MG Oral Tablet"), "Take 1 tablet (10 mg) by mouth once daily", 1
    ),
    "amlodipine": Medication(
        rx("197361", "amlodipine 5 MG Oral Tablet"), "Take 1 tablet (5 mg) by mouth once daily", 1
    ),
    "atorvastatin": Medication(
        rx("617312", "atorvastatin 20 MG Oral Tablet"),
        "Take 1 tablet (20 mg) by mouth once daily at bedtime",
        1,
    ),
    "albuterol": Medication(
        rx("745679", "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler"),
        "Inhale 2 puffs every 4 to 6 hours as needed for wheezing or shortness of breath",
        4,
        as_needed=True,
    ),
    "fluticasone": Medication(
        rx("895994", "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler"),
        "Inhale 2 puffs twice daily; rinse mouth after use",
        2,
    ),
    "sertraline": Medication(
        rx("312940", "sertraline 50 MG Oral Tablet"), "Take 1 tablet (50 mg) by mouth once daily", 1
    ),
    "amoxicillin": Medication(
        rx("308182", "amoxicillin 250 MG Oral Capsule"),
        "Take 2 capsules (500 mg) by mouth every 8 hours for 10 days",
        3,
    ),
    "azithromycin": Medication(
        rx("308460", "azithromycin 250 MG Oral Tablet"),
        "Take 2 tablets on day 1, then 1 tablet daily on days 2 to 5",
        1,
    ),
    "smx-tmp": Medication(
        rx("198335", "sulfamethoxazole 800 MG / trimethoprim 160 MG Oral Tablet"),
        "Take 1 tablet by mouth twice daily for 3 days",
        2,
    ),
    "ibuprofen": Medication(
        rx("310965", "ibuprofen 200 MG Oral Tablet"),
        "Take 2 tablets (400 mg) by mouth every 6 hours as needed for pain",
        4,
        as_needed=True,
    ),
    "acetaminophen": Medication(
        rx("313782", "acetaminophen 325 MG Oral Tablet"),
        "Take 2 tablets (650 mg) by mouth every 6 hours as needed for pain or fever",
        4,
        as_needed=True,
    ),
}
ORAL_ROUTE = sct("26643006", "Oral route")
INHALED_ROUTE = sct("447694001", "Respiratory tract route")


@dataclass(frozen=True)
class CarePlanSpec:
    category: Code
    title: str
    activities: tuple[Code, ...]


@dataclass(frozen=True)
class Chronic:
    """A chronic problem: risk by minimum age, follow-up rate and what it brings along."""

    key: str
    code: Code
    min_onset: int
    risk: tuple[tuple[int, float], ...]
    visits_per_year: float
    specialty: str | None
    meds: tuple[str, ...]
    labs: tuple[str, ...]
    careplan: CarePlanSpec | None = None


CAREPLANS = {
    "diabetes": CarePlanSpec(
        sct("698360004", "Diabetes self management plan"),
        "Diabetes self-management",
        (sct("160670007", "Diabetic diet"), sct("229065009", "Exercise therapy")),
    ),
    "hypertension": CarePlanSpec(
        sct("443402002", "Lifestyle education regarding hypertension"),
        "Blood pressure management",
        (
            sct("386463000", "Prescribed activity/exercise education"),
            sct("413473000", "Counseling about alcohol consumption"),
            sct("1151000175103", "Dietary approaches to stop hypertension diet"),
        ),
    ),
    "asthma": CarePlanSpec(
        sct("699728000", "Asthma self management"),
        "Asthma action plan",
        (sct("710081004", "Smoke-free environment"), sct("708409001", "Home nebulizer therapy")),
    ),
    "copd": CarePlanSpec(
        sct("412776001", "Chronic obstructive pulmonary disease clinical management plan"),
        "COPD management",
        (sct("15081005", "Pulmonary rehabilitation"), sct("710081004", "Smoke-free environment")),
    ),
}

CHRONIC: tuple[Chronic, ...] = (
    Chronic(
        "hypertension",
        sct("38341003", "Hypertensive disorder, systemic arterial"),
        25,
        ((30, 0.12), (45, 0.35), (65, 0.58)),
        2.0,
        "cardiology",
        ("lisinopril",),
        ("egfr",),
        CAREPLANS["hypertension"],
    ),
    Chronic(
        "hyperlipidemia",
        sct("55822004", "Hyperlipidemia"),
        30,
        ((35, 0.12), (45, 0.28), (65, 0.4)),
        1.0,
        "cardiology",
        ("atorvastatin",),
        ("cholesterol", "ldl"),
    ),
    Chronic(
        "diabetes",
        sct("44054006", "Diabetes mellitus type 2"),
        30,
        ((35, 0.06), (45, 0.14), (65, 0.24)),
        3.0,
        "endocrinology",
        ("metformin",),
        ("hba1c", "glucose", "egfr"),
        CAREPLANS["diabetes"],
    ),
    Chronic(
        "obesity",
        sct("162864005", "Body mass index 30+ - obesity"),
        12,
        ((12, 0.15), (20, 0.3)),
        0.5,
        None,
        (),
        (),
    ),
    Chronic(
        "asthma",
        sct("195967001", "Asthma"),
        3,
        ((3, 0.08),),
        1.5,
        None,
        ("albuterol", "fluticasone"),
        (),
        CAREPLANS["asthma"],
    ),
    Chronic(
        "copd",
        sct("13645005", "Chronic obstructive lung disease"),
        50,
        ((55, 0.07), (70, 0.1)),
        2.0,
        None,
        ("albuterol",),
        (),
        CAREPLANS["copd"],
    ),
    Chronic(
        "ckd3",
        sct("433144002", "Chronic kidney disease stage 3"),
        50,
        ((60, 0.06), (70, 0.12)),
        2.0,
        None,
        (),
        ("egfr",),
    ),
    Chronic(
        "depression",
        sct("35489007", "Depressive disorder"),
        14,
        ((14, 0.09),),
        3.0,
        None,
        ("sertraline",),
        (),
    ),
)


@dataclass(frozen=True)
class Acute:
    """An acute problem, which visit kinds it shows up in, and how it is treated."""

    key: str
    code: Code
    ages: tuple[int, int]
    kinds: tuple[str, ...]
    days: tuple[int, int]
    meds: tuple[str, ...] = ()
    procedure: str | None = None
    since: date | None = None
    specialty: str | None = None


ACUTE: tuple[Acute, ...] = (
    Acute("sinusitis", sct("444814009", "Viral sinusitis"), (2, 99), ("acute", "virtual"), (7, 21)),
    Acute(
        "pharyngitis",
        sct("195662009", "Acute viral pharyngitis"),
        (2, 99),
        ("acute", "virtual"),
        (5, 10),
        ("acetaminophen",),
    ),
    Acute(
        "strep",
        sct("43878008", "Streptococcal sore throat"),
        (3, 60),
        ("acute",),
        (7, 10),
        ("amoxicillin",),
    ),
    Acute("bronchitis", sct("10509002", "Acute bronchitis"), (5, 99), ("acute",), (10, 21)),
    Acute(
        "otitis",
        sct("65363002", "Otitis media"),
        (0, 10),
        ("acute",),
        (5, 14),
        ("amoxicillin",),
    ),
    Acute(
        "uti",
        sct("68566005", "Urinary tract infectious disease"),
        (16, 99),
        ("acute", "virtual"),
        (3, 10),
        ("smx-tmp",),
    ),
    Acute(
        "sprain",
        sct("44465007", "Sprain of ankle"),
        (8, 80),
        ("acute", "emergency"),
        (14, 42),
        ("ibuprofen",),
        specialty="orthopedics",
    ),
    Acute(
        "fracture",
        sct("65966004", "Fracture of forearm"),
        (4, 99),
        ("emergency",),
        (42, 90),
        ("acetaminophen",),
        "xray",
        specialty="orthopedics",
    ),
    Acute(
        "laceration",
        sct("284551006", "Laceration of foot"),
        (3, 90),
        ("emergency",),
        (10, 21),
        (),
        "suture",
    ),
    Acute(
        "concussion",
        sct("62106007", "Concussion with no loss of consciousness"),
        (5, 90),
        ("emergency",),
        (7, 30),
        ("acetaminophen",),
        "ct-head",
    ),
    Acute("chest-pain", sct("29857009", "Chest pain"), (30, 99), ("emergency",), (1, 3), (), "ecg"),
    Acute(
        "pneumonia",
        sct("233604007", "Pneumonia"),
        (0, 99),
        ("emergency", "inpatient"),
        (14, 28),
        ("azithromycin",),
        "chest-xray",
    ),
    Acute(
        "covid",
        sct("840539006", "Disease caused by severe acute respiratory syndrome coronavirus 2"),
        (0, 99),
        ("acute", "virtual", "emergency", "inpatient"),
        (10, 21),
        ("acetaminophen",),
        since=date(2020, 3, 1),
    ),
    Acute(
        "back-pain",
        sct("279039007", "Low back pain"),
        (18, 99),
        ("acute", "virtual"),
        (7, 42),
        ("ibuprofen",),
    ),
)
COPD_EXACERBATION = Acute(
    "copd-exacerbation",
    sct("195951007", "Acute exacerbation of chronic obstructive airways disease"),
    (40, 99),
    ("emergency", "inpatient"),
    (10, 21),
    ("albuterol",),
    "nebulizer",
)

PROCEDURES: dict[str, Code] = {
    "xray": sct("168537006", "Plain radiography"),
    "chest-xray": sct("399208008", "Plain chest X-ray"),
    "suture": sct("288086009", "Suture open wound"),
    "ct-head": sct("303653007", "Computed tomography of head"),
    "ecg": sct("29303009", "Electrocardiographic procedure"),
    "nebulizer": sct("56251003", "Nebulizer therapy"),
    "spirometry": sct("127783003", "Spirometry"),
    "foot-exam": sct("401191002", "Diabetic foot examination"),
    "med-reconciliation": sct("430193006", "Medication reconciliation"),
    "depression-screening": sct("171207006", "Depression screening"),
    "mammography": sct("268547008", "Screening for malignant neoplasm of breast"),
    "colonoscopy": sct("73761001", "Colonoscopy"),
}
FOLLOWUP_PROCEDURES = {"hypertension": "ecg", "asthma": "spirometry", "copd": "spirometry"}
FOLLOWUP_PROCEDURES["diabetes"] = "foot-exam"
