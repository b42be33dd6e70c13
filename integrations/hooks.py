"""The integration's side of `lavalier.sync_hooks`: read-only fields and the outbox.

Every hook that records a change runs inside the service's transaction, so the outbox
row commits or rolls back with the change itself.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from candidates.models import Application, Candidate, PushState
from lavalier.sync_hooks import SyncHooks
from roles.models import Role

from .models import Integration, OutboxEvent
from .outbox import queue_delivery
from .providers import get_provider


def _active_integration(organization_id: int) -> Integration | None:
    return Integration.objects.filter(organization_id=organization_id, is_active=True).first()


def _linked_integration(record) -> Integration | None:
    """Return the integration a record from an ATS pushes its changes through.

    That is the organization's active integration with the record's provider or, while
    that provider is disconnected, its most recent former one: the change then waits in
    the outbox and goes out after a reconnect. Returns None for records created in
    Lavalier and never pushed, and when another provider is connected now.
    """
    if not (record.provider and record.remote_id):
        return None
    integrations = Integration.objects.filter(
        organization_id=record.organization_id, provider=record.provider
    )
    integration = integrations.filter(is_active=True).first()
    if integration is not None:
        return integration
    if Integration.objects.filter(organization_id=record.organization_id, is_active=True).exists():
        return None
    return integrations.order_by("-connected_at").first()


def _record_event(
    integration: Integration, kind: str, record_type: str, record, payload: dict | None = None
) -> OutboxEvent:
    event = OutboxEvent.objects.create(
        organization_id=integration.organization_id,
        integration=integration,
        kind=kind,
        record_type=record_type,
        record_id=record.pk,
        payload=payload or {},
    )
    type(record).objects.filter(pk=record.pk).update(push_state=PushState.PENDING, push_error="")
    record.push_state = PushState.PENDING
    record.push_error = ""
    queue_delivery(record_type, record.pk)
    return event


class IntegrationHooks(SyncHooks):
    # Fields the ATS owns stay read-only while it is disconnected, because the sync after a
    # reconnect would overwrite a local edit of them.

    def locked_candidate_fields(self, candidate: Candidate) -> dict[str, str]:
        if not (candidate.provider and candidate.remote_id):
            return {}
        return dict(get_provider(candidate.provider).read_only_candidate_fields)

    def locked_role_fields(self, role: Role) -> dict[str, str]:
        if not (role.provider and role.remote_id):
            return {}
        return dict(get_provider(role.provider).read_only_role_fields)

    def pending_creation_label(self, candidate: Candidate) -> str:
        integration = _active_integration(candidate.organization_id)
        provider = candidate.provider or (integration.provider if integration else "")
        if not provider:
            return super().pending_creation_label(candidate)
        return f"Pending creation in {get_provider(provider).display_name}"

    def archive_reasons(self, organization_id: int) -> list[tuple[str, str]]:
        integration = _active_integration(organization_id)
        if integration is None:
            return []
        return [(r["id"], r["text"]) for r in integration.options.get("archive_reasons", [])]

    def retry_push_url(self, record) -> str:
        record_type = {Candidate: "candidate", Application: "application", Role: "role"}.get(
            type(record)
        )
        if record_type is None or record.push_state != PushState.FAILED:
            return ""
        return reverse("integrations:retry_push", args=[record_type, record.pk])

    def candidate_created(self, candidate: Candidate, *, role: Role | None, actor: Any) -> None:
        integration = _active_integration(candidate.organization_id)
        if integration is None:
            return
        Candidate.objects.filter(pk=candidate.pk).update(
            provider=integration.provider, creation_pending=True
        )
        candidate.provider = integration.provider
        candidate.creation_pending = True
        payload = {"role_id": role.pk if role is not None else None}
        _record_event(integration, "candidate.create", "candidate", candidate, payload)

    def candidate_updated(
        self, candidate: Candidate, *, changed_fields: set[str], actor: Any
    ) -> None:
        integration = _linked_integration(candidate)
        if integration is None:
            return
        provider = get_provider(integration.provider)
        fields = sorted(set(changed_fields) & provider.pushed_candidate_fields)
        if "resume" in changed_fields:
            _record_event(integration, "candidate.upload_resume", "candidate", candidate)
        if fields:
            _record_event(
                integration, "candidate.update", "candidate", candidate, {"fields": fields}
            )

    def application_created(self, application: Application, *, actor: Any) -> None:
        candidate = application.candidate
        integration = _linked_integration(candidate)
        if integration is None or not (
            application.role.remote_id and application.role.provider == integration.provider
        ):
            return
        _record_event(integration, "application.create", "application", application)

    def role_updated(self, role: Role, *, changed_fields: set[str], actor: Any) -> None:
        integration = _linked_integration(role)
        if integration is None:
            return
        fields = sorted(set(changed_fields) & get_provider(integration.provider).pushed_role_fields)
        if fields:
            _record_event(integration, "job.update", "role", role, {"fields": fields})

    def application_stage_changed(
        self, application: Application, *, archive_reason_id: str | None, actor: Any
    ) -> None:
        integration = _linked_integration(application)
        if integration is None or application.stage is None or not application.stage.remote_id:
            return
        _record_event(
            integration,
            "application.change_stage",
            "application",
            application,
            {"stage_id": application.stage_id, "archive_reason_id": archive_reason_id},
        )
