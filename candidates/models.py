from pathlib import Path

from django.db import models

from accounts.models import Organization
from lavalier.records import ExternalRecord, remote_id_constraint
from roles.models import PipelineStage, Role


class PushState(models.TextChoices):
    """Where a local change stands on its way to the connected ATS."""

    NONE = "", "Not pushed"
    PENDING = "pending", "Waiting to sync"
    SYNCED = "synced", "Saved and synced"
    FAILED = "failed", "Sync failed"


RESUME_EXTENSIONS = (".pdf", ".doc", ".docx")


def resume_upload_path(candidate: "Candidate", filename: str) -> str:
    # The stored name never contains the uploaded one, which may be path-like or hostile;
    # only a known extension is kept.
    extension = Path(filename).suffix.lower()
    if extension not in RESUME_EXTENSIONS:
        extension = ""
    return f"resumes/org-{candidate.organization_id}/{candidate.pk or 'new'}/resume{extension}"


class Candidate(ExternalRecord):
    class Origin(models.TextChoices):
        LAVALIER = "lavalier", "Created in Lavalier"
        ATS = "ats", "Synced from the ATS"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="candidates"
    )
    name = models.CharField(max_length=300)
    # Contact lists as [{"value": str, "type": "Personal"|"Work"|"Other", "is_primary": bool}].
    email_addresses = models.JSONField(default=list, blank=True)
    phone_numbers = models.JSONField(default=list, blank=True)
    # [{"type": "LinkedIn"|"GitHub"|"Twitter"|..., "url": str}]
    social_links = models.JSONField(default=list, blank=True)
    primary_email = models.CharField(max_length=254, blank=True, default="", db_index=True)
    # Lower-cased name and every email, so one indexed column serves the search box.
    search_text = models.TextField(blank=True, default="")
    title = models.CharField(max_length=300, blank=True, default="")
    company = models.CharField(max_length=300, blank=True, default="")
    location = models.CharField(max_length=300, blank=True, default="")
    source = models.CharField(max_length=300, blank=True, default="")
    resume = models.FileField(upload_to=resume_upload_path, blank=True, max_length=300)
    resume_name = models.CharField(max_length=255, blank=True, default="")
    resume_content_type = models.CharField(max_length=100, blank=True, default="")
    # The ATS file id the stored resume came from, so a sync downloads each file once.
    resume_remote_id = models.CharField(max_length=128, blank=True, default="")
    # The resume the ATS lists now, as {"id", "name", "handle"}; fetched when it differs
    # from the stored one and the candidate is visible.
    remote_resume = models.JSONField(default=dict, blank=True)
    # Candidates created in Lavalier stay visible; synced ones follow the sync's rule.
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.LAVALIER)
    # False while a synced candidate does not qualify; the row is kept, not deleted.
    is_visible = models.BooleanField(default=True)
    push_state = models.CharField(max_length=16, choices=PushState.choices, blank=True, default="")
    push_error = models.TextField(blank=True, default="")
    # True from creation in Lavalier until the ATS confirms the candidate exists there.
    creation_pending = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [remote_id_constraint("candidate")]
        indexes = [models.Index(fields=["organization", "is_visible", "name"])]

    def __str__(self) -> str:
        return self.name

    def refresh_search_text(self) -> None:
        emails = [entry.get("value", "") for entry in self.email_addresses or []]
        self.primary_email = next(
            (e.get("value", "") for e in self.email_addresses or [] if e.get("is_primary")),
            emails[0] if emails else "",
        )
        self.search_text = " ".join([self.name, *emails]).lower()

    def save(self, *args, **kwargs):
        self.refresh_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "primary_email", "search_text"}
        super().save(*args, **kwargs)

    @property
    def is_locked(self) -> bool:
        """Edits and deletion wait until the ATS has confirmed a new candidate."""
        return self.creation_pending


class Application(ExternalRecord):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        HIRED = "hired", "Hired"
        ARCHIVED = "archived", "Archived"
        LEAD = "lead", "Lead"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="applications"
    )
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="applications")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, related_name="applications")
    stage = models.ForeignKey(
        PipelineStage, null=True, blank=True, on_delete=models.SET_NULL, related_name="applications"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    archive_reason = models.CharField(max_length=300, blank=True, default="")
    applied_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    push_state = models.CharField(max_length=16, choices=PushState.choices, blank=True, default="")
    push_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [remote_id_constraint("application")]
        indexes = [
            models.Index(fields=["organization", "role", "stage"]),
            models.Index(fields=["candidate", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.candidate_id} on {self.role_id}"

    @property
    def is_stage_locked(self) -> bool:
        """An application archived in the ATS cannot change stage or status here."""
        return self.status == self.Status.ARCHIVED and self.is_from_ats
