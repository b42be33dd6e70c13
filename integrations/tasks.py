"""Celery tasks for syncing. Each takes ids only and calls one service."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


# Triggers a person is waiting for; they retry while another run holds the lock.
WAITED_FOR_TRIGGERS = ("connect", "manual", "command")
LOCKED_RETRY_SECONDS = 30
LOCKED_MAX_RETRIES = 10


@shared_task(
    bind=True,
    name="integrations.sync_integration",
    ignore_result=True,
    max_retries=LOCKED_MAX_RETRIES,
)
def sync_integration(self, integration_id: int, trigger: str = "schedule", full: bool = False):
    """Run one sync of an integration.

    Safe to run twice (for example after a worker crash with acks_late): the service
    takes a per-organization lock, and upserts are idempotent. A sync an Owner asked for
    that finds the lock held (by a running sync, or by a dead worker until the lock
    expires) is tried again every 30 seconds instead of being dropped; scheduled syncs
    are simply skipped, since the next one comes soon.
    """
    run = services.integration_sync_run(integration_id, trigger=trigger, full=full)
    if (
        run is None
        and trigger in WAITED_FOR_TRIGGERS
        and services.integration_sync_locked(integration_id)
    ):
        logger.info(
            "sync waiting for the lock",
            extra={"integration_id": integration_id, "retry": self.request.retries},
        )
        raise self.retry(countdown=LOCKED_RETRY_SECONDS)


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
