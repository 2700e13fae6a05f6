"""The django-allauth adapter for both sites: staff rules unchanged, the portal beside them.

- Sign-up is open only on the portal's own sign-up page (``/portal/signup/``); allauth's
  ``/accounts/signup/`` stays closed, as staff accounts are made by administrators.
- Each sign-in page admits only its own kind of account: the staff page (user name) no
  portal account, the portal page (email) no staff account — with the same answer as a
  wrong password, audited as a failed sign-in.
- Portal accounts verify their email (a link to ``/portal/verify-email/<key>/``, in the
  portal's words). allauth's own pages (the TOTP step, set-up, recovery codes) show in the
  portal's layout for them (``careline.portal.context_processors``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse

from careline.platform.auth import StaffAccountAdapter
from careline.platform.models import User

PORTAL_PREFIX = "/portal/"
SIGNUP_PATH = "/portal/signup/"


def is_portal_request(request: HttpRequest | None) -> bool:
    return request is not None and request.path.startswith(PORTAL_PREFIX)


def _is_portal_user(user: Any) -> bool:
    return isinstance(user, User) and user.is_portal_account


class CarelineAccountAdapter(StaffAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return request.path == SIGNUP_PATH

    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        user = super().authenticate(request, **credentials)
        if user is not None and _is_portal_user(user) != is_portal_request(request):
            # The right password on the wrong site: the same answer as a wrong one.
            user_login_failed.send(
                sender=type(self), credentials={"username": user.get_username()}, request=request
            )
            return None
        return user

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if _is_portal_user(request.user):
            return reverse("portal:home")
        url: str = super().get_login_redirect_url(request)
        return url

    def get_logout_redirect_url(self, request: HttpRequest) -> str:
        if is_portal_request(request):
            return reverse("portal:login")
        url: str = super().get_logout_redirect_url(request)
        return url

    def get_email_confirmation_url(self, request: HttpRequest, emailconfirmation: Any) -> str:
        if _is_portal_user(emailconfirmation.email_address.user):
            path = reverse("portal:verify_email", args=[emailconfirmation.key])
            return request.build_absolute_uri(path)
        url: str = super().get_email_confirmation_url(request, emailconfirmation)
        return url

    def send_confirmation_mail(
        self, request: HttpRequest, emailconfirmation: Any, signup: bool
    ) -> None:
        user = emailconfirmation.email_address.user
        if not _is_portal_user(user):
            super().send_confirmation_mail(request, emailconfirmation, signup)
            return
        context = {"activate_url": self.get_email_confirmation_url(request, emailconfirmation)}
        self.send_mail("portal/email/verify_email", emailconfirmation.email_address.email, context)

    def respond_email_verification_sent(self, request: HttpRequest, user: Any) -> HttpResponseBase:
        if is_portal_request(request):
            return redirect("portal:verify_email_sent")
        response: HttpResponseBase = super().respond_email_verification_sent(request, user)
        return response
