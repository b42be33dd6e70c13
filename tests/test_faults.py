"""Fault injection against real processes: a Celery worker, Redis, PostgreSQL, the sandbox.

Each test lets a sync meet one fault, recovers the way production would (the next
scheduled sync, after the lock of a dead run expired), then checks that Lavalier's rows
equal those of one clean sync of the same sandbox into a second organization, and that
the integration card ends in the right state.

Needs `make test` (PostgreSQL and Redis). The sandbox runs in this process on loopback;
the worker reaches it over HTTP.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable

import pytest
from django.db import connection
from django.utils import timezone

from ats_ashby.sandbox import start_sandbox
from ats_ashby.sandbox.keys import DEFAULT_KEYS
from ats_ashby.tests.conftest import sandbox_control
from candidates.models import Application, Candidate
from integrations import crypto
from integrations.models import Integration, SyncRun
from integrations.services import (
    integration_connect,
    integration_sync_run,
    integration_update_credential,
)
from integrations.tasks import sync_integration
from roles.models import InterviewPlan, JobPost, PipelineStage, Role

pytestmark = pytest.mark.slow

SYNC_TIMEOUT_SECONDS = 120
# The sandbox's list endpoints; latency on them keeps a pass running long enough to hit.
LIST_ENDPOINTS = ["job.list", "candidate.list", "application.list"]


def wait_for(condition: Callable[[], object], *, timeout: float = SYNC_TIMEOUT_SECONDS,
             description: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {description}")
        time.sleep(interval)


def snapshot(organization) -> dict:
    """Every synced row, reduced to what recruiters see, plus row counts to catch duplicates."""
    models = (InterviewPlan, PipelineStage, Role, JobPost, Candidate, Application)
    return {
        "counts": {m.__name__: m.objects.filter(organization=organization).count() for m in models},
        "roles": set(Role.objects.filter(organization=organization).values_list(
            "remote_id", "title", "status", "work_type", "is_visible", "is_linked")),
        "stages": set(PipelineStage.objects.filter(organization=organization).values_list(
            "remote_id", "title", "order", "stage_type")),
        "candidates": set(Candidate.objects.filter(organization=organization).values_list(
            "remote_id", "name", "primary_email", "title", "is_visible", "is_linked")),
        # Resumes are fetched for visible candidates only; a hidden one keeps an old file.
        "resumes": set(Candidate.objects.filter(organization=organization, is_visible=True)
                       .values_list("remote_id", "resume_remote_id")),
        "applications": set(Application.objects.filter(organization=organization).values_list(
            "remote_id", "candidate__remote_id", "role__remote_id", "stage__remote_id", "status")),
        "job_posts": set(JobPost.objects.filter(organization=organization).values_list(
            "remote_id", "title")),
    }


def clean_snapshot(sandbox, organization) -> dict:
    """Sync the sandbox, with no faults, into `organization` in this process."""
    sandbox_control(sandbox, "DELETE", "/_sandbox/faults")
    integration = Integration.objects.create(
        organization=organization,
        provider="ashby",
        encrypted_credential=crypto.encrypt("sandbox_full"),
        credential_last4="full",
    )
    run = integration_sync_run(integration.pk, trigger="command")
    assert run is not None
    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    return snapshot(organization)


def assert_same_rows(organization, sandbox, other_organization) -> None:
    actual = snapshot(organization)
    expected = clean_snapshot(sandbox, other_organization)
    assert actual["counts"] == expected["counts"]
    for key in ("roles", "stages", "candidates", "resumes", "applications", "job_posts"):
        assert actual[key] == expected[key], key


def latest_run(integration) -> SyncRun | None:
    return SyncRun.objects.filter(integration=integration).order_by("-id").first()


def wait_finished(integration, *, after_id: int = 0) -> SyncRun:
    """Wait for a run newer than after_id to finish and return it."""
    return wait_for(
        lambda: SyncRun.objects.filter(integration=integration, pk__gt=after_id)
        .exclude(outcome=SyncRun.Outcome.RUNNING)
        .order_by("-id")
        .first(),
        description=f"a finished sync run of integration {integration.pk}",
    )


def wait_entity(integration, entity: str) -> SyncRun:
    return wait_for(
        lambda: SyncRun.objects.filter(
            integration=integration, outcome=SyncRun.Outcome.RUNNING, progress__entity=entity
        ).first(),
        description=f"the running sync to reach {entity}",
    )


def expire_lock(integration) -> None:
    """Stand in for LOCK_TTL passing: a dead worker's lock blocks the next run until then."""
    Integration.objects.filter(pk=integration.pk).update(
        sync_lock_expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )


def sync_until_success(integration) -> SyncRun:
    """Queue what beat queues and wait for a successful run."""
    after_id = latest_run(integration).pk if latest_run(integration) else 0
    sync_integration.delay(integration.pk, trigger="schedule", full=False)
    run = wait_finished(integration, after_id=after_id)
    assert run.outcome == SyncRun.Outcome.SUCCESS, (run.error_code, run.error_message)
    return run


