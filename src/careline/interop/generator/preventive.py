"""Allergies and immunization history."""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from . import preventive_codes as cc
from .common import (
    Resource,
    add_years,
    at_time,
    chance,
    directory_ref,
    fhir_date,
    fhir_datetime,
    local_ref,
    new_id,
    random_day,
    weighted,
)
from .encounters import Care
from .patient import PatientContext
from .preventive_codes import ALLERGIES, Allergy

HISTORY_START = date(2016, 1, 1)
COVID_START = date(2021, 1, 15)


@dataclass(frozen=True)
class Seen:
    """An in-person encounter, where a vaccine can be given."""

    encounter: Resource
    care: Care
    start: datetime


# --- allergies ---------------------------------------------------------------------------


def draw_allergies(rng: random.Random) -> tuple[list[Allergy], bool]:
    """(allergies, "no known allergies" recorded)."""
    if not chance(rng, 0.25):
        return [], chance(rng, 0.4)
    picks: list[Allergy] = []
    wanted = 1 if chance(rng, 0.75) else 2
    while len(picks) < wanted:
        allergy = weighted(rng, [(a, a.weight) for a in ALLERGIES])
        if allergy not in picks:
            picks.append(allergy)
    return picks, False


def _status(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": code.capitalize()}]}


def _reaction(rng: random.Random, allergy: Allergy) -> tuple[dict[str, Any], bool]:
    manifestation = rng.choice(allergy.reactions)
    severe = manifestation == cc.ANAPHYLAXIS
    severity = "severe" if severe else weighted(rng, (("mild", 2.0), ("moderate", 1.0)))
    reaction: dict[str, Any] = {"manifestation": [manifestation.concept()], "severity": severity}
    if allergy.text:
        reaction = {"substance": {"text": allergy.text}, **reaction}
    return reaction, severe


def allergy_resources(
    context: PatientContext, allergies: list[Allergy], none_known: bool, first: Seen
) -> list[Resource]:
    rng = context.rng
    base: Resource = {"patient": context.ref(), "encounter": local_ref(first.encounter)}
    base |= {"recordedDate": fhir_datetime(first.start)}
    base["recorder"] = directory_ref("Practitioner", first.care.clinician.id)
    if none_known:
        item: Resource = {"resourceType": "AllergyIntolerance", "id": new_id(rng)}
        item["clinicalStatus"] = _status(cc.ALLERGY_CLINICAL, "active")
        item["verificationStatus"] = _status(cc.ALLERGY_VERIFICATION, "confirmed")
        return [item | {"code": cc.NO_KNOWN_ALLERGY.concept()} | base]
    return [_allergy(context, allergy, base, first.start.date()) for allergy in allergies]


def _allergy(context: PatientContext, allergy: Allergy, base: Resource, seen: date) -> Resource:
    rng = context.rng
    reaction, severe = _reaction(rng, allergy)
    verified = "confirmed" if severe or chance(rng, 0.8) else "unconfirmed"
    item: Resource = {"resourceType": "AllergyIntolerance", "id": new_id(rng)}
    item["clinicalStatus"] = _status(cc.ALLERGY_CLINICAL, "active")
    item["verificationStatus"] = _status(cc.ALLERGY_VERIFICATION, verified)
    item |= {"type": "allergy", "category": [allergy.category]}
    item["criticality"] = "high" if severe or chance(rng, allergy.high_risk) else "low"
    item["code"] = allergy.code.concept(allergy.text)
    item |= base
    if chance(rng, 0.6) and seen > context.birth + timedelta(days=180):
        item["onsetDateTime"] = fhir_date(
            random_day(rng, context.birth + timedelta(days=180), seen)
        )
    item["reaction"] = [reaction]
    return item


# --- immunizations ------------------------------------------------------------------------


class Immunizer:
    """Builds a patient's immunization history, tying doses to visits on the same day."""

    def __init__(self, context: PatientContext, seen: list[Seen]) -> None:
        self.context = context
        self.seen = seen
        self.by_day = {s.start.date(): s for s in reversed(seen)}
        self.earliest = max(context.birth, HISTORY_START)
        self.resources: list[Resource] = []

    def _dose(self, vaccine: str, day: date, *, offered: bool = False) -> None:
        context, rng = self.context, self.context.rng
        if not self.earliest <= day < context.end:
            return
        visit = self.by_day.get(day)
        when = visit.start + timedelta(minutes=10) if visit else at_time(rng, day)
        refused = offered and visit is not None and chance(rng, 0.08)
        item: Resource = {"resourceType": "Immunization", "id": new_id(rng)}
        item["status"] = "not-done" if refused else "completed"
        if refused:
            item["statusReason"] = cc.PATIENT_OBJECTION.concept()
        item |= {"vaccineCode": cc.VACCINES[vaccine].concept(), "patient": context.ref()}
        if visit:
            item["encounter"] = local_ref(visit.encounter)
        item |= {"occurrenceDateTime": fhir_datetime(when), "primarySource": visit is not None}
        if visit is None:
            item["reportOrigin"] = cc.RECORD_ORIGIN.concept()
        if not refused:
            item |= self._administration(vaccine, visit)
        self.resources.append(item)

    def _administration(self, vaccine: str, visit: Seen | None) -> dict[str, Any]:
        rng = self.context.rng
        lot = (
            "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
            + f"{rng.randrange(10**5):05d}"
        )
        dose = 0.3 if vaccine == "covid-pfizer" else 0.5
        details: dict[str, Any] = {"lotNumber": lot, "site": rng.choice(cc.VACCINE_SITES).concept()}
        details |= {"route": cc.VACCINE_ROUTE.concept(), "doseQuantity": _ml(dose)}
        if visit:
            performer = directory_ref("Practitioner", visit.care.clinician.id)
            details["performer"] = [{"function": cc.ADMINISTERING.concept(), "actor": performer}]
            if visit.care.location_id:
                details = {"location": directory_ref("Location", visit.care.location_id), **details}
        return details

    def _visit_between(self, start: date, stop: date) -> date | None:
        days = [s.start.date() for s in self.seen if start <= s.start.date() <= stop]
        return days[0] if days else None

    def flu(self) -> None:
        rng, context = self.context.rng, self.context
        propensity = rng.uniform(0.3, 1.4)
        for year in range(self.earliest.year - 1, context.end.year + 1):
            season = date(year, 9, 1)
            age = context.age(season)
            rate = (
                0.6
                if age < 5
                else 0.45
                if age < 18
                else 0.35
                if age < 50
                else 0.5
                if age < 65
                else 0.7
            )
            if season < context.birth + timedelta(days=183) or not chance(
                rng, min(0.95, rate * propensity)
            ):
                continue
            day = self._visit_between(season, date(year, 12, 15))
            day = day or random_day(rng, date(year, 9, 10), date(year, 11, 30))
            self._dose("flu", day, offered=True)

    def covid(self) -> None:
        rng, context = self.context.rng, self.context
        age = context.age(date(2021, 5, 1))
        if age < 12 or not chance(rng, 0.72):
            return
        pfizer = age < 18 or chance(rng, 0.6)
        vaccine, gap = ("covid-pfizer", 21) if pfizer else ("covid-moderna", 28)
        first = random_day(rng, COVID_START if age >= 65 else date(2021, 4, 15), date(2021, 7, 31))
        for day in _series(first, gap):
            self._dose(vaccine, day)
        if chance(rng, 0.55):
            self._dose(vaccine, random_day(rng, date(2021, 10, 1), date(2022, 3, 31)))
        if chance(rng, 0.3):
            self._dose(vaccine, random_day(rng, date(2023, 9, 15), date(2023, 12, 31)))

    def adult(self) -> None:
        rng, context = self.context.rng, self.context
        if context.age() >= 11 and chance(rng, 0.5):
            self._dose(
                "tdap",
                random_day(rng, max(self.earliest, add_years(context.birth, 11)), context.end),
            )
        if context.age() >= 65 and chance(rng, 0.6):
            self._dose(
                "pneumococcal",
                random_day(rng, max(self.earliest, add_years(context.birth, 65)), context.end),
            )
        sixty = max(self.earliest, add_years(context.birth, 60))
        if sixty <= context.end and chance(rng, 0.4):
            day = random_day(rng, sixty, context.end)
            if day < date(2018, 1, 1):
                self._dose("zoster-live", day)
            else:
                for dose in _series(day, rng.randint(60, 180)):
                    self._dose("zoster-recombinant", dose)

    def childhood(self) -> None:
        context, rng = self.context, self.context.rng
        birth = context.birth
        schedule = [
            ("hepb", 0),
            ("dtap", 60),
            ("dtap", 120),
            ("dtap", 180),
            ("mmr", 365),
            ("varicella", 365),
        ]
        for vaccine, age_days in schedule:
            planned = birth + timedelta(days=age_days)
            near = self._visit_between(planned, planned + timedelta(days=30))
            if chance(rng, 0.93):
                self._dose(vaccine, near or planned)


def _series(first: date, gap: int) -> Iterator[date]:
    yield first
    yield first + timedelta(days=gap)


def _ml(value: float) -> dict[str, Any]:
    return {"value": value, "unit": "mL", "system": "http://unitsofmeasure.org", "code": "mL"}


def immunizations(context: PatientContext, seen: list[Seen]) -> list[Resource]:
    immunizer = Immunizer(context, seen)
    immunizer.childhood()
    immunizer.flu()
    immunizer.covid()
    immunizer.adult()
    return immunizer.resources
