"""Writes for candidates and applications.

Each function is one transaction, calls the sync hooks inside it and records an audit
event. Errors a recruiter can fix are raised as ValidationError with a message meant for
the page; objects outside the organization raise Http404.
"""

import logging
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Organization
from accounts.services import audit_record
from lavalier import sync_hooks
from roles.models import PipelineStage, Role
from roles.services import changed_field_names, reject_locked_changes

from .models import Application, Candidate
from .resumes import resume_validate

logger = logging.getLogger(__name__)

CANDIDATE_EDITABLE_FIELDS = (
    "name",
    "email_addresses",
    "phone_numbers",
    "social_links",
    "title",
    "company",
    "location",
)
STAGE_LOCKED_MESSAGE = (
    "Reopen the application in Ashby first. Lavalier will pick up the change on the next sync."
)

# Application status that follows from the type of the stage it moves to.
STATUS_BY_STAGE_TYPE = {
    PipelineStage.StageType.ARCHIVED: Application.Status.ARCHIVED,
    PipelineStage.StageType.HIRED: Application.Status.HIRED,
    PipelineStage.StageType.LEAD: Application.Status.LEAD,
}


def _locked_candidate_message(candidate: Candidate, action: str) -> str:
    label = sync_hooks.get().pending_creation_label(candidate)
    return (
        f"This candidate cannot be {action} yet ({label}). "
        "Try again once the ATS has confirmed the new candidate."
    )


def _candidate_for_update(*, organization: Organization, candidate_id: int) -> Candidate:
    return get_object_or_404(
        Candidate.objects.select_for_update().filter(organization=organization, is_visible=True),
        pk=candidate_id,
    )


def _resume_store(candidate: Candidate, resume: UploadedFile) -> None:
    """Validate and save a new resume on a candidate that has a primary key, and delete
    the file it replaces once the transaction commits."""
    content_type = resume_validate(resume)
    previous_name = candidate.resume.name
    extension = PurePath(resume.name or "").suffix.lower()
    candidate.resume.save(f"resume{extension}", resume, save=False)
    candidate.resume_name = (resume.name or "")[:255]
    candidate.resume_content_type = content_type
    candidate.resume_remote_id = ""
    if previous_name and previous_name != candidate.resume.name:
        storage = candidate.resume.storage
        transaction.on_commit(lambda: storage.delete(previous_name))


@transaction.atomic
def candidate_create(
    *,
    organization: Organization,
    actor: Any,
    name: str,
    email_addresses: list[dict] | None = None,
    phone_numbers: list[dict] | None = None,
    social_links: list[dict] | None = None,
    title: str = "",
    company: str = "",
    location: str = "",
    resume: UploadedFile | None = None,
    role_id: int | None = None,
) -> Candidate:
    """Create a candidate, store the resume and, with `role_id`, apply to that role.

    Contact lists use the model's JSON shapes. Raises ValidationError for an empty name
    or an invalid resume, and Http404 for a role outside the organization.
    """
    if not name.strip():
        raise ValidationError({"name": "Enter the candidate's name."})
    role = None
    if role_id is not None:
        role = get_object_or_404(
            Role.objects.filter(organization=organization, is_visible=True), pk=role_id
        )

    candidate = Candidate.objects.create(
        organization=organization,
        name=name.strip(),
        email_addresses=email_addresses or [],
        phone_numbers=phone_numbers or [],
        social_links=social_links or [],
        title=title,
        company=company,
        location=location,
    )
    if resume is not None:
        _resume_store(candidate, resume)
        candidate.save(
            update_fields=["resume", "resume_name", "resume_content_type", "resume_remote_id"]
        )
    if role is not None:
        _application_insert(organization=organization, actor=actor, candidate=candidate, role=role)

    sync_hooks.get().candidate_created(candidate, role=role, actor=actor)
    audit_record(
        organization=organization,
        actor=actor,
        action="candidate.created",
        target=f"candidate:{candidate.pk}",
        details={"role_id": role.pk if role else None, "has_resume": resume is not None},
    )
    logger.info(
        "candidate created",
        extra={"organization_id": organization.pk, "candidate_id": candidate.pk},
    )
    return candidate


