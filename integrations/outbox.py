"""Delivery of local changes to the connected ATS through the outbox.

Services write an OutboxEvent in the same transaction as the change (see hooks.py), so a
crash between the save and the push loses nothing: the sweeper finds the row later.
Events of one record are delivered strictly in order. The head event of a record is
claimed with a lease on `next_attempt_at`, so two workers never push the same record at
once. A worker that dies mid-push leaves a lease that expires and a higher `attempts`,
so the provider knows to reconcile before it creates anything again.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from candidates.models import Application, Candidate, PushState
from roles.models import Role

from .models import Integration, OutboxEvent
from .providers import DeliveryRejected, IntegrationAuthError, TransientSyncError, get_provider

logger = logging.getLogger(__name__)

# How long a worker owns the head event of a record while it pushes it.
LEASE = timedelta(minutes=5)
# Events not delivered this long after they were written are picked up by the sweeper.
SWEEP_AFTER = timedelta(seconds=30)
RETRY_BASE_SECONDS = 15
RETRY_CAP_SECONDS = 30 * 60
RECORD_MODELS = {"candidate": Candidate, "application": Application, "role": Role}


def retry_delay_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter: about 15 s, 30 s, 60 s … capped at 30 min."""
    ceiling = min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def queue_delivery(record_type: str, record_id: int, *, countdown: float | None = None) -> None:
    """Queue delivery of a record's events after the current transaction commits."""
    from .tasks import deliver_outbox_record

    def send():
        deliver_outbox_record.apply_async((record_type, record_id), countdown=countdown)

    transaction.on_commit(send)


def _set_record_state(record_type: str, record_id: int, state: str, error: str = "") -> None:
    model = RECORD_MODELS.get(record_type)
    if model is not None and hasattr(model, "push_state"):
        model.objects.filter(pk=record_id).update(push_state=state, push_error=error[:2000])


