"""Writes of the ops app."""

from __future__ import annotations

from django.utils import timezone

from .models import WorkerHeartbeat

DEFAULT_HEARTBEAT = "celery"


def heartbeat_record(*, name: str = DEFAULT_HEARTBEAT) -> WorkerHeartbeat:
    """Store the current time as the worker's last heartbeat; safe to run any number of times."""
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"beat_at": timezone.now()}
    )
    return heartbeat
