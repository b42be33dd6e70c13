import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from accounts.models import AuditEvent
from candidates import services
from candidates.models import Application, Candidate
from candidates.tests.support import stage_named
from tests.factories import (
    ApplicationFactory,
    CandidateFactory,
    InterviewPlanFactory,
    PipelineStageFactory,
    RoleFactory,
)

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf_upload(name="cv.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def audit_actions(organization):
    return list(
        AuditEvent.objects.filter(organization=organization).values_list("action", flat=True)
    )


# candidate_create


def test_create_stores_fields_and_audits(organization, owner, fake_hooks):
    candidate = services.candidate_create(
        organization=organization,
        actor=owner,
        name="Ada Lovelace",
        email_addresses=[{"value": "ada@example.test", "type": "Personal", "is_primary": True}],
        title="Engineer",
    )

    candidate.refresh_from_db()
    assert candidate.organization == organization
    assert candidate.primary_email == "ada@example.test"
    assert "ada lovelace" in candidate.search_text
    assert audit_actions(organization) == ["candidate.created"]
    assert fake_hooks.calls == [("candidate_created", candidate.pk, None, owner)]


def test_create_with_role_applies_in_first_stage(organization, owner, fake_hooks, pipeline_role):
    candidate = services.candidate_create(
        organization=organization, actor=owner, name="Grace", role_id=pipeline_role.pk
    )

    application = Application.objects.get(candidate=candidate)
    assert application.role == pipeline_role
    assert application.stage == stage_named(pipeline_role, "Screen")
    assert application.status == Application.Status.ACTIVE
    assert fake_hooks.calls == [("candidate_created", candidate.pk, pipeline_role.pk, owner)]
    assert sorted(audit_actions(organization)) == ["application.created", "candidate.created"]


def test_create_with_other_org_role_is_404(organization, other_organization, owner):
    foreign_role = RoleFactory(organization=other_organization)

    with pytest.raises(Http404):
        services.candidate_create(
            organization=organization, actor=owner, name="Grace", role_id=foreign_role.pk
        )
    assert not Candidate.objects.exists()


def test_create_stores_resume(organization, owner):
    candidate = services.candidate_create(
        organization=organization, actor=owner, name="Grace", resume=pdf_upload("../../etc/cv.pdf")
    )

    candidate.refresh_from_db()
    assert candidate.resume.name.startswith(f"resumes/org-{organization.pk}/{candidate.pk}/")
    assert candidate.resume.name.endswith(".pdf")
    assert candidate.resume_content_type == "application/pdf"
    assert candidate.resume_name == "cv.pdf"
    with candidate.resume.open("rb") as handle:
        assert handle.read() == PDF_BYTES


@pytest.mark.parametrize(
    "name, content",
    [
        ("cv.exe", PDF_BYTES),
        ("cv.pdf", b"<html><script>alert(1)</script></html>"),
        ("cv.docx", PDF_BYTES),
    ],
)
def test_create_rejects_bad_resume(organization, owner, name, content):
    with pytest.raises(ValidationError):
        services.candidate_create(
            organization=organization, actor=owner, name="Grace", resume=pdf_upload(name, content)
        )
    assert not Candidate.objects.exists()


def test_create_rejects_resume_over_10_mb(organization, owner):
    big = pdf_upload(content=PDF_BYTES + b"0" * (10 * 1024 * 1024))

    with pytest.raises(ValidationError, match="maximum is 10 MB"):
        services.candidate_create(organization=organization, actor=owner, name="Grace", resume=big)


def test_create_rejects_blank_name(organization, owner):
    with pytest.raises(ValidationError):
        services.candidate_create(organization=organization, actor=owner, name="  ")


# candidate_update


def test_update_changes_fields_and_calls_hook(organization, owner, fake_hooks):
    candidate = CandidateFactory(organization=organization, name="Old", title="Dev")

    services.candidate_update(
        organization=organization,
        candidate_id=candidate.pk,
        actor=owner,
        changes={"name": "New", "title": "Dev"},
    )

    candidate.refresh_from_db()
    assert candidate.name == "New"
    assert "new" in candidate.search_text
    assert fake_hooks.calls == [("candidate_updated", candidate.pk, frozenset({"name"}), owner)]
    event = AuditEvent.objects.get(action="candidate.updated")
    assert event.details == {"changed_fields": ["name"]}
    assert event.target == f"candidate:{candidate.pk}"
    assert event.actor == owner


def test_update_without_changes_saves_nothing(organization, owner, fake_hooks):
    candidate = CandidateFactory(organization=organization, name="Same")

    services.candidate_update(
        organization=organization, candidate_id=candidate.pk, actor=owner, changes={"name": "Same"}
    )

    assert fake_hooks.calls == []
    assert audit_actions(organization) == []


def test_update_rejects_locked_field(organization, owner, fake_hooks):
    fake_hooks.candidate_locks = {"title": "Ashby does not accept a new title."}
    candidate = CandidateFactory(organization=organization, name="Old", title="Dev")

    with pytest.raises(ValidationError) as raised:
        services.candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"name": "New", "title": "CTO"},
        )

    assert raised.value.message_dict == {
        "title": ["Title cannot be changed in Lavalier: Ashby does not accept a new title."]
    }
    candidate.refresh_from_db()
    assert candidate.name == "Old"
    assert candidate.title == "Dev"
    assert fake_hooks.calls == []
    assert audit_actions(organization) == []


