"""Careline settings, read from the environment.

Every setting has a safe development default; ``CARELINE_ENV=production`` refuses the
insecure ones (see ``careline.config.checks``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from careline.config.database import database_from_url

BASE_DIR = Path(__file__).resolve().parents[3]
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


CARELINE_ENV = env("CARELINE_ENV", "development")  # development | demo | production
IS_PRODUCTION = CARELINE_ENV == "production"
DEMO_MODE = CARELINE_ENV == "demo"

INSECURE_SECRET_KEY = "careline-insecure-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = env("SECRET_KEY", INSECURE_SECRET_KEY)
# Debug pages (settings, paths, the request) only in local development: not in a demo.
DEBUG = env_bool("DEBUG", default=CARELINE_ENV == "development")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Field encryption keys (Fernet, url-safe base64, 32 bytes). The first encrypts; all decrypt,
# so a key is rotated by putting a new one first and running `careline rotate_field_keys`.
INSECURE_FIELD_KEY = "Y2FyZWxpbmUtaW5zZWN1cmUtZGV2LWZpZWxkLWtleSE="
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", INSECURE_FIELD_KEY)

# The audit chain's HMAC keys, "key-id:secret" pairs, newest first: the sealer links with the
# first, `careline audit verify` needs every key an entry names. Rotate by putting a new key
# first (nothing is rewritten). Production has no default (`careline check --deploy`).
INSECURE_AUDIT_CHAIN_KEY = "dev:careline-insecure-development-audit-chain-key"
AUDIT_CHAIN_KEYS = env_list("AUDIT_CHAIN_KEYS", "" if IS_PRODUCTION else INSECURE_AUDIT_CHAIN_KEY)

DATABASES: dict[str, dict[str, Any]] = {
    "default": database_from_url(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'careline.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Careline's platform first: its templates override allauth's layout.
    "careline.platform",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "careline.directory",
    "careline.patients",
    "careline.clinical",
    "careline.identity",
    "careline.messaging",
    "careline.scheduling",
    "careline.interop",
    "careline.portal",
    "careline.api",
    "careline.config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "careline.platform.middleware.ContentSecurityPolicyMiddleware",
    "careline.platform.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "careline.platform.middleware.InactivityLogoutMiddleware",
    "careline.platform.middleware.RequireStaffMfaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "careline.config.urls"
WSGI_APPLICATION = "careline.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "careline.platform.context_processors.navigation",
                "careline.portal.context_processors.portal_layout",
            ],
        },
    },
]

AUTH_USER_MODEL = "platform.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
CSRF_FAILURE_VIEW = "careline.platform.views.csrf_failure"  # a 403 page, and audited
LOGIN_REDIRECT_URL = "platform:home"
LOGOUT_REDIRECT_URL = "account_login"

# django-allauth: staff accounts are created by administrators, never by sign-up, and sign in
# by user name. Patient-portal accounts sign up and in by email on the portal's own pages
# (/portal/): the adapter opens sign-up there only and keeps each kind on its own site.
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_ADAPTER = "careline.portal.adapter.CarelineAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Careline"
# Staff must have MFA outside demo mode (and outside local development unless asked).
CARELINE_REQUIRE_STAFF_MFA = env_bool("CARELINE_REQUIRE_STAFF_MFA", default=not DEMO_MODE)

# The patient portal. An invitation link works once, for this many hours; a proxy's access
# lasts this many days unless the invitation says otherwise; a proof code works for this many
# minutes and tries; an account may start this many proofs a day. CARELINE_PORTAL_APPOINTMENTS
# names the function that lists a patient's appointments (the default: her appointments in
# scheduling and the visits the EHR mirror records).
CARELINE_PORTAL_INVITATION_HOURS = int(env("CARELINE_PORTAL_INVITATION_HOURS", "72"))
CARELINE_PORTAL_PROXY_DAYS = int(env("CARELINE_PORTAL_PROXY_DAYS", "365"))
CARELINE_PORTAL_CODE_MINUTES = int(env("CARELINE_PORTAL_CODE_MINUTES", "10"))
CARELINE_PORTAL_CODE_ATTEMPTS = int(env("CARELINE_PORTAL_CODE_ATTEMPTS", "5"))
CARELINE_PORTAL_PROOF_STARTS_PER_DAY = int(env("CARELINE_PORTAL_PROOF_STARTS_PER_DAY", "5"))
CARELINE_PORTAL_APPOINTMENTS = env(
    "CARELINE_PORTAL_APPOINTMENTS", "careline.portal.appointments.scheduled_and_ehr_visits"
)
# A patient may reschedule or cancel on the portal up to this many hours before the visit
# (a visit type's own portal_change_notice_hours wins); later she is told to call.
CARELINE_PORTAL_CHANGE_NOTICE_HOURS = int(env("CARELINE_PORTAL_CHANGE_NOTICE_HOURS", "24"))

# Email (portal invitations, codes, address verification): SMTP from the environment in
# production; printed to the console in development and demo mode, where no mail server runs.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if IS_PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Careline <no-reply@careline.invalid>")

# SMS through a Twilio-compatible provider and fax through a Phaxio-compatible one
# (careline.messaging.channels.sms / .fax). The credentials carry the SDKs' own names; the API
# base URL points the adapter at another server speaking the same API (a local stand-in, a
# regional edge). An adapter is marked as covered by a business associate agreement only when
# one is signed: no PHI goes to a provider that is not.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env("TWILIO_MESSAGING_SERVICE_SID")
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", "https://api.twilio.com")
TWILIO_COVERED_BY_BAA = env_bool("TWILIO_COVERED_BY_BAA", default=False)
TWILIO_TIMEOUT_SECONDS = float(env("TWILIO_TIMEOUT_SECONDS", "10"))
PHAXIO_API_KEY = env("PHAXIO_API_KEY")
PHAXIO_API_SECRET = env("PHAXIO_API_SECRET")
PHAXIO_CALLBACK_TOKEN = env("PHAXIO_CALLBACK_TOKEN")
PHAXIO_CALLER_ID = env("PHAXIO_CALLER_ID")
PHAXIO_API_BASE_URL = env("PHAXIO_API_BASE_URL", "https://api.phaxio.com/v2.1")
PHAXIO_COVERED_BY_BAA = env_bool("PHAXIO_COVERED_BY_BAA", default=False)
PHAXIO_TIMEOUT_SECONDS = float(env("PHAXIO_TIMEOUT_SECONDS", "30"))
# Messaging (careline.messaging). Who we are in every text (the TCPA healthcare exemption asks
# for the organisation's name and a contact in each one).
CARELINE_ORG_NAME = env("CARELINE_ORG_NAME", "Careline Health")
CARELINE_ORG_PHONE = env("CARELINE_ORG_PHONE", "555-0100")
CARELINE_PORTAL_BASE_URL = env("CARELINE_PORTAL_BASE_URL", "http://127.0.0.1:8000/portal/")
# The adapter of each channel, "channel=dotted.path.Class" pairs. Demo and development use
# local sinks (stored, readable on the Outbox page) for every channel but the portal; a
# production deployment names its providers (SMTP email is the default there).
_SINKS = (
    "email=careline.messaging.channels.sink.EmailSinkAdapter,"
    "sms=careline.messaging.channels.sink.SmsSinkAdapter,"
    "voice=careline.messaging.channels.sink.VoiceSinkAdapter,"
    "fax=careline.messaging.channels.sink.FaxSinkAdapter,"
    "portal=careline.messaging.channels.portal.PortalAdapter"
)
_PRODUCTION_ADAPTERS = (
    "email=careline.messaging.channels.email.SmtpEmailAdapter,"
    "portal=careline.messaging.channels.portal.PortalAdapter"
)
CARELINE_MESSAGING_ADAPTERS = env(
    "CARELINE_MESSAGING_ADAPTERS", _PRODUCTION_ADAPTERS if IS_PRODUCTION else _SINKS
)
# Adapters whose provider is covered by a business associate agreement (PHI may go there),
# by adapter name; the portal (our own server) always is.
CARELINE_MESSAGING_BAA_ADAPTERS = env_list(
    "CARELINE_MESSAGING_BAA_ADAPTERS", "smtp-email,portal,sink-email,sink-sms,sink-voice,sink-fax"
)
# The domain of deterministic email Message-IDs (<reference@domain>).
CARELINE_MESSAGING_MESSAGE_ID_DOMAIN = env(
    "CARELINE_MESSAGING_MESSAGE_ID_DOMAIN", "careline.invalid"
)
# Sending rates per channel (and sender), messages per second (0: unpaced), "channel=rate".
CARELINE_MESSAGING_RATES = env("CARELINE_MESSAGING_RATES", "sms=1,voice=1,fax=0.2")
# Frequency caps per purpose: "purpose=count/days" (replies never count).
CARELINE_MESSAGING_CAPS = env(
    "CARELINE_MESSAGING_CAPS", "campaign=2/7,survey_invitation=1/30,education=3/7"
)
# States with quiet hours stricter than the federal 08:00-21:00, added to the built-in ones:
# "TX=09:00-21:00,…" (careline.messaging.quiet_hours.STATE_WINDOWS).
CARELINE_MESSAGING_STATE_WINDOWS = env("CARELINE_MESSAGING_STATE_WINDOWS")
# The dispatcher beside `careline worker`: how often it looks for due messages (seconds; 0
# turns it off), how many it claims at once, how long a claim lasts before the reaper calls
# it in doubt, and the retry backoff (base seconds, doubled per attempt, at most this many).
CARELINE_MESSAGING_DISPATCH_SECONDS = float(env("CARELINE_MESSAGING_DISPATCH_SECONDS", "1"))
CARELINE_MESSAGING_BATCH_SIZE = int(env("CARELINE_MESSAGING_BATCH_SIZE", "100"))
CARELINE_MESSAGING_LEASE_SECONDS = float(env("CARELINE_MESSAGING_LEASE_SECONDS", "300"))
CARELINE_MESSAGING_RETRY_BASE_SECONDS = float(env("CARELINE_MESSAGING_RETRY_BASE_SECONDS", "30"))
CARELINE_MESSAGING_MAX_ATTEMPTS = int(env("CARELINE_MESSAGING_MAX_ATTEMPTS", "6"))

# Automatic logoff after inactivity (HIPAA §164.312(a)(2)(iii)).
CARELINE_INACTIVITY_TIMEOUT_SECONDS = int(env("CARELINE_INACTIVITY_TIMEOUT_SECONDS", "900"))
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp) on every answer: scripts and styles only from our own
# static files — no inline script or style, no eval (htmx's indicator styles are off in
# base.html's htmx-config and live in careline.css). Swagger UI at /api/docs works under it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # allauth draws the TOTP set-up QR code as data:
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Browser features no Careline page uses (careline.platform.middleware.SecurityHeadersMiddleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
if IS_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# API tokens stop working this many days after they are issued unless `--expires` says when.
CARELINE_API_TOKEN_LIFETIME_DAYS = int(env("CARELINE_API_TOKEN_LIFETIME_DAYS", "90"))
# Break-glass access lasts this long before the reason must be given again.
CARELINE_BREAK_GLASS_SECONDS = int(env("CARELINE_BREAK_GLASS_SECONDS", "3600"))
# Source system name for FHIR imports that do not name one.
CARELINE_DEFAULT_SOURCE = env("CARELINE_DEFAULT_SOURCE", "urn:careline:source:ehr")
# Identifiers an import never keeps in clear: removed from the stored raw resources (the SSN
# itself is kept encrypted on the patient). By identifier system, and by HL7 v2-0203 type.
CARELINE_SENSITIVE_IDENTIFIER_SYSTEMS = env_list(
    "CARELINE_SENSITIVE_IDENTIFIER_SYSTEMS", "http://hl7.org/fhir/sid/us-ssn"
)
CARELINE_SENSITIVE_IDENTIFIER_TYPES = env_list("CARELINE_SENSITIVE_IDENTIFIER_TYPES", "SS")
# The FHIR facade's public base URL: Bundle links (self, next, fullUrl) are absolute on it.
CARELINE_FHIR_BASE_URL = env("CARELINE_FHIR_BASE_URL", "http://127.0.0.1:8000/fhir/R4")
CARELINE_FHIR_PAGE_SIZE = int(env("CARELINE_FHIR_PAGE_SIZE", "20"))
CARELINE_TIME_ZONE = env("CARELINE_TIME_ZONE", "America/New_York")
# Scheduling: how long a slot is held while booking, and how many authorised overbooks a
# practitioner's session (morning or afternoon of one day) may take.
CARELINE_HOLD_MINUTES = int(env("CARELINE_HOLD_MINUTES", "5"))
CARELINE_OVERBOOK_CAP_PER_SESSION = int(env("CARELINE_OVERBOOK_CAP_PER_SESSION", "2"))
# Waitlist backfill: a freed slot is held and offered to this many eligible patients at once
# (first acceptance wins) for this many minutes; no offer is made outside the organisation's
# offer hours (local "HH:MM-HH:MM" in CARELINE_TIME_ZONE: quiet hours defer the round) or
# later than this many minutes before the slot; the worker runs a sweep this often (seconds)
# that picks up rounds a lost task left behind. A visit type's WaitlistPolicy can override.
CARELINE_WAITLIST_OFFERS_AT_ONCE = int(env("CARELINE_WAITLIST_OFFERS_AT_ONCE", "3"))
CARELINE_WAITLIST_OFFER_MINUTES = int(env("CARELINE_WAITLIST_OFFER_MINUTES", "15"))
CARELINE_WAITLIST_OFFER_HOURS = env("CARELINE_WAITLIST_OFFER_HOURS", "08:00-20:00")
CARELINE_WAITLIST_STOP_BEFORE_MINUTES = int(env("CARELINE_WAITLIST_STOP_BEFORE_MINUTES", "60"))
CARELINE_WAITLIST_SWEEP_SECONDS = float(env("CARELINE_WAITLIST_SWEEP_SECONDS", "300"))
# Called with the ids of new offers once they commit: until messaging (issue 10) sends them
# through its outbox, the default only records that it was called (no message is sent).
CARELINE_WAITLIST_OFFER_NOTIFIER = env(
    "CARELINE_WAITLIST_OFFER_NOTIFIER", "careline.scheduling.waitlist.notify.offers_recorded"
)
# The provider-bump workflow: called with the ids of new bump notices once they commit (the
# default records only that it was called; messaging will send them); a bumped patient put
# on the waitlist waits for a slot up to this many days after the bumped visit.
CARELINE_BUMP_NOTIFIER = env(
    "CARELINE_BUMP_NOTIFIER", "careline.scheduling.bumps.notify.bumps_recorded"
)
CARELINE_BUMP_WAITLIST_DAYS = int(env("CARELINE_BUMP_WAITLIST_DAYS", "28"))
# Access metrics: a cancellation this many hours or less before the start is late; the worker
# looks this often (seconds; 0: never) whether this week's third-next-available snapshot is
# still to record (the task is idempotent per week).
CARELINE_LATE_CANCEL_HOURS = int(env("CARELINE_LATE_CANCEL_HOURS", "24"))
CARELINE_ACCESS_SNAPSHOT_CHECK_SECONDS = float(
    env("CARELINE_ACCESS_SNAPSHOT_CHECK_SECONDS", "3600")
)
# Periodic jobs, enqueued by the scheduler beside `careline worker` (platform.periodic): each
# names a function that enqueues (or checks and enqueues) and how often, in seconds (0: off).
CARELINE_PERIODIC_JOBS: list[dict[str, str | float]] = [
    {
        "name": "waitlist sweep",
        "target": "careline.scheduling.waitlist.sweeper.enqueue_sweep",
        "seconds": CARELINE_WAITLIST_SWEEP_SECONDS,
    },
    {
        "name": "weekly access snapshot",
        "target": "careline.scheduling.cadence.enqueue_snapshot_if_due",
        "seconds": CARELINE_ACCESS_SNAPSHOT_CHECK_SECONDS,
    },
]

# The audit sealer (`careline worker`, `careline audit seal --follow`): how often it looks for
# unsealed entries, where it writes checkpoints outside the database (an append-only file,
# "" for none; a syslog address such as /dev/log or host:514, "" for none), how often, and
# the age of an unsealed entry that `careline audit verify` reports as an error.
CARELINE_AUDIT_SEAL_INTERVAL_SECONDS = float(env("CARELINE_AUDIT_SEAL_INTERVAL_SECONDS", "0.2"))
CARELINE_AUDIT_CHECKPOINT_FILE = env(
    "CARELINE_AUDIT_CHECKPOINT_FILE", str(BASE_DIR / "var" / "audit-checkpoints.jsonl")
)
CARELINE_AUDIT_CHECKPOINT_SYSLOG = env("CARELINE_AUDIT_CHECKPOINT_SYSLOG")
CARELINE_AUDIT_CHECKPOINT_SECONDS = float(env("CARELINE_AUDIT_CHECKPOINT_SECONDS", "60"))
CARELINE_AUDIT_UNSEALED_MAX_AGE_SECONDS = float(
    env("CARELINE_AUDIT_UNSEALED_MAX_AGE_SECONDS", "60")
)
# Tests only: seal each entry inside the transaction that appends it (under a lock), so a
# test sees `sequence` and `hash` at once. Never in a server: it serialises every append.
CARELINE_AUDIT_SEAL_ON_APPEND = env_bool("CARELINE_AUDIT_SEAL_ON_APPEND", default=False)
# Proxies whose X-Forwarded-For names the client (their addresses); others are the client.
CARELINE_TRUSTED_PROXIES = env_list("CARELINE_TRUSTED_PROXIES")

TASKS = {
    "default": {
        "BACKEND": env("CARELINE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "var" / "static")))
with contextlib.suppress(OSError):  # `careline serve` collects into it; may be read-only
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# Besides the apps' static/ folders: files shipped in Python packages (plotly's JS).
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "careline.platform.staticfinders.PackageFileFinder",
]

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # Request lines carry URLs only (which hold ids, never PHI); keep them at WARNING.
    "loggers": {
        "django.server": {"level": "WARNING"},
        # A line per periodic run is noise; failures are logged by platform.periodic.
        "apscheduler.executors": {"level": "WARNING"},
    },
}

# The Imports page takes one FHIR file up to this size; larger files go through
# `careline import-fhir` (which streams them) or the API.
CARELINE_IMPORT_UPLOAD_MAX_BYTES = int(env("CARELINE_IMPORT_UPLOAD_MAX_BYTES", str(25 * 10**6)))
