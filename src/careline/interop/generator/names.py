"""Names across cultures, drawn from seeded Faker locales and small romanized lists.

Faker has no Haitian locale and its Arabic and Korean locales only give native-script
names, so those cultures use romanized lists (Haitian given names come from fr_FR), as
a US record usually holds them. Russian names are drawn in Cyrillic and transliterated;
some patients keep the Cyrillic form as a second name.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from faker import Faker

from . import codes
from .common import chance

LOCALES = {
    "en": "en_US",
    "es": "es_MX",
    "pt": "pt_BR",
    "zh": "zh_CN",
    "vi": "vi_VN",
    "ht": "fr_FR",
    "ru": "ru_RU",
    "hi": "en_IN",
    "fr": "fr_FR",
    "pl": "pl_PL",
}
_LATIN = (
    *("a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p"),
    *("r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"),
)
# Russian lowercase letters U+0430..U+044F in alphabetical order, plus U+0451 (yo).
_CYRILLIC = dict(zip(map(chr, range(0x430, 0x450)), _LATIN, strict=True)) | {"\u0451": "e"}
_FOLD = str.maketrans({"đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "ø": "o", "ß": "ss"})
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")


class FakerPool:
    """One Faker per locale, reseeded from the caller's Random before every use."""

    def __init__(self) -> None:
        self._fakers: dict[str, Faker] = {}

    def seeded(self, locale: str, rng: random.Random) -> Faker:
        faker = self._fakers.get(locale)
        if faker is None:
            faker = self._fakers[locale] = Faker(locale)
        faker.seed_instance(rng.getrandbits(64))
        return faker


@dataclass(frozen=True)
class Name:
    given: tuple[str, ...]
    family: str
    suffix: tuple[str, ...] = ()
    native: tuple[tuple[str, ...], str] | None = None

    @property
    def text(self) -> str:
        return " ".join((*self.given, self.family, *self.suffix))

    def human_names(self, prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        official: dict[str, Any] = {"use": "official", "text": self.text}
        official |= {"family": self.family, "given": list(self.given)}
        if prefix:
            official["prefix"] = list(prefix)
        if self.suffix:
            official["suffix"] = list(self.suffix)
        if self.native is None:
            return [official]
        given, family = self.native
        native = {"text": " ".join((*given, family)), "family": family, "given": list(given)}
        return [official, native]


def fold(text: str) -> str:
    """Strip diacritics, as many registration systems do."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def transliterate(text: str) -> str:
    latin = "".join(_CYRILLIC.get(ch, ch) for ch in text.lower())
    return "-".join(part.capitalize() for part in latin.split("-"))


def _call(faker: Faker, method: str) -> str:
    return str(getattr(faker, method)())


def gendered_family(language: str, family: str, sex: str) -> str:
    """Adapt a shared family name to a relative's sex (Russian and Polish surnames)."""
    if language == "ru":
        feminine = re.sub(r"(ov|ev|in)$", r"\1a", family)
        return feminine if sex == "female" else re.sub(r"(ov|ev|in)a$", r"\1", family)
    if language == "pl":
        swaps = (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka"))
        for male, female in swaps:
            old, new = (male, female) if sex == "female" else (female, male)
            if family.endswith(old):
                return family[: -len(old)] + new
    return family


def draw_name(
    pool: FakerPool, rng: random.Random, language: str, sex: str, family: str | None = None
) -> Name:
    """A name of the given culture; `family` forces a shared family name (relatives)."""
    if language == "ru":
        name = _russian(pool, rng, sex, native=family is None)
    elif language in ("ar", "ko"):
        name = _from_lists(rng, language, sex)
    elif language == "zh":
        faker = pool.seeded("zh_CN", rng)
        name = Name((faker.first_romanized_name(),), faker.last_romanized_name())
    elif language == "vi":
        name = _vietnamese(pool, rng, sex)
    else:
        name = _western(pool, rng, language, sex)
    if family is not None:
        name = Name(name.given, gendered_family(language, family, sex), name.suffix)
    return name


def _western(pool: FakerPool, rng: random.Random, language: str, sex: str) -> Name:
    faker = pool.seeded(LOCALES[language], rng)
    given = _call(faker, f"first_name_{sex}").split()
    if len(given) == 1 and chance(rng, 0.3):
        given.append(_call(faker, f"first_name_{sex}").split()[0])
    family_method = f"last_name_{sex}" if language == "pl" else "last_name"
    family = _call(faker, family_method)
    if language == "ht":
        family = rng.choice(codes.HT_FAMILY)
    elif language in ("es", "pt") and chance(rng, 0.45):
        family = f"{family} {faker.last_name()}"
    suffix: tuple[str, ...] = ()
    if language == "en" and sex == "male" and chance(rng, 0.04):
        suffix = (rng.choice(codes.EN_SUFFIXES),)
    return Name(tuple(given), family, suffix)


def _vietnamese(pool: FakerPool, rng: random.Random, sex: str) -> Name:
    faker = pool.seeded("vi_VN", rng)
    given = [_call(faker, f"first_name_{sex}")]
    if chance(rng, 0.5):
        given.insert(0, faker.middle_name())
    name = Name(tuple(given), faker.last_name())
    if chance(rng, 0.35):
        name = Name(tuple(fold(g) for g in name.given), fold(name.family))
    return name


def _russian(pool: FakerPool, rng: random.Random, sex: str, *, native: bool) -> Name:
    faker = pool.seeded("ru_RU", rng)
    given = [_call(faker, f"first_name_{sex}")]
    if chance(rng, 0.3):
        given.append(_call(faker, f"middle_name_{sex}"))
    family = _call(faker, f"last_name_{sex}")
    cyrillic = (tuple(given), family) if native and chance(rng, 0.4) else None
    return Name(tuple(transliterate(g) for g in given), transliterate(family), (), cyrillic)


def _from_lists(rng: random.Random, language: str, sex: str) -> Name:
    if language == "ar":
        given = codes.AR_MALE if sex == "male" else codes.AR_FEMALE
        return Name((rng.choice(given),), rng.choice(codes.AR_FAMILY))
    given = codes.KO_MALE if sex == "male" else codes.KO_FEMALE
    return Name((rng.choice(given),), rng.choice(codes.KO_FAMILY))


def email_for(rng: random.Random, name: Name) -> str:
    first = re.sub(r"[^a-z]", "", fold(name.given[0]).lower()) or "patient"
    last = re.sub(r"[^a-z]", "", fold(name.family).lower()) or "user"
    local = rng.choice(
        (f"{first}.{last}", f"{first[0]}{last}", f"{first}{last}", f"{last}.{first}")
    )
    if chance(rng, 0.5):
        local += str(rng.randint(1, 99))
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"
