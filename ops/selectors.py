"""Reads behind the ops page and the health endpoints."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.models import Integration, OutboxEvent, SyncRun

from .broker import BrokerUnavailable, broker_kind, broker_queue_depth
from .models import WorkerHeartbeat
from .services import DEFAULT_HEARTBEAT

logger = logging.getLogger(__name__)

RECENT_WINDOW = timedelta(hours=24)


def duration_text(value: timedelta | None) -> str:
    """Format a duration as "2 d 3 h", "3 h 12 min", "4 min" or "under a minute"."""
    if value is None:
        return "never"
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return "under a minute"


@dataclass
class IntegrationRow:
    """One organization's active integration as the ops page shows it."""

    integration: Integration
    lag: timedelta
    is_running: bool
    runs_24h: int
    failures_24h: int
    outbox_waiting: int
    outbox_failed: int
    last_error: str

    @property
    def lag_text(self) -> str:
        return duration_text(self.lag)

    @property
    def needs_attention(self) -> bool:
        return self.integration.state == Integration.State.ERROR or self.failures_24h > 0

    @property
    def sort_key(self) -> tuple:
        # Error state first, then most failures, then largest lag.
        return (
            self.integration.state != Integration.State.ERROR,
            -self.failures_24h,
            -self.lag.total_seconds(),
            self.integration.pk,
        )


def _count_subquery(queryset, field: str = "pk"):
    """Wrap a queryset filtered on OuterRef("pk") as a COUNT subquery (0 when empty)."""
    counted = queryset.order_by().values(field).annotate(total=Count("pk")).values("total")
    return Coalesce(Subquery(counted[:1], output_field=IntegerField()), Value(0))


def ops_integration_rows(*, now: datetime | None = None) -> list[IntegrationRow]:
    """Every active integration with its run and outbox figures, most urgent first.

    Runs one query whatever the number of organizations: every figure is a subquery.
    """
    now = now or timezone.now()
    since = now - RECENT_WINDOW
    runs = SyncRun.objects.filter(integration=OuterRef("pk"), started_at__gte=since)
    outbox = OutboxEvent.objects.filter(integration=OuterRef("pk"))
    last_failed_run = SyncRun.objects.filter(
        integration=OuterRef("pk"), outcome=SyncRun.Outcome.FAILURE
    ).order_by("-started_at", "-id")
    integrations = (
        Integration.objects.filter(is_active=True)
        .select_related("organization")
        .annotate(
            runs_24h=_count_subquery(runs, "integration"),
            failures_24h=_count_subquery(
                runs.filter(outcome=SyncRun.Outcome.FAILURE), "integration"
            ),
            outbox_waiting=_count_subquery(
                outbox.filter(state=OutboxEvent.State.PENDING), "integration"
            ),
            outbox_failed=_count_subquery(
                outbox.filter(state=OutboxEvent.State.FAILED), "integration"
            ),
            last_run_error=Subquery(last_failed_run.values("error_message")[:1]),
        )
    )
    rows = []
    for integration in integrations:
        since_sync = integration.last_synced_at or integration.connected_at
        rows.append(
            IntegrationRow(
                integration=integration,
                lag=max(now - since_sync, timedelta(0)),
                is_running=bool(
                    integration.sync_lock_expires_at and integration.sync_lock_expires_at > now
                ),
                runs_24h=integration.runs_24h,
                failures_24h=integration.failures_24h,
                outbox_waiting=integration.outbox_waiting,
                outbox_failed=integration.outbox_failed,
                last_error=integration.error_message or integration.last_run_error or "",
            )
        )
    rows.sort(key=lambda row: row.sort_key)
    return rows


def ops_queue_depth() -> int | None:
    """Messages waiting in the default Celery queue, or None (logged) when unreadable."""
    try:
        return broker_queue_depth()
    except BrokerUnavailable as exc:
        logger.warning(
            "celery queue depth unavailable", extra={"broker": broker_kind(), "error": str(exc)}
        )
        return None


def heartbeat_age(*, now: datetime | None = None) -> timedelta | None:
    """Time since the worker last ran the heartbeat task, or None if it never did."""
    beat_at = (
        WorkerHeartbeat.objects.filter(name=DEFAULT_HEARTBEAT)
        .values_list("beat_at", flat=True)
        .first()
    )
    if beat_at is None:
        return None
    return max((now or timezone.now()) - beat_at, timedelta(0))


def organizations_without_integration_count() -> int:
    from accounts.models import Organization

    return Organization.objects.exclude(Q(integrations__is_active=True)).count()
