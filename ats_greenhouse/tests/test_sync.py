"""The Greenhouse sync against the sandbox on loopback, in this process."""

import pytest

from ats_greenhouse.tests.conftest import dump, sandbox_control
from ats_greenhouse.tests.expectations import expected_visible_candidate_ids
from candidates.models import Application, Candidate
from integrations.models import SyncCursor, SyncRun
from integrations.services import integration_sync_run
from roles.models import JobPost, PipelineStage, Role

pytestmark = pytest.mark.django_db

WORK_TYPES = {
    "Full-time": "full_time",
    "Part-time": "part_time",
    "Contract": "contract",
    "Intern": "internship",
    "Temporary": "temporary",
}


def visible_remote_ids(organization) -> set[str]:
    return set(
        Candidate.objects.filter(organization=organization, is_visible=True).values_list(
            "remote_id", flat=True
        )
    )


def snapshot(organization) -> dict:
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
                "remote_id",
                "candidate__remote_id",
                "role__remote_id",
                "stage__remote_id",
                "status",
                "is_linked",
            )
        ),
        "job_posts": set(
            JobPost.objects.filter(organization=organization).values_list(
                "remote_id", "title", "is_listed"
            )
        ),
    }


def test_full_sync_shows_qualifying_candidates(sandbox, organization, connect_greenhouse):
    connect_greenhouse()

    expected = expected_visible_candidate_ids(sandbox)
    assert expected, "the sandbox should have qualifying candidates"
    assert visible_remote_ids(organization) == expected


def test_jobs_map_to_roles_with_work_type(sandbox, organization, connect_greenhouse):
    connect_greenhouse()

    jobs = dump(sandbox, "jobs")
    open_ids = {str(j["id"]) for j in jobs if j["status"] == "open"}
    assert (
        set(
            Role.objects.filter(organization=organization, is_visible=True).values_list(
                "remote_id", flat=True
            )
        )
        == open_ids
    )
    for job in jobs:
        role = Role.objects.get(organization=organization, remote_id=str(job["id"]))
        assert role.title == job["name"]
        assert role.work_type == WORK_TYPES[job["custom_fields"]["employment_type"]["value"]]


def test_custom_fields_offered_for_work_type(organization, connect_greenhouse):
    integration = connect_greenhouse(work_type_field=None)

    assert {"id": "employment_type", "name": "Employment Type"} in integration.options[
        "job_custom_fields"
    ]
    assert not Role.objects.filter(organization=organization).exclude(work_type="").exists()


def test_stages_in_order_and_first_is_review(organization, connect_greenhouse):
    connect_greenhouse()

    for role in Role.objects.filter(organization=organization, interview_plan__isnull=False):
        stages = list(role.interview_plan.stages.order_by("order", "id"))
        assert [s.order for s in stages] == sorted(s.order for s in stages)
        assert stages[0].stage_type == PipelineStage.StageType.PRE_INTERVIEW_SCREEN
        assert stages[0].title == "Application Review"
        assert all(s.stage_type != PipelineStage.StageType.PRE_INTERVIEW_SCREEN for s in stages[1:])


def test_prospects_are_not_synced_as_applications(sandbox, organization, connect_greenhouse):
    connect_greenhouse()

    prospects = {str(a["id"]) for a in dump(sandbox, "applications") if a["prospect"]}
    assert prospects
    assert not Application.objects.filter(
        organization=organization, remote_id__in=prospects
    ).exists()


def test_job_posts_listed_only_when_live_external(sandbox, organization, connect_greenhouse):
    connect_greenhouse()

    for post in dump(sandbox, "job_posts"):
        row = JobPost.objects.get(organization=organization, remote_id=str(post["id"]))
        assert row.is_listed == (post["live"] and not post["internal"])


