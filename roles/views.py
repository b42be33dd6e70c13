"""Role pages. Views call one selector or service and render; they never save models."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.access import organization_required
from candidates.services import STAGE_LOCKED_MESSAGE
from lavalier import sync_hooks

from . import selectors, services
from .forms import RoleFilterForm, RoleForm

PAGE_SIZE = 50


@organization_required
def role_list(request):
    filter_form = RoleFilterForm(request.GET)
    status = filter_form.cleaned_data["status"] if filter_form.is_valid() else ""
    roles = selectors.role_list(organization=request.organization, status=status)
    page = Paginator(roles, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "roles/list.html",
        {"page": page, "filter_form": filter_form, "query_without_page": query.urlencode()},
    )


@organization_required
def role_detail(request, pk: int):
    role = selectors.role_get(organization=request.organization, role_id=pk)
    return render(
        request,
        "roles/detail.html",
        {
            "role": role,
            "stages": selectors.role_stages(role),
            "columns": selectors.role_pipeline(organization=request.organization, role=role),
            "archive_reasons": sync_hooks.get().archive_reasons(request.organization.pk),
            "stage_locked_message": STAGE_LOCKED_MESSAGE,
            "retry_url": sync_hooks.get().retry_push_url(role),
        },
    )


@organization_required
@require_http_methods(["GET", "POST"])
def role_edit(request, pk: int):
    role = selectors.role_get(organization=request.organization, role_id=pk)
    locked_fields = sync_hooks.get().locked_role_fields(role)
    form = RoleForm(
        request.POST if request.method == "POST" else None, role=role, locked_fields=locked_fields
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.role_update(
                organization=request.organization,
                role_id=role.pk,
                actor=request.user,
                changes=form.changes(),
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for name, field_errors in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, field_errors)
            else:
                form.add_error(None, error.messages)
        else:
            messages.success(request, "Saved the role.")
            return redirect("roles:detail", pk=role.pk)
    return render(request, "roles/form.html", {"form": form, "role": role})
