"""The Ashby sync against the sandbox on loopback, in this process."""

import pytest
from django.utils import timezone

from ats_ashby.tests.conftest import sandbox_control
from ats_ashby.tests.expectations import expected_visible_candidate_ids
from candidates.models import Application, Candidate, PushState
from integrations.models import Integration, SyncCursor, SyncRun
from integrations.services import (
    integration_connect,
    integration_disconnect,
    integration_sync_run,
    integrations_due_for_sync,
)
from integrations.sync_runs import lock_acquire
from roles.models import JobPost, PipelineStage, Role

pytestmark = pytest.mark.django_db


def visible_remote_ids(organization) -> set[str]:
    return set(
        Candidate.objects.filter(organization=organization, is_visible=True).values_list(
            "remote_id", flat=True
        )
    )


def snapshot(organization) -> dict:
    """Every synced row reduced to what recruiters see, keyed by model and remote id."""
    return {
        "roles": set(
            Role.objects.filter(organization=organization).values_list(
                "remote_id", "title", "status", "work_type", "is_visible", "is_linked"
            )
        ),
        "stages": set(
            PipelineStage.objects.filter(organization=organization).values_list(
                "remote_id", "title", "order", "stage_type"
            )
        ),
        "candidates": set(
            Candidate.objects.filter(organization=organization).values_list(
                "remote_id", "name", "primary_email", "title", "is_visible", "is_linked"
            )
        ),
        "applications": set(
            Application.objects.filter(organization=organization).values_list(
                "remote_id", "candidate__remote_id", "role__remote_id", "stage__remote_id", "status"
            )
        ),
        "job_posts": set(
            JobPost.objects.filter(organization=organization).values_list("remote_id", "title")
        ),
    }


def test_full_sync_shows_qualifying_candidates(sandbox, organization, connect_ashby):
    connect_ashby()

    expected = expected_visible_candidate_ids(sandbox.url)
    assert expected, "the sandbox should have qualifying candidates"
    assert visible_remote_ids(organization) == expected


def test_full_sync_maps_jobs_to_roles(sandbox, organization, connect_ashby):
    connect_ashby()

    jobs = sandbox_control(sandbox, "GET", "/_sandbox/dump?kind=jobs")["results"]
    visible_jobs = [j for j in jobs if not j.get("confidential") and j["status"] != "Draft"]
    open_remote_ids = {j["id"] for j in visible_jobs if j["status"] == "Open"}
    roles = Role.objects.filter(organization=organization, is_visible=True)
    assert set(roles.values_list("remote_id", flat=True)) == open_remote_ids
    work_types = {
        "FullTime": "full_time",
        "PartTime": "part_time",
        "Contract": "contract",
        "Intern": "internship",
        "Temporary": "temporary",
    }
    for job in visible_jobs:
        role = Role.objects.get(organization=organization, remote_id=job["id"])
        assert role.work_type == work_types[job["employmentType"]]
        assert role.title == job["title"]


def test_stages_keep_plan_order(organization, connect_ashby):
    connect_ashby()

    for role in Role.objects.filter(organization=organization, interview_plan__isnull=False):
        orders = list(role.interview_plan.stages.values_list("order", flat=True))
        assert orders == sorted(orders)
    assert PipelineStage.objects.filter(
        organization=organization, stage_type=PipelineStage.StageType.PRE_INTERVIEW_SCREEN
    ).exists()


def test_rerun_leaves_same_rows(organization, connect_ashby):
    integration = connect_ashby()
    before = snapshot(organization)

    run = integration_sync_run(integration.pk, trigger="manual", full=True)

    assert run.outcome == SyncRun.Outcome.SUCCESS
    assert snapshot(organization) == before
    assert run.counts["candidates"]["created"] == 0
    assert run.counts["applications"]["created"] == 0


