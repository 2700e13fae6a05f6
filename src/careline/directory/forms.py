"""The "Find a location" search form: one place box, then how far and how many.

The form only parses; what the place means and which rows come back is decided by
``directory.geo`` and ``directory.selectors`` (the API calls the same).
"""

from __future__ import annotations

from django import forms

from careline.directory.geo import MAX_RADIUS_KM
from careline.directory.selectors import DEFAULT_LIMIT, MAX_LIMIT

LOCATIONS = "locations"
PRACTITIONERS = "practitioners"
GENDERS = (("", "Any"), ("female", "Female"), ("male", "Male"), ("other", "Other"))


class NearestForm(forms.Form):
    place = forms.CharField(
        label="Address, ZIP or coordinates",
        max_length=300,
        widget=forms.TextInput(
            attrs={"placeholder": "1 Main St, Boston, MA 02118 · 02118 · 42.34, -71.07"}
        ),
    )
    find = forms.ChoiceField(
        label="Find",
        choices=((LOCATIONS, "Locations"), (PRACTITIONERS, "Providers")),
        initial=LOCATIONS,
        required=False,
    )
    radius_km = forms.FloatField(
        label="Within (km)", required=False, min_value=0.1, max_value=MAX_RADIUS_KM
    )
    limit = forms.IntegerField(
        label="Show", initial=DEFAULT_LIMIT, min_value=1, max_value=MAX_LIMIT, required=False
    )
    specialty = forms.CharField(label="Specialty", max_length=200, required=False)
    language = forms.CharField(label="Language code", max_length=35, required=False)
    gender = forms.ChoiceField(label="Gender", choices=GENDERS, required=False)