def test_rerun_is_idempotent(organization, connect_greenhouse):
    integration = connect_greenhouse()
    before = snapshot(organization)

    run = integration_sync_run(integration.pk, trigger="manual", full=True)

    assert run.outcome == SyncRun.Outcome.SUCCESS
    assert snapshot(organization) == before
    assert run.counts["candidates"]["created"] == 0
    assert run.counts["applications"]["created"] == 0


def test_resumes_downloaded_for_visible_candidates(organization, connect_greenhouse):
    connect_greenhouse()

    with_resume = Candidate.objects.filter(organization=organization, is_visible=True).exclude(
        remote_resume={}
    )
    assert with_resume.exists()
    for candidate in with_resume:
        assert candidate.resume_remote_id == candidate.remote_resume["id"]
        with candidate.resume.open("rb") as handle:
            assert handle.read(5) == b"%PDF-"
    assert (
        not Candidate.objects.filter(organization=organization, is_visible=False)
        .exclude(resume="")
        .exists()
    )


def test_incremental_follows_activity(
    sandbox, organization, other_organization, other_owner, connect_greenhouse
):
    integration = connect_greenhouse()
    watermarks = dict(
        SyncCursor.objects.filter(integration=integration).values_list("list_name", "sync_token")
    )
    assert {"jobs", "candidates", "applications", "attachments"} <= set(watermarks)
    changed = sandbox_control(
        sandbox,
        "POST",
        "/_sandbox/activity",
        {
            "moves": 15,
            "rejects": 6,
            "close_jobs": 2,
            "open_jobs": 1,
            "new_candidates": 4,
            "edits": 5,
            "new_resumes": 3,
        },
    )
    sandbox_control(sandbox, "POST", "/_sandbox/stats/reset", {})

    run = integration_sync_run(integration.pk, trigger="schedule")

    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    assert not run.is_full
    requests = sandbox_control(sandbox, "GET", "/_sandbox/stats")["requests"]
    candidate_queries = [
        r["query"]
        for r in requests
        if r["label"] == "GET /candidates" and "cursor" not in r["query"]
    ]
    assert candidate_queries and all(q["updated_at"].startswith("gte|") for q in candidate_queries)
    assert visible_remote_ids(organization) == expected_visible_candidate_ids(sandbox)
    for job_id in changed["closed_jobs"]:
        assert (
            Role.objects.get(organization=organization, remote_id=str(job_id)).status
            == Role.Status.CLOSED
        )
    for candidate_id in changed["edited"]:
        remote = dump(sandbox, "candidates", candidate_id)[0]
        assert (
            Candidate.objects.get(organization=organization, remote_id=str(candidate_id)).title
            == remote["title"]
        )
    clean = connect_greenhouse(org=other_organization, actor=other_owner)
    assert snapshot(organization)["applications"] == snapshot(other_organization)["applications"]
    assert visible_remote_ids(organization) == visible_remote_ids(other_organization)
    assert clean.pk != integration.pk


def test_incremental_without_changes_reads_one_page(sandbox, organization, connect_greenhouse):
    integration = connect_greenhouse()
    sandbox_control(sandbox, "POST", "/_sandbox/stats/reset", {})

    run = integration_sync_run(integration.pk, trigger="schedule")

    endpoints = sandbox_control(sandbox, "GET", "/_sandbox/stats")["endpoints"]
    assert run.outcome == SyncRun.Outcome.SUCCESS
    for label in ("GET /candidates", "GET /applications", "GET /jobs"):
        assert endpoints.get(label) == 1, (label, endpoints)
    assert endpoints.get("GET /_files", 0) == 0


