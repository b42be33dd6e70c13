"""The per-organization sync lock and the record of each sync run."""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from .models import Integration, SyncRun

logger = logging.getLogger(__name__)

# A run renews the lock on every page; a worker that dies releases it by expiry.
LOCK_TTL = timedelta(minutes=3)
# Progress writes at most this often, so a fast pass does not write a row per page.
PROGRESS_INTERVAL_SECONDS = 1.0


class SyncHalted(Exception):
    """The run lost its lock or the integration was disconnected while it ran."""


def lock_acquire(integration_id: int) -> str | None:
    """Take the sync lock of an active integration; return its token, or None if held."""
    token = uuid.uuid4().hex
    now = timezone.now()
    taken = (
        Integration.objects.filter(pk=integration_id, is_active=True)
        .filter(Q(sync_lock_expires_at__isnull=True) | Q(sync_lock_expires_at__lt=now))
        .update(sync_lock_token=token, sync_lock_expires_at=now + LOCK_TTL)
    )
    return token if taken else None


def lock_renew(integration_id: int, token: str) -> bool:
    return bool(
        Integration.objects.filter(pk=integration_id, is_active=True, sync_lock_token=token).update(
            sync_lock_expires_at=timezone.now() + LOCK_TTL
        )
    )


def lock_release(integration_id: int, token: str) -> None:
    Integration.objects.filter(pk=integration_id, sync_lock_token=token).update(
        sync_lock_token="", sync_lock_expires_at=None
    )


def halt_abandoned_runs(integration: Integration) -> int:
    """Close runs left `running` by a worker that died; only call while holding the lock."""
    return SyncRun.objects.filter(integration=integration, outcome=SyncRun.Outcome.RUNNING).update(
        outcome=SyncRun.Outcome.HALTED,
        finished_at=timezone.now(),
        error_code="worker_lost",
        error_message="The worker stopped during this run; the next run picked up the work.",
    )


class RunRecorder:
    """Collects counts and progress for one run and keeps its lock alive.

    `page_done` is called once per page of records; it renews the lock and raises
    SyncHalted when the integration was disconnected or another run took over.
    """

    def __init__(self, run: SyncRun, lock_token: str):
        self.run = run
        self.lock_token = lock_token
        self.counts: dict[str, dict[str, int]] = defaultdict(
            lambda: {"created": 0, "updated": 0, "hidden": 0, "unchanged": 0}
        )
        self.records = 0
        self.entity = ""
        self._last_write = 0.0

    def count(self, entity: str, *, created=0, updated=0, hidden=0, unchanged=0) -> None:
        entry = self.counts[entity]
        entry["created"] += created
        entry["updated"] += updated
        entry["hidden"] += hidden
        entry["unchanged"] += unchanged

    def note(self, text: str) -> None:
        self.run.notes.append(text)
        SyncRun.objects.filter(pk=self.run.pk).update(notes=self.run.notes)

    def start_entity(self, entity: str) -> None:
        self.entity = entity
        self.records = 0
        self._write_progress(force=True)

    def page_done(self, records: int) -> None:
        self.records += records
        if not lock_renew(self.run.integration_id, self.lock_token):
            raise SyncHalted("The integration was disconnected or another run took the lock.")
        self._write_progress()

    def _write_progress(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_write < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_write = now
        self.run.progress = {"entity": self.entity, "records": self.records}
        SyncRun.objects.filter(pk=self.run.pk).update(
            progress=self.run.progress, heartbeat_at=timezone.now(), counts=dict(self.counts)
        )