def test_interrupted_run_then_rerun_matches_clean_run(
    sandbox, organization, other_organization, connect_ashby, monkeypatch
):
    """A run that dies halfway (lock left held) and a rerun give the rows of one clean run."""
    from integrations import sync_runs
    from integrations.sync_runs import RunRecorder

    integration = connect_ashby(sync=False)
    original = RunRecorder.page_done
    calls = {"n": 0}

    def crash_on_tenth_page(self, records):
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt("simulated worker death")
        return original(self, records)

    monkeypatch.setattr(RunRecorder, "page_done", crash_on_tenth_page)
    with pytest.raises(KeyboardInterrupt):
        integration_sync_run(integration.pk, trigger="connect")
    monkeypatch.setattr(RunRecorder, "page_done", original)
    # A dead worker releases nothing: the lock stays until it expires.
    Integration.objects.filter(pk=integration.pk).update(
        sync_lock_token="dead", sync_lock_expires_at=timezone.now()
    )
    monkeypatch.setattr(sync_runs, "LOCK_TTL", sync_runs.LOCK_TTL)

    rerun = integration_sync_run(integration.pk, trigger="schedule")
    assert rerun.outcome == SyncRun.Outcome.SUCCESS
    assert (
        SyncRun.objects.filter(integration=integration, outcome=SyncRun.Outcome.HALTED).count() == 1
    )

    clean = integration_connect(
        organization=other_organization,
        actor=None,
        provider_slug="ashby",
        credential="sandbox_full",
    )
    assert integration_sync_run(clean.pk, trigger="connect").outcome == SyncRun.Outcome.SUCCESS
    assert snapshot(organization) == snapshot(other_organization)


def test_incremental_sync_follows_activity(
    sandbox, organization, other_organization, connect_ashby
):
    integration = connect_ashby()
    changed = sandbox_control(
        sandbox,
        "POST",
        "/_sandbox/activity",
        {
            "moves": 15,
            "archives": 8,
            "unarchives": 3,
            "close_jobs": 2,
            "open_jobs": 1,
            "new_candidates": 6,
        },
    )
    assert changed["closed_jobs"]

    run = integration_sync_run(integration.pk, trigger="schedule")

    assert run.outcome == SyncRun.Outcome.SUCCESS
    assert not run.is_full
    assert visible_remote_ids(organization) == expected_visible_candidate_ids(sandbox.url)
    for job_id in changed["closed_jobs"]:
        role = Role.objects.get(organization=organization, remote_id=job_id)
        assert role.status == Role.Status.CLOSED
        assert not role.is_visible
    clean = integration_connect(
        organization=other_organization,
        actor=None,
        provider_slug="ashby",
        credential="sandbox_full",
    )
    integration_sync_run(clean.pk, trigger="connect")
    assert snapshot(organization)["applications"] == snapshot(other_organization)["applications"]
    assert visible_remote_ids(organization) == visible_remote_ids(other_organization)


def test_incremental_without_changes_reads_little(sandbox, organization, connect_ashby):
    integration = connect_ashby()
    sandbox_control(sandbox, "POST", "/_sandbox/stats/reset", {})

    run = integration_sync_run(integration.pk, trigger="schedule")

    stats = sandbox_control(sandbox, "GET", "/_sandbox/stats")
    by_endpoint = stats["endpoints"]
    assert run.outcome == SyncRun.Outcome.SUCCESS
    for endpoint in ("candidate.list", "application.list", "job.list"):
        assert _count(by_endpoint.get(endpoint)) == 1, (endpoint, by_endpoint.get(endpoint))
    assert _count(by_endpoint.get("file.info")) == 0


def _count(entry) -> int:
    if entry is None:
        return 0
    if isinstance(entry, int):
        return entry
    return entry.get("total", entry.get("count", 0))


def test_expired_sync_token_syncs_list_in_full(sandbox, organization, connect_ashby):
    integration = connect_ashby()
    tokens_before = set(
        SyncCursor.objects.filter(integration=integration).values_list("list_name", "sync_token")
    )
    sandbox_control(sandbox, "POST", "/_sandbox/expire", {"sync_tokens": True})

    run = integration_sync_run(integration.pk, trigger="schedule")

    assert run.outcome == SyncRun.Outcome.SUCCESS
    assert any("sync token" in note for note in run.notes)
    tokens_after = set(
        SyncCursor.objects.filter(integration=integration).values_list("list_name", "sync_token")
    )
    assert tokens_after and tokens_after != tokens_before
    assert visible_remote_ids(organization) == expected_visible_candidate_ids(sandbox.url)


def test_expired_cursor_restarts_pass(sandbox, organization, connect_ashby, monkeypatch):
    from integrations.sync_runs import RunRecorder

    integration = connect_ashby(sync=False)
    original = RunRecorder.page_done
    state = {"expired": False}

    def expire_after_first_candidate_page(self, records):
        if self.entity == "candidates" and not state["expired"]:
            state["expired"] = True
            sandbox_control(sandbox, "POST", "/_sandbox/expire", {"cursors": True})
        return original(self, records)

    monkeypatch.setattr(RunRecorder, "page_done", expire_after_first_candidate_page)
    run = integration_sync_run(integration.pk, trigger="connect")

    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    assert any("cursor" in note for note in run.notes)
    assert visible_remote_ids(organization) == expected_visible_candidate_ids(sandbox.url)


