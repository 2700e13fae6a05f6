"""Static files shipped inside Python packages, served as our own (no CDN).

``PackageFileFinder`` serves exactly the files listed in ``PACKAGE_STATIC_FILES`` — today
plotly's bundled ``plotly.min.js`` as ``vendor/plotly.min.js`` — so the version in use is the
one the dependency pins, and nothing else of the package is published.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, overload

from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

# Served name → (package, path inside the package).
PACKAGE_STATIC_FILES: dict[str, tuple[str, str]] = {
    "vendor/plotly.min.js": ("plotly", "package_data/plotly.min.js"),
}


def package_file(package: str, relative: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / relative
    return path if path.is_file() else None


class _PrefixedStorage(FileSystemStorage):
    """A directory served under a prefix (``collectstatic`` reads ``prefix``)."""

    def __init__(self, location: Path, prefix: str) -> None:
        super().__init__(location=str(location))
        self.prefix = prefix


class PackageFileFinder(BaseFinder):
    def check(self, **kwargs: Any) -> list[Any]:
        return []

    @overload
    def find(self, path: str, find_all: Literal[False] = False) -> str | None: ...

    @overload
    def find(self, path: str, find_all: Literal[True]) -> list[str]: ...

    def find(self, path: str, find_all: bool = False) -> str | list[str] | None:
        source = PACKAGE_STATIC_FILES.get(path)
        found = package_file(*source) if source else None
        if found is None:
            return [] if find_all else None
        return [str(found)] if find_all else str(found)

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, Any]]:
        for name, (package, relative) in PACKAGE_STATIC_FILES.items():
            found = package_file(package, relative)
            if found is not None:
                yield found.name, _PrefixedStorage(found.parent, str(Path(name).parent))
