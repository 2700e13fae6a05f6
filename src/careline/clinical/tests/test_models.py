"""How clinical values read on screen."""

from __future__ import annotations

from careline.clinical.models import Observation


def test_blood_pressure_components_read_as_systolic_over_diastolic():
    observation = Observation(
        components=[
            {"code": "8480-6", "value": 116.54556683024737, "unit": "mm[Hg]"},
            {"code": "8462-4", "value": 80.59513523479127, "unit": "mm[Hg]"},
        ]
    )

    assert observation.value_display == "116.5/80.6 mm[Hg]"


def test_single_values_keep_one_decimal_at_most_and_their_unit():
    assert Observation(value_number=7.0, value_unit="%").value_display == "7 %"
    assert Observation(value_number=37.149, value_unit="Cel").value_display == "37.1 Cel"
    assert Observation(value_text="Positive").value_display == "Positive"
