"""Connecting, disconnecting and syncing an organization's ATS.

Each public function is the outermost transaction of its change, records an audit row
and queues Celery work only after commit. None of them logs or stores a credential in
clear text.
"""

from __future__ import annotations

import logging
import time

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Organization
from accounts.services import audit_record
from candidates.models import Application, Candidate
from roles.models import InterviewPlan, JobPost, PipelineStage, Role

from . import crypto
from .models import Integration, SyncRun
from .outbox import outbox_adopt_waiting, queue_delivery
from .providers import ConnectError, IntegrationAuthError, TransientSyncError, get_provider
from .sync_runs import RunRecorder, SyncHalted, halt_abandoned_runs, lock_acquire, lock_release

logger = logging.getLogger(__name__)

SYNCED_MODELS = (InterviewPlan, PipelineStage, Role, JobPost, Candidate, Application)


def another_active_message(provider_name: str) -> str:
    return (
        "Another ATS integration is currently active. "
        f"Disconnect it first to connect {provider_name}."
    )


def clean_credential(raw: str) -> str:
    """Strip the spaces and line breaks that copying a key from a web page tends to add."""
    return (raw or "").strip()


def _queue_sync(integration_id: int, *, trigger: str, full: bool) -> None:
    from .tasks import sync_integration

    transaction.on_commit(
        lambda: sync_integration.delay(integration_id, trigger=trigger, full=full)
    )


