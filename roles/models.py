from django.db import models

from accounts.models import Organization
from lavalier.records import ExternalRecord, remote_id_constraint


class WorkType(models.TextChoices):
    FULL_TIME = "full_time", "Full-time"
    PART_TIME = "part_time", "Part-time"
    CONTRACT = "contract", "Contract"
    INTERNSHIP = "internship", "Internship"
    TEMPORARY = "temporary", "Temporary"


class InterviewPlan(ExternalRecord):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    title = models.CharField(max_length=300)

    class Meta:
        ordering = ["title"]
        constraints = [remote_id_constraint("interviewplan")]

    def __str__(self) -> str:
        return self.title


class PipelineStage(ExternalRecord):
    class StageType(models.TextChoices):
        LEAD = "lead", "Lead"
        PRE_INTERVIEW_SCREEN = "pre_interview_screen", "Pre-interview screen"
        ACTIVE = "active", "Active"
        OFFER = "offer", "Offer"
        HIRED = "hired", "Hired"
        ARCHIVED = "archived", "Archived"

    # Stages of these types come before any interview: candidates only there are leads.
    PRE_INTERVIEW_TYPES = (StageType.LEAD, StageType.PRE_INTERVIEW_SCREEN)

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    plan = models.ForeignKey(InterviewPlan, on_delete=models.CASCADE, related_name="stages")
    title = models.CharField(max_length=300)
    order = models.IntegerField(default=0)
    stage_type = models.CharField(max_length=32, choices=StageType.choices)

    class Meta:
        ordering = ["plan", "order", "id"]
        constraints = [remote_id_constraint("pipelinestage")]

    def __str__(self) -> str:
        return self.title


class Role(ExternalRecord):
    """A job opening."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        DRAFT = "draft", "Draft"
        ARCHIVED = "archived", "Archived"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="roles")
    title = models.CharField(max_length=300)
    department = models.CharField(max_length=200, blank=True, default="")
    location = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    work_type = models.CharField(max_length=16, choices=WorkType.choices, blank=True, default="")
    description = models.TextField(blank=True, default="")
    interview_plan = models.ForeignKey(
        InterviewPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="roles"
    )
    # False while a synced job does not qualify (not open); the row is kept, not deleted.
    is_visible = models.BooleanField(default=True)
    # Same values as candidates.models.PushState: where a local edit stands on its way to
    # the ATS ("", "pending", "synced", "failed").
    push_state = models.CharField(max_length=16, blank=True, default="")
    push_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [remote_id_constraint("role")]
        indexes = [models.Index(fields=["organization", "is_visible", "status"])]

    def __str__(self) -> str:
        return self.title


class JobPost(ExternalRecord):
    """A published posting of a role on a job board."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="job_posts")
    title = models.CharField(max_length=300)
    location = models.CharField(max_length=200, blank=True, default="")
    work_type = models.CharField(max_length=16, choices=WorkType.choices, blank=True, default="")
    is_listed = models.BooleanField(default=True)
    published_on = models.DateField(null=True, blank=True)
    apply_url = models.URLField(max_length=500, blank=True, default="")

    class Meta:
        ordering = ["title", "id"]
        constraints = [remote_id_constraint("jobpost")]

    def __str__(self) -> str:
        return self.title
