"""The registry's REST API: routes in ``routes``, schemas in ``schemas``."""

from careline.patients.api.routes import router

__all__ = ["router"]
