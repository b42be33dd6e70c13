"""Pushing Lavalier's changes to Greenhouse, one outbox event at a time.

Each handler reads the record's current values, so a later edit supersedes an earlier
one, and is safe to run again for the same event. Creates reconcile first on a retried
event (`attempts` > 1): a candidate is looked up among the candidates Greenhouse created
since the event was written, and an application by candidate and job, so a create that
reached Greenhouse before a timeout or a worker crash is adopted instead of made twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import PurePath

from django.db import IntegrityError, transaction
from django.utils import timezone

from candidates.models import Application, Candidate
from integrations.models import Integration, OutboxEvent
from integrations.outbox import event_application, event_candidate
from integrations.providers import DeliveryRejected, IntegrationAuthError
from roles.models import Role

from .client import GreenhouseClient, harvest_time
from .errors import (
    GreenhouseAuthError,
    GreenhouseError,
    GreenhouseNotFound,
    GreenhousePermissionError,
    GreenhouseRequestError,
)

logger = logging.getLogger(__name__)

PROVIDER = "greenhouse"
EMAIL_TYPES = {"personal", "work", "other"}
PHONE_TYPES = {"home", "work", "mobile", "skype", "other"}
# How far before the event the reconciling lookup of a created candidate starts.
RECONCILE_WINDOW = timedelta(minutes=10)


def translate_write_error(exc: GreenhouseError) -> Exception:
    """Map a client error during a push to what the outbox does next."""
    from .provider import CREDENTIAL_REJECTED_MESSAGE, CREDENTIALS_PAGE, translate_sync_error

    if isinstance(exc, GreenhouseAuthError):
        return IntegrationAuthError(CREDENTIAL_REJECTED_MESSAGE, code="auth_invalid")
    if isinstance(exc, GreenhousePermissionError):
        return IntegrationAuthError(
            f"Unable to send changes to Greenhouse: the credential is missing the scope "
            f"{exc.scope or 'that the change needs'}. In Greenhouse, open {CREDENTIALS_PAGE}, edit "
            "this credential, click Manage Scopes and turn it on. Waiting changes are sent once it "
            "is fixed.",
            code="permission",
        )
    if isinstance(exc, GreenhouseNotFound):
        return DeliveryRejected(
            "This record no longer exists in Greenhouse, so the change could not be sent. It may "
            "have been merged or deleted there.",
            code="not_found",
        )
    if isinstance(exc, GreenhouseRequestError):
        return DeliveryRejected(f"Greenhouse rejected the change: {exc.message}", code="rejected")
    return translate_sync_error(exc)


def _split_name(name: str) -> tuple[str, str]:
    """Split a full name into Greenhouse's first and last name (the last name may be empty)."""
    first, _, last = name.strip().partition(" ")
    return first, last.strip()


def _typed(contacts: list[dict], allowed: set[str], default: str) -> list[dict]:
    """Contacts in Greenhouse's {value, type} form, primary first."""
    ordered = sorted(contacts or [], key=lambda entry: not entry.get("is_primary"))
    return [
        {
            "value": entry["value"],
            "type": (entry.get("type") or "").lower()
            if (entry.get("type") or "").lower() in allowed
            else default,
        }
        for entry in ordered
        if entry.get("value")
    ]


# NOTE: the field names of Harvest v3 candidate writes are not documented; they are assumed
# to keep v1's names (arrays replace the whole list) with v3's flattening. Every candidate
# body Lavalier sends is built here, so this is the one place to correct them.
def candidate_body(candidate: Candidate, fields: set[str]) -> dict:
    body: dict = {}
    if "name" in fields:
        body["first_name"], body["last_name"] = _split_name(candidate.name)
    if "title" in fields:
        body["title"] = candidate.title or None
    if "company" in fields:
        body["company"] = candidate.company or None
    if "email_addresses" in fields:
        body["email_addresses"] = _typed(candidate.email_addresses, EMAIL_TYPES, "personal")
    if "phone_numbers" in fields:
        body["phone_numbers"] = _typed(candidate.phone_numbers, PHONE_TYPES, "mobile")
    if "social_links" in fields:
        links = [link for link in candidate.social_links or [] if link.get("url")]
        body["social_media_addresses"] = [
            {"value": link["url"]} for link in links if link.get("type") != "Website"
        ]
        body["website_addresses"] = [
            {"value": link["url"], "type": "personal"}
            for link in links
            if link.get("type") == "Website"
        ]
    return body


