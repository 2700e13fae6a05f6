"""Linking by proof: name and birth date, then a one-time code sent to an email on file.

``start_proof`` answers the same whether or not a patient matched (a challenge to enter a
code); only when exactly one living patient matched and she has an email on file does a code
go out, to that address. The code is six digits, kept only as a keyed hash, valid for
``CARELINE_PORTAL_CODE_MINUTES``, for ``CARELINE_PORTAL_CODE_ATTEMPTS`` tries, once; an
account may start ``CARELINE_PORTAL_PROOF_STARTS_PER_DAY`` proofs a day. Every start, wrong
code and link is audited.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac

from careline.patients import self_service
from careline.platform import audit, clock
from careline.platform.actors import Actor
from careline.platform.authorization import refuse
from careline.platform.errors import CarelineError, NotFound, ValidationFailed
from careline.platform.models import AuditAction
from careline.portal.mail import send_portal_mail
from careline.portal.models import LinkMethod, PortalLink, ProofChallenge, Relationship
from careline.portal.services import create_link

_CODE_SALT = "careline.portal.proof-code"
WRONG_CODE = "That code is not right. Check the email and try again."
CODE_NO_LONGER_VALID = (
    "This code can no longer be used: codes work once, for a few minutes, and for a few tries. "
    "Start again to get a new one."
)


class Throttled(CarelineError):
    status = 429
    code = "throttled"


def start_proof(
    *, actor: Actor, given_name: str, family_name: str, birth_date: date
) -> ProofChallenge:
    """Begin linking by proof. The answer is the same whether or not a patient matched:
    a challenge to enter a code. Only when exactly one patient matched, and she has an email
    on file, does a code go out (to that address). Limited per account per day."""
    user = actor.user
    if user is None or not user.is_portal_account:
        raise refuse(
            actor, NotFound("Sign in to the portal first."), resource_type="ProofChallenge"
        )
    now = clock.now()
    started = ProofChallenge.objects.filter(account=user, created_at__gt=now - timedelta(days=1))
    if started.count() >= settings.CARELINE_PORTAL_PROOF_STARTS_PER_DAY:
        error = Throttled(
            "Too many tries today. Try again tomorrow, or call the clinic and ask for an "
            "invitation to the portal."
        )
        raise refuse(actor, error, resource_type="ProofChallenge")
    patient_id = self_service.find_patient_for_proof(
        given_name=given_name, family_name=family_name, birth_date=birth_date
    )
    emails = self_service.list_emails_on_file(patient_id) if patient_id else []
    if not emails:
        patient_id = None
    code = f"{secrets.randbelow(1_000_000):06d}"
    with transaction.atomic():
        challenge = ProofChallenge.objects.create(
            account=user,
            patient_id=str(patient_id) if patient_id else None,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.CARELINE_PORTAL_CODE_MINUTES),
        )
        if patient_id is not None:
            challenge.code_hash = _code_hash(challenge.public_id, code)
            challenge.save(update_fields=["code_hash"])
        audit.record_event(
            actor=actor,
            action=AuditAction.CREATE,
            resource_type="ProofChallenge",
            resource_id=str(challenge.public_id),
            patient_id=patient_id,
            details={"matched": patient_id is not None},
        )
        if patient_id is not None:
            send_portal_mail(
                "proof_code",
                emails[0],
                {"code": code, "minutes": settings.CARELINE_PORTAL_CODE_MINUTES},
            )
    return challenge


def _code_hash(challenge_id: uuid.UUID, code: str) -> str:
    return salted_hmac(_CODE_SALT, f"{challenge_id}:{code}", algorithm="sha256").hexdigest()


def complete_proof(*, actor: Actor, challenge_id: uuid.UUID, code: str) -> PortalLink:
    """Link the account to the matched patient when ``code`` is the one sent — once, before
    it expires, within the allowed tries. A challenge that matched nobody never succeeds,
    with the same message as a wrong code."""
    user = actor.user
    if user is None or not user.is_portal_account:
        raise refuse(actor, NotFound(CODE_NO_LONGER_VALID), resource_type="ProofChallenge")
    now = clock.now()
    with transaction.atomic():
        challenge = (
            ProofChallenge.objects.select_for_update()
            .filter(account=user, public_id=challenge_id)
            .first()
        )
        if challenge is None:
            failure: CarelineError = NotFound(CODE_NO_LONGER_VALID, code="code_unknown")
        elif (
            challenge.completed_at is not None
            or challenge.expires_at <= now
            or challenge.attempts >= settings.CARELINE_PORTAL_CODE_ATTEMPTS
        ):
            failure = ValidationFailed(CODE_NO_LONGER_VALID, code="code_no_longer_valid")
        else:
            challenge.attempts += 1
            matches = bool(challenge.code_hash) and hmac.compare_digest(
                challenge.code_hash, _code_hash(challenge.public_id, code.strip())
            )
            if matches and challenge.patient_public_id is not None:
                challenge.completed_at = now
                challenge.save(update_fields=["attempts", "completed_at"])
                return create_link(
                    actor=actor,
                    patient_id=challenge.patient_public_id,
                    relationship=Relationship.SELF,
                    scopes=[],
                    related_person_id=None,
                    expires_at=None,
                    method=LinkMethod.PROOF,
                    granted_by_id=None,
                )
            challenge.save(update_fields=["attempts"])  # a wrong try counts, and stays counted
            failure = ValidationFailed(WRONG_CODE, code="code_wrong")
    raise refuse(actor, failure, resource_type="ProofChallenge")
