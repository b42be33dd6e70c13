"""Ashby as a Lavalier ATS provider: credential checks and the entry point of the sync."""

from __future__ import annotations

import logging

from django.conf import settings

from integrations.providers import (
    ConnectError,
    IntegrationAuthError,
    Provider,
    TransientSyncError,
    VerifiedCredential,
)

from .client import AshbyClient, timeout_with_read
from .errors import (
    AshbyAuthError,
    AshbyCursorExpired,
    AshbyError,
    AshbyPermissionError,
    AshbyRateLimited,
    AshbyResponseError,
    AshbyServerError,
    AshbyUnavailable,
)

logger = logging.getLogger(__name__)

KEYS_PAGE = "Admin → Integrations → API Keys"

# Scopes (as apiKey.info lists them) that the sync and the write-back need, with the
# module names Ashby's key settings show.
REQUIRED_SCOPES: dict[str, str] = {
    "jobs:read": "Jobs (read)",
    "candidates:read": "Candidates (read)",
    "interviews:read": "Interviews (read)",
    "hiringProcessMetadata:read": "Hiring Process Metadata (read)",
    "organization:read": "Organization (read)",
    "offers:read": "Offers (read)",
    "apiKeys:read": "API Keys (read)",
    "approvals:read": "Approvals (read)",
    "jobs:write": "Jobs (write)",
    "candidates:write": "Candidates (write)",
}
# Endpoint permission names (as Ashby's errors name them) mapped to the same labels.
PERMISSION_LABELS = {
    "jobsRead": "Jobs (read)",
    "jobsWrite": "Jobs (write)",
    "candidatesRead": "Candidates (read)",
    "candidatesWrite": "Candidates (write)",
    "interviewsRead": "Interviews (read)",
    "hiringProcessMetadataRead": "Hiring Process Metadata (read)",
    "organizationRead": "Organization (read)",
    "offersRead": "Offers (read)",
    "apiKeysRead": "API Keys (read)",
    "approvalsRead": "Approvals (read)",
}

INVALID_KEY_MESSAGE = (
    "Unable to connect: the API key is not valid. Copy it again from Ashby "
    f"({KEYS_PAGE}). Ashby shows a key only once, so create a new key if you no longer have it."
)
DEACTIVATED_KEY_MESSAGE = (
    "Unable to connect: this API key was deactivated in Ashby, and a deactivated key cannot "
    f"be turned back on. Create a new key in Ashby ({KEYS_PAGE}) and paste it here."
)
UNREACHABLE_MESSAGE = (
    "Unable to connect: Ashby could not be reached. Check your connection and try again in "
    "a few minutes."
)
KEY_REJECTED_MESSAGE = "Unable to connect: the API key was rejected by Ashby. Update the key."


def missing_permissions_message(labels: list[str]) -> str:
    listed = ", ".join(labels)
    noun = "permission" if len(labels) == 1 else "permissions"
    return (
        f"Unable to connect: the API key is missing the {noun} {listed}. In Ashby, open "
        f"{KEYS_PAGE}, select this key, click Configure API Key Permissions, turn on "
        f"{listed}, save, and connect again."
    )


def make_client(credential: str, **options) -> AshbyClient:
    read_timeout = getattr(settings, "ASHBY_READ_TIMEOUT_SECONDS", None)
    if read_timeout and "timeout" not in options:
        options["timeout"] = timeout_with_read(read_timeout)
    return AshbyClient(credential, base_url=settings.ASHBY_API_URL, **options)


def translate_sync_error(exc: AshbyError) -> Exception:
    """Turn a client error raised during a sync into the provider-neutral error."""
    if isinstance(exc, AshbyAuthError):
        code = "auth_deactivated" if exc.reason == "deactivated" else "auth_invalid"
        return IntegrationAuthError(KEY_REJECTED_MESSAGE, code=code)
    if isinstance(exc, AshbyPermissionError):
        label = PERMISSION_LABELS.get(exc.permission or "", exc.permission or "a permission")
        return IntegrationAuthError(
            f"Unable to sync: the API key is missing the permission {label}, which "
            f"{exc.endpoint or 'an endpoint'} needs. In Ashby, open {KEYS_PAGE}, select this "
            "key, click Configure API Key Permissions, turn it on, then click Sync now.",
            code="permission",
        )
    if isinstance(exc, (AshbyUnavailable, AshbyServerError, AshbyRateLimited)):
        return TransientSyncError(
            "Ashby could not be reached or kept failing "
            f"({exc.endpoint or 'request'}). Lavalier tries again on the next scheduled "
            "sync; you can also click Sync now.",
            code="unavailable",
        )
    if isinstance(exc, AshbyCursorExpired):
        return TransientSyncError(
            "Ashby kept expiring the page cursor of a list. Lavalier tries again on the next "
            "scheduled sync.",
            code="cursor_expired",
        )
    if isinstance(exc, AshbyResponseError):
        return TransientSyncError(
            f"Ashby sent a response Lavalier could not read ({exc.endpoint}). Lavalier tries "
            "again on the next scheduled sync.",
            code="bad_response",
        )
    return TransientSyncError(
        f"Ashby rejected a sync request ({exc.endpoint}: {exc.code or 'error'}). Lavalier tries "
        "again on the next scheduled sync.",
        code="request_error",
    )