def test_update_allows_locked_field_unchanged(organization, owner, fake_hooks):
    fake_hooks.candidate_locks = {"title": "Owned by Ashby."}
    candidate = CandidateFactory(organization=organization, name="Old", title="Dev")

    services.candidate_update(
        organization=organization,
        candidate_id=candidate.pk,
        actor=owner,
        changes={"name": "New", "title": "Dev"},
    )

    candidate.refresh_from_db()
    assert candidate.name == "New"


def test_update_rejects_locked_resume(organization, owner, fake_hooks):
    fake_hooks.candidate_locks = {"resume": "Upload resumes in Ashby."}
    candidate = CandidateFactory(organization=organization)

    with pytest.raises(ValidationError, match="Upload resumes in Ashby"):
        services.candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={},
            resume=pdf_upload(),
        )
    candidate.refresh_from_db()
    assert not candidate.resume


def test_update_rejects_pending_candidate(organization, owner, fake_hooks):
    candidate = CandidateFactory(organization=organization, name="Old", creation_pending=True)

    with pytest.raises(ValidationError, match="Pending creation in Ashby"):
        services.candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"name": "New"},
        )
    candidate.refresh_from_db()
    assert candidate.name == "Old"


def test_update_other_org_is_404(organization, other_organization, owner):
    foreign = CandidateFactory(organization=other_organization, name="Theirs")

    with pytest.raises(Http404):
        services.candidate_update(
            organization=organization,
            candidate_id=foreign.pk,
            actor=owner,
            changes={"name": "Mine"},
        )
    foreign.refresh_from_db()
    assert foreign.name == "Theirs"


def test_update_rejects_unknown_field(organization, owner):
    candidate = CandidateFactory(organization=organization)

    with pytest.raises(ValueError, match="organization"):
        services.candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={"organization": None},
        )


def test_update_replaces_resume_and_deletes_old_file(
    organization, owner, django_capture_on_commit_callbacks
):
    candidate = services.candidate_create(
        organization=organization, actor=owner, name="Grace", resume=pdf_upload()
    )
    old_name = candidate.resume.name
    docx = SimpleUploadedFile("new.docx", b"PK\x03\x04rest-of-zip")

    with django_capture_on_commit_callbacks(execute=True):
        services.candidate_update(
            organization=organization,
            candidate_id=candidate.pk,
            actor=owner,
            changes={},
            resume=docx,
        )

    candidate.refresh_from_db()
    assert candidate.resume_name == "new.docx"
    assert candidate.resume_content_type.endswith("wordprocessingml.document")
    assert candidate.resume.name != old_name
    assert not candidate.resume.storage.exists(old_name)


# candidate_delete


def test_delete_removes_candidate_and_audits(organization, owner):
    candidate = CandidateFactory(organization=organization)
    ApplicationFactory(organization=organization, candidate=candidate)

    services.candidate_delete(organization=organization, candidate_id=candidate.pk, actor=owner)

    assert not Candidate.objects.filter(pk=candidate.pk).exists()
    assert not Application.objects.exists()
    assert audit_actions(organization) == ["candidate.deleted"]


def test_delete_rejects_ats_candidate(organization, owner):
    candidate = CandidateFactory(organization=organization, provider="ashby", remote_id="c-1")

    with pytest.raises(ValidationError, match="came from Ashby"):
        services.candidate_delete(organization=organization, candidate_id=candidate.pk, actor=owner)
    assert Candidate.objects.filter(pk=candidate.pk).exists()


def test_delete_rejects_pending_candidate(organization, owner, fake_hooks):
    candidate = CandidateFactory(organization=organization, creation_pending=True)

    with pytest.raises(ValidationError, match="cannot be deleted yet"):
        services.candidate_delete(organization=organization, candidate_id=candidate.pk, actor=owner)
    assert Candidate.objects.filter(pk=candidate.pk).exists()


def test_delete_other_org_is_404(organization, other_organization, owner):
    foreign = CandidateFactory(organization=other_organization)

    with pytest.raises(Http404):
        services.candidate_delete(organization=organization, candidate_id=foreign.pk, actor=owner)
    assert Candidate.objects.filter(pk=foreign.pk).exists()


# application_create


