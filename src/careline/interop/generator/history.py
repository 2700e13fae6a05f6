"""Planning a patient's clinical history: chronic problems and the visits they bring."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .clinical_codes import ACUTE, CHRONIC, COPD_EXACERBATION, Acute, Chronic
from .common import Resource, add_years, at_time, chance, draw_count, random_day
from .patient import PatientContext

MAX_VISITS = 60
VIRTUAL_SINCE = date(2020, 4, 1)
WELL_CHILD_DAYS = (3, 30, 60, 120, 180, 270, 365, 455, 545, 730)
DURATIONS = {
    "wellness": (30, 45),
    "followup": (20, 30),
    "acute": (15, 30),
    "virtual": (10, 20),
    "screening": (30, 60),
    "emergency": (120, 480),
    "inpatient": (2 * 1440, 6 * 1440),
}


@dataclass
class Problem:
    """A chronic problem of the patient and what has been recorded about it so far."""

    spec: Chronic
    onset: date
    condition: Resource | None = None
    medications: list[Resource] = field(default_factory=list)
    careplan: Resource | None = None
    remission: bool = False
    switch_pending: bool = False


@dataclass
class Visit:
    kind: str
    start: datetime
    end: datetime
    problem: Problem | None = None
    acute: Acute | None = None
    procedure: str | None = None
    final: bool = False


def _risk(spec: Chronic, age: int) -> float:
    found = 0.0
    for min_age, probability in spec.risk:
        if age >= min_age:
            found = probability
    return found


def choose_problems(context: PatientContext) -> list[Problem]:
    rng, age = context.rng, context.age()
    problems: list[Problem] = []
    for spec in CHRONIC:
        keys = {p.spec.key for p in problems}
        boost = 2.0 if spec.key == "ckd3" and keys & {"diabetes", "hypertension"} else 1.0
        if age < spec.min_onset or not chance(rng, _risk(spec, age) * boost):
            continue
        onset_age = rng.randint(max(spec.min_onset, age - 20), age)
        earliest = add_years(context.birth, onset_age)
        onset = random_day(rng, earliest, add_years(earliest, 1))
        latest = context.end - timedelta(days=30)
        problems.append(Problem(spec, min(onset, latest)))
    return [p for p in problems if p.onset >= context.birth]


def _window(context: PatientContext, problems: list[Problem]) -> tuple[date, date]:
    rng = context.rng
    years = min(12.0, 1.5 + 1.3 * len(problems) + rng.uniform(0.0, 3.0))
    start = max(context.birth, context.end - timedelta(days=int(years * 365)))
    last = context.end - timedelta(days=8 if context.death else 1)
    return start, max(start, last)


def _visit(
    rng: random.Random,
    kind: str,
    day: date,
    problem: Problem | None = None,
    acute: Acute | None = None,
    procedure: str | None = None,
) -> Visit:
    hours = (0, 23) if kind in ("emergency", "inpatient") else (8, 17 if kind == "virtual" else 16)
    start = at_time(rng, day, *hours)
    low, high = DURATIONS[kind]
    end = start + timedelta(minutes=rng.randint(low, high))
    return Visit(kind, start, end, problem, acute, procedure)


def _days(rng: random.Random, start: date, stop: date, per_year: float) -> list[date]:
    years = max(0.0, (stop - start).days / 365.25)
    return [random_day(rng, start, stop) for _ in range(draw_count(rng, years * per_year))]


def _wellness(context: PatientContext, start: date, stop: date) -> list[Visit]:
    rng = context.rng
    days = [context.birth + timedelta(days=d) for d in WELL_CHILD_DAYS if chance(rng, 0.9)]
    found = [_visit(rng, "wellness", d) for d in days if start <= d <= stop]
    year_start = max(start, add_years(context.birth, 3))
    while year_start <= stop:
        age = context.age(year_start)
        rate = 0.85 if age < 18 or age >= 65 else 0.55 if age < 40 else 0.7
        if chance(rng, rate):
            day = random_day(rng, year_start, min(stop, add_years(year_start, 1)))
            found.append(_visit(rng, "wellness", day))
        year_start = add_years(year_start, 1)
    return found


def _followups(
    context: PatientContext, problems: list[Problem], start: date, stop: date
) -> list[Visit]:
    rng = context.rng
    found: list[Visit] = []
    for problem in problems:
        first = max(problem.onset, start)
        if first > stop:
            continue
        days = [first, *_days(rng, first, stop, problem.spec.visits_per_year)]
        for day in days:
            virtual = problem.spec.key == "depression" and day >= VIRTUAL_SINCE and chance(rng, 0.5)
            found.append(_visit(rng, "virtual" if virtual else "followup", day, problem=problem))
    return found


def _pick_acute(context: PatientContext, kind: str, day: date) -> Acute | None:
    age = context.age(day)
    fitting = [a for a in ACUTE if kind in a.kinds and a.ages[0] <= age <= a.ages[1]]
    fitting = [a for a in fitting if a.since is None or day >= a.since]
    return context.rng.choice(fitting) if fitting else None


def _episodes(
    context: PatientContext, problems: list[Problem], start: date, stop: date
) -> list[Visit]:
    rng, keys = context.rng, {p.spec.key for p in problems}
    old = context.age() >= 75
    lungs = bool(keys & {"asthma", "copd"})
    rates = {
        "acute": 0.9 if context.age() < 18 else 0.5,
        "emergency": 0.07 + (0.25 if lungs else 0.0) + (0.08 if old else 0.0),
        "inpatient": 0.01 + (0.12 if keys & {"copd", "ckd3"} else 0.0) + (0.04 if old else 0.0),
    }
    found: list[Visit] = []
    for kind, rate in rates.items():
        latest = stop if kind == "acute" else stop - timedelta(days=7)
        for day in _days(rng, start, latest, rate):
            actual = (
                "virtual"
                if kind == "acute" and day >= VIRTUAL_SINCE and chance(rng, 0.25)
                else kind
            )
            acute = _pick_acute(context, actual, day) or _pick_acute(context, "acute", day)
            if "copd" in keys and kind != "acute" and chance(rng, 0.5):
                acute = COPD_EXACERBATION
            if acute is not None:
                found.append(_visit(rng, actual, day, acute=acute))
    return found


def _screenings(context: PatientContext, start: date, stop: date) -> list[Visit]:
    rng, found = context.rng, []
    if context.sex == "female":
        day = max(start, add_years(context.birth, 40))
        while day <= min(stop, add_years(context.birth, 75)):
            if chance(rng, 0.6):
                found.append(_visit(rng, "screening", day, procedure="mammography"))
            day = add_years(day, 2) + timedelta(days=rng.randint(-30, 30))
    low, high = max(start, add_years(context.birth, 45)), min(stop, add_years(context.birth, 75))
    if low <= high and chance(rng, 0.25):
        found.append(_visit(rng, "screening", random_day(rng, low, high), procedure="colonoscopy"))
    return found


def _final_admission(context: PatientContext) -> Visit:
    assert context.death is not None  # noqa: S101 - only called for deceased patients
    start = context.death - timedelta(hours=context.rng.randint(12, 5 * 24))
    start = max(start, datetime.combine(context.birth, datetime.min.time()))
    acute = _pick_acute(context, "inpatient", start.date())
    return Visit("inpatient", start, context.death, acute=acute, final=True)


def _cap(rng: random.Random, visits: list[Visit], problems: list[Problem]) -> list[Visit]:
    """At most MAX_VISITS - 1 planned visits, keeping each problem's first one."""
    if len(visits) <= MAX_VISITS - 1:
        return visits
    anchors = []
    for problem in problems:
        own = [v for v in visits if v.problem is problem]
        if own:
            anchors.append(min(own, key=lambda v: v.start))
    others = [v for v in visits if all(v is not a for a in anchors)]
    return anchors + rng.sample(others, MAX_VISITS - 1 - len(anchors))


def plan_visits(context: PatientContext, problems: list[Problem]) -> list[Visit]:
    rng = context.rng
    start, stop = _window(context, problems)
    visits = _wellness(context, start, stop) + _followups(context, problems, start, stop)
    visits += _episodes(context, problems, start, stop) + _screenings(context, start, stop)
    visits = _cap(rng, visits, problems)
    while len(visits) < 2:
        visits.append(_visit(rng, "wellness", random_day(rng, start, stop)))
    visits.sort(key=lambda v: (v.start, v.kind))
    if context.death is not None:
        visits.append(_final_admission(context))
    return visits
