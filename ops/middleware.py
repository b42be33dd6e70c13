"""Security middleware: the Content-Security-Policy header and the login rate limit."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict
from django.shortcuts import render
from django.urls import reverse

from .ratelimit import client_address, login_blocked_scope

logger = logging.getLogger(__name__)

LOGIN_BLOCKED_MESSAGE = (
    "Too many failed sign-in attempts. Wait {minutes} minutes, then try again, or ask an "
    "Owner of your organization to reset your password."
)


class ContentSecurityPolicyMiddleware:
    """Add settings.CONTENT_SECURITY_POLICY to responses that do not set their own.

    The app's pages load scripts and styles only from /static/, with no inline code,
    which is what the default policy ("default-src 'self'") allows.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response


class LoginRateLimitMiddleware:
    """Return 429, with the sign-in form and a message to wait, once a limit is reached.

    Applies to POSTs to the site's and the admin's login URLs. Failures are counted by
    the user_login_failed receiver in ops.ratelimit.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def _login_paths(self) -> set[str]:
        return {reverse("login"), reverse("admin:login")}

    def __call__(self, request):
        if request.method == "POST" and request.path in self._login_paths():
            username = request.POST.get("username", "")
            scope = login_blocked_scope(username=username, address=client_address(request))
            if scope is not None:
                logger.warning("sign-in rejected: rate limit reached", extra={"scope": scope})
                return self._blocked_response(request)
        return self.get_response(request)

    def _blocked_response(self, request):
        minutes = max(1, settings.LOGIN_RATE_LIMIT_WINDOW_SECONDS // 60)
        form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
        # An unbound form has no cleaned_data, so add_error() cannot be used; the error
        # dict is set directly and the template shows it as a non-field error.
        form._errors = ErrorDict(
            {
                NON_FIELD_ERRORS: form.error_class(
                    [LOGIN_BLOCKED_MESSAGE.format(minutes=minutes)], error_class="nonfield"
                )
            }
        )
        response = render(
            request,
            "registration/login.html",
            {"form": form, "next": request.POST.get("next", "")},
            status=429,
        )
        response["Retry-After"] = str(settings.LOGIN_RATE_LIMIT_WINDOW_SECONDS)
        return response
