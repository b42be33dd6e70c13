"""Write-back to the Greenhouse sandbox: edits, new candidates, stage moves and locks."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from ats_greenhouse.tests.conftest import dump, sandbox_control
from candidates.models import Application, Candidate, PushState
from candidates.services import application_change_stage, candidate_create, candidate_update
from integrations.models import Integration, OutboxEvent
from integrations.outbox import outbox_deliver_record
from integrations.services import integration_set_default_source
from roles.models import PipelineStage, Role
from roles.services import role_update

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def synced(connect_greenhouse):
    return connect_greenhouse()


def visible_candidate(organization):
    return (
        Candidate.objects.filter(organization=organization, is_visible=True, origin="ats")
        .order_by("pk")
        .first()
    )


def candidates_with_email(sandbox, email):
    return [
        c
        for c in dump(sandbox, "candidates")
        if any(e["value"] == email for e in c["email_addresses"])
    ]


def test_candidate_edit_reaches_greenhouse(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    candidate = visible_candidate(organization)

    with django_capture_on_commit_callbacks(execute=True):
        candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={
                "name": "Renata van Dijk",
                "title": "Principal Engineer",
                "phone_numbers": [{"value": "+1 555 0100", "type": "Mobile", "is_primary": True}],
            },
        )

    candidate.refresh_from_db()
    assert candidate.push_state == PushState.SYNCED
    remote = dump(sandbox, "candidates", candidate.remote_id)[0]
    assert (remote["first_name"], remote["last_name"]) == ("Renata", "van Dijk")
    assert remote["title"] == "Principal Engineer"
    assert remote["phone_numbers"] == [{"value": "+1 555 0100", "type": "mobile"}]
    assert OutboxEvent.objects.get().state == OutboxEvent.State.DELIVERED


def test_read_only_fields_rejected(organization, owner, synced):
    candidate = visible_candidate(organization)
    role = Role.objects.filter(organization=organization, is_visible=True).first()

    with pytest.raises(ValidationError, match="Managed in Greenhouse"):
        candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"location": "Mars"},
        )
    other = "contract" if role.work_type != "contract" else "temporary"
    with pytest.raises(ValidationError, match="Work Type comes from the job custom field"):
        role_update(
            organization=organization, role_id=role.pk, actor=owner, changes={"work_type": other}
        )
    assert not OutboxEvent.objects.exists()


def test_job_edit_reaches_greenhouse(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    role = Role.objects.filter(organization=organization, is_visible=True).first()
    office = synced.options["offices"][0]
    department = synced.options["departments"][-1]

    with django_capture_on_commit_callbacks(execute=True):
        role_update(
            organization=organization,
            role_id=role.pk,
            actor=owner,
            changes={
                "title": "Staff Engineer (renamed)",
                "location": office["name"],
                "department": department["name"],
            },
        )

    remote = dump(sandbox, "jobs", role.remote_id)[0]
    assert remote["name"] == "Staff Engineer (renamed)"
    assert remote["office_ids"] == [int(office["id"])]
    assert remote["department_id"] == int(department["id"])
    role.refresh_from_db()
    assert role.push_state == PushState.SYNCED


def test_unknown_office_rejected(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    role = Role.objects.filter(organization=organization, is_visible=True).first()

    with django_capture_on_commit_callbacks(execute=True):
        role_update(
            organization=organization,
            role_id=role.pk,
            actor=owner,
            changes={"location": "Atlantis"},
        )

    role.refresh_from_db()
    assert role.push_state == PushState.FAILED
    assert "no office named “Atlantis”" in role.push_error


def test_stage_move_reaches_greenhouse(
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
    target = PipelineStage.objects.filter(
        plan_id=application.role.interview_plan_id, stage_type="offer"
    ).first()

    with django_capture_on_commit_callbacks(execute=True):
        application_change_stage(
            organization=organization,
            actor=owner,
            application_id=application.pk,
            stage_id=target.pk,
        )

    assert dump(sandbox, "applications", application.remote_id)[0]["stage_id"] == int(
        target.remote_id
    )
    application.refresh_from_db()
    assert application.push_state == PushState.SYNCED


def test_new_candidate_created_once(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    source = next(s for s in synced.options["sources"] if s["title"] == "Lavalier")
    integration_set_default_source(organization=organization, actor=owner, source_id=source["id"])
    role = Role.objects.filter(
        organization=organization, is_visible=True, interview_plan__isnull=False
    ).first()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        candidate = candidate_create(
            organization=organization,
            actor=owner,
            name="Nadia New",
            email_addresses=[
                {"value": "nadia.new@example.test", "type": "Personal", "is_primary": True}
            ],
            resume=SimpleUploadedFile("cv.pdf", PDF, content_type="application/pdf"),
            role_id=role.pk,
        )
    candidate.refresh_from_db()
    assert candidate.is_locked
    with pytest.raises(ValidationError, match="Pending creation in Greenhouse"):
        candidate_update(
            organization=organization, candidate_id=candidate.pk, actor=owner, changes={"name": "x"}
        )
    for callback in callbacks:
        callback()

    candidate.refresh_from_db()
    assert not candidate.creation_pending
    assert candidate.push_state == PushState.SYNCED
    remote = candidates_with_email(sandbox, "nadia.new@example.test")
    assert len(remote) == 1
    assert remote[0]["id"] == int(candidate.remote_id)
    applications = [
        a for a in dump(sandbox, "applications") if a["candidate_id"] == remote[0]["id"]
    ]
    assert len(applications) == 1
    assert applications[0]["job_id"] == int(role.remote_id)
    assert applications[0]["source_id"] == int(source["id"])
    resumes = [a for a in dump(sandbox, "attachments") if a["candidate_id"] == remote[0]["id"]]
    assert [(a["type"], a["application_id"]) for a in resumes] == [
        ("resume", applications[0]["id"])
    ]
    assert sandbox.state.files[resumes[0]["id"]] == PDF
    assert Application.objects.get(candidate=candidate).remote_id == str(applications[0]["id"])


def test_create_after_500_reconciles(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    sandbox_control(
        sandbox,
        "POST",
        "/_sandbox/faults",
        {"status": 500, "endpoints": ["POST /candidates"], "after_store": True},
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
    event = OutboxEvent.objects.get(record_id=candidate.pk)
    assert event.state == OutboxEvent.State.PENDING
    OutboxEvent.objects.update(next_attempt_at=None)

    outbox_deliver_record("candidate", candidate.pk)

    candidate.refresh_from_db()
    assert candidate.remote_id
    assert len(candidates_with_email(sandbox, "tom.timeout@example.test")) == 1


def test_deleted_remote_candidate_fails_record(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    candidate = visible_candidate(organization)
    sandbox_control(
        sandbox, "POST", "/_sandbox/delete", {"candidate_ids": [int(candidate.remote_id)]}
    )

    with django_capture_on_commit_callbacks(execute=True):
        candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"name": "Ghost Name"},
        )

    candidate.refresh_from_db()
    assert candidate.push_state == PushState.FAILED
    assert "no longer exists in Greenhouse" in candidate.push_error


def test_missing_write_scope_puts_integration_in_error(
    sandbox, organization, owner, synced, django_capture_on_commit_callbacks
):
    scopes = [
        s
        for s in sandbox_control(sandbox, "GET", "/_sandbox/credentials")["sandbox_full"]["scopes"]
        if s != "harvest:candidates:update"
    ]
    sandbox_control(sandbox, "POST", "/_sandbox/credentials", {"sandbox_full": {"scopes": scopes}})
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
    assert "harvest:candidates:update" in integration.error_message
    assert OutboxEvent.objects.get().state == OutboxEvent.State.PENDING
