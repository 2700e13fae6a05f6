"""Portal sign-up, sign-in, email verification, sign-out and security (TOTP), on allauth.

Each view parses its form and hands over to allauth's flows (``complete_signup``,
``perform_password_login``), which run the same stages as the staff site: the email must be
verified, and an account with TOTP enters its code on the portal's page. The rules that
differ from staff live in the adapter (``careline.portal.adapter``).
"""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.internal.flows import login as login_flow
from allauth.account.internal.flows import logout as logout_flow
from allauth.account.internal.flows import signup as signup_flow
from allauth.account.models import EmailConfirmationHMAC, Login
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careline.platform.errors import NotFound
from careline.platform.models import User
from careline.portal.access import portal_actor
from careline.portal.accounts import get_account_by_email, register_portal_account
from careline.portal.forms import LoginForm, SignupForm
from careline.portal.http import portal_view, render_portal_error

BAD_CREDENTIALS = "The email address or the password is not right."


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()})
    return candidate if safe and candidate.startswith("/portal/") else reverse("portal:home")


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponseBase:
    if not get_adapter(request).is_open_for_signup(request):
        return render_portal_error(request, NotFound("Sign-up is closed."))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = register_portal_account(
            actor=portal_actor(request),
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            login_url=request.build_absolute_uri(reverse("portal:login")),
        )
        if user is None:
            return redirect("portal:verify_email_sent")
        response: HttpResponseBase = signup_flow.complete_signup(
            request,
            user=user,
            email_verification=EmailVerificationMethod.MANDATORY,
            redirect_url=reverse("portal:home"),
        )
        return response
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/signup.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponseBase:
    form = LoginForm(request.POST or None)
    context: dict[str, Any] = {
        "form": form,
        "next": _next_url(request),
        "demo_mode": settings.DEMO_MODE,
    }
    if request.method == "POST" and form.is_valid():
        email, password = form.cleaned_data["email"], form.cleaned_data["password"]
        account = get_account_by_email(email)
        credentials = {"username": account.username if account else email, "password": password}
        try:
            user = get_adapter(request).authenticate(request, **credentials)
        except ValidationError as error:  # allauth's rate limit on failed sign-ins
            form.add_error(None, error)
        else:
            if user is not None:
                login_state = Login(
                    user=user,
                    email=email,
                    email_verification=EmailVerificationMethod.MANDATORY,
                    redirect_url=context["next"],
                )
                signed_in: HttpResponseBase = login_flow.perform_password_login(
                    request, credentials, login_state
                )
                return signed_in
            form.add_error(None, BAD_CREDENTIALS)
    status = 422 if request.method == "POST" else 200
    return render(request, "portal/login.html", context, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        logout_flow.logout(request, show_message=False)
    return redirect("portal:login")


@require_GET
def verify_email_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/verify_email_sent.html")


@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, key: str) -> HttpResponse:
    """GET shows a button (mail scanners follow links); POST confirms the address."""
    confirmation = EmailConfirmationHMAC.from_key(key)
    user = confirmation.email_address.user if confirmation is not None else None
    if confirmation is None or not isinstance(user, User) or not user.is_portal_account:
        error = NotFound(
            "This confirmation link is not valid or has expired. Sign in to get a new one."
        )
        return render_portal_error(request, error)
    if request.method == "POST":
        if confirmation.confirm(request) is None:
            return render_portal_error(
                request, NotFound("This link has expired. Sign in to get a new one.")
            )
        return render(request, "portal/verify_email_done.html")
    return render(request, "portal/verify_email.html", {"email": confirmation.email_address.email})


@portal_view
@require_GET
def security(request: HttpRequest) -> HttpResponse:
    has_totp = Authenticator.objects.filter(
        user=request.user, type=Authenticator.Type.TOTP
    ).exists()
    return render(request, "portal/security.html", {"has_totp": has_totp})
