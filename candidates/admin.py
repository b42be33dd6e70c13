from django.contrib import admin

from accounts.admin_scoping import OrganizationScopedAdmin

from .models import Application, Candidate


@admin.register(Candidate)
class CandidateAdmin(OrganizationScopedAdmin):
    list_display = (
        "name",
        "primary_email",
        "organization",
        "provider",
        "remote_id",
        "push_state",
        "creation_pending",
        "is_visible",
        "updated_at",
    )
    list_filter = ("push_state", "creation_pending", "is_visible", "is_linked", "provider")
    list_select_related = ("organization",)
    search_fields = ("name", "primary_email", "search_text", "remote_id", "organization__slug")
    readonly_fields = ("search_text", "primary_email", "created_at", "updated_at", "last_synced_at")
    date_hierarchy = "created_at"
    raw_id_fields = ("organization",)


@admin.register(Application)
class ApplicationAdmin(OrganizationScopedAdmin):
    list_display = (
        "id",
        "candidate",
        "role",
        "stage",
        "status",
        "push_state",
        "organization",
        "remote_id",
        "updated_at",
    )
    list_filter = ("status", "push_state", "is_linked", "provider")
    list_select_related = ("candidate", "role", "stage", "organization")
    search_fields = ("candidate__name", "candidate__primary_email", "role__title", "remote_id")
    readonly_fields = ("created_at", "updated_at", "last_synced_at")
    raw_id_fields = ("organization", "candidate", "role", "stage")
