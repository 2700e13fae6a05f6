"""The Imports page's upload form: one FHIR file, a Bundle or resource (JSON) or ndjson."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from careline.interop.importer import SOURCE_LENGTH

# The media type the importer is told, by the file's extension.
_MEDIA_TYPES = {
    ".json": "application/fhir+json",
    ".ndjson": "application/fhir+ndjson",
    ".jsonl": "application/fhir+ndjson",
}


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="FHIR file",
        help_text="A Bundle or one resource (.json), or Bulk-FHIR ndjson (.ndjson).",
    )
    source_system = forms.CharField(
        label="Source system",
        max_length=SOURCE_LENGTH,
        required=False,
        help_text="The sending system, e.g. the EHR's URL. Empty: the bundle's meta.source, "
        "else the configured default.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = upload.name or ""
        extension = name[name.rfind(".") :].lower() if "." in name else ""
        if extension not in _MEDIA_TYPES:
            raise forms.ValidationError(
                "Upload a .json file (a Bundle or one resource) or a .ndjson file."
            )
        limit = settings.CARELINE_IMPORT_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1e6:.1f} MB; the page takes up to "
                f"{limit / 1e6:.0f} MB. Import larger files with `careline import-fhir`."
            )
        return upload

    @property
    def media_type(self) -> str:
        name = self.cleaned_data["file"].name
        return _MEDIA_TYPES[name[name.rfind(".") :].lower()]