def test_update_in_same_second_as_watermark_is_seen(sandbox, organization, connect_greenhouse):
    """A change stamped within the watermark's second is read again, not skipped."""
    from ats_greenhouse.sandbox.state import now_text

    integration = connect_greenhouse()
    cursor = SyncCursor.objects.get(integration=integration, list_name="candidates")
    candidate = Candidate.objects.filter(organization=organization, is_visible=True).first()
    state = sandbox.state
    with state.lock:
        record = state.db["candidates"][int(candidate.remote_id)]
        record["title"] = "Changed Same Second"
        # Stamp the change with the watermark's own second, as a late commit would be.
        record["updated_at"] = cursor.sync_token[:19] + ".000Z"
    assert now_text()

    integration_sync_run(integration.pk, trigger="schedule")

    candidate.refresh_from_db()
    assert candidate.title == "Changed Same Second"


def test_full_sync_sweeps_deleted_and_merged(sandbox, organization, connect_greenhouse):
    integration = connect_greenhouse()
    visible = list(
        Candidate.objects.filter(organization=organization, is_visible=True).order_by("pk")[:3]
    )
    deleted, merged_from, merged_into = (int(c.remote_id) for c in visible)
    sandbox_control(sandbox, "POST", "/_sandbox/delete", {"candidate_ids": [deleted]})
    merge = sandbox_control(
        sandbox, "POST", "/_sandbox/merge", {"from": merged_from, "into": merged_into}
    )

    incremental = integration_sync_run(integration.pk, trigger="schedule")
    assert Candidate.objects.get(pk=visible[0].pk).is_linked, (
        "an incremental run cannot see deletions"
    )

    run = integration_sync_run(integration.pk, trigger="reconcile", full=True)

    assert incremental.outcome == run.outcome == SyncRun.Outcome.SUCCESS
    for candidate in visible[:2]:
        candidate.refresh_from_db()
        assert not candidate.is_linked
        assert not candidate.is_visible
    assert not Application.objects.filter(candidate=visible[0], is_linked=True).exists()
    for application_id in merge["moved_application_ids"]:
        moved = Application.objects.get(organization=organization, remote_id=str(application_id))
        assert moved.candidate_id == visible[2].pk
    assert visible_remote_ids(organization) == expected_visible_candidate_ids(sandbox)


def test_revoked_credential_fails_run(sandbox, organization, connect_greenhouse):
    integration = connect_greenhouse()
    sandbox_control(sandbox, "POST", "/_sandbox/credentials", {"sandbox_full": {"revoked": True}})
    sandbox_control(sandbox, "POST", "/_sandbox/expire", {"tokens": True})

    run = integration_sync_run(integration.pk, trigger="schedule")

    integration.refresh_from_db()
    assert run.outcome == SyncRun.Outcome.FAILURE
    assert integration.state == "error"
    assert "rejected the stored credential" in integration.error_message


def test_missing_scope_during_sync_names_it(sandbox, organization, connect_greenhouse):
    integration = connect_greenhouse()
    scopes = [
        s
        for s in sandbox_control(sandbox, "GET", "/_sandbox/credentials")["sandbox_full"]["scopes"]
        if s != "harvest:applications:list"
    ]
    sandbox_control(sandbox, "POST", "/_sandbox/credentials", {"sandbox_full": {"scopes": scopes}})
    sandbox_control(sandbox, "POST", "/_sandbox/expire", {"tokens": True})

    run = integration_sync_run(integration.pk, trigger="schedule")

    integration.refresh_from_db()
    assert run.outcome == SyncRun.Outcome.FAILURE
    assert "harvest:applications:list" in integration.error_message


def test_work_type_field_choice_applies(
    organization, owner, connect_greenhouse, django_capture_on_commit_callbacks
):
    from ats_greenhouse.services import greenhouse_set_work_type_field

    connect_greenhouse(work_type_field=None)
    with pytest.raises(ValueError, match="not in the list"):
        greenhouse_set_work_type_field(
            organization=organization, actor=owner, field_key="no_such_field"
        )

    with django_capture_on_commit_callbacks(execute=True):
        greenhouse_set_work_type_field(
            organization=organization, actor=owner, field_key="employment_type"
        )

    assert not Role.objects.filter(organization=organization, work_type="").exists()
