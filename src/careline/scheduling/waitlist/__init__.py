"""Waitlist backfill: a freed slot is held and offered to the first eligible waitlisted
patients, several at once, first acceptance wins (``engine``, ``services``, ``selectors``)."""
