from django.contrib import admin

from accounts.admin_scoping import OrganizationScopedAdmin

from .models import Integration, OutboxEvent, SyncCursor, SyncRun


@admin.register(Integration)
class IntegrationAdmin(OrganizationScopedAdmin):
    list_display = (
        "organization",
        "provider",
        "is_active",
        "state",
        "last_synced_at",
        "error_code",
        "connected_at",
    )
    list_filter = ("provider", "is_active", "state")
    list_select_related = ("organization",)
    search_fields = ("organization__slug",)
    # The encrypted credential is not editable and never listed.
    exclude = ("encrypted_credential",)
    readonly_fields = (
        "organization",
        "provider",
        "credential_last4",
        "credential_title",
        "connected_by",
        "connected_at",
        "disconnected_at",
        "last_synced_at",
        "last_full_sync_at",
        "sync_lock_token",
        "sync_lock_expires_at",
    )


@admin.register(SyncRun)
class SyncRunAdmin(OrganizationScopedAdmin):
    list_display = (
        "id",
        "organization",
        "integration",
        "trigger",
        "is_full",
        "outcome",
        "started_at",
        "finished_at",
        "error_code",
    )
    list_filter = ("outcome", "trigger", "is_full")
    list_select_related = ("organization", "integration")
    search_fields = ("organization__slug", "error_code")
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(SyncCursor)
class SyncCursorAdmin(OrganizationScopedAdmin):
    organization_path = "integration__organization"
    list_display = ("integration", "list_name", "updated_at")
    list_select_related = ("integration__organization",)
    readonly_fields = ("integration", "list_name", "sync_token", "updated_at")


@admin.register(OutboxEvent)
class OutboxEventAdmin(OrganizationScopedAdmin):
    list_display = (
        "id",
        "organization",
        "kind",
        "record_type",
        "record_id",
        "state",
        "attempts",
        "created_at",
        "delivered_at",
    )
    list_filter = ("state", "kind")
    list_select_related = ("organization",)
    search_fields = ("organization__slug", "kind", "last_error")