def test_application_create_and_duplicate(organization, owner, pipeline_role):
    candidate = CandidateFactory(organization=organization)

    application = services.application_create(
        organization=organization, actor=owner, candidate_id=candidate.pk, role_id=pipeline_role.pk
    )

    assert application.stage == stage_named(pipeline_role, "Screen")
    assert application.applied_at is not None
    assert audit_actions(organization) == ["application.created"]
    with pytest.raises(ValidationError, match="already applied"):
        services.application_create(
            organization=organization,
            actor=owner,
            candidate_id=candidate.pk,
            role_id=pipeline_role.pk,
        )


def test_application_create_scoped(organization, other_organization, owner, pipeline_role):
    foreign_candidate = CandidateFactory(organization=other_organization)

    with pytest.raises(Http404):
        services.application_create(
            organization=organization,
            actor=owner,
            candidate_id=foreign_candidate.pk,
            role_id=pipeline_role.pk,
        )


# application_change_stage


@pytest.fixture
def application(organization, pipeline_role):
    return ApplicationFactory(
        organization=organization, role=pipeline_role, stage=stage_named(pipeline_role, "Screen")
    )


def test_change_stage_moves_and_audits(organization, owner, fake_hooks, application, pipeline_role):
    onsite = stage_named(pipeline_role, "Onsite")

    services.application_change_stage(
        organization=organization, actor=owner, application_id=application.pk, stage_id=onsite.pk
    )

    application.refresh_from_db()
    assert application.stage == onsite
    assert application.status == Application.Status.ACTIVE
    assert fake_hooks.calls == [("application_stage_changed", application.pk, None, owner)]
    event = AuditEvent.objects.get(action="application.stage_changed")
    assert event.details["to_stage_id"] == onsite.pk


def test_change_stage_to_hired_sets_status(organization, owner, application, pipeline_role):
    services.application_change_stage(
        organization=organization,
        actor=owner,
        application_id=application.pk,
        stage_id=stage_named(pipeline_role, "Hired").pk,
    )

    application.refresh_from_db()
    assert application.status == Application.Status.HIRED


def test_change_stage_archive_needs_reason(
    organization, owner, fake_hooks, application, pipeline_role
):
    fake_hooks.reasons = [("reason-1", "Not a fit"), ("reason-2", "Withdrew")]
    archived = stage_named(pipeline_role, "Archived")

    with pytest.raises(ValidationError, match="Choose an archive reason"):
        services.application_change_stage(
            organization=organization,
            actor=owner,
            application_id=application.pk,
            stage_id=archived.pk,
        )
    with pytest.raises(ValidationError, match="not available"):
        services.application_change_stage(
            organization=organization,
            actor=owner,
            application_id=application.pk,
            stage_id=archived.pk,
            archive_reason_id="made-up",
        )
    application.refresh_from_db()
    assert application.status == Application.Status.ACTIVE

    services.application_change_stage(
        organization=organization,
        actor=owner,
        application_id=application.pk,
        stage_id=archived.pk,
        archive_reason_id="reason-2",
    )

    application.refresh_from_db()
    assert application.status == Application.Status.ARCHIVED
    assert application.archive_reason == "Withdrew"
    assert application.archived_at is not None
    assert fake_hooks.calls == [("application_stage_changed", application.pk, "reason-2", owner)]


def test_change_stage_archive_without_reason_list(
    organization, owner, fake_hooks, application, pipeline_role
):
    services.application_change_stage(
        organization=organization,
        actor=owner,
        application_id=application.pk,
        stage_id=stage_named(pipeline_role, "Archived").pk,
    )

    application.refresh_from_db()
    assert application.status == Application.Status.ARCHIVED


def test_change_stage_rejects_locked_application(organization, owner, fake_hooks, pipeline_role):
    archived = stage_named(pipeline_role, "Archived")
    application = ApplicationFactory(
        organization=organization,
        role=pipeline_role,
        stage=archived,
        status=Application.Status.ARCHIVED,
        provider="ashby",
        remote_id="app-1",
    )

    with pytest.raises(ValidationError) as raised:
        services.application_change_stage(
            organization=organization,
            actor=owner,
            application_id=application.pk,
            stage_id=stage_named(pipeline_role, "Onsite").pk,
        )

    assert raised.value.messages == [services.STAGE_LOCKED_MESSAGE]
    application.refresh_from_db()
    assert application.stage == archived
    assert fake_hooks.calls == []


def test_change_stage_rejects_stage_of_other_plan(organization, owner, application):
    other_plan = InterviewPlanFactory(organization=organization)
    other_stage = PipelineStageFactory(plan=other_plan, title="Elsewhere")

    with pytest.raises(ValidationError, match="not part of the interview plan"):
        services.application_change_stage(
            organization=organization,
            actor=owner,
            application_id=application.pk,
            stage_id=other_stage.pk,
        )


def test_change_stage_other_org_is_404(other_organization, organization, owner, pipeline_role):
    foreign = ApplicationFactory(organization=other_organization)

    with pytest.raises(Http404):
        services.application_change_stage(
            organization=organization,
            actor=owner,
            application_id=foreign.pk,
            stage_id=stage_named(pipeline_role, "Onsite").pk,
        )
