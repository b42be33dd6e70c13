"""Pushing Lavalier's changes to Ashby, one outbox event at a time.

Each handler reads the record's current values (so a later edit supersedes an earlier
one) and is safe to run again for the same event. Creates reconcile before they create:
on a retried event (`attempts` > 1) the candidate is looked up by email, and an
application by the candidate's applications in Ashby, so a create that reached Ashby
before a timeout or a worker crash is adopted instead of made twice.
"""

from __future__ import annotations

import logging
from pathlib import PurePath

from django.db import IntegrityError, transaction
from django.utils import timezone

from candidates.models import Application, Candidate
from integrations.models import Integration, OutboxEvent
from integrations.outbox import event_application, event_candidate
from integrations.providers import DeliveryRejected, IntegrationAuthError
from roles.models import Role

from .client import AshbyClient
from .errors import (
    AshbyAuthError,
    AshbyError,
    AshbyPermissionError,
    AshbyRequestError,
)

logger = logging.getLogger(__name__)

PROVIDER = "ashby"
SOCIAL_LINK_TYPES = {
    "LinkedIn",
    "GitHub",
    "Twitter",
    "Medium",
    "StackOverflow",
    "YouTube",
    "CodePen",
    "Website",
}
NOT_FOUND_CODES = {
    "candidate_not_found",
    "application_not_found",
    "job_not_found",
    "interview_stage_not_found",
}


def translate_write_error(exc: AshbyError) -> Exception:
    """Map a client error during a push to what the outbox does next."""
    from .provider import KEY_REJECTED_MESSAGE, PERMISSION_LABELS, translate_sync_error

    if isinstance(exc, AshbyAuthError):
        return IntegrationAuthError(KEY_REJECTED_MESSAGE, code="auth_invalid")
    if isinstance(exc, AshbyPermissionError):
        label = PERMISSION_LABELS.get(exc.permission or "", exc.permission or "a permission")
        return IntegrationAuthError(
            f"Unable to send changes to Ashby: the API key is missing the permission {label}. "
            "In Ashby, open Admin → Integrations → API Keys, select this key, click Configure "
            "API Key Permissions and turn it on. Waiting changes are sent once it is fixed.",
            code="permission",
        )
    if isinstance(exc, AshbyRequestError):
        if exc.code in NOT_FOUND_CODES:
            return DeliveryRejected(
                "This record no longer exists in Ashby, so the change could not be sent. "
                "It may have been merged or deleted there.",
                code=exc.code,
            )
        return DeliveryRejected(
            f"Ashby rejected the change: {exc.message}", code=exc.code or "rejected"
        )
    return translate_sync_error(exc)


def _primary(contacts: list[dict]) -> str | None:
    for entry in contacts or []:
        if entry.get("is_primary"):
            return entry.get("value")
    return contacts[0].get("value") if contacts else None


def _alternates(contacts: list[dict]) -> list[str]:
    primary = _primary(contacts)
    return [e["value"] for e in contacts or [] if e.get("value") and e.get("value") != primary]


def _social_links(links: list[dict]) -> list[dict]:
    return [
        {
            "type": link.get("type") if link.get("type") in SOCIAL_LINK_TYPES else "Website",
            "url": link["url"],
        }
        for link in links or []
        if link.get("url")
    ]


def _link_url(links: list[dict], link_type: str) -> str | None:
    return next(
        (link["url"] for link in links or [] if link.get("type") == link_type and link.get("url")),
        None,
    )


