"""Settings → Integrations: one card per ATS, with connect, key update, sync and disconnect."""

import logging

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.access import organization_required, owner_required

from . import selectors, services
from .models import Integration
from .providers import ConnectError, get_provider

logger = logging.getLogger(__name__)


def _provider_or_404(slug: str):
    try:
        return get_provider(slug)
    except LookupError:
        raise Http404("Unknown integration.") from None


def _render_index(request, *, status=200, open_form: str = "", error: str = ""):
    cards = selectors.integration_cards(request.organization)
    return render(
        request,
        "integrations/index.html",
        {"cards": cards, "open_form": open_form, "form_error": error},
        status=status,
    )


@require_GET
@organization_required
def index(request):
    return _render_index(request)


@require_GET
@organization_required
def card(request, provider):
    _provider_or_404(provider)
    card = selectors.integration_card(request.organization, provider)
    return render(request, "integrations/_card.html", {"card": card})


def _credential_from_post(request, provider_obj) -> str:
    values = {
        field.name: request.POST.get(field.name, "") for field in provider_obj.credential_fields
    }
    return provider_obj.credential_from_fields(values)


@require_POST
@owner_required
def connect(request, provider):
    provider_obj = _provider_or_404(provider)
    try:
        services.integration_connect(
            organization=request.organization,
            actor=request.user,
            provider_slug=provider_obj.slug,
            credential=_credential_from_post(request, provider_obj),
        )
    except ConnectError as exc:
        return _render_index(
            request, status=400, open_form=f"connect-{provider}", error=exc.message
        )
    messages.success(
        request, f"Connected to {provider_obj.display_name}. The first sync has started."
    )
    return redirect("integrations:index")


@require_POST
@owner_required
def update_key(request, provider):
    provider_obj = _provider_or_404(provider)
    try:
        services.integration_update_credential(
            organization=request.organization,
            actor=request.user,
            credential=_credential_from_post(request, provider_obj),
        )
    except Integration.DoesNotExist:
        raise Http404("No active integration.") from None
    except ConnectError as exc:
        return _render_index(request, status=400, open_form=f"update-{provider}", error=exc.message)
    messages.success(request, f"{provider_obj.display_name} key updated. A sync has started.")
    return redirect("integrations:index")


@require_POST
@owner_required
def sync_now(request, provider):
    provider_obj = _provider_or_404(provider)
    try:
        services.integration_request_sync(organization=request.organization, actor=request.user)
    except Integration.DoesNotExist:
        raise Http404("No active integration.") from None
    messages.success(request, f"Sync with {provider_obj.display_name} started.")
    return redirect("integrations:index")


@require_POST
@owner_required
def disconnect(request, provider):
    provider_obj = _provider_or_404(provider)
    try:
        services.integration_disconnect(organization=request.organization, actor=request.user)
    except Integration.DoesNotExist:
        raise Http404("No active integration.") from None
    messages.success(
        request,
        f"Disconnected from {provider_obj.display_name}. Synced records stay in Lavalier, "
        "no longer linked.",
    )
    return redirect("integrations:index")


@require_POST
@owner_required
def save_settings(request, provider):
    """Save the Owner settings of the active integration (the card's settings form)."""
    provider_obj = _provider_or_404(provider)
    integration = selectors.active_integration(request.organization)
    if integration is None or integration.provider != provider_obj.slug:
        raise Http404("No active integration.")
    for setting in provider_obj.settings(integration):
        if setting.name not in request.POST:
            continue
        try:
            provider_obj.save_setting(
                organization=request.organization,
                actor=request.user,
                name=setting.name,
                value=request.POST[setting.name],
            )
        except ValueError as exc:
            messages.error(request, str(exc))
            return redirect("integrations:index")
    messages.success(request, f"{provider_obj.display_name} settings saved.")
    return redirect("integrations:index")


@require_POST
@organization_required
def retry_push(request, record_type, record_id):
    """Queue a failed push of a candidate, application or role again (the Retry button)."""
    from .outbox import RECORD_MODELS, outbox_retry

    model = RECORD_MODELS.get(record_type)
    if (
        model is None
        or not model.objects.filter(organization=request.organization, pk=record_id).exists()
    ):
        raise Http404("No such record.")
    count = outbox_retry(
        organization_id=request.organization.pk,
        record_type=record_type,
        record_id=record_id,
        actor=request.user,
    )
    if count:
        messages.success(request, "Sending the change again.")
    else:
        messages.info(request, "There was nothing to send again.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return (
        redirect("candidates:detail", pk=record_id)
        if record_type == "candidate"
        else redirect("integrations:index")
    )
