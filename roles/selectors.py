"""Reads for role pages. Every query is scoped to one organization."""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Organization

from .models import PipelineStage, Role


@dataclass
class PipelineColumn:
    """One stage of a role's pipeline and the applications in it. `stage` is None for
    applications without a stage, or in a stage outside the role's interview plan."""

    stage: PipelineStage | None
    applications: list = field(default_factory=list)


def role_list(*, organization: Organization, status: str = "") -> QuerySet[Role]:
    """Return the organization's visible roles ordered by title, each annotated with
    `applicant_count` (applications of visible candidates). `status` keeps one status."""
    queryset = Role.objects.filter(organization=organization, is_visible=True)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.annotate(
        applicant_count=Count("applications", filter=Q(applications__candidate__is_visible=True))
    ).order_by("title", "id")


def role_filter_choices(*, organization: Organization) -> QuerySet[Role]:
    """Return the organization's visible roles for filters and the "apply to" field."""
    return Role.objects.filter(organization=organization, is_visible=True).order_by("title", "id")


def role_get(*, organization: Organization, role_id: int) -> Role:
    """Return one visible role of the organization with its interview plan's stages in
    order, or raise Http404."""
    queryset = (
        Role.objects.filter(organization=organization, is_visible=True)
        .select_related("interview_plan")
        .prefetch_related(
            Prefetch(
                "interview_plan__stages", queryset=PipelineStage.objects.order_by("order", "id")
            )
        )
    )
    return get_object_or_404(queryset, pk=role_id)


def role_stages(role: Role) -> list[PipelineStage]:
    """Return the stages of the role's interview plan in order (empty without a plan)."""
    if role.interview_plan is None:
        return []
    return sorted(role.interview_plan.stages.all(), key=lambda stage: (stage.order, stage.pk))


def role_pipeline(*, organization: Organization, role: Role) -> list[PipelineColumn]:
    """Return the role's stages in order with the applications of visible candidates in
    each. When some applications are in no stage of the plan, a last column with
    `stage=None` contains them."""
    # Imported here because candidates.models imports roles.models.
    from candidates.models import Application

    columns = [PipelineColumn(stage=stage) for stage in role_stages(role)]
    by_stage_id = {column.stage.pk: column for column in columns}
    unstaged = PipelineColumn(stage=None)
    applications = (
        Application.objects.filter(organization=organization, role=role, candidate__is_visible=True)
        .select_related("candidate", "stage")
        .order_by("candidate__name", "id")
    )
    for application in applications:
        application.role = role  # Saves one query per card: the cards name the role.
        by_stage_id.get(application.stage_id, unstaged).applications.append(application)
    if unstaged.applications:
        columns.append(unstaged)
    return columns
