"""Finding and reading import inputs: JSON files (a Bundle or one resource) and Bulk-FHIR
ndjson (one resource a line), given as files or folders (searched recursively).

Reading yields *units* — a bundle, a single resource, or a batch of ndjson lines: each is
written in one transaction — and *problems*: a file or line that cannot be read (rejected),
or a file that is readable JSON but not FHIR, like a Bulk-FHIR export log or Synthea's
MANIFEST.json (skipped, with the reason). Nothing here raises on bad input.

Order: directory resources and patients are needed first. ndjson files sort by the type in
their name (``Practitioner.000.ndjson`` before ``Encounter.000.ndjson``); a JSON file holding
one resource sorts by its type; bundles come after the directory and patients, except those
whose name says they hold the directory (``directory.json`` of ``careline generate``, Synthea's
``hospitalInformation*`` and ``practitionerInformation*``), which come first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from careline.interop.fhir.context import Entry
from careline.interop.fhir.mapping import type_priority
from careline.interop.fhir.references import RESOURCE_TYPE
from careline.interop.fhir.values import as_dict, text

NDJSON_SUFFIXES = frozenset({".ndjson", ".jsonl"})
JSON_SUFFIXES = frozenset({".json"})
DIRECTORY_FILE_PREFIXES = ("directory", "hospitalinformation", "practitionerinformation")
BULK_LOG_KEYS = frozenset({"exportId", "eventId"})
SNIFF_BYTES = 4096
_RESOURCE_TYPE_KEY = re.compile(rb'"resourceType"\s*:\s*"([A-Za-z]{1,64})"')


@dataclass
class Unit:
    """Resources written together in one transaction."""

    file: str | None
    entries: list[Entry]
    source_system: str | None = None  # the bundle's meta.source
    size: int = 0  # bytes read, for progress


@dataclass(frozen=True)
class InputProblem:
    """A file, bundle entry or ndjson line that could not be read as FHIR."""

    file: str | None
    reason: str
    entry: int | None = None
    line: int | None = None
    is_skip: bool = False  # a known non-FHIR companion file: skipped, not rejected
    size: int = 0


class MissingPath(Exception):
    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} does not exist")
        self.path = path


@dataclass(order=True)
class _Input:
    priority: int
    path: Path = field(compare=True)
    is_ndjson: bool = field(compare=False, default=False)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Every input file under the paths, in import order; ``MissingPath`` for a bad path."""
    found: dict[Path, _Input] = {}
    for path in paths:
        if not path.exists():
            raise MissingPath(path)
        files = [path] if path.is_file() else _files_under(path)
        for file in files:
            found.setdefault(file, _classify(file))
    return [item.path for item in sorted(found.values())]


def _files_under(folder: Path) -> list[Path]:
    suffixes = NDJSON_SUFFIXES | JSON_SUFFIXES
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes]


def _classify(path: Path) -> _Input:
    name = path.name
    if path.suffix.lower() in NDJSON_SUFFIXES:
        return _Input(type_priority(name.split(".", 1)[0]), path, is_ndjson=True)
    if name.lower().startswith(DIRECTORY_FILE_PREFIXES):
        return _Input(0, path)
    resource_type = _sniff_type(path)
    if resource_type is None or resource_type == "Bundle":
        return _Input(type_priority("Patient"), path)  # patient bundles hold everything
    return _Input(type_priority(resource_type), path)


def _sniff_type(path: Path) -> str | None:
    """The first resourceType in the file's first bytes (a single resource's own, mostly).

    Only the order depends on it: a wrong guess imports the file later, never wrongly.
    """
    try:
        with path.open("rb") as file:
            head = file.read(SNIFF_BYTES)
    except OSError:
        return None
    match = _RESOURCE_TYPE_KEY.search(head)
    return match.group(1).decode() if match else None


def read_file(path: Path, *, batch_size: int) -> Iterator[Unit | InputProblem]:
    if path.suffix.lower() in NDJSON_SUFFIXES:
        yield from _read_ndjson_file(path, batch_size)
        return
    try:
        payload = path.read_bytes()
    except OSError as error:
        yield InputProblem(str(path), f"cannot be read: {error.strerror or type(error).__name__}")
        return
    yield from read_json(payload, file=str(path))


