"""Writes for organizations, members and the audit log."""

import logging
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import transaction

from .models import AuditEvent, Membership, Organization

logger = logging.getLogger(__name__)


def audit_record(
    *, organization: Organization, actor, action: str, target: str = "", details: dict | None = None
) -> AuditEvent:
    """Append one audit row. Callers pass ids and outcomes, never secrets."""
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        target=target,
        details=details or {},
    )


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def member_create(
    *, organization: Organization, email: str, role: str, password: str | None = None
) -> tuple[Membership, str]:
    """Create a user and its membership; return them with the password in clear text.

    Raises ValueError when a user with that email already exists.
    """
    User = get_user_model()
    email = email.strip().lower()
    if User.objects.filter(username=email).exists():
        raise ValueError(f"A user with the email {email} already exists.")
    password = password or generate_password()
    user = User.objects.create_user(username=email, email=email, password=password)
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    logger.info(
        "member created",
        extra={"organization_id": organization.pk, "user_id": user.pk, "role": role},
    )
    return membership, password


@transaction.atomic
def organization_create(
    *, slug: str, owner_email: str, name: str = "", owner_password: str | None = None
) -> tuple[Organization, Membership, str]:
    """Create an organization with its first Owner.

    Raises ValueError for a slug that is taken or not made of letters, digits, hyphens
    and underscores, and for an invalid email address.
    """
    try:
        validate_slug(slug)
        validate_email(owner_email.strip())
    except ValidationError as exc:
        raise ValueError(
            f"Invalid slug {slug!r} or email {owner_email!r}: use letters, digits, hyphens and "
            "underscores for the slug, and a full email address."
        ) from exc
    if Organization.objects.filter(slug=slug).exists():
        raise ValueError(f"An organization with the slug {slug} already exists.")
    organization = Organization.objects.create(
        slug=slug, name=name or slug.replace("-", " ").title()
    )
    membership, password = member_create(
        organization=organization,
        email=owner_email,
        role=Membership.Role.OWNER,
        password=owner_password,
    )
    return organization, membership, password