def test_resumes_stored_for_visible_candidates(organization, connect_ashby):
    connect_ashby()

    with_resume = Candidate.objects.filter(organization=organization, is_visible=True).exclude(
        remote_resume={}
    )
    assert with_resume.exists()
    for candidate in with_resume:
        assert candidate.resume_remote_id == candidate.remote_resume["id"]
        with candidate.resume.open("rb") as handle:
            assert handle.read(5) == b"%PDF-"
    hidden = Candidate.objects.filter(organization=organization, is_visible=False)
    assert not hidden.exclude(resume="").exists()


def test_deactivated_key_stops_scheduled_syncs(sandbox, organization, connect_ashby):
    integration = connect_ashby()
    candidates_before = Candidate.objects.filter(organization=organization, is_visible=True).count()
    sandbox_control(sandbox, "POST", "/_sandbox/keys", {"sandbox_full": {"deactivated": True}})

    run = integration_sync_run(integration.pk, trigger="schedule")

    integration.refresh_from_db()
    assert run.outcome == SyncRun.Outcome.FAILURE
    assert integration.state == Integration.State.ERROR
    assert (
        integration.error_message
        == "Unable to connect: the API key was rejected by Ashby. Update the key."
    )
    assert integration.pk not in integrations_due_for_sync()
    assert (
        Candidate.objects.filter(organization=organization, is_visible=True).count()
        == candidates_before
    )


def test_disconnect_and_reconnect_relinks(sandbox, organization, owner, connect_ashby):
    connect_ashby()
    counts = (Candidate.objects.count(), Application.objects.count(), Role.objects.count())

    integration_disconnect(organization=organization, actor=owner)
    assert not Candidate.objects.filter(organization=organization, is_linked=True).exists()
    assert Candidate.objects.filter(organization=organization, is_visible=True).exists()

    connect_ashby()
    assert (Candidate.objects.count(), Application.objects.count(), Role.objects.count()) == counts
    assert not Candidate.objects.filter(
        organization=organization, provider="ashby", is_linked=False
    ).exists()


def test_sync_keeps_pending_local_edit(sandbox, organization, connect_ashby):
    integration = connect_ashby()
    candidate = Candidate.objects.filter(organization=organization, is_visible=True).first()
    candidate.name = "Edited In Lavalier"
    candidate.push_state = PushState.PENDING
    candidate.save()
    # Ashby changes the same candidate meanwhile.
    sandbox_control(sandbox, "POST", "/_sandbox/activity", {"moves": 30})

    integration_sync_run(integration.pk, trigger="manual", full=True)

    candidate.refresh_from_db()
    assert candidate.name == "Edited In Lavalier"


def test_second_run_skipped_while_locked(organization, connect_ashby):
    integration = connect_ashby()
    assert lock_acquire(integration.pk) is not None

    assert integration_sync_run(integration.pk, trigger="manual") is None


def test_disconnect_halts_running_sync(organization, owner, connect_ashby, monkeypatch):
    from integrations.sync_runs import RunRecorder

    integration = connect_ashby(sync=False)
    original = RunRecorder.page_done

    def disconnect_midway(self, records):
        if self.entity == "candidates":
            Integration.objects.filter(pk=integration.pk).update(is_active=False)
        return original(self, records)

    monkeypatch.setattr(RunRecorder, "page_done", disconnect_midway)
    run = integration_sync_run(integration.pk, trigger="connect")

    assert run.outcome == SyncRun.Outcome.HALTED


def test_visibility_repaired_after_interrupted_run(organization, connect_ashby):
    """A run that died before the visibility step leaves stale rows that the next run fixes,
    even when Ashby reports nothing new."""
    integration = connect_ashby()
    expected = visible_remote_ids(organization)
    Candidate.objects.filter(organization=organization).update(is_visible=False)
    SyncRun.objects.create(
        organization=organization,
        integration=integration,
        trigger="schedule",
        outcome=SyncRun.Outcome.HALTED,
    )

    run = integration_sync_run(integration.pk, trigger="schedule")

    assert run.outcome == SyncRun.Outcome.SUCCESS
    assert visible_remote_ids(organization) == expected


def test_quiet_run_skips_visibility(organization, connect_ashby):
    integration = connect_ashby()
    integration_sync_run(integration.pk, trigger="schedule")

    run = integration_sync_run(integration.pk, trigger="schedule")

    assert "visibility" not in run.counts
