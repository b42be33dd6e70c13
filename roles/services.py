"""Writes for roles. Each function is one transaction, calls the sync hooks inside it
and records an audit event."""

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.shortcuts import get_object_or_404

from accounts.models import Organization
from accounts.services import audit_record
from lavalier import sync_hooks

from .models import Role

logger = logging.getLogger(__name__)

ROLE_EDITABLE_FIELDS = ("title", "department", "location", "work_type", "description")


def changed_field_names(instance: models.Model, changes: Mapping[str, Any]) -> set[str]:
    """Return the names in `changes` whose value differs from the instance's."""
    return {name for name, value in changes.items() if getattr(instance, name) != value}


def reject_locked_changes(
    instance: models.Model, changed_fields: set[str], locked_fields: Mapping[str, str]
) -> None:
    """Raise ValidationError keyed by field when a changed field is owned by the ATS.

    Each message names the field and carries the note the hooks gave for it.
    """
    errors = {}
    for name in sorted(changed_fields & set(locked_fields)):
        label = instance._meta.get_field(name).verbose_name
        errors[name] = f"{label.capitalize()} cannot be changed in Lavalier: {locked_fields[name]}"
    if errors:
        raise ValidationError(errors)


def _reject_unknown_fields(changes: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"Fields {sorted(unknown)} cannot be edited; allowed: {allowed}.")


@transaction.atomic
def role_update(
    *, organization: Organization, role_id: int, actor: Any, changes: Mapping[str, Any]
) -> Role:
    """Apply `changes` (a subset of ROLE_EDITABLE_FIELDS) to a visible role.

    Raises Http404 for a role outside the organization, ValidationError when a changed
    field is locked by the ATS (nothing is saved then) and ValueError for other keys.
    Unchanged values are ignored, and a call that changes nothing saves nothing.
    """
    _reject_unknown_fields(changes, ROLE_EDITABLE_FIELDS)
    role = get_object_or_404(
        Role.objects.select_for_update().filter(organization=organization, is_visible=True),
        pk=role_id,
    )
    changed_fields = changed_field_names(role, changes)
    if not changed_fields:
        return role

    hooks = sync_hooks.get()
    reject_locked_changes(role, changed_fields, hooks.locked_role_fields(role))
    for name in changed_fields:
        setattr(role, name, changes[name])
    role.clean_fields(exclude=[f.name for f in Role._meta.fields if f.name not in changed_fields])
    role.save(update_fields=[*changed_fields, "updated_at"])

    hooks.role_updated(role, changed_fields=set(changed_fields), actor=actor)
    audit_record(
        organization=organization,
        actor=actor,
        action="role.updated",
        target=f"role:{role.pk}",
        details={"changed_fields": sorted(changed_fields)},
    )
    logger.info(
        "role updated",
        extra={
            "organization_id": organization.pk,
            "role_id": role.pk,
            "changed_fields": sorted(changed_fields),
        },
    )
    return role
