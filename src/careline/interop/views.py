"""The Imports page: the latest import runs, and a FHIR file imported from the browser."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from careline.interop.forms import ImportUploadForm
from careline.interop.importer import ImportResult, import_fhir_payload
from careline.interop.selectors import list_import_runs
from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.http import staff_view
from careline.platform.permissions import Permission


@staff_view
@require_http_methods(["GET", "POST"])
@requires_permission(Permission.IMPORT_FHIR, resource_type="ImportRun")
def imports(request: HttpRequest) -> HttpResponse:
    actor = actor_from_request(request)
    result: ImportResult | None = None
    status = 200
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = import_fhir_payload(
                    actor=actor,
                    payload=form.cleaned_data["file"].read(),
                    content_type=form.media_type,
                    source_system=form.cleaned_data["source_system"] or None,
                )
            except ValidationFailed as error:
                form.add_error("file", error.message)
        if result is None:
            status = 422
        else:
            form = ImportUploadForm()
    else:
        form = ImportUploadForm()
    context: dict[str, Any] = {
        "form": form,
        "result": result,
        "runs": list_import_runs(actor=actor),
    }
    return render(request, "interop/imports.html", context, status=status)
