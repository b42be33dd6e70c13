from django.contrib import admin

from accounts.admin_scoping import OrganizationScopedAdmin

from .models import InterviewPlan, JobPost, PipelineStage, Role


@admin.register(Role)
class RoleAdmin(OrganizationScopedAdmin):
    list_display = (
        "title",
        "department",
        "location",
        "status",
        "work_type",
        "is_visible",
        "organization",
        "remote_id",
        "updated_at",
    )
    list_filter = ("status", "work_type", "is_visible", "is_linked", "provider")
    list_select_related = ("organization", "interview_plan")
    search_fields = ("title", "department", "location", "remote_id", "organization__slug")
    readonly_fields = ("created_at", "updated_at", "last_synced_at")
    raw_id_fields = ("organization", "interview_plan")


@admin.register(JobPost)
class JobPostAdmin(OrganizationScopedAdmin):
    list_display = ("title", "role", "location", "is_listed", "published_on", "organization")
    list_filter = ("is_listed", "work_type", "is_linked", "provider")
    list_select_related = ("role", "organization")
    search_fields = ("title", "role__title", "remote_id", "organization__slug")
    raw_id_fields = ("organization", "role")


class PipelineStageInline(admin.TabularInline):
    model = PipelineStage
    fields = ("order", "title", "stage_type", "remote_id")
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # The inline has no organization field; add stages from the stage admin instead.
        return False


@admin.register(InterviewPlan)
class InterviewPlanAdmin(OrganizationScopedAdmin):
    list_display = ("title", "organization", "remote_id", "is_linked")
    list_filter = ("is_linked", "provider")
    list_select_related = ("organization",)
    search_fields = ("title", "remote_id", "organization__slug")
    raw_id_fields = ("organization",)
    inlines = [PipelineStageInline]


@admin.register(PipelineStage)
class PipelineStageAdmin(OrganizationScopedAdmin):
    list_display = ("title", "plan", "order", "stage_type", "organization", "remote_id")
    list_filter = ("stage_type", "is_linked", "provider")
    list_select_related = ("plan", "organization")
    search_fields = ("title", "plan__title", "remote_id", "organization__slug")
    ordering = ("plan__title", "order", "id")
    raw_id_fields = ("organization", "plan")
