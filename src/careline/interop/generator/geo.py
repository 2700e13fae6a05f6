"""Real US places from the `zipcodes` package: ZIP, city, county, centroid, area codes."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import zipcodes

from .codes import EXT_GEOLOCATION

STATES = ("MA", "RI", "NH")
STATE_AREA_CODES: dict[str, tuple[str, ...]] = {
    "MA": ("339", "351", "413", "508", "617", "774", "781", "857", "978"),
    "RI": ("401",),
    "NH": ("603",),
}


@dataclass(frozen=True)
class Place:
    """A ZIP code area with its centroid and the area codes in use there."""

    zip_code: str
    city: str
    state: str
    county: str
    latitude: float
    longitude: float
    area_codes: tuple[str, ...]

    def address(self, lines: list[str], use: str | None = None) -> dict[str, Any]:
        address: dict[str, Any] = {"use": use} if use else {}
        address |= {
            "type": "both",
            "line": lines,
            "city": self.city,
            "district": self.county,
            "state": self.state,
            "postalCode": self.zip_code,
            "country": "US",
        }
        return address


def _place(record: dict[str, Any]) -> Place:
    state = str(record["state"])
    known = STATE_AREA_CODES[state]
    codes = tuple(code for code in record.get("area_codes") or () if code in known)
    return Place(
        zip_code=str(record["zip_code"]),
        city=str(record["city"]),
        state=state,
        county=str(record.get("county") or ""),
        latitude=float(record["lat"]),
        longitude=float(record["long"]),
        area_codes=codes or known,
    )


@functools.cache
def places() -> dict[str, tuple[Place, ...]]:
    """Active standard (street-delivery) ZIP codes of the generator's states, by state."""
    records = zipcodes.filter_by(zip_code_type="STANDARD", active=True)  # type: ignore[no-untyped-call]
    found = [_place(r) for r in records if r["state"] in STATES and r["lat"] and r["long"]]
    return {state: tuple(p for p in found if p.state == state) for state in STATES}


def distance_km(a: Place, b: Place) -> float:
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@functools.cache
def nearby(center: Place, radius_km: float = 30.0, minimum: int = 15) -> tuple[Place, ...]:
    """Places within radius_km of center (at least `minimum` of the closest ones)."""
    everything = [p for state in STATES for p in places()[state]]
    ranked = sorted(everything, key=lambda p: (distance_km(center, p), p.zip_code))
    within = [p for p in ranked if distance_km(center, p) <= radius_km]
    return tuple(within if len(within) >= minimum else ranked[:minimum])


@functools.cache
def closest(center: Place, state: str, count: int) -> tuple[Place, ...]:
    """The `count` places of `state` closest to center."""
    ranked = sorted(places()[state], key=lambda p: (distance_km(center, p), p.zip_code))
    return tuple(ranked[:count])


def geolocation(latitude: float, longitude: float) -> dict[str, Any]:
    """The core geolocation extension for an Address."""
    return {
        "url": EXT_GEOLOCATION,
        "extension": [
            {"url": "latitude", "valueDecimal": latitude},
            {"url": "longitude", "valueDecimal": longitude},
        ],
    }
