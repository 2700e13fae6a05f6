"""Staff UI for the directory: "Find a location" — the nearest locations or providers.

A place typed here may be a patient's address, so it is POSTed (htmx or a plain form),
never put in a URL, and never stored or logged. The view parses the form and calls
``directory.geo`` and ``directory.selectors`` — the API's nearest routes call the same, so
both list the same rows in the same order. A search by place touches no patient record and
writes no audit entry.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_POST

from careline.directory import geo
from careline.directory.forms import PRACTITIONERS, NearestForm
from careline.directory.selectors import (
    DEFAULT_LIMIT,
    list_nearest_locations,
    list_nearest_practitioners,
)
from careline.platform.authorization import requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.http import staff_view
from careline.platform.permissions import Permission


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.VIEW_DIRECTORY, resource_type="Location")
def nearest(request: HttpRequest) -> HttpResponse:
    """The page; a POST without JavaScript shows the results on it."""
    context: dict[str, Any] = {"form": NearestForm()}
    if request.method == "POST":
        context = _search(request)
    return render(request, "directory/nearest.html", context)


@staff_view
@require_POST
@requires_permission(Permission.VIEW_DIRECTORY, resource_type="Location")
def nearest_results(request: HttpRequest) -> HttpResponse:
    return render(request, "directory/_nearest_results.html", _search(request))


def _search(request: HttpRequest) -> dict[str, Any]:
    form = NearestForm(request.POST)
    if not form.is_valid():
        return {"form": form, "result": None, "hint": _first_error(form)}
    data = form.cleaned_data
    limit = data["limit"] or DEFAULT_LIMIT
    try:
        origin = geo.point_from_text(data["place"])
        if data["find"] == PRACTITIONERS:
            result: Any = list_nearest_practitioners(
                origin=origin,
                specialty=data["specialty"],
                language=data["language"],
                gender=data["gender"],
                limit=limit,
                radius_km=data["radius_km"],
            )
        else:
            result = list_nearest_locations(origin=origin, limit=limit, radius_km=data["radius_km"])
    except ValidationFailed as error:
        return {"form": form, "result": None, "hint": error.message}
    return {"form": form, "result": result, "is_practitioners": data["find"] == PRACTITIONERS}


def _first_error(form: NearestForm) -> str:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return "Check the search."