MANAGED_IN_ASHBY = (
    "Managed in Ashby. Update this candidate in Ashby and the change will sync to Lavalier."
)


class AshbyProvider(Provider):
    slug = "ashby"
    display_name = "Ashby"
    # candidate.update has no position or company field. It does take a location, but
    # Lavalier keeps it read-only too, so that Ashby stays the one place to change it.
    read_only_candidate_fields = {
        "title": MANAGED_IN_ASHBY,
        "company": MANAGED_IN_ASHBY,
        "location": MANAGED_IN_ASHBY,
    }
    read_only_role_fields = {
        "work_type": "Work Type reflects the Employment Type set on the job in Ashby.",
    }
    pushed_candidate_fields = frozenset(
        {"name", "email_addresses", "phone_numbers", "social_links"}
    )
    # job.update takes a title, a team (department) and a location; the description lives
    # on Ashby's job postings, so edits to it stay in Lavalier.
    pushed_role_fields = frozenset({"title", "department", "location"})
    credential_label = "API key"
    credential_help = (
        f"Create a key in Ashby under {KEYS_PAGE} with read access to Jobs, Candidates, "
        "Interviews, Hiring Process Metadata, Organization, Offers, API Keys and Approvals, "
        "and write access to Jobs and Candidates."
    )

    def verify_credential(self, credential: str) -> VerifiedCredential:
        try:
            with make_client(credential, max_retries=2, backoff_cap=2.0) as client:
                info = client.api_key_info()
        except ValueError:
            raise ConnectError(INVALID_KEY_MESSAGE, code="auth_invalid") from None
        except AshbyAuthError as exc:
            if exc.reason == "deactivated":
                raise ConnectError(DEACTIVATED_KEY_MESSAGE, code="auth_deactivated") from None
            raise ConnectError(INVALID_KEY_MESSAGE, code="auth_invalid") from None
        except AshbyPermissionError:
            raise ConnectError(
                missing_permissions_message([REQUIRED_SCOPES["apiKeys:read"]]), code="permission"
            ) from None
        except (AshbyUnavailable, AshbyServerError, AshbyRateLimited):
            raise ConnectError(UNREACHABLE_MESSAGE, code="unavailable") from None
        except AshbyError as exc:
            logger.warning(
                "apiKey.info failed at connect",
                extra={"code": exc.code, "request_id": exc.request_id},
            )
            raise ConnectError(
                "Unable to connect: Ashby sent an unexpected response while checking the key. "
                "Try again; if it keeps happening, contact support.",
                code="unexpected",
            ) from None

        scopes = info.get("scopes")
        if not isinstance(scopes, list):
            scopes = []
        granted = {str(scope) for scope in scopes}
        missing = [label for scope, label in REQUIRED_SCOPES.items() if scope not in granted]
        if missing:
            raise ConnectError(missing_permissions_message(missing), code="permission")
        return VerifiedCredential(title=str(info.get("title") or ""), scopes=tuple(sorted(granted)))

    def deliver(self, integration, event) -> None:
        from integrations.services import integration_credential

        from .writeback import deliver_event

        with make_client(integration_credential(integration), max_retries=3) as client:
            deliver_event(integration, event, client)

    def run_sync(self, integration, run, recorder) -> None:
        from integrations.services import integration_credential

        from .sync import AshbySync

        try:
            with make_client(integration_credential(integration)) as client:
                AshbySync(integration, run, recorder, client).run()
        except AshbyError as exc:
            raise translate_sync_error(exc) from exc
