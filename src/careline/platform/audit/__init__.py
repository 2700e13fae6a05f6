"""The audit trail: append (``services``), seal and verify the keyed chain (``chain``,
``checkpoints``), read it (``selectors``) and export it (``export``, ``fhir``).

Every app appends through ``audit.record_event`` / ``audit.record_events``.
"""

from careline.platform.audit.services import AuditEntry, record_event, record_events

__all__ = ["AuditEntry", "record_event", "record_events"]
