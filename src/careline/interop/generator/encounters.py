"""Turning planned visits into Encounters and what happens at them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from . import clinical_codes as cc
from .codes import Code
from .common import Resource, chance, directory_ref, fhir_date, fhir_datetime, local_ref, new_id
from .directory import Clinician, Site
from .history import Problem, Visit
from .observations import Body, Findings, lab_results, social_needs, vital_signs
from .patient import PatientContext

CLASS_OF = {"emergency": "EMER", "inpatient": "IMP", "virtual": "VR"}
IMAGING = {"xray", "chest-xray", "ct-head", "mammography"}


@dataclass(frozen=True)
class Care:
    """Who saw the patient, and where."""

    clinician: Clinician
    site: Site
    location_id: str | None


DISPLAYS = {
    "active": "Active",
    "resolved": "Resolved",
    "remission": "Remission",
    "confirmed": "Confirmed",
    "problem-list-item": "Problem List Item",
    "encounter-diagnosis": "Encounter Diagnosis",
}


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": DISPLAYS[code]}]}


def _participant(visit: Visit, care: Care, period: dict[str, str]) -> dict[str, Any]:
    role = cc.ATTENDER if visit.kind == "inpatient" else cc.PRIMARY_PERFORMER
    who = directory_ref("Practitioner", care.clinician.id)
    return {"type": [role.concept()], "period": period, "individual": who}


class ClinicalRecord:
    """Builds the clinical resources of one patient, visit by visit."""

    def __init__(self, context: PatientContext, problems: list[Problem], body: Body) -> None:
        self.context = context
        self.problems = problems
        self.body = body
        self.resources: list[Resource] = []
        self.allergy_keys: set[str] = set()

    # --- who and where -------------------------------------------------------------

    def _care(self, visit: Visit) -> Care:
        rng, directory = self.context.rng, self.context.directory
        if visit.kind == "emergency":
            site = directory.emergency
            return Care(directory.pick(rng, ["emergency"], site), site, site.location_id)
        if visit.kind in ("inpatient", "screening"):
            wanted = ["radiology"] if visit.procedure == "mammography" else ["internal", "family"]
            site = directory.hospital
            return Care(directory.pick(rng, wanted, site), site, site.location_id)
        clinician = self._outpatient_clinician(visit)
        location = None if visit.kind == "virtual" else clinician.site.location_id
        return Care(clinician, clinician.site, location)

    def _outpatient_clinician(self, visit: Visit) -> Clinician:
        context, rng = self.context, self.context.rng
        specialty = visit.problem.spec.specialty if visit.problem else None
        if specialty and chance(rng, 0.35):
            return context.directory.pick(rng, [specialty])
        age = context.age(visit.start.date())
        if (
            visit.kind == "wellness"
            and context.sex == "female"
            and 21 <= age <= 65
            and chance(rng, 0.25)
        ):
            return context.directory.pick(rng, ["obgyn"])
        if visit.kind == "acute" and chance(rng, 0.3):
            return context.directory.pick(rng, ["family", "internal"], context.pcp.site)
        return context.pcp

    # --- encounter -----------------------------------------------------------------

    def _encounter(self, visit: Visit, care: Care) -> Resource:
        context = self.context
        child = context.age(visit.start.date()) < 18
        kind = "well-child" if visit.kind == "wellness" and child else visit.kind
        period = {"start": fhir_datetime(visit.start), "end": fhir_datetime(visit.end)}
        encounter: Resource = {
            "resourceType": "Encounter",
            "id": new_id(context.rng),
            "status": "finished",
        }
        encounter["class"] = cc.ENCOUNTER_CLASSES[CLASS_OF.get(visit.kind, "AMB")].coding()
        encounter |= {"type": [cc.ENCOUNTER_TYPES[kind].concept()], "subject": context.ref()}
        encounter |= {"participant": [_participant(visit, care, period)], "period": period}
        if visit.kind == "inpatient":
            disposition = cc.DISCHARGE_EXPIRED if visit.final else cc.DISCHARGE_HOME
            encounter["hospitalization"] = {
                "admitSource": cc.ADMIT_FROM_ED.concept(),
                "dischargeDisposition": disposition.concept(),
            }
        if care.location_id:
            where = directory_ref("Location", care.location_id)
            encounter["location"] = [{"location": where, "status": "completed", "period": period}]
        encounter["serviceProvider"] = directory_ref("Organization", care.site.organization_id)
        return encounter

    def _add_reason(self, encounter: Resource, code: Code, condition: Resource | None) -> None:
        encounter.setdefault("reasonCode", []).append(code.concept())
        if condition is not None:
            encounter.setdefault("reasonReference", []).append(local_ref(condition))

    # --- conditions ----------------------------------------------------------------

    def _condition(
        self,
        code: Code,
        encounter: Resource,
        care: Care,
        when: datetime,
        *,
        onset: date,
        chronic: bool,
    ) -> Resource:
        category = "problem-list-item" if chronic else "encounter-diagnosis"
        item: Resource = {"resourceType": "Condition", "id": new_id(self.context.rng)}
        item["clinicalStatus"] = _concept(cc.CONDITION_CLINICAL, "active")
        item["verificationStatus"] = _concept(cc.CONDITION_VERIFICATION, "confirmed")
        item["category"] = [_concept(cc.CONDITION_CATEGORY, category)]
        item |= {
            "code": code.concept(),
            "subject": self.context.ref(),
            "encounter": local_ref(encounter),
        }
        item |= {"onsetDateTime": fhir_date(onset), "recordedDate": fhir_datetime(when)}
        item["recorder"] = directory_ref("Practitioner", care.clinician.id)
        self.resources.append(item)
        return item

    def _record_problems(self, visit: Visit, encounter: Resource, care: Care) -> None:
        for problem in self.problems:
            if problem.condition is None and problem.onset <= visit.start.date():
                self._record(problem, visit, encounter, care)

    def _record(self, problem: Problem, visit: Visit, encounter: Resource, care: Care) -> None:
        rng = self.context.rng
        spec = problem.spec
        condition = self._condition(
            spec.code, encounter, care, visit.start, onset=problem.onset, chronic=True
        )
        problem.condition = condition
        problem.remission = spec.key == "depression" and chance(rng, 0.25)
        if problem.remission:
            condition["clinicalStatus"] = _concept(cc.CONDITION_CLINICAL, "remission")
        meds = [m for m in spec.meds if m != "fluticasone" or chance(rng, 0.5)]
        for med in meds:
            status = "stopped" if problem.remission else "active"
            problem.medications.append(
                self._prescribe(med, encounter, care, visit.start, condition, status)
            )
        problem.switch_pending = spec.key == "hypertension" and chance(rng, 0.25)
        if spec.careplan is not None:
            problem.careplan = self._careplan(problem, spec.careplan, encounter, care, visit.start)

    def _acute_condition(self, visit: Visit, encounter: Resource, care: Care) -> Resource | None:
        acute = visit.acute
        if acute is None:
            return None
        rng = self.context.rng
        onset = visit.start.date() - timedelta(days=rng.randint(0, 3))
        condition = self._condition(
            acute.code, encounter, care, visit.start, onset=onset, chronic=False
        )
        abated = visit.start.date() + timedelta(days=rng.randint(*acute.days))
        if abated < self.context.end and not visit.final:
            condition["clinicalStatus"] = _concept(cc.CONDITION_CLINICAL, "resolved")
            condition["abatementDateTime"] = fhir_date(abated)
        for med in acute.meds:
            swapped = (
                "azithromycin"
                if med == "amoxicillin" and "penicillin" in self.allergy_keys
                else med
            )
            done = abated < self.context.end
            self._prescribe(
                swapped, encounter, care, visit.start, condition, "completed" if done else "active"
            )
        return condition

    # --- orders and plans -------------------------------------------------------------

    def _prescribe(
        self,
        key: str,
        encounter: Resource,
        care: Care,
        when: datetime,
        reason: Resource,
        status: str,
    ) -> Resource:
        med = cc.MEDICATIONS[key]
        route = cc.INHALED_ROUTE if "Inhaler" in med.code.display else cc.ORAL_ROUTE
        dosage: dict[str, Any] = {"sequence": 1, "text": med.instruction}
        dosage["timing"] = {"repeat": {"frequency": med.per_day, "period": 1, "periodUnit": "d"}}
        dosage |= {"asNeededBoolean": med.as_needed, "route": route.concept()}
        item: Resource = {
            "resourceType": "MedicationRequest",
            "id": new_id(self.context.rng),
            "status": status,
        }
        item |= {
            "intent": "order",
            "medicationCodeableConcept": med.code.concept(),
            "subject": self.context.ref(),
        }
        item |= {"encounter": local_ref(encounter), "authoredOn": fhir_datetime(when)}
        item["requester"] = directory_ref("Practitioner", care.clinician.id)
        item |= {"reasonReference": [local_ref(reason)], "dosageInstruction": [dosage]}
        self.resources.append(item)
        return item

    def _careplan(
        self,
        problem: Problem,
        spec: cc.CarePlanSpec,
        encounter: Resource,
        care: Care,
        when: datetime,
    ) -> Resource:
        assert problem.condition is not None  # noqa: S101 - recorded just before
        activities = [
            {"detail": {"code": a.concept(), "status": "in-progress"}} for a in spec.activities
        ]
        item: Resource = {
            "resourceType": "CarePlan",
            "id": new_id(self.context.rng),
            "status": "active",
        }
        item |= {"intent": "plan", "category": [cc.ASSESS_PLAN.concept(), spec.category.concept()]}
        item |= {
            "title": spec.title,
            "subject": self.context.ref(),
            "encounter": local_ref(encounter),
        }
        item |= {"period": {"start": fhir_date(when.date())}, "created": fhir_datetime(when)}
        item["author"] = directory_ref("Practitioner", care.clinician.id)
        item |= {"addresses": [local_ref(problem.condition)], "activity": activities}
        self.resources.append(item)
        return item

    def _switch(self, problem: Problem, encounter: Resource, care: Care, when: datetime) -> None:
        """Lisinopril stopped (cough) and amlodipine started at a later follow-up."""
        assert problem.condition is not None  # noqa: S101 - follow-ups come after recording
        for med in problem.medications:
            med["status"] = "stopped"
        problem.medications.append(
            self._prescribe("amlodipine", encounter, care, when, problem.condition, "active")
        )
        problem.switch_pending = False

    def _procedure(
        self, key: str, encounter: Resource, care: Care, visit: Visit, reason: Resource | None
    ) -> None:
        context = self.context
        performer = care.clinician
        if key in IMAGING and performer.specialty != "radiology":
            performer = context.directory.pick(context.rng, ["radiology"])
        start = visit.start + timedelta(minutes=5)
        end = min(visit.end, start + timedelta(minutes=context.rng.randint(10, 45)))
        item: Resource = {
            "resourceType": "Procedure",
            "id": new_id(context.rng),
            "status": "completed",
        }
        item |= {
            "code": cc.PROCEDURES[key].concept(),
            "subject": context.ref(),
            "encounter": local_ref(encounter),
        }
        item["performedPeriod"] = {
            "start": fhir_datetime(start),
            "end": fhir_datetime(max(start, end)),
        }
        item["performer"] = [{"actor": directory_ref("Practitioner", performer.id)}]
        if care.location_id:
            item["location"] = directory_ref("Location", care.location_id)
        if reason is not None:
            item["reasonReference"] = [local_ref(reason)]
        self.resources.append(item)

    # --- one visit -------------------------------------------------------------------

    def findings(self, day: date, acute: str | None = None) -> Findings:
        present = [p for p in self.problems if p.onset <= day]
        treated = [p for p in present if any(m["status"] == "active" for m in p.medications)]
        return Findings(
            frozenset(p.spec.key for p in present), frozenset(p.spec.key for p in treated), acute
        )

    def visit(self, visit: Visit) -> tuple[Resource, Care]:
        care = self._care(visit)
        encounter = self._encounter(visit, care)
        self.resources.append(encounter)
        self._record_problems(visit, encounter, care)
        problem = visit.problem
        if problem is not None and problem.condition is not None:
            self._add_reason(encounter, problem.spec.code, problem.condition)
            if problem.switch_pending and visit.start.date() > problem.onset:
                self._switch(problem, encounter, care, visit.start)
        condition = self._acute_condition(visit, encounter, care)
        if visit.acute is not None:
            self._add_reason(encounter, visit.acute.code, condition)
        self._measurements(visit, encounter)
        self._procedures(visit, encounter, care, condition)
        return encounter, care

    def _measurements(self, visit: Visit, encounter: Resource) -> None:
        day = visit.start.date()
        findings = self.findings(day, visit.acute.key if visit.acute else None)
        if visit.kind != "virtual":
            self.resources += vital_signs(
                self.context, self.body, findings, encounter, visit.kind, visit.start
            )
        keys = self._lab_keys(visit)
        if keys:
            self.resources += lab_results(self.context, keys, findings, encounter, visit.start)

    def _lab_keys(self, visit: Visit) -> list[str]:
        rng, age = self.context.rng, self.context.age(visit.start.date())
        keys: list[str] = []
        if visit.kind == "wellness" and age >= 18:
            keys += ["glucose"] if chance(rng, 0.6) else []
            keys += ["cholesterol", "ldl"] if age >= 35 and chance(rng, 0.5) else []
        elif visit.kind == "followup" and visit.problem is not None:
            keys += [
                k for k in visit.problem.spec.labs if chance(rng, 0.85 if k == "hba1c" else 0.6)
            ]
        elif visit.kind in ("emergency", "inpatient"):
            keys += ["glucose", "egfr"] if visit.kind == "inpatient" or chance(rng, 0.5) else []
        return list(dict.fromkeys(keys))

    def _procedures(
        self, visit: Visit, encounter: Resource, care: Care, condition: Resource | None
    ) -> None:
        rng, age = self.context.rng, self.context.age(visit.start.date())
        if visit.procedure:
            self._procedure(visit.procedure, encounter, care, visit, None)
        if visit.acute is not None and visit.acute.procedure:
            self._procedure(visit.acute.procedure, encounter, care, visit, condition)
        problem = visit.problem
        if visit.kind == "followup" and problem is not None and chance(rng, 0.4):
            key = cc.FOLLOWUP_PROCEDURES.get(problem.spec.key)
            if key:
                self._procedure(key, encounter, care, visit, problem.condition)
        if visit.kind == "wellness" and age >= 12 and chance(rng, 0.5):
            self._procedure("depression-screening", encounter, care, visit, None)
        if visit.kind == "wellness" and age >= 65 and chance(rng, 0.6):
            self._procedure("med-reconciliation", encounter, care, visit, None)

    def social_screening(self, encounter: Resource, when: datetime) -> None:
        self.resources += social_needs(self.context, encounter, when)

    def close(self) -> None:
        """A patient who died has no active orders or plans left."""
        death = self.context.death
        if death is None:
            return
        for problem in self.problems:
            if problem.careplan is not None:
                problem.careplan["status"] = "completed"
                problem.careplan["period"]["end"] = fhir_date(death.date())
        for item in self.resources:
            if item["resourceType"] == "MedicationRequest" and item["status"] == "active":
                item["status"] = "stopped"