class AshbyWriter:
    """Delivers the events of one integration with one client."""

    def __init__(self, integration: Integration, client: AshbyClient):
        self.integration = integration
        self.client = client

    @property
    def default_source_id(self) -> str | None:
        return self.integration.options.get("default_source_id") or None

    def deliver(self, event: OutboxEvent) -> None:
        handler = {
            "candidate.create": self.candidate_create,
            "candidate.update": self.candidate_update,
            "candidate.upload_resume": self.candidate_upload_resume,
            "application.create": self.application_create,
            "application.change_stage": self.application_change_stage,
            "job.update": self.job_update,
        }.get(event.kind)
        if handler is None:
            raise DeliveryRejected(f"Lavalier cannot send changes of kind {event.kind} to Ashby.")
        handler(event)

    def _candidate(self, event: OutboxEvent) -> Candidate:
        return event_candidate(event)

    # Candidates ---------------------------------------------------------------------------

    def candidate_create(self, event: OutboxEvent) -> None:
        candidate = self._candidate(event)
        if not candidate.remote_id:
            remote = self._find_created_candidate(candidate) if event.attempts > 1 else None
            if remote is None:
                remote = self.client.candidate_create_reconciled(**self._create_fields(candidate))
            self._link_candidate(candidate, remote["id"])
        if candidate.resume and not event.payload.get("resume_uploaded"):
            self._upload_resume(candidate)
            OutboxEvent.objects.filter(pk=event.pk).update(
                payload={**event.payload, "resume_uploaded": True}
            )
        role_id = event.payload.get("role_id")
        if role_id:
            application = (
                Application.objects.filter(
                    organization_id=candidate.organization_id, candidate=candidate, role_id=role_id
                )
                .select_related("role", "stage")
                .first()
            )
            if application is not None and not application.remote_id:
                self._create_application(
                    application, candidate.remote_id, retried=event.attempts > 1
                )
        Candidate.objects.filter(pk=candidate.pk).update(creation_pending=False)

    def _create_fields(self, candidate: Candidate) -> dict:
        fields = {"name": candidate.name}
        email = _primary(candidate.email_addresses)
        if email:
            fields["email"] = email
        alternates = _alternates(candidate.email_addresses)
        if alternates:
            fields["alternateEmailAddresses"] = alternates
        phone = _primary(candidate.phone_numbers)
        if phone:
            fields["phoneNumber"] = phone
        for link_type, field in (
            ("LinkedIn", "linkedInUrl"),
            ("GitHub", "githubUrl"),
            ("Website", "website"),
        ):
            url = _link_url(candidate.social_links, link_type)
            if url:
                fields[field] = url
        if self.default_source_id:
            fields["sourceId"] = self.default_source_id
        return fields

    def _find_created_candidate(self, candidate: Candidate) -> dict | None:
        """Find the Ashby candidate an earlier, interrupted attempt created, if any."""
        email = _primary(candidate.email_addresses)
        if not email:
            return None
        matches = [
            found
            for found in self.client.candidate_search(email=email)
            if found.get("name") == candidate.name
        ]
        if not matches:
            return None
        matches.sort(key=lambda found: found.get("createdAt") or "")
        logger.info(
            "adopted candidate created by an earlier attempt",
            extra={"candidate_id": candidate.pk, "integration_id": self.integration.pk},
        )
        return matches[0]

    def _link_candidate(self, candidate: Candidate, remote_id: str) -> None:
        try:
            with transaction.atomic():
                Candidate.objects.filter(pk=candidate.pk).update(
                    provider=PROVIDER,
                    remote_id=remote_id,
                    is_linked=True,
                    last_synced_at=timezone.now(),
                )
        except IntegrityError:
            other = Candidate.objects.filter(
                organization_id=candidate.organization_id, provider=PROVIDER, remote_id=remote_id
            ).first()
            raise DeliveryRejected(
                "Ashby already has this candidate, and Lavalier shows it as "
                f"{other.name if other else 'another candidate'}. "
                "Delete this copy and use that one."
            ) from None
        candidate.provider = PROVIDER
        candidate.remote_id = remote_id
        candidate.is_linked = True

    def candidate_update(self, event: OutboxEvent) -> None:
        candidate = self._candidate(event)
        if not candidate.remote_id:
            raise DeliveryRejected(
                "The candidate is not in Ashby yet, so the edit could not be sent."
            )
        fields = set(event.payload.get("fields") or [])
        body: dict = {"sendNotifications": False}
        if "name" in fields:
            body["name"] = candidate.name
        if "email_addresses" in fields:
            email = _primary(candidate.email_addresses)
            if email:
                body["email"] = email
            alternates = _alternates(candidate.email_addresses)
            if alternates:
                body["alternateEmail"] = alternates[0]
        if "phone_numbers" in fields:
            phone = _primary(candidate.phone_numbers)
            if phone:
                body["phoneNumber"] = phone
        if "social_links" in fields:
            body["socialLinks"] = _social_links(candidate.social_links)
        self.client.candidate_update(candidate.remote_id, **body)

    def candidate_upload_resume(self, event: OutboxEvent) -> None:
        candidate = self._candidate(event)
        if not candidate.remote_id:
            raise DeliveryRejected(
                "The candidate is not in Ashby yet, so the resume could not be sent."
            )
        if candidate.resume:
            self._upload_resume(candidate)

    def _upload_resume(self, candidate: Candidate) -> None:
        with candidate.resume.open("rb") as handle:
            content = handle.read()
        filename = PurePath(candidate.resume_name or candidate.resume.name).name or "resume.pdf"
        result = self.client.candidate_upload_resume(
            candidate.remote_id,
            filename=filename,
            content=content,
            content_type=candidate.resume_content_type or "application/pdf",
        )
        handle_info = result.get("resumeFileHandle") if isinstance(result, dict) else None
        if isinstance(handle_info, dict) and handle_info.get("id"):
            # The stored file is the one Ashby now has, so the next sync need not fetch it.
            Candidate.objects.filter(pk=candidate.pk).update(
                resume_remote_id=handle_info["id"],
                remote_resume={
                    "id": handle_info["id"],
                    "name": handle_info.get("name", ""),
                    "handle": handle_info.get("handle", ""),
                },
            )

    # Applications --------------------------------------------------------------------------

    def application_create(self, event: OutboxEvent) -> None:
        application = event_application(event)
        if application.remote_id:
            return
        if not application.candidate.remote_id:
            raise DeliveryRejected(
                "The candidate is not in Ashby yet, so the application could not be sent."
            )
        self._create_application(
            application, application.candidate.remote_id, retried=event.attempts > 1
        )

    def _create_application(
        self, application: Application, candidate_remote_id: str, *, retried: bool
    ) -> None:
        role = application.role
        if not role.remote_id:
            raise DeliveryRejected(
                f"{role.title} is not an Ashby job, so the application stays in Lavalier."
            )
        remote = self._find_application(candidate_remote_id, role.remote_id) if retried else None
        if remote is None:
            try:
                remote = self.client.application_create(
                    candidate_remote_id,
                    role.remote_id,
                    interview_stage_id=application.stage.remote_id
                    if application.stage and application.stage.remote_id
                    else None,
                    source_id=self.default_source_id,
                )
            except AshbyRequestError as exc:
                remote = self._find_application(candidate_remote_id, role.remote_id)
                if remote is None:
                    raise translate_write_error(exc) from exc
        Application.objects.filter(pk=application.pk).update(
            provider=PROVIDER, remote_id=remote["id"], is_linked=True, last_synced_at=timezone.now()
        )

    def _find_application(self, candidate_remote_id: str, job_remote_id: str) -> dict | None:
        candidate = self.client.candidate_info(candidate_remote_id)
        for application_id in candidate.get("applicationIds") or []:
            application = self.client.application_info(application_id)
            if (application.get("job") or {}).get("id") == job_remote_id:
                return application
        return None

    def application_change_stage(self, event: OutboxEvent) -> None:
        application = (
            Application.objects.filter(pk=event.record_id, organization_id=event.organization_id)
            .select_related("stage")
            .first()
        )
        if application is None or not application.remote_id:
            raise DeliveryRejected(
                "The application is not in Ashby, so the stage change stays in Lavalier."
            )
        stage = application.stage
        if stage is None or not stage.remote_id:
            raise DeliveryRejected(
                "The stage is not an Ashby stage, so the move stays in Lavalier."
            )
        archive_reason_id = (
            event.payload.get("archive_reason_id")
            if stage.stage_type == stage.StageType.ARCHIVED
            else None
        )
        self.client.application_change_stage(
            application.remote_id, stage.remote_id, archive_reason_id=archive_reason_id
        )

    # Roles -------------------------------------------------------------------------------

    def job_update(self, event: OutboxEvent) -> None:
        role = Role.objects.filter(
            pk=event.record_id, organization_id=event.organization_id
        ).first()
        if role is None or not role.remote_id:
            raise DeliveryRejected("The role is not an Ashby job, so the edit stays in Lavalier.")
        fields = set(event.payload.get("fields") or [])
        body = {}
        if "title" in fields:
            body["title"] = role.title
        if "department" in fields:
            body["teamId"] = self._reference_id("departments", role.department, "department")
        if "location" in fields:
            body["locationId"] = self._reference_id("locations", role.location, "location")
        if body:
            self.client.job_update(role.remote_id, **body)

    def _reference_id(self, option: str, name: str, noun: str) -> str:
        for entry in self.integration.options.get(option, []):
            if entry.get("name") == name:
                return entry["id"]
        raise DeliveryRejected(
            f"Ashby has no {noun} named “{name}”. "
            f"Choose a {noun} that exists in Ashby, or add it there first."
        )


def deliver_event(integration: Integration, event: OutboxEvent, client: AshbyClient) -> None:
    """Push one event; raise the provider-neutral errors the outbox acts on."""
    try:
        AshbyWriter(integration, client).deliver(event)
    except AshbyError as exc:
        raise translate_write_error(exc) from exc