def assert_card_connected(integration) -> None:
    integration.refresh_from_db()
    assert integration.state == Integration.State.CONNECTED
    assert integration.error_code == ""
    assert integration.last_synced_at is not None
    assert integration.sync_lock_token == ""


@pytest.fixture
def sandbox(settings):
    server = start_sandbox(port=0, seed=5, jobs=10, candidates=250)
    settings.ASHBY_API_URL = server.url
    yield server
    server.stop()


def connect_unchecked(organization) -> Integration:
    """Store an integration as connect does, without checking the key, and queue its sync.

    For faults that would also hit connect's own apiKey.info request.
    """
    integration = Integration.objects.create(
        organization=organization,
        provider="ashby",
        encrypted_credential=crypto.encrypt("sandbox_full"),
        credential_last4="full",
    )
    sync_integration.delay(integration.pk, trigger="connect", full=True)
    return integration


@pytest.fixture
def connect(organization, owner):
    def run_connect(key: str = "sandbox_full") -> Integration:
        # On commit this queues the first full sync to the worker.
        return integration_connect(
            organization=organization, actor=owner, provider_slug="ashby", credential=key
        )

    return run_connect


# Worker killed mid-sync ------------------------------------------------------------------


@pytest.mark.parametrize("entity", ["jobs", "candidates", "applications"])
def test_worker_killed_mid_sync_recovers(
    entity, sandbox, celery_worker_factory, connect, organization, other_organization
):
    worker = celery_worker_factory()
    sandbox_control(sandbox, "POST", "/_sandbox/faults",
                    {"latency_ms": 700, "endpoints": LIST_ENDPOINTS})
    integration = connect()
    killed = wait_entity(integration, entity)

    worker.kill(signal.SIGKILL)
    worker.wait_exit()
    sandbox_control(sandbox, "DELETE", "/_sandbox/faults")
    expire_lock(integration)
    worker.start()
    sync_until_success(integration)

    killed.refresh_from_db()
    assert killed.outcome == SyncRun.Outcome.HALTED
    assert killed.error_code == "worker_lost"
    assert_card_connected(integration)
    assert_same_rows(organization, sandbox, other_organization)


# Faults of Ashby's API ---------------------------------------------------------------------

API_FAULTS = {
    "429 burst with Retry-After": {"rate_429": 1, "count": 4, "retry_after": 1},
    "5xx on 20% of requests": {"rate_5xx": 0.2},
    "responses past the client timeout": {"timeout_rate": 0.1, "hang_seconds": 3},
    "malformed JSON": {"malformed_json_rate": 0.05},
    "truncated pages": {"truncated_page_rate": 0.2, "endpoints": LIST_ENDPOINTS},
}


@pytest.mark.parametrize("fault", sorted(API_FAULTS))
def test_api_faults_recover(
    fault, sandbox, celery_worker_factory, organization, other_organization
):
    celery_worker_factory(env={"ASHBY_READ_TIMEOUT_SECONDS": "1"})
    sandbox_control(sandbox, "POST", "/_sandbox/faults", API_FAULTS[fault])
    integration = connect_unchecked(organization)

    first = wait_finished(integration)
    integration.refresh_from_db()
    if first.outcome == SyncRun.Outcome.FAILURE:
        # A failed first sync puts the card in error with a transient code, not an auth one.
        assert integration.state == Integration.State.ERROR
        assert integration.error_code in {"unavailable", "bad_response", "cursor_expired",
                                          "request_error"}
    else:
        assert first.outcome == SyncRun.Outcome.SUCCESS
    sandbox_control(sandbox, "DELETE", "/_sandbox/faults")
    sync_until_success(integration)

    assert_card_connected(integration)
    assert_same_rows(organization, sandbox, other_organization)


def test_sync_token_and_cursor_expire_mid_run(
    sandbox, celery_worker_factory, connect, organization, other_organization
):
    celery_worker_factory()
    integration = connect()
    assert wait_finished(integration).outcome == SyncRun.Outcome.SUCCESS
    sandbox_control(sandbox, "POST", "/_sandbox/activity",
                    {"moves": 15, "archives": 5, "new_candidates": 120})
    sandbox_control(sandbox, "POST", "/_sandbox/faults",
                    {"latency_ms": 500, "endpoints": ["candidate.list", "application.list"]})
    after_id = latest_run(integration).pk

    sync_integration.delay(integration.pk, trigger="schedule", full=False)
    wait_entity(integration, "candidates")
    sandbox_control(sandbox, "POST", "/_sandbox/expire", {"sync_tokens": True, "cursors": True})
    run = wait_finished(integration, after_id=after_id)

    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    assert run.is_full is False
    assert any("sync token" in note or "cursor" in note for note in run.notes), run.notes
    assert_card_connected(integration)
    assert_same_rows(organization, sandbox, other_organization)