@transaction.atomic
def candidate_update(
    *,
    organization: Organization,
    candidate_id: int,
    actor: Any,
    changes: Mapping[str, Any],
    resume: UploadedFile | None = None,
) -> Candidate:
    """Apply `changes` (a subset of CANDIDATE_EDITABLE_FIELDS) and an optional new resume.

    Raises ValidationError, saving nothing, while the candidate waits for creation in
    the ATS, when a changed field (or the resume) is locked by the ATS, or for an
    invalid resume. Raises ValueError for keys outside CANDIDATE_EDITABLE_FIELDS.
    Unchanged values are ignored, and a call that changes nothing saves nothing.
    """
    unknown = set(changes) - set(CANDIDATE_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Fields {sorted(unknown)} cannot be edited on a candidate.")
    candidate = _candidate_for_update(organization=organization, candidate_id=candidate_id)
    if candidate.is_locked:
        raise ValidationError(_locked_candidate_message(candidate, "edited"))
    if "name" in changes and not str(changes["name"]).strip():
        raise ValidationError({"name": "Enter the candidate's name."})

    changed_fields = changed_field_names(candidate, changes)
    if resume is not None:
        changed_fields.add("resume")
    if not changed_fields:
        return candidate

    hooks = sync_hooks.get()
    reject_locked_changes(candidate, changed_fields, hooks.locked_candidate_fields(candidate))
    for name in changed_fields - {"resume"}:
        setattr(candidate, name, changes[name])
    update_fields = set(changed_fields) | {"updated_at"}
    if resume is not None:
        _resume_store(candidate, resume)
        update_fields |= {"resume_name", "resume_content_type", "resume_remote_id"}
    candidate.save(update_fields=update_fields)

    hooks.candidate_updated(candidate, changed_fields=set(changed_fields), actor=actor)
    audit_record(
        organization=organization,
        actor=actor,
        action="candidate.updated",
        target=f"candidate:{candidate.pk}",
        details={"changed_fields": sorted(changed_fields)},
    )
    logger.info(
        "candidate updated",
        extra={
            "organization_id": organization.pk,
            "candidate_id": candidate.pk,
            "changed_fields": sorted(changed_fields),
        },
    )
    return candidate


@transaction.atomic
def candidate_delete(*, organization: Organization, candidate_id: int, actor: Any) -> None:
    """Delete a candidate created in Lavalier, with its applications and resume file.

    Raises ValidationError for a candidate that came from the ATS (the ATS owns it) or
    that still waits for creation there, and Http404 outside the organization.
    """
    candidate = _candidate_for_update(organization=organization, candidate_id=candidate_id)
    if candidate.is_from_ats:
        provider = candidate.provider.capitalize()
        raise ValidationError(
            f"This candidate came from {provider}, which owns the record, so Lavalier "
            f"cannot delete it. Archive or delete the candidate in {provider} instead."
        )
    if candidate.is_locked:
        raise ValidationError(_locked_candidate_message(candidate, "deleted"))

    resume_name = candidate.resume.name
    storage = candidate.resume.storage
    candidate_pk = candidate.pk
    candidate.delete()
    if resume_name:
        transaction.on_commit(lambda: storage.delete(resume_name))

    audit_record(
        organization=organization,
        actor=actor,
        action="candidate.deleted",
        target=f"candidate:{candidate_pk}",
    )
    logger.info(
        "candidate deleted",
        extra={"organization_id": organization.pk, "candidate_id": candidate_pk},
    )


def _first_stage(role: Role) -> PipelineStage | None:
    if role.interview_plan_id is None:
        return None
    return (
        PipelineStage.objects.filter(plan_id=role.interview_plan_id)
        .exclude(stage_type=PipelineStage.StageType.ARCHIVED)
        .order_by("order", "id")
        .first()
    )


def _application_insert(
    *, organization: Organization, actor: Any, candidate: Candidate, role: Role
) -> Application:
    if Application.objects.filter(
        organization=organization, candidate=candidate, role=role
    ).exists():
        raise ValidationError(f"This candidate has already applied to {role.title}.")
    stage = _first_stage(role)
    status = Application.Status.ACTIVE
    if stage is not None:
        status = STATUS_BY_STAGE_TYPE.get(stage.stage_type, Application.Status.ACTIVE)
    application = Application.objects.create(
        organization=organization,
        candidate=candidate,
        role=role,
        stage=stage,
        status=status,
        applied_at=timezone.now(),
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="application.created",
        target=f"application:{application.pk}",
        details={"candidate_id": candidate.pk, "role_id": role.pk},
    )
    return application


@transaction.atomic
def application_create(
    *, organization: Organization, actor: Any, candidate_id: int, role_id: int
) -> Application:
    """Apply a candidate to a role, in the first stage of the role's interview plan.

    Raises Http404 when the candidate or role is outside the organization and
    ValidationError when the candidate already applied to the role.
    """
    candidate = _candidate_for_update(organization=organization, candidate_id=candidate_id)
    if candidate.is_locked:
        raise ValidationError(_locked_candidate_message(candidate, "changed"))
    role = get_object_or_404(
        Role.objects.filter(organization=organization, is_visible=True), pk=role_id
    )
    application = _application_insert(
        organization=organization, actor=actor, candidate=candidate, role=role
    )
    sync_hooks.get().application_created(application, actor=actor)
    logger.info(
        "application created",
        extra={
            "organization_id": organization.pk,
            "application_id": application.pk,
            "candidate_id": candidate.pk,
            "role_id": role.pk,
        },
    )
    return application


@transaction.atomic
def application_change_stage(
    *,
    organization: Organization,
    actor: Any,
    application_id: int,
    stage_id: int,
    archive_reason_id: str | None = None,
) -> Application:
    """Move an application to another stage of its role's interview plan and set the
    status that follows from the stage type.

    An archived stage needs `archive_reason_id` from the hooks' `archive_reasons` when
    that list is not empty. Raises ValidationError when the application is archived in
    the ATS, the stage is not in the role's plan, or the reason is missing or unknown;
    Http404 outside the organization. Moving to the current stage changes nothing.
    """
    application = get_object_or_404(
        Application.objects.select_for_update().filter(organization=organization), pk=application_id
    )
    if application.is_stage_locked:
        raise ValidationError(STAGE_LOCKED_MESSAGE)
    candidate = Candidate.objects.get(pk=application.candidate_id)
    if candidate.is_locked:
        raise ValidationError(_locked_candidate_message(candidate, "changed"))
    role = Role.objects.get(pk=application.role_id)
    stage = PipelineStage.objects.filter(
        organization=organization, plan_id=role.interview_plan_id, pk=stage_id
    ).first()
    if stage is None or role.interview_plan_id is None:
        raise ValidationError(f"That stage is not part of the interview plan of {role.title}.")
    if stage.pk == application.stage_id:
        return application

    hooks = sync_hooks.get()
    archive_reason = ""
    if stage.stage_type == PipelineStage.StageType.ARCHIVED:
        reasons = dict(hooks.archive_reasons(organization.pk))
        if reasons:
            if not archive_reason_id:
                raise ValidationError(
                    f"Choose an archive reason to move the application to {stage.title}."
                )
            if archive_reason_id not in reasons:
                raise ValidationError(
                    "That archive reason is not available. Choose one from the list."
                )
            archive_reason = reasons[archive_reason_id]
    else:
        archive_reason_id = None

    previous_stage_id = application.stage_id
    application.stage = stage
    application.status = STATUS_BY_STAGE_TYPE.get(stage.stage_type, Application.Status.ACTIVE)
    application.archive_reason = archive_reason
    if application.status == Application.Status.ARCHIVED:
        application.archived_at = timezone.now()
    else:
        application.archived_at = None
    application.save(
        update_fields=["stage", "status", "archive_reason", "archived_at", "updated_at"]
    )

    hooks.application_stage_changed(application, archive_reason_id=archive_reason_id, actor=actor)
    audit_record(
        organization=organization,
        actor=actor,
        action="application.stage_changed",
        target=f"application:{application.pk}",
        details={
            "from_stage_id": previous_stage_id,
            "to_stage_id": stage.pk,
            "status": application.status,
            "archive_reason_id": archive_reason_id,
        },
    )
    logger.info(
        "application stage changed",
        extra={
            "organization_id": organization.pk,
            "application_id": application.pk,
            "stage_id": stage.pk,
        },
    )
    return application
