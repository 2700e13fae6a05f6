"""What booking refuses with; the API turns each into its one error shape.

- ``SlotTaken`` (409): somebody else got the time first (or the group is full) — search again.
- ``RuleRefusal`` (422): a visit-type criterion or a provider rule refuses; ``details``
  lists every violation with the rule's name (``scheduling.rules``).
- ``SlotNotOffered`` (422): the time is not a slot of the practitioner's hours for this visit
  type, or outside the visit type's booking window.
- ``SafetyScreenRequired`` / ``SafetyScreenPositive`` (422): the red-flag list must be
  answered first / a "yes" stops booking; ``details`` carry the questions or the advice.
- ``SelfServiceRefused`` (422): a patient may not do this herself on the portal (the visit
  type is not self-schedulable and no ticket covers the date, or the change is too close to
  the visit); the message says why and what to do instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from careline.platform.errors import Conflict, ValidationFailed
from careline.scheduling.rules import Violation


class SlotTaken(Conflict):
    code = "slot_taken"


class RuleRefusal(ValidationFailed):
    code = "rule_violation"

    def __init__(self, violations: Sequence[Violation]) -> None:
        super().__init__(
            " ".join(violation.message for violation in violations),
            details={
                "rule": violations[0].rule,
                "violations": [violation.as_dict() for violation in violations],
            },
        )
        self.violations = list(violations)


class SlotNotOffered(ValidationFailed):
    code = "slot_not_offered"


class SafetyScreenRequired(ValidationFailed):
    code = "safety_screen_required"


class SafetyScreenPositive(ValidationFailed):
    code = "safety_screen_positive"


class SelfServiceRefused(ValidationFailed):
    code = "self_service_refused"
