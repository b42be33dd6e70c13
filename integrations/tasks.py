"""Celery tasks for syncing. Each takes ids only and calls one service."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="integrations.sync_integration", ignore_result=True)
def sync_integration(integration_id: int, trigger: str = "schedule", full: bool = False) -> None:
    """Run one sync of an integration.

    Safe to run twice (for example after a worker crash with acks_late): the service
    takes a per-organization lock, and upserts are idempotent.
    """
    services.integration_sync_run(integration_id, trigger=trigger, full=full)


@shared_task(name="integrations.dispatch_scheduled_syncs", ignore_result=True)
def dispatch_scheduled_syncs() -> None:
    """Queue an incremental sync for every active integration (Celery beat)."""
    integration_ids = services.integrations_due_for_sync()
    for integration_id in integration_ids:
        sync_integration.delay(integration_id, trigger="schedule", full=False)
    logger.info("scheduled syncs queued", extra={"integrations": len(integration_ids)})


@shared_task(name="integrations.dispatch_reconciliation", ignore_result=True)
def dispatch_reconciliation() -> None:
    """Queue a full sync for every active integration, to catch deletions (daily)."""
    integration_ids = services.integrations_due_for_sync()
    for integration_id in integration_ids:
        sync_integration.delay(integration_id, trigger="reconcile", full=True)
    logger.info("reconciliation syncs queued", extra={"integrations": len(integration_ids)})


@shared_task(name="integrations.deliver_outbox_record", ignore_result=True)
def deliver_outbox_record(record_type: str, record_id: int) -> None:
    """Push a record's waiting changes to the ATS, in order.

    Safe to run twice: the head event is leased, so a second copy finds nothing to claim.
    """
    from .outbox import outbox_deliver_record

    outbox_deliver_record(record_type, record_id)


@shared_task(name="integrations.sweep_outbox", ignore_result=True)
def sweep_outbox() -> None:
    """Queue delivery for changes whose push was missed or is due for a retry (beat)."""
    from .outbox import outbox_due_records

    records = outbox_due_records()
    for record_type, record_id in records:
        deliver_outbox_record.delay(record_type, record_id)
    if records:
        logger.info("outbox sweep queued deliveries", extra={"records": len(records)})
