"""Admin base class that limits staff members to their own organization's rows."""

from django.contrib import admin


class OrganizationScopedAdmin(admin.ModelAdmin):
    """Superusers see every organization; other staff see only their own.

    `organization_path` is the lookup from the model to its organization.
    """

    organization_path = "organization"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        membership = getattr(request.user, "membership", None)
        if membership is None:
            return queryset.none()
        return queryset.filter(**{self.organization_path: membership.organization_id})