def read_json(payload: bytes, *, file: str | None) -> Iterator[Unit | InputProblem]:
    """A JSON document: a Bundle (one unit) or a single resource (a unit of one)."""
    data, problem = _parse(payload)
    if problem is not None:
        yield InputProblem(file, problem, size=len(payload))
        return
    if not isinstance(data, dict):
        reason = f"is not a FHIR resource or Bundle (a JSON {_kind(data)})"
        yield InputProblem(file, reason, is_skip=True, size=len(payload))
        return
    resource_type = data.get("resourceType")
    if not isinstance(resource_type, str):
        # valid JSON of another kind (Synthea's MANIFEST.json, an export's metadata)
        reason = "is not a FHIR resource or Bundle: it has no resourceType"
        yield InputProblem(file, reason, is_skip=True, size=len(payload))
        return
    source = text(as_dict(data.get("meta")).get("source")) or None
    if resource_type != "Bundle":
        yield Unit(file, [Entry(data)], source, len(payload))
        return
    yield from _bundle(data, file, source, len(payload))


def _bundle(
    bundle: dict[str, Any], file: str | None, source: str | None, size: int
) -> Iterator[Unit | InputProblem]:
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        yield InputProblem(file, "Bundle.entry is not a list", size=size)
        return
    unit = Unit(file, [], source, size)
    for index, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            yield InputProblem(file, "the bundle entry has no resource", entry=index)
            continue
        full_url = entry.get("fullUrl")
        unit.entries.append(
            Entry(resource, index=index, full_url=full_url if isinstance(full_url, str) else None)
        )
    yield unit


def _read_ndjson_file(path: Path, batch_size: int) -> Iterator[Unit | InputProblem]:
    try:
        with path.open("rb") as lines:
            yield from read_ndjson(lines, file=str(path), batch_size=batch_size)
    except OSError as error:
        yield InputProblem(str(path), f"cannot be read: {error.strerror or type(error).__name__}")


def read_ndjson(
    lines: Iterable[bytes], *, file: str | None, batch_size: int
) -> Iterator[Unit | InputProblem]:
    """Batches of ``batch_size`` resources; each bad line is a problem with its number."""
    batch = Unit(file, [])
    for number, line in enumerate(lines, start=1):
        batch.size += len(line)
        if not line.strip():
            continue
        data, problem = _parse(line.strip(), one_line=True)
        if problem is None and not isinstance(data, dict):
            problem = f"is not a FHIR resource (a JSON {_kind(data)})"
        if problem is not None:
            yield InputProblem(file, problem, line=number)
            continue
        if not isinstance(data.get("resourceType"), str):
            if number == 1 and data.keys() >= BULK_LOG_KEYS:
                yield InputProblem(file, "a Bulk-FHIR export log, not FHIR resources", is_skip=True)
                return
            yield InputProblem(file, "has no resourceType", line=number)
            continue
        batch.entries.append(Entry(data, line=number))
        if len(batch.entries) >= batch_size:
            yield batch
            batch = Unit(file, [])
    if batch.entries or batch.size:
        yield batch


def _parse(payload: bytes, *, one_line: bool = False) -> tuple[Any, str | None]:
    """(parsed JSON, None) or (None, the reason it is not JSON)."""
    try:
        return json.loads(payload, parse_constant=_refuse_constant), None
    except json.JSONDecodeError as error:
        where = (
            f"column {error.colno}" if one_line else f"line {error.lineno}, column {error.colno}"
        )
        return None, f"is not valid JSON: {error.msg} ({where})"
    except UnicodeDecodeError:
        return None, "is not UTF-8 text"
    except ValueError as error:
        return None, f"is not valid JSON: {error}"
    except RecursionError:
        return None, "is not valid JSON: nested too deeply"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "number" if isinstance(value, int | float) and not isinstance(value, bool) else "boolean"


def is_resource_type_name(value: object) -> bool:
    return isinstance(value, str) and RESOURCE_TYPE.fullmatch(value) is not None
