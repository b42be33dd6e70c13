"""Reads for candidate pages. Every query is scoped to one organization."""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Organization
from roles.models import PipelineStage

from .models import Application, Candidate


def _applications_with_role_and_stage() -> QuerySet[Application]:
    return Application.objects.select_related("role", "stage").order_by("-created_at", "id")


def candidate_list(
    *,
    organization: Organization,
    search: str = "",
    role_id: int | None = None,
    stage_id: int | None = None,
) -> QuerySet[Candidate]:
    """Return the organization's visible candidates, ordered by name, with their
    applications, roles and stages prefetched.

    `search` keeps candidates whose name or emails contain every word of it, ignoring
    case. `role_id` and `stage_id` keep candidates with an application on that role or
    in that stage.
    """
    queryset = Candidate.objects.filter(organization=organization, is_visible=True)
    for term in search.lower().split():
        queryset = queryset.filter(search_text__contains=term)
    if role_id is not None or stage_id is not None:
        applications = Application.objects.filter(organization=organization)
        if role_id is not None:
            applications = applications.filter(role_id=role_id)
        if stage_id is not None:
            applications = applications.filter(stage_id=stage_id)
        # A subquery instead of a join keeps one row per candidate without DISTINCT.
        queryset = queryset.filter(pk__in=applications.values("candidate_id"))
    return queryset.order_by("name", "id").prefetch_related(
        Prefetch("applications", queryset=_applications_with_role_and_stage())
    )


def candidate_get(*, organization: Organization, candidate_id: int) -> Candidate:
    """Return one visible candidate of the organization or raise Http404."""
    return get_object_or_404(
        Candidate.objects.filter(organization=organization, is_visible=True), pk=candidate_id
    )


def candidate_get_with_applications(*, organization: Organization, candidate_id: int) -> Candidate:
    """Return one visible candidate with its applications, their roles, stages and the
    stages of each role's interview plan (for the stage controls). Raises Http404."""
    applications = _applications_with_role_and_stage().prefetch_related(
        Prefetch(
            "role__interview_plan__stages", queryset=PipelineStage.objects.order_by("order", "id")
        )
    )
    queryset = Candidate.objects.filter(
        organization=organization, is_visible=True
    ).prefetch_related(Prefetch("applications", queryset=applications))
    return get_object_or_404(queryset, pk=candidate_id)


def application_get(*, organization: Organization, application_id: int) -> Application:
    """Return one application of the organization with its candidate, role and stage, or
    raise Http404."""
    return get_object_or_404(
        Application.objects.filter(organization=organization).select_related(
            "candidate", "role", "stage"
        ),
        pk=application_id,
    )


def stage_filter_choices(*, organization: Organization) -> QuerySet[PipelineStage]:
    """Return the organization's pipeline stages with their plan, for the stage filter."""
    return (
        PipelineStage.objects.filter(organization=organization)
        .select_related("plan")
        .order_by("plan__title", "order", "id")
    )
