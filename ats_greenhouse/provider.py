"""Greenhouse (Harvest v3) as a Lavalier ATS provider: the Connect dialog, credential
checks and the entry points of the sync and the write-back."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.conf import settings

from integrations.providers import (
    ConnectError,
    CredentialField,
    IntegrationAuthError,
    Provider,
    ProviderSetting,
    TransientSyncError,
    VerifiedCredential,
)

from .client import READ_SCOPES, WRITE_SCOPES, GreenhouseClient
from .errors import (
    GreenhouseAuthError,
    GreenhouseError,
    GreenhouseNotFound,
    GreenhousePermissionError,
    GreenhouseRateLimited,
    GreenhouseResponseError,
    GreenhouseServerError,
    GreenhouseUnavailable,
    GreenhouseWriteOutcomeUnknown,
)

logger = logging.getLogger(__name__)

CREDENTIALS_PAGE = "Configure → Dev Center → API Credentials"
# Scopes the sync and the write-back use, in the order the message lists missing ones.
REQUIRED_SCOPES: tuple[str, ...] = (*READ_SCOPES.values(), *dict.fromkeys(WRITE_SCOPES.values()))

INVALID_CLIENT_MESSAGE = (
    "Unable to connect: Greenhouse rejected the client id or client secret. Copy both again "
    f"from the Harvest V3 (OAuth) credential in Greenhouse ({CREDENTIALS_PAGE}). Greenhouse shows "
    "a secret only once, so rotate it if you no longer have it."
)
UNREACHABLE_MESSAGE = (
    "Unable to connect: Greenhouse could not be reached. Check your connection and try again "
    "in a few minutes."
)
CREDENTIAL_REJECTED_MESSAGE = (
    "Unable to sync: Greenhouse rejected the stored credential. Update the client secret or "
    "the user id."
)


def invalid_user_message(user_id: str) -> str:
    return (
        f"Unable to connect: Greenhouse has no active user with the id {user_id}. Open the user "
        "in Greenhouse (Configure → Users) and copy the number at the end of the page address, "
        "/account/users/<id>."
    )


def missing_scopes_message(scopes: list[str]) -> str:
    noun = "scope" if len(scopes) == 1 else "scopes"
    listed = ", ".join(scopes)
    return (
        f"Unable to connect: the Greenhouse credential is missing the {noun} {listed}. In Greenhouse, "
        f"open {CREDENTIALS_PAGE}, edit this credential, click Manage Scopes, turn on {listed}, "
        "save, and connect again."
    )


@dataclass(frozen=True)
class GreenhouseCredential:
    client_id: str
    client_secret: str
    user_id: str

    @classmethod
    def parse(cls, credential: str) -> GreenhouseCredential:
        """Read the JSON that `credential_from_fields` stored. Raises ValueError."""
        data = json.loads(credential)
        if not isinstance(data, dict):
            raise ValueError("The Greenhouse credential is not a JSON object")
        values = [data.get(name) for name in ("client_id", "client_secret", "user_id")]
        if not all(isinstance(value, str) and value for value in values):
            raise ValueError("The Greenhouse credential lacks the client id, secret or user id")
        return cls(*values)


def make_client(credential: str, **options) -> GreenhouseClient:
    parsed = GreenhouseCredential.parse(credential)
    return GreenhouseClient(
        parsed.client_id,
        parsed.client_secret,
        parsed.user_id,
        api_url=settings.GREENHOUSE_API_URL,
        auth_url=settings.GREENHOUSE_AUTH_URL,
        **options,
    )


def translate_sync_error(exc: GreenhouseError) -> Exception:
    """Turn a client error raised during a sync into the provider-neutral error."""
    if isinstance(exc, GreenhouseAuthError):
        code = "auth_invalid" if exc.reason != "invalid_user" else "auth_deactivated"
        return IntegrationAuthError(CREDENTIAL_REJECTED_MESSAGE, code=code)
    if isinstance(exc, GreenhousePermissionError):
        scope = exc.scope or "a scope"
        return IntegrationAuthError(
            f"Unable to sync: the Greenhouse credential is missing the scope {scope}, which "
            f"{exc.endpoint or 'a request'} needs. In Greenhouse, open {CREDENTIALS_PAGE}, edit "
            "this credential, click Manage Scopes, turn it on, then click Sync now.",
            code="permission",
        )
    if isinstance(
        exc,
        (
            GreenhouseUnavailable,
            GreenhouseServerError,
            GreenhouseRateLimited,
            GreenhouseWriteOutcomeUnknown,
        ),
    ):
        return TransientSyncError(
            f"Greenhouse could not be reached or kept failing ({exc.endpoint or 'request'}). "
            "Lavalier tries again on the next scheduled sync; you can also click Sync now.",
            code="unavailable",
        )
    if isinstance(exc, GreenhouseResponseError):
        return TransientSyncError(
            f"Greenhouse sent a response Lavalier could not read ({exc.endpoint}). Lavalier tries "
            "again on the next scheduled sync.",
            code="bad_response",
        )
    return TransientSyncError(
        f"Greenhouse rejected a sync request ({exc.endpoint}: {exc.message}). Lavalier tries again "
        "on the next scheduled sync.",
        code="request_error",
    )


MANAGED_IN_GREENHOUSE = (
    "Managed in Greenhouse. Update this candidate's address in Greenhouse and the change will "
    "sync to Lavalier."
)


class GreenhouseProvider(Provider):
    slug = "greenhouse"
    display_name = "Greenhouse"
    credential_label = "credential"
    credential_fields = (
        CredentialField("client_id", "Client ID", secret=False),
        CredentialField("client_secret", "Client secret"),
        CredentialField(
            "user_id",
            "User ID",
            secret=False,
            help_text="Lavalier's edits appear in Greenhouse as made by this user: the number at "
            "the end of the user's page address, /account/users/<id>.",
        ),
    )
    credential_help = (
        f"In Greenhouse, open {CREDENTIALS_PAGE}, click Create new API credentials, choose "
        "Harvest V3 (OAuth), and under Manage Scopes allow listing jobs, job posts, job "
        "interview stages, applications, candidates, attachments, sources, rejection reasons, "
        "departments, offices and users, plus creating and updating candidates, updating jobs, "
        "creating and moving applications, and creating attachments."
    )
    # Lavalier's single location line has no writable counterpart: Greenhouse keeps
    # addresses as a typed list, so the location is read-only on linked candidates.
    read_only_candidate_fields = {"location": MANAGED_IN_GREENHOUSE}
    read_only_role_fields = {
        "work_type": "Work Type comes from the job custom field chosen on the Greenhouse card "
        "in Integrations. Change it on the job in Greenhouse.",
    }
    pushed_candidate_fields = frozenset(
        {"name", "title", "company", "email_addresses", "phone_numbers", "social_links"}
    )
    pushed_role_fields = frozenset({"title", "department", "location"})

    def credential_from_fields(self, values: dict[str, str]) -> str:
        cleaned = {}
        for field in self.credential_fields:
            single = Provider.credential_from_fields(
                _SingleField(field), {field.name: values.get(field.name, "")}
            )
            cleaned[field.name] = single
        if not cleaned["user_id"].isdigit():
            raise ConnectError(
                "Unable to connect: the User ID must be the number from the user's page address "
                "in Greenhouse, such as 4012345.",
                code="invalid_user_id",
            )
        return json.dumps(cleaned, sort_keys=True)

    def credential_hint(self, credential: str) -> str:
        try:
            return GreenhouseCredential.parse(credential).client_id[-4:]
        except ValueError:
            return ""

    owner_option_keys = frozenset({"default_source_id", "work_type_field"})

    def settings(self, integration) -> list[ProviderSetting]:
        """Add the job custom field that holds the employment type to the default settings."""
        fields = integration.options.get("job_custom_fields") or []
        work_type = ProviderSetting(
            name="work_type_field",
            label="Job custom field that holds the employment type",
            choices=(("", "None (Work Type stays empty)"),)
            + tuple((str(entry["id"]), entry["name"]) for entry in fields),
            value=str(integration.options.get("work_type_field") or ""),
            help_text="Greenhouse has no built-in employment type. Changing it runs a full sync.",
        )
        return [*super().settings(integration), work_type]

    def save_setting(self, *, organization, actor, name: str, value: str) -> None:
        from .services import greenhouse_set_work_type_field

        if name != "work_type_field":
            return super().save_setting(
                organization=organization, actor=actor, name=name, value=value
            )
        current = (
            organization.integrations.filter(is_active=True)
            .values_list("options", flat=True)
            .first()
            or {}
        )
        if str(current.get("work_type_field") or "") == value:
            return None
        greenhouse_set_work_type_field(organization=organization, actor=actor, field_key=value)
        return None

    def verify_credential(self, credential: str) -> VerifiedCredential:
        try:
            parsed = GreenhouseCredential.parse(credential)
        except ValueError:
            raise ConnectError(
                "Unable to connect: enter the Client ID, Client secret and User ID.", code="empty"
            ) from None
        try:
            with make_client(credential, max_retries=2, backoff_cap=2.0) as client:
                granted = client.token_scopes()
                if granted is None:
                    granted = self._probe_read_scopes(client)
                missing = [scope for scope in REQUIRED_SCOPES if scope not in granted]
                if missing:
                    raise ConnectError(missing_scopes_message(missing), code="permission")
                user = client.get("users", parsed.user_id)
        except GreenhouseAuthError as exc:
            if exc.reason == "invalid_user":
                raise ConnectError(
                    invalid_user_message(parsed.user_id), code="auth_invalid"
                ) from None
            raise ConnectError(INVALID_CLIENT_MESSAGE, code="auth_invalid") from None
        except GreenhouseNotFound:
            raise ConnectError(invalid_user_message(parsed.user_id), code="auth_invalid") from None
        except (GreenhouseUnavailable, GreenhouseServerError, GreenhouseRateLimited):
            raise ConnectError(UNREACHABLE_MESSAGE, code="unavailable") from None
        except GreenhouseError as exc:
            logger.warning(
                "greenhouse credential check failed",
                extra={"endpoint": exc.endpoint, "status_code": exc.status_code},
            )
            raise ConnectError(
                f"Unable to connect: Greenhouse returned an unexpected response to {exc.endpoint} "
                f"({exc.status_code or 'no status'}). Try again; if it keeps happening, contact support.",
                code="unexpected",
            ) from None
        name = user.get("name") or " ".join(
            filter(None, [user.get("first_name"), user.get("last_name")])
        )
        title = (
            f"Acting as {name} (user {parsed.user_id})"
            if name
            else f"Acting as user {parsed.user_id}"
        )
        return VerifiedCredential(title=title, scopes=tuple(sorted(granted)))

    @staticmethod
    def _probe_read_scopes(client: GreenhouseClient) -> set[str]:
        """Read scopes shown to work by a one-record request each; assume the write scopes.

        Used only when the token response lists no scopes. Write scopes cannot be probed
        without writing, so a missing one surfaces at the first push instead.
        """
        granted = set(WRITE_SCOPES.values())
        for resource, scope in READ_SCOPES.items():
            try:
                next(iter(client.list(resource, per_page=1)), None)
            except GreenhousePermissionError:
                continue
            granted.add(scope)
        return granted

    def deliver(self, integration, event) -> None:
        from integrations.services import integration_credential

        from .writeback import deliver_event

        with make_client(integration_credential(integration), max_retries=3) as client:
            deliver_event(integration, event, client)

    def run_sync(self, integration, run, recorder) -> None:
        from integrations.services import integration_credential

        from .sync import GreenhouseSync

        try:
            with make_client(integration_credential(integration)) as client:
                GreenhouseSync(integration, run, recorder, client).run()
        except GreenhouseError as exc:
            raise translate_sync_error(exc) from exc


class _SingleField(Provider):
    """Adapter that runs the base class's checks on one input of the dialog."""

    def __init__(self, field: CredentialField):
        self.credential_fields = (field,)
