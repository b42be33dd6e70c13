"""Write-back to the sandbox: edits, new candidates, stage moves, locks and faults."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ats_ashby.tests.conftest import sandbox_control
from candidates.models import Application, Candidate, PushState
from candidates.services import (
    STAGE_LOCKED_MESSAGE,
    application_change_stage,
    candidate_create,
    candidate_delete,
    candidate_update,
)
from integrations.models import Integration, OutboxEvent
from integrations.outbox import outbox_deliver_record, outbox_due_records
from integrations.services import integration_set_default_source, integration_sync_run
from roles.models import PipelineStage, Role
from roles.services import role_update

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def dump(sandbox, kind, remote_id=None):
    suffix = f"&id={remote_id}" if remote_id else ""
    return sandbox_control(sandbox, "GET", f"/_sandbox/dump?kind={kind}{suffix}")["results"]


def sandbox_candidates_by_email(sandbox, email):
    return [
        c
        for c in dump(sandbox, "candidates")
        if any(e.get("value") == email for e in c.get("emailAddresses") or [])
    ]


@pytest.fixture
def synced(sandbox, organization, connect_ashby):
    return connect_ashby()


def visible_candidate(organization):
    return (
        Candidate.objects.filter(organization=organization, is_visible=True, origin="ats")
        .order_by("pk")
        .first()
    )


def test_candidate_edit_reaches_ashby(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    candidate = visible_candidate(organization)

    with django_capture_on_commit_callbacks(execute=True):
        candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={
                "name": "Renamed Person",
                "phone_numbers": [{"value": "+1 555 0100", "type": "Mobile", "is_primary": True}],
            },
        )

    candidate.refresh_from_db()
    assert candidate.push_state == PushState.SYNCED
    remote = dump(sandbox, "candidates", candidate.remote_id)[0]
    assert remote["name"] == "Renamed Person"
    assert remote["primaryPhoneNumber"]["value"] == "+1 555 0100"
    assert OutboxEvent.objects.get().state == OutboxEvent.State.DELIVERED


def test_read_only_fields_rejected(organization, owner, synced):
    candidate = visible_candidate(organization)

    for field in ("title", "company", "location"):
        with pytest.raises(ValidationError) as caught:
            candidate_update(
                organization=organization,
                candidate_id=candidate.pk,
                actor=owner,
                changes={field: "Changed"},
            )
        assert "Managed in Ashby" in str(caught.value)
    assert not OutboxEvent.objects.exists()


def test_role_work_type_read_only_and_title_pushed(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    role = Role.objects.filter(organization=organization, is_visible=True).first()
    other = "contract" if role.work_type != "contract" else "temporary"

    with pytest.raises(ValidationError) as caught:
        role_update(
            organization=organization, role_id=role.pk, actor=owner, changes={"work_type": other}
        )
    assert "Work Type reflects the Employment Type" in str(caught.value)

    with django_capture_on_commit_callbacks(execute=True):
        role_update(
            organization=organization,
            role_id=role.pk,
            actor=owner,
            changes={"title": "Staff Engineer (renamed)"},
        )
    assert dump(sandbox, "jobs", role.remote_id)[0]["title"] == "Staff Engineer (renamed)"


def test_new_candidate_created_once_with_application(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    integration = synced
    source = next(s for s in integration.options["sources"] if s["title"] == "Lavalier")
    integration_set_default_source(organization=organization, actor=owner, source_id=source["id"])
    role = Role.objects.filter(
        organization=organization, is_visible=True, interview_plan__isnull=False
    ).first()
    resume = SimpleUploadedFile("cv.pdf", PDF, content_type="application/pdf")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        candidate = candidate_create(
            organization=organization,
            actor=owner,
            name="Nadia New",
            email_addresses=[
                {"value": "nadia.new@example.test", "type": "Personal", "is_primary": True}
            ],
            resume=resume,
            role_id=role.pk,
        )
    candidate.refresh_from_db()
    assert candidate.creation_pending
    assert candidate.is_locked
    with pytest.raises(ValidationError, match="Pending creation in Ashby"):
        candidate_update(
            organization=organization, candidate_id=candidate.pk, actor=owner, changes={"name": "x"}
        )
    with pytest.raises(ValidationError, match="Pending creation in Ashby"):
        candidate_delete(organization=organization, candidate_id=candidate.pk, actor=owner)

    for callback in callbacks:
        callback()

    candidate.refresh_from_db()
    assert not candidate.creation_pending
    assert candidate.push_state == PushState.SYNCED
    remote = sandbox_candidates_by_email(sandbox, "nadia.new@example.test")
    assert len(remote) == 1
    assert remote[0]["id"] == candidate.remote_id
    assert remote[0].get("resumeFileHandle")
    applications = [
        a for a in dump(sandbox, "applications") if a["candidate"]["id"] == candidate.remote_id
    ]
    assert len(applications) == 1
    assert applications[0]["job"]["id"] == role.remote_id
    assert applications[0]["source"]["id"] == source["id"]
    assert Application.objects.get(candidate=candidate).remote_id == applications[0]["id"]


def test_create_survives_500_after_store(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    sandbox_control(
        sandbox, "POST", "/_sandbox/faults", {"fail_after_store": ["candidate.create"], "count": 1}
    )

    with django_capture_on_commit_callbacks(execute=True):
        candidate = candidate_create(
            organization=organization,
            actor=owner,
            name="Tom Timeout",
            email_addresses=[
                {"value": "tom.timeout@example.test", "type": "Personal", "is_primary": True}
            ],
        )

    candidate.refresh_from_db()
    assert candidate.remote_id
    assert len(sandbox_candidates_by_email(sandbox, "tom.timeout@example.test")) == 1


def test_worker_death_mid_push_adopts_candidate(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks, monkeypatch
):
    """Ashby stored the candidate but the worker died before Lavalier recorded it."""
    from ats_ashby import writeback

    with django_capture_on_commit_callbacks(execute=False):
        candidate = candidate_create(
            organization=organization,
            actor=owner,
            name="Wendy Worker",
            email_addresses=[
                {"value": "wendy.worker@example.test", "type": "Personal", "is_primary": True}
            ],
        )
    original = writeback.AshbyWriter._link_candidate

    def die_after_create(self, candidate, remote_id):
        raise SystemExit("worker killed")

    monkeypatch.setattr(writeback.AshbyWriter, "_link_candidate", die_after_create)
    with pytest.raises(SystemExit):
        outbox_deliver_record("candidate", candidate.pk)
    monkeypatch.setattr(writeback.AshbyWriter, "_link_candidate", original)
    # The lease of the dead worker expires.
    OutboxEvent.objects.update(next_attempt_at=None)

    assert outbox_deliver_record("candidate", candidate.pk) == 1
    candidate.refresh_from_db()
    assert candidate.remote_id
    assert len(sandbox_candidates_by_email(sandbox, "wendy.worker@example.test")) == 1


def test_commit_without_push_is_swept(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    """A crash between the commit and the queueing leaves an outbox row the sweeper finds."""
    candidate = visible_candidate(organization)
    with django_capture_on_commit_callbacks(execute=False):
        candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"name": "Swept Name"},
        )
    OutboxEvent.objects.update(created_at=OutboxEvent.objects.get().created_at.replace(year=2020))

    assert outbox_due_records() == [("candidate", candidate.pk)]
    outbox_deliver_record("candidate", candidate.pk)
    assert dump(sandbox, "candidates", candidate.remote_id)[0]["name"] == "Swept Name"


def test_sync_while_edit_waits_keeps_edit(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    candidate = visible_candidate(organization)
    with django_capture_on_commit_callbacks(execute=False):
        candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"name": "Waiting Edit"},
        )

    integration_sync_run(synced.pk, trigger="manual", full=True)
    candidate.refresh_from_db()
    assert candidate.name == "Waiting Edit"

    outbox_deliver_record("candidate", candidate.pk)
    integration_sync_run(synced.pk, trigger="manual")
    candidate.refresh_from_db()
    assert candidate.name == "Waiting Edit"
    assert dump(sandbox, "candidates", candidate.remote_id)[0]["name"] == "Waiting Edit"


def test_stage_move_pushed_and_archive_needs_reason(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    application = (
        Application.objects.filter(
            organization=organization,
            status="active",
            stage__stage_type="active",
            candidate__is_visible=True,
        )
        .select_related("role")
        .first()
    )
    plan_stages = PipelineStage.objects.filter(plan_id=application.role.interview_plan_id)
    target = (
        plan_stages.filter(stage_type="offer").first()
        or plan_stages.exclude(pk=application.stage_id).filter(stage_type="active").first()
    )

    with django_capture_on_commit_callbacks(execute=True):
        application_change_stage(
            organization=organization,
            actor=owner,
            application_id=application.pk,
            stage_id=target.pk,
        )
    assert (
        dump(sandbox, "applications", application.remote_id)[0]["currentInterviewStage"]["id"]
        == target.remote_id
    )

    archived = plan_stages.get(stage_type="archived")
    with pytest.raises(ValidationError, match="archive reason"):
        application_change_stage(
            organization=organization,
            actor=owner,
            application_id=application.pk,
            stage_id=archived.pk,
        )
    reason_id = synced.options["archive_reasons"][0]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        application_change_stage(
            organization=organization,
            actor=owner,
            application_id=application.pk,
            stage_id=archived.pk,
            archive_reason_id=reason_id,
        )
    remote = dump(sandbox, "applications", application.remote_id)[0]
    assert remote["status"] == "Archived"
    assert remote["archiveReason"]["id"] == reason_id

    application.refresh_from_db()
    assert application.is_stage_locked
    with pytest.raises(ValidationError) as caught:
        application_change_stage(
            organization=organization,
            actor=owner,
            application_id=application.pk,
            stage_id=target.pk,
        )
    assert STAGE_LOCKED_MESSAGE in str(caught.value)


def test_rejected_change_fails_record_only(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    first, second = Candidate.objects.filter(
        organization=organization, is_visible=True, origin="ats"
    )[:2]
    Candidate.objects.filter(pk=first.pk).update(remote_id="00000000-0000-0000-0000-000000000000")

    with django_capture_on_commit_callbacks(execute=True):
        candidate_update(
            organization=organization, candidate_id=first.pk, actor=owner, changes={"name": "Ghost"}
        )
        candidate_update(
            organization=organization,
            candidate_id=second.pk,
            actor=owner,
            changes={"name": "Still Works"},
        )

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.push_state == PushState.FAILED
    assert "no longer exists in Ashby" in first.push_error
    assert OutboxEvent.objects.get(record_id=first.pk).state == OutboxEvent.State.FAILED
    assert second.push_state == PushState.SYNCED


def test_missing_write_permission_puts_integration_in_error(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    sandbox_control(
        sandbox,
        "POST",
        "/_sandbox/keys",
        {
            "sandbox_full": {
                "scopes": [
                    "jobs:read",
                    "candidates:read",
                    "interviews:read",
                    "hiringProcessMetadata:read",
                    "organization:read",
                    "offers:read",
                    "apiKeys:read",
                    "approvals:read",
                    "jobs:write",
                ]
            }
        },
    )
    candidate = visible_candidate(organization)

    with django_capture_on_commit_callbacks(execute=True):
        candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"name": "Blocked"},
        )

    integration = Integration.objects.get(pk=synced.pk)
    assert integration.state == Integration.State.ERROR
    assert "Candidates (write)" in integration.error_message
    assert OutboxEvent.objects.get().state == OutboxEvent.State.PENDING


def test_transient_failure_retries_later(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    sandbox_control(
        sandbox,
        "POST",
        "/_sandbox/faults",
        {"rate_5xx": 1.0, "endpoints": ["candidate.update"], "count": 1},
    )
    candidate = visible_candidate(organization)

    with django_capture_on_commit_callbacks(execute=False):
        candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"name": "Retry Me"},
        )
    outbox_deliver_record("candidate", candidate.pk)

    event = OutboxEvent.objects.get()
    assert event.state == OutboxEvent.State.PENDING
    assert event.next_attempt_at is not None
    OutboxEvent.objects.update(next_attempt_at=None)
    outbox_deliver_record("candidate", candidate.pk)
    assert dump(sandbox, "candidates", candidate.remote_id)[0]["name"] == "Retry Me"


def test_edit_while_disconnected_sent_after_reconnect(
    sandbox, organization, owner, synced, connect_ashby, django_capture_on_commit_callbacks
):
    from integrations.services import integration_disconnect

    candidate = visible_candidate(organization)
    integration_disconnect(organization=organization, actor=owner)

    with pytest.raises(ValidationError, match="Managed in Ashby"):
        candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"title": "X"},
        )
    with django_capture_on_commit_callbacks(execute=True):
        candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"name": "Offline Edit"},
        )
    candidate.refresh_from_db()
    assert candidate.push_state == PushState.PENDING
    assert OutboxEvent.objects.get().state == OutboxEvent.State.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        connect_ashby(sync=False)
    integration_sync_run(Integration.objects.get(is_active=True).pk, trigger="connect")

    candidate.refresh_from_db()
    assert candidate.name == "Offline Edit"
    assert candidate.push_state == PushState.SYNCED
    assert dump(sandbox, "candidates", candidate.remote_id)[0]["name"] == "Offline Edit"


def test_new_candidate_keeps_local_title(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        candidate = candidate_create(
            organization=organization,
            actor=owner,
            name="Lena Local",
            email_addresses=[
                {"value": "lena.local@example.test", "type": "Work", "is_primary": True}
            ],
            title="Staff Engineer",
            company="Initech",
            location="Lisbon",
        )

    integration_sync_run(synced.pk, trigger="manual", full=True)

    candidate.refresh_from_db()
    assert candidate.remote_id
    assert (candidate.title, candidate.company, candidate.location) == (
        "Staff Engineer",
        "Initech",
        "Lisbon",
    )
    assert candidate.is_visible
