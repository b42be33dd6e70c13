from django.core.management.base import CommandError

from accounts.models import Organization


def organization_by_slug(slug: str) -> Organization:
    try:
        return Organization.objects.get(slug=slug)
    except Organization.DoesNotExist:
        raise CommandError(f"No organization with the slug {slug!r}.") from None
