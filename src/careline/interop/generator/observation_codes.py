"""Observation code tables: laboratory tests and vital signs (LOINC, UCUM units)."""

from __future__ import annotations

from dataclasses import dataclass

from .codes import TERMINOLOGY, Code, loinc


@dataclass(frozen=True)
class Lab:
    code: Code
    unit: str
    ucum: str
    low: float | None
    high: float | None
    decimals: int


LABS: dict[str, Lab] = {
    "hba1c": Lab(
        loinc("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood"), "%", "%", None, 5.7, 1
    ),
    "cholesterol": Lab(
        loinc("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma"),
        "mg/dL",
        "mg/dL",
        None,
        200,
        0,
    ),
    "ldl": Lab(
        loinc("18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay"),
        "mg/dL",
        "mg/dL",
        None,
        100,
        0,
    ),
    "egfr": Lab(
        loinc(
            "33914-3",
            "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or "
            "Plasma by Creatinine-based formula (MDRD)",
        ),
        "mL/min/1.73m2",
        "mL/min/{1.73_m2}",
        60,
        None,
        0,
    ),
    "glucose": Lab(
        loinc("2345-7", "Glucose [Mass/volume] in Serum or Plasma"), "mg/dL", "mg/dL", 70, 99, 0
    ),
}
INTERPRETATIONS = {
    "H": Code(TERMINOLOGY + "v3-ObservationInterpretation", "H", "High"),
    "L": Code(TERMINOLOGY + "v3-ObservationInterpretation", "L", "Low"),
    "N": Code(TERMINOLOGY + "v3-ObservationInterpretation", "N", "Normal"),
}
VITAL_SIGNS = Code(TERMINOLOGY + "observation-category", "vital-signs", "Vital Signs")
LABORATORY = Code(TERMINOLOGY + "observation-category", "laboratory", "Laboratory")
BP_PANEL = loinc("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = loinc("8480-6", "Systolic blood pressure")
DIASTOLIC = loinc("8462-4", "Diastolic blood pressure")
VITALS: dict[str, tuple[Code, str, str]] = {
    "heart-rate": (loinc("8867-4", "Heart rate"), "beats/minute", "/min"),
    "weight": (loinc("29463-7", "Body weight"), "kg", "kg"),
    "height": (loinc("8302-2", "Body height"), "cm", "cm"),
    "bmi": (loinc("39156-5", "Body mass index (BMI) [Ratio]"), "kg/m2", "kg/m2"),
    "temperature": (loinc("8310-5", "Body temperature"), "Cel", "Cel"),
    "spo2": (
        loinc("2708-6", "Oxygen saturation in Arterial blood"),
        "%",
        "%",
    ),
}