def _claim_head(record_type: str, record_id: int) -> OutboxEvent | None:
    head = (
        OutboxEvent.objects.filter(
            record_type=record_type, record_id=record_id, state=OutboxEvent.State.PENDING
        )
        .order_by("id")
        .first()
    )
    if head is None:
        return None
    now = timezone.now()
    claimed = (
        OutboxEvent.objects.filter(pk=head.pk, state=OutboxEvent.State.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        return None
    head.refresh_from_db()
    return head


def outbox_deliver_record(record_type: str, record_id: int) -> int:
    """Push the waiting events of one record in order; return how many were delivered.

    Stops at the first event that must wait (transient failure, rejected credential, or
    another worker holding the lease). A rejected event is kept as failed for ops and
    shown on the record. Later updates of the record still go out, but nothing follows a
    failed create, because the record does not exist in the ATS.
    """
    delivered = 0
    while True:
        event = _claim_head(record_type, record_id)
        if event is None:
            return delivered
        integration = Integration.objects.get(pk=event.integration_id)
        extra = {
            "organization_id": event.organization_id,
            "integration_id": integration.pk,
            "outbox_event_id": event.pk,
            "kind": event.kind,
            "record_type": record_type,
            "record_id": record_id,
            "attempt": event.attempts,
        }
        if not integration.is_active:
            # Written while the provider was disconnected: hand it to the reconnected
            # integration, or leave it waiting (lease released) until a reconnect.
            current = Integration.objects.filter(
                organization_id=event.organization_id,
                provider=integration.provider,
                is_active=True,
            ).first()
            if current is None:
                OutboxEvent.objects.filter(pk=event.pk).update(
                    next_attempt_at=None, attempts=F("attempts") - 1
                )
                logger.info("outbox event waits for a reconnect", extra=extra)
                return delivered
            OutboxEvent.objects.filter(pk=event.pk).update(integration=current)
            integration = current
            extra["integration_id"] = current.pk

        started = time.monotonic()
        try:
            get_provider(integration.provider).deliver(integration, event)
        except DeliveryRejected as exc:
            OutboxEvent.objects.filter(pk=event.pk).update(
                state=OutboxEvent.State.FAILED, last_error=exc.message[:2000], next_attempt_at=None
            )
            _set_record_state(record_type, record_id, PushState.FAILED, exc.message)
            logger.warning("outbox event rejected", extra={**extra, "code": exc.code})
            if event.kind.endswith(".create"):
                return delivered
            continue
        except TransientSyncError as exc:
            delay = retry_delay_seconds(event.attempts)
            OutboxEvent.objects.filter(pk=event.pk).update(
                last_error=exc.message[:2000],
                next_attempt_at=timezone.now() + timedelta(seconds=delay),
            )
            logger.info("outbox event will be retried", extra={**extra, "retry_in_s": round(delay)})
            queue_delivery(record_type, record_id, countdown=delay)
            return delivered
        except IntegrationAuthError as exc:
            # The key, not the change, is at fault: keep the event waiting for a new key.
            OutboxEvent.objects.filter(pk=event.pk).update(
                last_error=exc.message[:2000], next_attempt_at=None, attempts=F("attempts") - 1
            )
            Integration.objects.filter(pk=integration.pk, is_active=True).update(
                state=Integration.State.ERROR, error_code=exc.code, error_message=exc.message
            )
            logger.warning("outbox delivery stopped: credential rejected", extra=extra)
            return delivered

        OutboxEvent.objects.filter(pk=event.pk).update(
            state=OutboxEvent.State.DELIVERED,
            delivered_at=timezone.now(),
            last_error="",
            next_attempt_at=None,
        )
        delivered += 1
        logger.info(
            "outbox event delivered",
            extra={**extra, "duration_s": round(time.monotonic() - started, 3)},
        )
        still_waiting = OutboxEvent.objects.filter(
            record_type=record_type, record_id=record_id, state=OutboxEvent.State.PENDING
        ).exists()
        has_failed = OutboxEvent.objects.filter(
            record_type=record_type, record_id=record_id, state=OutboxEvent.State.FAILED
        ).exists()
        if not still_waiting and not has_failed:
            _set_record_state(record_type, record_id, PushState.SYNCED)


def event_candidate(event: OutboxEvent) -> Candidate:
    """Return the candidate an outbox event belongs to, or raise DeliveryRejected if deleted."""
    candidate = Candidate.objects.filter(
        pk=event.record_id, organization_id=event.organization_id
    ).first()
    if candidate is None:
        raise DeliveryRejected("The candidate was deleted in Lavalier before the change was sent.")
    return candidate


def event_application(event: OutboxEvent) -> Application:
    """Return the event's application with its candidate, role and stage, or raise
    DeliveryRejected if it was deleted."""
    application = (
        Application.objects.filter(pk=event.record_id, organization_id=event.organization_id)
        .select_related("candidate", "role", "stage")
        .first()
    )
    if application is None:
        raise DeliveryRejected("The application was deleted in Lavalier before it was sent.")
    return application


def outbox_adopt_waiting(integration: Integration) -> list[tuple[str, int]]:
    """Move changes written while this provider was disconnected to a new connection.

    Returns the records whose changes now wait on `integration`, for the caller to queue.
    """
    waiting = OutboxEvent.objects.filter(
        organization_id=integration.organization_id,
        integration__provider=integration.provider,
        integration__is_active=False,
        state=OutboxEvent.State.PENDING,
    )
    records = sorted(set(waiting.values_list("record_type", "record_id")))
    OutboxEvent.objects.filter(pk__in=waiting.values("pk")).update(
        integration=integration, next_attempt_at=None
    )
    return records


def outbox_due_records(*, limit: int = 500) -> list[tuple[str, int]]:
    """Records with events that should have been delivered by now (the sweeper's list).

    Leaves out integrations whose credential was rejected; their events wait for a key.
    """
    now = timezone.now()
    rows = (
        OutboxEvent.objects.filter(state=OutboxEvent.State.PENDING, integration__is_active=True)
        .exclude(integration__state=Integration.State.ERROR)
        .filter(
            Q(next_attempt_at__lte=now)
            | Q(next_attempt_at__isnull=True, created_at__lte=now - SWEEP_AFTER)
        )
        .values_list("record_type", "record_id")
        .distinct()
        .order_by("record_type", "record_id")[:limit]
    )
    return list(rows)


@transaction.atomic
def outbox_retry(*, organization_id: int, record_type: str, record_id: int, actor) -> int:
    """Queue the failed events of a record again (the Retry button); return how many."""
    from accounts.models import Organization
    from accounts.services import audit_record

    count = OutboxEvent.objects.filter(
        organization_id=organization_id,
        record_type=record_type,
        record_id=record_id,
        state=OutboxEvent.State.FAILED,
        integration__is_active=True,
    ).update(state=OutboxEvent.State.PENDING, next_attempt_at=None, last_error="")
    if count:
        _set_record_state(record_type, record_id, PushState.PENDING)
        audit_record(
            organization=Organization.objects.get(pk=organization_id),
            actor=actor,
            action="outbox.retry",
            target=f"{record_type}:{record_id}",
            details={"events": count},
        )
        queue_delivery(record_type, record_id)
    return count
