"""Careline's rows as FHIR R4 resources (plain JSON, validated with the R4B models) — what
the FHIR REST facade serves."""
