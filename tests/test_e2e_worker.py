"""End-to-end: a real Celery worker process, Redis and the Ashby sandbox, with no browser.

The worker is killed with SIGKILL at the two moments that matter for safety: halfway
through a full sync, and between the commit of a new candidate and the end of its
push to Ashby. Each test then checks that a restarted worker converges on the result a
clean run gives, with no duplicate in Ashby.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from ats_ashby.sandbox import start_sandbox
from ats_ashby.tests.conftest import sandbox_control
from ats_ashby.tests.test_sync import snapshot
from candidates.models import Application, Candidate, PushState
from candidates.services import candidate_create, candidate_update
from integrations.models import Integration, OutboxEvent, SyncRun
from integrations.outbox import SWEEP_AFTER
from integrations.services import (
    integration_connect,
    integration_request_sync,
    integration_sync_run,
)
from integrations.tasks import sweep_outbox
from tests.fixtures.processes import CeleryWorkerProcess, RedisTestServer

pytestmark = pytest.mark.slow

SANDBOX_OPTIONS = {"seed": 3, "jobs": 10, "candidates": 120}
SYNC_TIMEOUT_SECONDS = 120
PUSH_TIMEOUT_SECONDS = 60


@pytest.fixture
def sandbox(settings):
    """A small in-process sandbox that lives for the test, with Lavalier pointed at it."""
    server = start_sandbox(port=0, **SANDBOX_OPTIONS)
    settings.ASHBY_API_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def start_worker(sandbox, celery_worker_factory) -> Callable[[], CeleryWorkerProcess]:
    """Return a function that starts a worker whose ASHBY_API_URL is the sandbox's URL."""

    def start() -> CeleryWorkerProcess:
        return celery_worker_factory(env={"ASHBY_API_URL": sandbox.url})

    return start


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float,
    description: str,
    worker: CeleryWorkerProcess | None = None,
) -> None:
    """Poll condition every 0.1 s, failing with the worker's log tail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            log_tail = ""
            if worker is not None:
                log_tail = "\nLast worker log lines:\n" + "\n".join(
                    worker.log_text().splitlines()[-60:]
                )
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {description}.{log_tail}")
        time.sleep(0.1)


def sandbox_dump(sandbox, kind: str, remote_id: str | None = None) -> list[dict]:
    suffix = f"&id={remote_id}" if remote_id else ""
    return sandbox_control(sandbox, "GET", f"/_sandbox/dump?kind={kind}{suffix}")["results"]


def sandbox_candidates_with_email(sandbox, email: str) -> list[dict]:
    return [
        candidate
        for candidate in sandbox_dump(sandbox, "candidates")
        if any(entry.get("value") == email for entry in candidate.get("emailAddresses") or [])
    ]


def wait_for_first_sync(integration: Integration, worker: CeleryWorkerProcess) -> Integration:
    """Wait until the worker finished the sync that integration_connect queued."""

    def synced() -> bool:
        integration.refresh_from_db()
        return integration.last_synced_at is not None

    wait_for(synced, timeout=SYNC_TIMEOUT_SECONDS, description="the first sync", worker=worker)
    run = SyncRun.objects.filter(integration=integration).latest("started_at")
    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    return integration


def kill_worker(worker: CeleryWorkerProcess) -> None:
    """SIGKILL the worker's whole process group, as a lost machine would end it."""
    worker.kill()
    worker.wait_exit()


def test_killed_sync_rerun_matches_clean_sync(
    sandbox, start_worker, organization, other_organization, owner, client
):
    # Slow the two largest lists so the kill lands while their pages are being saved.
    sandbox_control(
        sandbox,
        "POST",
        "/_sandbox/faults",
        {"latency_ms": 250, "endpoints": ["candidate.list", "application.list"]},
    )
    worker = start_worker()
    integration = integration_connect(
        organization=organization, actor=owner, provider_slug="ashby", credential="sandbox_full"
    )

    def first_application_page_saved() -> bool:
        run = SyncRun.objects.filter(integration=integration).first()
        progress_entity = (run.progress or {}).get("entity") if run else None
        return progress_entity == "applications" and Application.objects.filter(
            organization=organization
        ).exists()

    wait_for(
        first_application_page_saved,
        timeout=SYNC_TIMEOUT_SECONDS,
        description="the sync to save its first page of applications",
        worker=worker,
    )
    kill_worker(worker)

    killed_run = SyncRun.objects.get(integration=integration)
    assert killed_run.outcome == SyncRun.Outcome.RUNNING
    # The visibility pass runs after applications, so no candidate is shown yet.
    assert not Candidate.objects.filter(organization=organization, is_visible=True).exists()
    integration.refresh_from_db()
    assert integration.last_synced_at is None
    assert integration.sync_lock_token, "a killed worker cannot release the sync lock"

    # The dead worker's lock expires on its own after LOCK_TTL (3 minutes), so the test
    # moves the expiry into the past instead of waiting that long.
    Integration.objects.filter(pk=integration.pk).update(
        sync_lock_expires_at=timezone.now() - timedelta(seconds=1)
    )
    sandbox_control(sandbox, "DELETE", "/_sandbox/faults")
    worker.start()
    # Redis hands the killed task's unacknowledged message out again only after the
    # visibility timeout (kombu's default is one hour), so queue a sync as Sync now does.
    integration_request_sync(organization=organization, actor=owner)

    wait_for(
        lambda: SyncRun.objects.filter(
            integration=integration, outcome=SyncRun.Outcome.SUCCESS
        ).exists(),
        timeout=SYNC_TIMEOUT_SECONDS,
        description="the sync after the restart to succeed",
        worker=worker,
    )
    killed_run.refresh_from_db()
    assert killed_run.outcome == SyncRun.Outcome.HALTED
    assert killed_run.error_code == "worker_lost"

    clean = integration_connect(
        organization=other_organization,
        actor=None,
        provider_slug="ashby",
        credential="sandbox_full",
    )
    wait_for_first_sync(clean, worker)
    resumed_rows = snapshot(organization)
    clean_rows = snapshot(other_organization)
    for kind in clean_rows:
        assert resumed_rows[kind] == clean_rows[kind], kind

    client.force_login(owner)
    card_html = client.get(reverse("integrations:card", args=["ashby"])).content.decode()
    assert "Connected — Last synced" in card_html
    assert "Syncing. This might take several minutes" not in card_html


