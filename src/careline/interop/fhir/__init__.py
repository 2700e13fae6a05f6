"""Reading, validating and mapping FHIR R4 resources for the importer.

``inputs`` finds and reads files (bundles, single resources, Bulk-FHIR ndjson) into units of
work; ``references`` parses reference strings and ``context`` turns them into keys within a
unit; ``validation`` checks resources with ``fhir.resources`` R4B; ``mapping`` turns
validated resources into rows for the owning apps; ``prepare`` is the database-free pass
over a unit; ``unit`` and ``writers`` write it in one transaction, with ``resolver`` finding
the rows references point to; ``summary`` counts what happened.
"""
