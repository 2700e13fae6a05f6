"""The API assembly: one NinjaAPI at /api/ with every app's router."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="Careline API", version="1", urls_namespace="api")