def test_api_key_deactivated_mid_sync(
    sandbox, celery_worker_factory, connect, organization, other_organization, owner
):
    celery_worker_factory()
    integration = connect()
    assert wait_finished(integration).outcome == SyncRun.Outcome.SUCCESS
    before = snapshot(organization)
    sandbox_control(sandbox, "POST", "/_sandbox/faults",
                    {"latency_ms": 500, "endpoints": LIST_ENDPOINTS})
    after_id = latest_run(integration).pk

    sync_integration.delay(integration.pk, trigger="manual", full=True)
    wait_entity(integration, "candidates")
    sandbox_control(sandbox, "POST", "/_sandbox/keys", {"sandbox_full": {
        **DEFAULT_KEYS["sandbox_full"], "deactivated": True}})
    failed = wait_finished(integration, after_id=after_id)

    integration.refresh_from_db()
    assert failed.outcome == SyncRun.Outcome.FAILURE
    assert integration.state == Integration.State.ERROR
    assert integration.error_code == "auth_deactivated"
    assert snapshot(organization) == before

    sandbox_control(sandbox, "DELETE", "/_sandbox/faults")
    sandbox_control(sandbox, "POST", "/_sandbox/keys", {"sandbox_replacement": {
        **DEFAULT_KEYS["sandbox_full"], "title": "Replacement key"}})
    integration_update_credential(organization=organization, actor=owner,
                                  credential="sandbox_replacement")
    recovered = wait_finished(integration, after_id=failed.pk)

    assert recovered.outcome == SyncRun.Outcome.SUCCESS, recovered.error_message
    assert_card_connected(integration)
    # The clean sync uses sandbox_full, which is deactivated now.
    sandbox_control(
        sandbox, "POST", "/_sandbox/keys", {"sandbox_full": DEFAULT_KEYS["sandbox_full"]}
    )
    assert_same_rows(organization, sandbox, other_organization)


# Infrastructure faults ---------------------------------------------------------------------


def test_redis_restarted_during_sync(
    sandbox, celery_worker_factory, redis_server, connect, organization, other_organization
):
    worker = celery_worker_factory()
    sandbox_control(sandbox, "POST", "/_sandbox/faults",
                    {"latency_ms": 500, "endpoints": LIST_ENDPOINTS})
    integration = connect()
    wait_entity(integration, "candidates")

    redis_server.restart(down_seconds=1.0, crash=True)
    first = wait_finished(integration)
    sandbox_control(sandbox, "DELETE", "/_sandbox/faults")

    assert first.outcome == SyncRun.Outcome.SUCCESS, first.error_message
    # The worker reconnected to the new Redis and still consumes tasks.
    sync_until_success(integration)
    assert_card_connected(integration)
    assert_same_rows(organization, sandbox, other_organization)
    assert worker.running


def test_database_connection_dropped_during_sync(
    sandbox, celery_worker_factory, connect, organization, other_organization
):
    worker = celery_worker_factory()
    sandbox_control(sandbox, "POST", "/_sandbox/faults",
                    {"latency_ms": 700, "endpoints": LIST_ENDPOINTS})
    integration = connect()
    interrupted = wait_entity(integration, "candidates")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
    wait_for(lambda: "integrations.sync_integration" in worker.log_text()
             and ("succeeded" in worker.log_text() or "raised" in worker.log_text()),
             description="the interrupted sync task to end")
    sandbox_control(sandbox, "DELETE", "/_sandbox/faults")
    interrupted.refresh_from_db()
    integration.refresh_from_db()
    # The worker closed the broken connection, recorded the failure and released the lock.
    assert interrupted.outcome == SyncRun.Outcome.FAILURE
    assert interrupted.error_code == "unexpected"
    assert integration.sync_lock_token == ""
    sync_until_success(integration)

    assert_card_connected(integration)
    assert_same_rows(organization, sandbox, other_organization)
    assert worker.running


def test_two_syncs_at_once_run_one(
    sandbox, celery_worker_factory, organization, other_organization
):
    worker = celery_worker_factory(concurrency=2)
    integration = Integration.objects.create(
        organization=organization,
        provider="ashby",
        encrypted_credential=crypto.encrypt("sandbox_full"),
        credential_last4="full",
    )
    sandbox_control(sandbox, "POST", "/_sandbox/faults",
                    {"latency_ms": 300, "endpoints": LIST_ENDPOINTS})

    sync_integration.delay(integration.pk, trigger="manual", full=True)
    sync_integration.delay(integration.pk, trigger="manual", full=True)
    run = wait_finished(integration)
    try:
        wait_for(lambda: "sync skipped: another run" in worker.log_text(),
                 timeout=30, description="the second sync to be skipped")
    except TimeoutError:
        pytest.fail(worker.log_text()[-6000:])

    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    assert SyncRun.objects.filter(integration=integration).count() == 1
    assert_card_connected(integration)
    assert_same_rows(organization, sandbox, other_organization)