def integration_connect(
    *, organization: Organization, actor, provider_slug: str, credential: str
) -> Integration:
    """Verify a credential, store it encrypted and queue the first full sync.

    Raises ConnectError with the message for the Owner; nothing is saved then. The
    one-active-integration rule is checked first, to fail fast, and enforced by a
    partial unique constraint, so two simultaneous connects cannot both succeed.
    """
    provider = get_provider(provider_slug)
    credential = clean_credential(credential)
    if not credential:
        raise ConnectError(
            f"Unable to connect: paste the {provider.credential_label} first.", code="empty"
        )
    if Integration.objects.filter(organization=organization, is_active=True).exists():
        raise ConnectError(another_active_message(provider.display_name), code="another_active")

    verified = provider.verify_credential(credential)
    # Owner settings survive a disconnect: a reconnect to the same provider keeps them.
    previous = (
        Integration.objects.filter(
            organization=organization, provider=provider.slug, is_active=False
        )
        .order_by("-connected_at")
        .first()
    )
    kept_options = {
        key: value
        for key, value in (previous.options if previous else {}).items()
        if key in provider.owner_option_keys
    }

    try:
        with transaction.atomic():
            integration = Integration.objects.create(
                options=kept_options,
                organization=organization,
                provider=provider.slug,
                state=Integration.State.SYNCING,
                encrypted_credential=crypto.encrypt(credential),
                credential_last4=provider.credential_hint(credential)[:4],
                credential_title=verified.title[:200],
                connected_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            audit_record(
                organization=organization,
                actor=actor,
                action="integration.connect",
                target=provider.slug,
                details={"integration_id": integration.pk},
            )
            for record_type, record_id in outbox_adopt_waiting(integration):
                queue_delivery(record_type, record_id)
            _queue_sync(integration.pk, trigger=SyncRun.Trigger.CONNECT, full=True)
    except IntegrityError:
        raise ConnectError(
            another_active_message(provider.display_name), code="another_active"
        ) from None
    logger.info(
        "integration connected",
        extra={"organization_id": organization.pk, "integration_id": integration.pk},
    )
    return integration


def integration_update_credential(
    *, organization: Organization, actor, credential: str
) -> Integration:
    """Replace the stored credential of the active integration, keeping its data.

    Raises ConnectError (nothing changes) and Integration.DoesNotExist.
    """
    integration = Integration.objects.get(organization=organization, is_active=True)
    provider = get_provider(integration.provider)
    credential = clean_credential(credential)
    if not credential:
        raise ConnectError(
            f"Unable to connect: paste the {provider.credential_label} first.", code="empty"
        )
    verified = provider.verify_credential(credential)
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(pk=integration.pk, is_active=True)
        integration.encrypted_credential = crypto.encrypt(credential)
        integration.credential_last4 = provider.credential_hint(credential)[:4]
        integration.credential_title = verified.title[:200]
        integration.error_code = ""
        integration.error_message = ""
        if integration.state == Integration.State.ERROR:
            integration.state = (
                Integration.State.CONNECTED
                if integration.last_synced_at
                else Integration.State.SYNCING
            )
        integration.save()
        audit_record(
            organization=organization,
            actor=actor,
            action="integration.update_key",
            target=integration.provider,
            details={"integration_id": integration.pk},
        )
        _queue_sync(
            integration.pk,
            trigger=SyncRun.Trigger.MANUAL,
            full=integration.last_full_sync_at is None,
        )
    return integration


def integration_disconnect(*, organization: Organization, actor) -> Integration:
    """Stop syncing, erase the credential and unlink the synced records.

    The records stay for recruiters with `is_linked` false; a reconnect to the same
    account links them again by remote id. A run in progress halts at its next page,
    because it renews its lock only while the integration is active. Waiting outbox rows
    stay waiting, and so do edits made while disconnected: a reconnect to the same
    provider sends them.
    """
    with transaction.atomic():
        integration = Integration.objects.select_for_update().get(
            organization=organization, is_active=True
        )
        integration.is_active = False
        integration.state = Integration.State.DISCONNECTED
        integration.encrypted_credential = ""
        integration.disconnected_at = timezone.now()
        integration.sync_lock_token = ""
        integration.sync_lock_expires_at = None
        integration.save()
        for model in SYNCED_MODELS:
            model.objects.filter(organization=organization, provider=integration.provider).update(
                is_linked=False
            )
        # Waiting outbox rows stay waiting: a reconnect to the same provider sends them.
        audit_record(
            organization=organization,
            actor=actor,
            action="integration.disconnect",
            target=integration.provider,
            details={"integration_id": integration.pk},
        )
    logger.info(
        "integration disconnected",
        extra={"organization_id": organization.pk, "integration_id": integration.pk},
    )
    return integration


def integration_request_sync(
    *, organization: Organization, actor, full: bool = False
) -> Integration:
    """Queue a sync of the active integration ("Sync now"). Raises Integration.DoesNotExist."""
    integration = Integration.objects.get(organization=organization, is_active=True)
    with transaction.atomic():
        audit_record(
            organization=organization,
            actor=actor,
            action="integration.sync_now",
            target=integration.provider,
            details={"integration_id": integration.pk, "full": full},
        )
        _queue_sync(integration.pk, trigger=SyncRun.Trigger.MANUAL, full=full)
    return integration


@transaction.atomic
def integration_set_default_source(
    *, organization: Organization, actor, source_id: str
) -> Integration:
    """Set (or clear, with "") the source new applications carry in the ATS.

    Raises ValueError for a source the ATS did not list in the last sync, and
    Integration.DoesNotExist without an active integration.
    """
    integration = Integration.objects.select_for_update().get(
        organization=organization, is_active=True
    )
    sources = {s["id"]: s for s in integration.options.get("sources", [])}
    if source_id and source_id not in sources:
        raise ValueError(
            "That source is not in the list from the last sync. Sync now and choose again."
        )
    integration.options = {**integration.options, "default_source_id": source_id}
    integration.save(update_fields=["options"])
    audit_record(
        organization=organization,
        actor=actor,
        action="integration.default_source",
        target=integration.provider,
        details={"integration_id": integration.pk, "source_id": source_id},
    )
    return integration


def integration_credential(integration: Integration) -> str:
    """Decrypt the stored credential for a provider call; never log the result."""
    return crypto.decrypt(integration.encrypted_credential)


def _finish(run: SyncRun, outcome: str, *, code: str = "", message: str = "") -> None:
    run.outcome = outcome
    run.finished_at = timezone.now()
    run.error_code = code
    run.error_message = message
    run.save(
        update_fields=[
            "outcome",
            "finished_at",
            "error_code",
            "error_message",
            "counts",
            "progress",
        ]
    )


def integration_sync_run(
    integration_id: int, *, trigger: str, full: bool = False
) -> SyncRun | None:
    """Run one sync of an integration in this process and return its record.

    Returns None, doing nothing, when the integration is gone or inactive or another run
    holds the organization's lock. Safe to run twice: upserts key on remote ids, and a
    sync token is stored only after the pass it ends was saved.
    """
    integration = Integration.objects.filter(pk=integration_id, is_active=True).first()
    if integration is None:
        logger.info("sync skipped: integration inactive", extra={"integration_id": integration_id})
        return None
    token = lock_acquire(integration.pk)
    if token is None:
        logger.info(
            "sync skipped: another run has the lock",
            extra={
                "integration_id": integration.pk,
                "organization_id": integration.organization_id,
            },
        )
        return None

    started = time.monotonic()
    try:
        halt_abandoned_runs(integration)
        full = full or integration.last_full_sync_at is None
        run = SyncRun.objects.create(
            organization_id=integration.organization_id,
            integration=integration,
            trigger=trigger,
            is_full=full,
        )
        recorder = RunRecorder(run, token)
        provider = get_provider(integration.provider)
        try:
            provider.run_sync(integration, run, recorder)
        except SyncHalted as exc:
            run.counts = dict(recorder.counts)
            _finish(run, SyncRun.Outcome.HALTED, code="halted", message=str(exc))
        except IntegrationAuthError as exc:
            run.counts = dict(recorder.counts)
            _finish(run, SyncRun.Outcome.FAILURE, code=exc.code, message=exc.message)
            Integration.objects.filter(pk=integration.pk, is_active=True).update(
                state=Integration.State.ERROR, error_code=exc.code, error_message=exc.message
            )
        except TransientSyncError as exc:
            run.counts = dict(recorder.counts)
            _finish(run, SyncRun.Outcome.FAILURE, code=exc.code, message=exc.message)
            if integration.last_synced_at is None:
                Integration.objects.filter(pk=integration.pk, is_active=True).update(
                    state=Integration.State.ERROR, error_code=exc.code, error_message=exc.message
                )
        except Exception:
            logger.exception(
                "sync failed with an unexpected error",
                extra={"integration_id": integration.pk, "run_id": run.pk},
            )
            # A dropped database connection stays broken until closed; closing it lets the
            # writes below reconnect, so the run is recorded and the lock released.
            connection.close_if_unusable_or_obsolete()
            run.counts = dict(recorder.counts)
            _finish(
                run,
                SyncRun.Outcome.FAILURE,
                code="unexpected",
                message="The sync stopped on an unexpected error. Lavalier retries on the next "
                "scheduled sync; if it keeps failing, contact support with the run id.",
            )
        else:
            run.counts = dict(recorder.counts)
            run.progress = {}
            _finish(run, SyncRun.Outcome.SUCCESS)
            now = timezone.now()
            fields = {
                "state": Integration.State.CONNECTED,
                "last_synced_at": now,
                "error_code": "",
                "error_message": "",
            }
            if full:
                fields["last_full_sync_at"] = now
            Integration.objects.filter(pk=integration.pk, is_active=True).update(**fields)
    finally:
        lock_release(integration.pk, token)

    logger.info(
        "sync run finished",
        extra={
            "organization_id": integration.organization_id,
            "integration_id": integration.pk,
            "run_id": run.pk,
            "outcome": run.outcome,
            "error_code": run.error_code,
            "full": full,
            "counts": run.counts,
            "duration_s": round(time.monotonic() - started, 3),
        },
    )
    return run


def integration_sync_locked(integration_id: int) -> bool:
    """Return True while a sync of this active integration holds an unexpired lock."""
    return Integration.objects.filter(
        pk=integration_id, is_active=True, sync_lock_expires_at__gt=timezone.now()
    ).exists()


def integrations_due_for_sync() -> list[int]:
    """Ids of active integrations that scheduled syncs should run for.

    A rejected credential stops scheduling until an Owner updates it.
    """
    return list(
        Integration.objects.filter(is_active=True)
        .exclude(state=Integration.State.ERROR, error_code__in=AUTH_ERROR_CODES)
        .values_list("pk", flat=True)
    )


AUTH_ERROR_CODES = ("auth", "auth_invalid", "auth_deactivated", "permission")
