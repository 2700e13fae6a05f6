"""The API docs page (Swagger UI) served entirely from this server — no CDN.

ninja renders its local-assets template only when ``ninja`` is in ``INSTALLED_APPS`` and
falls back to jsDelivr otherwise; clinics run offline networks, so this page is rendered
from ``api/docs.html`` and the Swagger UI files ninja ships (``ninja/static/ninja``) are
served by ``docs_asset`` under ``/api/docs/assets/``. Swagger UI's online validator badge
(a request to validator.swagger.io) is switched off.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ninja
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from ninja.openapi.docs import DocsBase

from careline.api.errors import error_response

if TYPE_CHECKING:
    from ninja import NinjaAPI

NINJA_STATIC = Path(ninja.__file__).resolve().parent / "static" / "ninja"
DOCS_ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-init.js",
        "favicon.png",
        "favicon.svg",
    }
)
ASSET_MAX_AGE = 24 * 60 * 60


class OfflineSwagger(DocsBase):
    settings: dict[str, Any] = {  # noqa: RUF012 (read-only defaults)
        "layout": "BaseLayout",
        "deepLinking": True,
        "validatorUrl": None,
    }

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        namespace = api.urls_namespace
        swagger_settings = {**self.settings, "url": self.get_openapi_url(api, kwargs)}
        context = {
            "api": api,
            "swagger_settings": swagger_settings,
            "add_csrf": True,  # the staff session auth checks CSRF on writes
            "assets": {
                name.replace("-", "_").replace(".", "_"): reverse(
                    f"{namespace}:docs-asset", kwargs={"name": name}
                )
                for name in DOCS_ASSETS
            },
        }
        return render(request, "api/docs.html", context)


@require_safe
def docs_asset(request: HttpRequest, name: str) -> HttpResponseBase:
    if name not in DOCS_ASSETS:
        return error_response(404, "not_found", "No such docs asset.")
    content_type, _ = mimetypes.guess_type(name)
    response = FileResponse(
        (NINJA_STATIC / name).open("rb"), content_type=content_type or "application/octet-stream"
    )
    response["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}"
    return response
