"""Celery tasks of the ops app."""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task(name="ops.record_heartbeat", ignore_result=True, expires=120)
def record_heartbeat() -> None:
    """Record that a worker is consuming tasks (Celery beat queues this every minute).

    Safe to run twice: it only overwrites one timestamp. `expires` drops copies that
    waited in the queue for more than two minutes, so a worker stuck behind a backlog
    shows a stale heartbeat.
    """
    heartbeat = services.heartbeat_record()
    logger.debug("worker heartbeat recorded", extra={"heartbeat": heartbeat.name})
