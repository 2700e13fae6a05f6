"""``careline directory geocode``: give locations without coordinates their ZIP's centroid.

Offline (the `zipcodes` package's centroids); locations that already have coordinates are
left alone. Prints how many were placed and how many still have no known ZIP (the
nearest-location search lists those last, "distance unknown").
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from careline.directory.services import geocode_locations
from careline.platform.actors import Actor


class Command(BaseCommand):
    help = "Fill the coordinates of locations that have none from their ZIP code (offline)."

    def handle(self, *args: Any, **options: Any) -> None:
        outcome = geocode_locations(actor=Actor.system("careline directory geocode"))
        self.stdout.write(
            f"Placed {outcome.geocoded} location(s) at their ZIP code's centre; "
            f"{outcome.without_known_zip} without a known ZIP keep no coordinates."
        )
