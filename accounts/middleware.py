"""Attach the signed-in user's organization membership to each request."""

import zoneinfo

from django.utils import timezone


class OrganizationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.organization = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            membership = getattr(user, "membership", None)
            if membership is not None:
                request.membership = membership
                request.organization = membership.organization
                if membership.time_zone:
                    try:
                        timezone.activate(zoneinfo.ZoneInfo(membership.time_zone))
                    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                        timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
