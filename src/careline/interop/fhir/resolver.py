"""Finding the directory rows references point to, for a whole import run.

Keys resolve against, in order: rows written earlier in this run (remembered, with their
identifiers), then the database — by source id, by NPI, or by any identifier of the stored
resources (read once per type and run, only when a conditional reference needs it). Each
lookup is one query per type for all the keys a unit needs.

What a unit remembers is staged and kept only when its transaction commits, so a unit that
rolls back leaves no row ids behind that no longer exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from careline.directory import selectors as directory
from careline.interop.fhir.context import ById, ByIdentifier, RefKey

Scope = tuple[str, str]  # (source system, resource type)
IdentifierKey = tuple[str | None, str]


class Resolver:
    def __init__(self) -> None:
        self._ids: defaultdict[Scope, dict[str, int | None]] = defaultdict(dict)
        self._identifiers: defaultdict[Scope, dict[IdentifierKey, str]] = defaultdict(dict)
        self._identifier_ids: defaultdict[Scope, dict[IdentifierKey, int | None]] = defaultdict(
            dict
        )
        self._indexes: dict[Scope, dict[IdentifierKey, int]] = {}
        self._staged_ids: list[tuple[Scope, dict[str, int]]] = []
        self._staged_identifiers: list[tuple[Scope, IdentifierKey, str]] = []

    # -- the unit's transaction ------------------------------------------------------------

    def commit(self) -> None:
        self._staged_ids.clear()
        self._staged_identifiers.clear()

    def discard(self) -> None:
        """Forget what the failed unit remembered."""
        for scope, ids in self._staged_ids:
            for source_id in ids:
                self._ids[scope].pop(source_id, None)
        for scope, key, _ in self._staged_identifiers:
            self._identifiers[scope].pop(key, None)
        self.commit()

    def remember(self, source_system: str, resource_type: str, ids: dict[str, int]) -> None:
        scope = (source_system, resource_type)
        self._ids[scope].update(ids)
        self._staged_ids.append((scope, ids))

    def remember_identifiers(
        self,
        source_system: str,
        resource_type: str,
        source_id: str,
        identifiers: Iterable[IdentifierKey],
    ) -> None:
        scope = (source_system, resource_type)
        for system, value in identifiers:
            for key in ((system, value), (None, value)):
                if key not in self._identifiers[scope]:
                    self._identifiers[scope][key] = source_id
                    self._staged_identifiers.append((scope, key, source_id))

    # -- lookups -----------------------------------------------------------------------------

    def prefetch(self, source_system: str, keys: Iterable[RefKey]) -> None:
        """Read from the database, in one query per type, what the cache does not know."""
        by_source: defaultdict[str, set[str]] = defaultdict(set)
        by_identifier: defaultdict[str, set[IdentifierKey]] = defaultdict(set)
        for key in keys:
            if not directory.is_directory_type(key.resource_type):
                continue
            scope = (source_system, key.resource_type)
            if isinstance(key, ByIdentifier):
                source_id = self._identifiers[scope].get((key.system, key.value))
                if source_id is None:
                    if (key.system, key.value) not in self._identifier_ids[scope]:
                        by_identifier[key.resource_type].add((key.system, key.value))
                    continue
                key = ById(key.resource_type, source_id)
            if key.source_id not in self._ids[scope]:
                by_source[key.resource_type].add(key.source_id)
        for resource_type, source_ids in by_source.items():
            self._fetch_by_source(source_system, resource_type, source_ids)
        for resource_type, identifiers in by_identifier.items():
            self._fetch_by_identifier(source_system, resource_type, identifiers)

    def pk(self, source_system: str, key: RefKey) -> int | None:
        scope = (source_system, key.resource_type)
        if isinstance(key, ByIdentifier):
            source_id = self._identifiers[scope].get((key.system, key.value))
            if source_id is None:
                return self._identifier_ids[scope].get((key.system, key.value))
            return self._ids[scope].get(source_id)
        return self._ids[scope].get(key.source_id)

    def _fetch_by_source(
        self, source_system: str, resource_type: str, source_ids: set[str]
    ) -> None:
        found = directory.find_ids_by_source(
            kind=resource_type, source_system=source_system, source_ids=source_ids
        )
        cache = self._ids[(source_system, resource_type)]
        for source_id in source_ids:
            cache[source_id] = found.get(source_id)

    def _fetch_by_identifier(
        self, source_system: str, resource_type: str, identifiers: set[IdentifierKey]
    ) -> None:
        cache = self._identifier_ids[(source_system, resource_type)]
        npis = {value for system, value in identifiers if system == directory.NPI_SYSTEM}
        found = directory.find_ids_by_npi(
            kind=resource_type, source_system=source_system, npis=npis
        )
        for npi, pk in found.items():
            cache[(directory.NPI_SYSTEM, npi)] = pk
        rest = {key for key in identifiers if key not in cache}
        if rest:
            index = self._index(source_system, resource_type)
            for key in rest:
                cache[key] = index.get(key)

    def _index(self, source_system: str, resource_type: str) -> dict[IdentifierKey, int]:
        """Every stored row's identifiers (read once per run and type)."""
        scope = (source_system, resource_type)
        if scope not in self._indexes:
            index = directory.identifier_index(kind=resource_type, source_system=source_system)
            for system, value in list(index):
                index.setdefault((None, value), index[(system, value)])
            self._indexes[scope] = index
        return self._indexes[scope]