def test_sweeper_delivers_edit_without_worker(
    sandbox, start_worker, organization, owner, redis_server: RedisTestServer
):
    integration = integration_connect(
        organization=organization, actor=owner, provider_slug="ashby", credential="sandbox_full"
    )
    # No worker runs yet, so this process runs the first sync itself.
    run = integration_sync_run(integration.pk, trigger=SyncRun.Trigger.CONNECT)
    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    candidate = (
        Candidate.objects.filter(organization=organization, is_visible=True).order_by("pk").first()
    )

    candidate_update(
        organization=organization,
        candidate_id=candidate.pk,
        actor=owner,
        changes={"name": "Swept By The Worker"},
    )

    event = OutboxEvent.objects.get(record_type="candidate", record_id=candidate.pk)
    assert event.state == OutboxEvent.State.PENDING
    # Redis crashes and restarts empty, losing the delivery message the commit queued
    # (and the first sync that connecting queued), so only the sweeper can find the row.
    redis_server.restart(crash=True)
    # The sweeper takes rows older than SWEEP_AFTER (30 s), so age the row instead of waiting.
    OutboxEvent.objects.filter(pk=event.pk).update(
        created_at=F("created_at") - SWEEP_AFTER - timedelta(seconds=1)
    )
    worker = start_worker()

    sweep_outbox.delay()

    def delivered() -> bool:
        event.refresh_from_db()
        return event.state == OutboxEvent.State.DELIVERED

    wait_for(
        delivered, timeout=PUSH_TIMEOUT_SECONDS, description="the swept delivery", worker=worker
    )
    remote = sandbox_dump(sandbox, "candidates", candidate.remote_id)[0]
    assert remote["name"] == "Swept By The Worker"
    candidate.refresh_from_db()
    assert candidate.push_state == PushState.SYNCED


def test_killed_create_push_makes_one_candidate(
    sandbox, start_worker, organization, owner
):
    email = "kim.killed@example.test"
    worker = start_worker()
    integration = integration_connect(
        organization=organization, actor=owner, provider_slug="ashby", credential="sandbox_full"
    )
    wait_for_first_sync(integration, worker)
    # Ashby stores the candidate, then the response never comes, so the worker is still
    # waiting when it is killed.
    sandbox_control(
        sandbox,
        "POST",
        "/_sandbox/faults",
        {
            "endpoints": ["candidate.create"],
            "fail_after_store": ["candidate.create"],
            "fail_after_store_mode": "hang",
            "hang_seconds": 120,
            "count": 1,
        },
    )

    candidate = candidate_create(
        organization=organization,
        actor=owner,
        name="Kim Killed",
        email_addresses=[{"value": email, "type": "Personal", "is_primary": True}],
    )

    wait_for(
        lambda: len(sandbox_candidates_with_email(sandbox, email)) == 1,
        timeout=PUSH_TIMEOUT_SECONDS,
        description="Ashby to store the new candidate",
        worker=worker,
    )
    event = OutboxEvent.objects.get(record_type="candidate", record_id=candidate.pk)
    assert event.attempts == 1
    assert event.next_attempt_at is not None, "the worker holds a lease while it pushes"
    kill_worker(worker)

    candidate.refresh_from_db()
    assert not candidate.remote_id
    assert candidate.creation_pending
    worker.start()
    # The dead worker's lease expires on its own after LEASE (5 minutes), so end it now.
    OutboxEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )

    sweep_outbox.delay()

    def delivered() -> bool:
        event.refresh_from_db()
        return event.state == OutboxEvent.State.DELIVERED

    wait_for(
        delivered, timeout=PUSH_TIMEOUT_SECONDS, description="the retried create", worker=worker
    )
    remote = sandbox_candidates_with_email(sandbox, email)
    assert len(remote) == 1
    candidate.refresh_from_db()
    assert candidate.remote_id == remote[0]["id"]
    assert not candidate.creation_pending
    assert candidate.push_state == PushState.SYNCED
    assert "adopted candidate created by an earlier attempt" in worker.log_text()
