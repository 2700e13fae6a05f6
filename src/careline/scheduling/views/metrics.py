"""The Access metrics page: every number from ``scheduling.metrics`` (the API answers the
same), drawn by plotly from a static script that reads the JSON embedded in the page (no
inline script under the Content-Security-Policy), with a table under each chart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from careline.directory.visit_types import list_visit_types
from careline.platform.actors import actor_from_request
from careline.platform.authorization import requires_permission
from careline.platform.errors import ValidationFailed
from careline.platform.http import local_today, staff_view
from careline.platform.permissions import Permission
from careline.scheduling import metrics, selectors

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class MetricsForm(forms.Form):
    """GET parameters of the page (the API's names: from, to, visit_type, location)."""

    date_from = forms.DateField(label="From", required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label="To", required=False, widget=DATE_INPUT)
    visit_type = forms.UUIDField(label="Visit type", required=False)
    location = forms.UUIDField(label="Location", required=False)

    def __init__(
        self,
        data: Mapping[str, Any] | None,
        *,
        visit_types: list[tuple[str, str]],
        locations: list[tuple[str, str]],
    ) -> None:
        super().__init__(data)
        self.fields["visit_type"].widget = forms.Select(
            choices=[("", "Every visit type"), *visit_types]
        )
        self.fields["location"].widget = forms.Select(choices=[("", "Every location"), *locations])

    def add_prefix(self, field_name: str) -> str:
        return {"date_from": "from", "date_to": "to"}.get(field_name, field_name)


@staff_view
@require_GET
@requires_permission(Permission.VIEW_ACCESS_METRICS, resource_type="AccessMetrics")
def access_metrics(request: HttpRequest) -> HttpResponse:
    bookables = selectors.list_bookables()
    form = MetricsForm(
        request.GET or None,
        visit_types=[(str(row.public_id), row.name) for row in list_visit_types()],
        locations=[(str(row.public_id), row.name) for row in bookables.locations],
    )
    if form.is_bound and not form.is_valid():
        raise ValidationFailed("Give dates as YYYY-MM-DD and pick a listed visit type or location.")
    cleaned = form.cleaned_data if form.is_bound else {}
    defaults = metrics.default_filters(local_today())
    filters = metrics.MetricFilters(
        date_from=cleaned.get("date_from") or defaults.date_from,
        date_to=cleaned.get("date_to") or defaults.date_to,
        visit_type_id=cleaned.get("visit_type"),
        location_id=cleaned.get("location"),
    )
    result = metrics.get_access_metrics(actor=actor_from_request(request), filters=filters)
    context = {
        "form": form,
        "metrics": result,
        "totals": result.totals,
        "fill_total": result.fill_total,
        "data": metrics.payload(result),
        "providers_latest": metrics.latest_per_provider(result.snapshots),
    }
    return render(request, "scheduling/metrics.html", context)
