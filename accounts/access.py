"""View helpers that keep every page inside the signed-in user's organization."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404


def organization_required(view):
    """Require a signed-in member; staff without a membership get 404, not other data."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.organization is None:
            raise Http404("No organization for this user.")
        return view(request, *args, **kwargs)

    return wrapper


def owner_required(view):
    """Require an Owner of the user's organization (403 for other members)."""

    @organization_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.membership.is_owner:
            raise PermissionDenied("Only Owners can do this.")
        return view(request, *args, **kwargs)

    return wrapper