class GreenhouseWriter:
    """Delivers the events of one integration with one client."""

    def __init__(self, integration: Integration, client: GreenhouseClient):
        self.integration = integration
        self.client = client

    @property
    def default_source_id(self) -> int | None:
        value = self.integration.options.get("default_source_id")
        return int(value) if value else None

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
            raise DeliveryRejected(
                f"Lavalier cannot send changes of kind {event.kind} to Greenhouse."
            )
        handler(event)

    def _candidate(self, event: OutboxEvent) -> Candidate:
        return event_candidate(event)

    # Candidates ---------------------------------------------------------------------------

    def candidate_create(self, event: OutboxEvent) -> None:
        """Create the candidate, then its application, then attach the resume to it.

        Greenhouse attaches files to an application, not to a candidate, so the resume
        follows the application. A candidate created without a role gets a prospect
        application to carry the resume.
        """
        candidate = self._candidate(event)
        if not candidate.remote_id:
            remote = self._find_created_candidate(candidate, event) if event.attempts > 1 else None
            if remote is None:
                body = candidate_body(
                    candidate,
                    {
                        "name",
                        "title",
                        "company",
                        "email_addresses",
                        "phone_numbers",
                        "social_links",
                    },
                )
                remote = self.client.candidate_create(body)
            self._link_candidate(candidate, str(remote["id"]))

        application_remote_id = None
        role_id = event.payload.get("role_id")
        if role_id:
            application = (
                Application.objects.filter(
                    organization_id=candidate.organization_id, candidate=candidate, role_id=role_id
                )
                .select_related("role", "stage")
                .first()
            )
            if application is not None:
                if not application.remote_id:
                    self._create_application(
                        application, candidate.remote_id, retried=event.attempts > 1
                    )
                    application.refresh_from_db()
                application_remote_id = application.remote_id
        if candidate.resume and not event.payload.get("resume_uploaded"):
            if application_remote_id is None:
                application_remote_id = self._resume_application(candidate, event)
            self._upload_resume(candidate, application_remote_id)
            OutboxEvent.objects.filter(pk=event.pk).update(
                payload={**event.payload, "resume_uploaded": True}
            )
        Candidate.objects.filter(pk=candidate.pk).update(creation_pending=False)

    def _resume_application(self, candidate: Candidate, event: OutboxEvent) -> str:
        """Return the application to attach the resume to: an existing one, or a new prospect one."""
        existing = self._remote_applications(candidate.remote_id)
        if existing:
            return str(existing[0]["id"])
        remote = self.client.application_create(
            {"candidate_id": int(candidate.remote_id), "prospect": True}
        )
        return str(remote["id"])

    def _find_created_candidate(self, candidate: Candidate, event: OutboxEvent) -> dict | None:
        """Find the Greenhouse candidate an earlier, interrupted attempt created, if any."""
        emails = {
            entry.get("value", "").lower()
            for entry in candidate.email_addresses or []
            if entry.get("value")
        }
        first, last = _split_name(candidate.name)
        since = harvest_time(event.created_at - RECONCILE_WINDOW)
        for remote in self.client.list("candidates", created_at=f"gte|{since}").records():
            remote_emails = {
                (e.get("value") or "").lower()
                for e in remote.get("email_addresses") or []
                if isinstance(e, dict)
            }
            same_name = (
                remote.get("first_name") == first and (remote.get("last_name") or "") == last
            )
            if same_name and (not emails or emails & remote_emails):
                logger.info(
                    "adopted candidate created by an earlier attempt",
                    extra={"candidate_id": candidate.pk, "integration_id": self.integration.pk},
                )
                return remote
        return None

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
                "Greenhouse already has this candidate, and Lavalier shows it as "
                f"{other.name if other else 'another candidate'}. Delete this copy and use that one."
            ) from None
        candidate.provider = PROVIDER
        candidate.remote_id = remote_id
        candidate.is_linked = True

    def candidate_update(self, event: OutboxEvent) -> None:
        candidate = self._candidate(event)
        if not candidate.remote_id:
            raise DeliveryRejected(
                "The candidate is not in Greenhouse yet, so the edit could not be sent."
            )
        body = candidate_body(candidate, set(event.payload.get("fields") or []))
        if body:
            self.client.candidate_update(candidate.remote_id, body)

    def candidate_upload_resume(self, event: OutboxEvent) -> None:
        candidate = self._candidate(event)
        if not candidate.remote_id:
            raise DeliveryRejected(
                "The candidate is not in Greenhouse yet, so the resume could not be sent."
            )
        if not candidate.resume:
            return
        local = (
            Application.objects.filter(
                candidate=candidate, provider=PROVIDER, is_linked=True, remote_id__isnull=False
            )
            .order_by("-applied_at", "-pk")
            .values_list("remote_id", flat=True)
            .first()
        )
        self._upload_resume(candidate, local or self._resume_application(candidate, event))

    def _upload_resume(self, candidate: Candidate, application_remote_id: str) -> None:
        with candidate.resume.open("rb") as handle:
            content = handle.read()
        filename = PurePath(candidate.resume_name or candidate.resume.name).name or "resume.pdf"
        attachment = self.client.attachment_create(
            application_id=application_remote_id,
            filename=filename,
            attachment_type="resume",
            content=content,
        )
        if attachment.get("id"):
            # The stored file is the one Greenhouse now has, so the next sync need not fetch it.
            Candidate.objects.filter(pk=candidate.pk).update(
                resume_remote_id=str(attachment["id"]),
                remote_resume={
                    "id": str(attachment["id"]),
                    "name": attachment.get("filename", ""),
                    "created_at": attachment.get("created_at", ""),
                },
            )

    # Applications --------------------------------------------------------------------------

    def application_create(self, event: OutboxEvent) -> None:
        application = event_application(event)
        if application.remote_id:
            return
        if not application.candidate.remote_id:
            raise DeliveryRejected(
                "The candidate is not in Greenhouse yet, so the application could not be sent."
            )
        self._create_application(
            application, application.candidate.remote_id, retried=event.attempts > 1
        )

    def _remote_applications(
        self, candidate_remote_id: str, job_remote_id: str | None = None
    ) -> list[dict]:
        filters = {"candidate_ids": [candidate_remote_id]}
        if job_remote_id:
            filters["job_ids"] = [job_remote_id]
        return list(self.client.list("applications", **filters).records())

    def _create_application(
        self, application: Application, candidate_remote_id: str, *, retried: bool
    ) -> None:
        role = application.role
        if not role.remote_id or role.provider != PROVIDER:
            raise DeliveryRejected(
                f"{role.title} is not a Greenhouse job, so the application stays in Lavalier."
            )
        existing = self._remote_applications(candidate_remote_id, role.remote_id) if retried else []
        remote = existing[0] if existing else None
        if remote is None:
            body = {"candidate_id": int(candidate_remote_id), "job_id": int(role.remote_id)}
            if self.default_source_id:
                body["source_id"] = self.default_source_id
            if application.stage is not None and application.stage.remote_id:
                body["initial_stage_id"] = int(application.stage.remote_id)
            try:
                remote = self.client.application_create(body)
            except GreenhouseRequestError as exc:
                # A candidate has at most one application per job: adopt it if it exists.
                found = self._remote_applications(candidate_remote_id, role.remote_id)
                if not found:
                    raise translate_write_error(exc) from exc
                remote = found[0]
        Application.objects.filter(pk=application.pk).update(
            provider=PROVIDER,
            remote_id=str(remote["id"]),
            is_linked=True,
            last_synced_at=timezone.now(),
        )

    def application_change_stage(self, event: OutboxEvent) -> None:
        application = (
            Application.objects.filter(pk=event.record_id, organization_id=event.organization_id)
            .select_related("stage")
            .first()
        )
        if application is None or not application.remote_id:
            raise DeliveryRejected(
                "The application is not in Greenhouse, so the stage change stays in Lavalier."
            )
        stage = application.stage
        if stage is None or not stage.remote_id:
            raise DeliveryRejected(
                "The stage is not a Greenhouse stage, so the move stays in Lavalier."
            )
        self.client.application_move(application.remote_id, to_stage_id=stage.remote_id)

    # Roles -------------------------------------------------------------------------------

    def job_update(self, event: OutboxEvent) -> None:
        role = Role.objects.filter(
            pk=event.record_id, organization_id=event.organization_id
        ).first()
        if role is None or not role.remote_id:
            raise DeliveryRejected(
                "The role is not a Greenhouse job, so the edit stays in Lavalier."
            )
        fields = set(event.payload.get("fields") or [])
        body: dict = {}
        if "title" in fields:
            body["name"] = role.title
        if "department" in fields:
            body["department_id"] = (
                int(self._reference_id("departments", role.department, "department"))
                if role.department
                else None
            )
        if "location" in fields:
            names = [name.strip() for name in role.location.split(",") if name.strip()]
            body["office_ids"] = [
                int(self._reference_id("offices", name, "office")) for name in names
            ]
        if body:
            self.client.job_update(role.remote_id, body)

    def _reference_id(self, option: str, name: str, noun: str) -> str:
        for entry in self.integration.options.get(option, []):
            if entry.get("name") == name:
                return entry["id"]
        raise DeliveryRejected(
            f"Greenhouse has no {noun} named “{name}”. Choose a {noun} that exists in Greenhouse, "
            "or add it there first."
        )


def deliver_event(integration: Integration, event: OutboxEvent, client: GreenhouseClient) -> None:
    """Push one event; raise the provider-neutral errors the outbox acts on."""
    try:
        GreenhouseWriter(integration, client).deliver(event)
    except GreenhouseError as exc:
        raise translate_write_error(exc) from exc
