"""Account pages. Sign-in and sign-out are Django's auth views, mounted in accounts.urls."""

from django.shortcuts import redirect


def home(request):
    """Send members to the candidate list and staff without an organization to the ops page.

    The candidate list sends anonymous visitors to the login page.
    """
    user = request.user
    if user.is_authenticated and user.is_staff and getattr(request, "organization", None) is None:
        return redirect("ops:dashboard")
    return redirect("candidates:list")
