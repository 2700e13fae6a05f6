"""Contact values from imports: phones to E.164 whatever their formatting, emails folded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from careline.patients.bulk import PatientRecord, Telecom, normalize_contact
from careline.patients.bulk.records import contact_values

area_codes = st.sampled_from(["617", "212", "415", "312", "808", "907"])
exchanges = st.integers(min_value=200, max_value=999).map(str)
lines = st.integers(min_value=0, max_value=9999).map(lambda n: f"{n:04d}")
formats = st.sampled_from(
    [
        "{a}{e}{l}",
        "({a}) {e}-{l}",
        "{a}-{e}-{l}",
        "{a}.{e}.{l}",
        "+1 {a} {e} {l}",
        "1-{a}-{e}-{l}",
        "+1 ({a}) {e}-{l}",
        "  {a} {e} {l}  ",
        "+1{a}{e}{l}",
    ]
)


@given(area=area_codes, exchange=exchanges, line=lines, first=formats, second=formats)
def test_formatting_variants_of_one_us_number_normalise_alike(
    area: str, exchange: str, line: str, first: str, second: str
) -> None:
    one = normalize_contact("phone", first.format(a=area, e=exchange, l=line))
    other = normalize_contact("phone", second.format(a=area, e=exchange, l=line))

    assert one == other == f"+1{area}{exchange}{line}"


@given(st.text(max_size=60))
def test_any_phone_text_is_kept_or_normalised_never_raises(value: str) -> None:
    stored = normalize_contact("phone", value)

    assert stored == value.strip() or stored.startswith("+")


@given(
    local=st.from_regex(r"[A-Za-z0-9._]{1,12}", fullmatch=True),
    domain=st.from_regex(r"[A-Za-z]{1,10}\.[A-Za-z]{2,4}", fullmatch=True),
)
def test_emails_are_stripped_and_lower_cased(local: str, domain: str) -> None:
    assert normalize_contact("email", f"  {local}@{domain} ") == f"{local}@{domain}".lower()


def test_contact_values_dedupe_keep_use_and_rank() -> None:
    record = PatientRecord(
        "p1",
        {},
        telecoms=[
            Telecom("phone", "(617) 555-0142", "mobile", 2),
            Telecom("phone", "617.555.0142", "home"),
            Telecom("pager", "12345", "work"),
            Telecom("email", "", "home"),
        ],
    )

    values = contact_values(record)

    assert [(v.system, v.value, v.use, v.rank) for v in values] == [
        ("phone", "+16175550142", "mobile", 2),
        ("other", "12345", "work", 3),
    ]
    assert all(v.source_id.startswith("Patient/p1#telecom:") for v in values)
