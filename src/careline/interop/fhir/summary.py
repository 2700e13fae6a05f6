"""Counting an import: per resource type created / updated / unchanged / skipped / rejected,
the rejections with their reasons, the files skipped as not FHIR, and the values cleaned of
characters that disguise how they read.

Rejections hold locations, FHIR paths and reasons — never names or identifier values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

OUTCOMES = ("created", "updated", "unchanged", "skipped", "rejected")


@dataclass
class TypeCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0

    def add(self, other: TypeCounts) -> None:
        for outcome in OUTCOMES:
            setattr(self, outcome, getattr(self, outcome) + getattr(other, outcome))

    @property
    def written(self) -> int:
        return self.created + self.updated

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Rejection:
    file: str | None
    entry: int | None
    line: int | None
    resource_type: str | None
    path: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; a NUL character (PostgreSQL refuses it in jsonb) is written out."""
        return {
            key: value.replace("\x00", "\\x00") if isinstance(value, str) else value
            for key, value in asdict(self).items()
        }


@dataclass(frozen=True)
class CleanedValue:
    """A name or contact value imported without the control characters it held."""

    file: str | None
    entry: int | None
    line: int | None
    resource_type: str
    path: str
    removed: tuple[str, ...]  # code points, "U+202E"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "removed": list(self.removed)}


@dataclass(frozen=True)
class SkippedFile:
    file: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Tally:
    counts: defaultdict[str, TypeCounts] = field(default_factory=lambda: defaultdict(TypeCounts))
    rejections: list[Rejection] = field(default_factory=list)
    skipped_files: list[SkippedFile] = field(default_factory=list)
    cleaned_values: list[CleanedValue] = field(default_factory=list)

    def count(self, resource_type: str, outcome: str, number: int = 1) -> None:
        counts = self.counts[resource_type]
        setattr(counts, outcome, getattr(counts, outcome) + number)

    def reject(self, rejection: Rejection, *, counted: bool = True) -> None:
        self.rejections.append(rejection)
        if counted and rejection.resource_type:
            self.count(rejection.resource_type, "rejected")

    def add(self, other: Tally) -> None:
        for resource_type, counts in other.counts.items():
            self.counts[resource_type].add(counts)
        self.rejections.extend(other.rejections)
        self.skipped_files.extend(other.skipped_files)
        self.cleaned_values.extend(other.cleaned_values)

    @property
    def resources(self) -> int:
        """Resources read (whatever became of them)."""
        return sum(sum(c.as_dict().values()) for c in self.counts.values())

    def summary(self) -> dict[str, dict[str, int]]:
        return {name: self.counts[name].as_dict() for name in sorted(self.counts)}
