"""Candidate pages. Views parse the request, call one selector or service and render;
they never save models themselves."""

import logging
import re
import uuid

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import organization_required
from lavalier import sync_hooks
from roles.selectors import role_filter_choices, role_stages

from . import selectors, services
from .forms import CandidateForm, StageChangeForm
from .resumes import resume_download_name

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _add_errors(form, error: ValidationError) -> None:
    """Attach a service's ValidationError to the form: by field when it names one the
    form has, otherwise as a form-wide error."""
    if hasattr(error, "error_dict"):
        for name, field_errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


SUBMISSION_ID = re.compile(r"[0-9a-f]{32}")
# How long a create form's id is remembered, in seconds.
SUBMISSION_TTL_SECONDS = 600


@organization_required
def candidate_list(request):
    search = request.GET.get("q", "").strip()
    role_id = _int_or_none(request.GET.get("role"))
    stage_id = _int_or_none(request.GET.get("stage"))
    candidates = selectors.candidate_list(
        organization=request.organization, search=search, role_id=role_id, stage_id=stage_id
    )
    page = Paginator(candidates, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "candidates/list.html",
        {
            "page": page,
            "search": search,
            "role_id": role_id,
            "stage_id": stage_id,
            "roles": role_filter_choices(organization=request.organization),
            "stages": selectors.stage_filter_choices(organization=request.organization),
            "query_without_page": query.urlencode(),
        },
    )


def _application_rows(candidate) -> list[dict]:
    hooks = sync_hooks.get()
    reasons = hooks.archive_reasons(candidate.organization_id)
    return [
        {
            "application": application,
            "stages": role_stages(application.role),
            "archive_reasons": reasons,
        }
        for application in candidate.applications.all()
    ]


def _status_context(candidate) -> dict:
    pending_label = ""
    if candidate.creation_pending:
        pending_label = sync_hooks.get().pending_creation_label(candidate)
    return {
        "candidate": candidate,
        "pending_label": pending_label,
        "retry_url": sync_hooks.get().retry_push_url(candidate),
    }


@organization_required
def candidate_detail(request, pk: int):
    candidate = selectors.candidate_get_with_applications(
        organization=request.organization, candidate_id=pk
    )
    context = {
        **_status_context(candidate),
        "application_rows": _application_rows(candidate),
        "stage_locked_message": services.STAGE_LOCKED_MESSAGE,
    }
    return render(request, "candidates/detail.html", context)


@organization_required
def candidate_status(request, pk: int):
    """Render the push-status card alone, for the page's polling script."""
    candidate = selectors.candidate_get(organization=request.organization, candidate_id=pk)
    return render(request, "candidates/_status_card.html", _status_context(candidate))


@organization_required
@require_http_methods(["GET", "POST"])
def candidate_create(request):
    roles = role_filter_choices(organization=request.organization)
    bound = request.method == "POST"
    form = CandidateForm(
        request.POST if bound else None, request.FILES if bound else None, roles=roles
    )
    submission_id = request.POST.get("submission_id", "") if bound else uuid.uuid4().hex
    if not SUBMISSION_ID.fullmatch(submission_id):
        submission_id = uuid.uuid4().hex
    if request.method == "POST" and form.is_valid():
        # The same form sent twice (a double click, Back and submit again) creates one
        # candidate: the second request finds the first one's result under its id.
        key = f"candidate-create:{request.organization.pk}:{submission_id}"
        if not cache.add(key, "in progress", SUBMISSION_TTL_SECONDS):
            earlier = cache.get(key)
            messages.info(request, "This form was already sent; it created one candidate.")
            if isinstance(earlier, int):
                return redirect("candidates:detail", pk=earlier)
            return redirect("candidates:list")
        role = form.cleaned_data.get("role")
        try:
            candidate = services.candidate_create(
                organization=request.organization,
                actor=request.user,
                resume=form.cleaned_data["resume"],
                role_id=role.pk if role else None,
                **form.changes(),
            )
        except ValidationError as error:
            cache.delete(key)
            _add_errors(form, error)
        else:
            cache.set(key, candidate.pk, SUBMISSION_TTL_SECONDS)
            messages.success(request, f"Created {candidate.name}.")
            return redirect("candidates:detail", pk=candidate.pk)
    return render(
        request,
        "candidates/form.html",
        {"form": form, "candidate": None, "submission_id": submission_id},
    )


@organization_required
@require_http_methods(["GET", "POST"])
def candidate_edit(request, pk: int):
    candidate = selectors.candidate_get(organization=request.organization, candidate_id=pk)
    hooks = sync_hooks.get()
    if candidate.is_locked:
        messages.error(
            request,
            f"This candidate cannot be edited yet ({hooks.pending_creation_label(candidate)}). "
            "Try again once the ATS has confirmed the new candidate.",
        )
        return redirect("candidates:detail", pk=candidate.pk)

    locked_fields = hooks.locked_candidate_fields(candidate)
    bound = request.method == "POST"
    form = CandidateForm(
        request.POST if bound else None,
        request.FILES if bound else None,
        candidate=candidate,
        locked_fields=locked_fields,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.candidate_update(
                organization=request.organization,
                candidate_id=candidate.pk,
                actor=request.user,
                changes=form.changes(),
                resume=form.cleaned_data["resume"],
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Saved the candidate.")
            return redirect("candidates:detail", pk=candidate.pk)
    return render(request, "candidates/form.html", {"form": form, "candidate": candidate})


@organization_required
@require_http_methods(["GET", "POST"])
def candidate_delete(request, pk: int):
    candidate = selectors.candidate_get(organization=request.organization, candidate_id=pk)
    if request.method == "POST":
        try:
            services.candidate_delete(
                organization=request.organization, candidate_id=candidate.pk, actor=request.user
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("candidates:detail", pk=candidate.pk)
        messages.success(request, f"Deleted {candidate.name}.")
        return redirect("candidates:list")
    return render(request, "candidates/confirm_delete.html", {"candidate": candidate})


@organization_required
def candidate_resume(request, pk: int):
    """Send the stored resume as an attachment; 404 when there is none."""
    candidate = selectors.candidate_get(organization=request.organization, candidate_id=pk)
    if not candidate.resume:
        raise Http404("This candidate has no resume.")
    try:
        handle = candidate.resume.open("rb")
    except FileNotFoundError:
        logger.warning(
            "resume file missing",
            extra={"organization_id": request.organization.pk, "candidate_id": candidate.pk},
        )
        raise Http404("The resume file is missing from storage.") from None
    content_type = candidate.resume_content_type or "application/octet-stream"
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=resume_download_name(candidate.resume_name, content_type),
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@organization_required
@require_POST
def application_change_stage(request, pk: int):
    application = selectors.application_get(organization=request.organization, application_id=pk)
    form = StageChangeForm(request.POST)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("candidates:detail", args=[application.candidate_id])

    if not form.is_valid():
        messages.error(request, "Choose a stage to move the application to.")
        return redirect(next_url)
    try:
        moved = services.application_change_stage(
            organization=request.organization,
            actor=request.user,
            application_id=application.pk,
            stage_id=form.cleaned_data["stage"],
            archive_reason_id=form.cleaned_data["archive_reason"] or None,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        stage_title = moved.stage.title if moved.stage else "no stage"
        messages.success(
            request,
            f"Moved {application.candidate.name} to {stage_title} on {application.role.title}.",
        )
    return redirect(next_url)
