"""Greenhouse settings an Owner changes on the integration."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Organization
from accounts.services import audit_record
from integrations.models import Integration
from integrations.services import integration_request_sync

from .sync import WORK_TYPE_FIELD_OPTION


def greenhouse_set_work_type_field(
    *, organization: Organization, actor, field_key: str
) -> Integration:
    """Choose the job custom field whose value sets each role's Work Type ("" for none).

    Raises ValueError for a field the last sync did not list, and Integration.DoesNotExist
    without an active Greenhouse integration. Queues a full sync, because an incremental one rereads only changed jobs.
    """
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(
            organization=organization, is_active=True, provider="greenhouse"
        )
        known = {entry["id"] for entry in integration.options.get("job_custom_fields", [])}
        if field_key and field_key not in known:
            raise ValueError(
                "That custom field is not in the list from the last sync. Sync now and choose again."
            )
        integration.options = {**integration.options, WORK_TYPE_FIELD_OPTION: field_key}
        integration.save(update_fields=["options"])
        audit_record(
            organization=organization,
            actor=actor,
            action="integration.work_type_field",
            target=integration.provider,
            details={"integration_id": integration.pk, "field": field_key},
        )
    integration_request_sync(organization=organization, actor=actor, full=True)
    return integration
