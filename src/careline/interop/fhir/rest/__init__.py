"""Careline's FHIR R4 REST facade at /fhir/R4: the CapabilityStatement, read and search.

Plain Django views, not the staff API's ninja: FHIR fixes its own wire format (resources and
OperationOutcomes as ``application/fhir+json``, form-encoded ``_search``, repeated and
modified parameter names such as ``name:exact`` and ``birthdate=ge…&birthdate=lt…``) which
ninja's schema-per-route parsing and its one error shape would fight at every step; the
parts worth sharing — bearer-token authentication, actors, access checks and audit — are
called directly.

- ``registry``: the supported types and their search parameters; ``resources`` lists them.
- ``values``: FHIR search value syntax (escapes, tokens, dates with prefixes).
- ``patient`` / ``patient_resource``: Patient's parameters, read, search, the resource.
- ``capability``: the CapabilityStatement, generated from the registry.
- ``views`` / ``urls``: HTTP, format negotiation, paging links, OperationOutcomes.
"""
