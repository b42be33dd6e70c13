"""Account pages. Sign-in and sign-out are Django's auth views, mounted in accounts.urls."""

from django.shortcuts import redirect


def home(request):
    """Redirect to the candidate list, which redirects anonymous visitors to the login page."""
    return redirect("candidates:list")
