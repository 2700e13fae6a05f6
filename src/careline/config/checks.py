"""Production refuses insecure defaults: ``careline check --deploy`` reports them as errors,
and ``careline serve``, ``worker`` and ``migrate`` refuse to start while any holds."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import ERROR, CheckMessage, Error, Tags, register
from django.core.checks.registry import registry
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError

from careline.platform.audit.chain import MIN_KEY_LENGTH, parse_chain_keys


@register(Tags.security, deploy=True)
def check_production_secrets(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    if not settings.IS_PRODUCTION:
        return []
    errors: list[CheckMessage] = []
    if settings.SECRET_KEY == settings.INSECURE_SECRET_KEY:
        errors.append(Error("SECRET_KEY is the development default.", id="careline.E001"))
    if settings.INSECURE_FIELD_KEY in settings.FIELD_ENCRYPTION_KEYS:
        errors.append(Error("FIELD_ENCRYPTION_KEYS holds the development key.", id="careline.E002"))
    if settings.DEBUG:
        errors.append(Error("DEBUG must be off in production.", id="careline.E003"))
    if not settings.CARELINE_REQUIRE_STAFF_MFA:
        errors.append(Error("Staff MFA cannot be switched off in production.", id="careline.E004"))
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        errors.append(Error("Production needs PostgreSQL (DATABASE_URL).", id="careline.E005"))
    errors.extend(_audit_chain_key_errors())
    return errors


def _audit_chain_key_errors() -> list[CheckMessage]:
    try:
        keys = parse_chain_keys(settings.AUDIT_CHAIN_KEYS)
    except ImproperlyConfigured as error:
        return [Error(str(error), id="careline.E020")]
    if not keys:
        return [
            Error("AUDIT_CHAIN_KEYS is not set: the audit chain needs a key.", id="careline.E020")
        ]
    if settings.INSECURE_AUDIT_CHAIN_KEY in settings.AUDIT_CHAIN_KEYS:
        return [Error("AUDIT_CHAIN_KEYS holds the development key.", id="careline.E020")]
    if len(keys[0].secret) < MIN_KEY_LENGTH:
        return [
            Error(
                f"The newest AUDIT_CHAIN_KEYS secret is shorter than {MIN_KEY_LENGTH} characters.",
                id="careline.E020",
            )
        ]
    return []


def refuse_to_start_with_failing_deploy_checks() -> None:
    """In production, ``CommandError`` listing every deployment check error (ours and any
    other app's); elsewhere nothing. Serving, working and migrating call it first."""
    if not settings.IS_PRODUCTION:
        return
    # Only the deployment checks: the others run with every command, and some (model
    # checks) would open the database before we refuse.
    messages = [message for check in registry.deployment_checks for message in check(None)]
    failing = sorted(
        (message.id or "", message.msg)
        for message in messages
        if message.level >= ERROR and not message.is_silenced()
    )
    if failing:
        listed = "\n".join(f"  {check_id}: {text}" for check_id, text in failing)
        raise CommandError(
            "Careline refuses to start in production while deployment checks fail:\n"
            f"{listed}\nFix them (`careline check --deploy` lists them) and start again."
        )
