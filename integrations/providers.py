"""The provider interface every ATS integration implements, and the registry.

A provider package (such as `ats_ashby`) subclasses `Provider` and calls `register`
from its AppConfig.ready(). `integrations` only ever reaches a provider through
`get_provider(slug)`, so adding an ATS touches no other app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Integration, OutboxEvent, SyncRun
    from .sync_runs import RunRecorder


class ConnectError(Exception):
    """A credential was rejected at connect time; `message` is shown to the Owner as is."""

    def __init__(self, message: str, *, code: str = "connect_failed"):
        super().__init__(message)
        self.message = message
        self.code = code


class IntegrationAuthError(Exception):
    """The ATS rejected the stored credential (revoked, deactivated or missing permission)."""

    def __init__(self, message: str, *, code: str = "auth"):
        super().__init__(message)
        self.message = message
        self.code = code


class TransientSyncError(Exception):
    """The ATS could not be reached or kept failing; the next scheduled sync retries."""

    def __init__(self, message: str, *, code: str = "unavailable"):
        super().__init__(message)
        self.message = message
        self.code = code


class DeliveryRejected(Exception):
    """The ATS refused a pushed change for good (validation, record gone); not retried."""

    def __init__(self, message: str, *, code: str = "rejected"):
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class VerifiedCredential:
    """Facts a provider learned while checking a credential."""

    title: str = ""
    scopes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class CredentialField:
    """One input of the Connect dialog."""

    name: str
    label: str
    secret: bool = True
    help_text: str = ""


@dataclass(frozen=True)
class ProviderSetting:
    """One choice an Owner makes on the integration's card, such as a default source."""

    name: str
    label: str
    choices: tuple[tuple[str, str], ...]
    value: str = ""
    help_text: str = ""


# Maximum length of one credential input, in characters.
MAX_CREDENTIAL_LENGTH = 2000


class Provider:
    """Contract of an ATS provider. Methods raise NotImplementedError until implemented."""

    slug: str = ""
    display_name: str = ""
    # Shown in the Connect dialog: what to paste and where to find it.
    credential_label: str = "API key"
    credential_help: str = ""
    credential_fields: tuple[CredentialField, ...] = (CredentialField("credential", "API key"),)

    def credential_from_fields(self, values: dict[str, str]) -> str:
        """Build the credential to verify and store from the dialog's inputs.

        Strips surrounding whitespace and line breaks. The default takes the single
        input; providers with several inputs serialize them (for example as JSON).
        Raises ConnectError naming the first empty or oversized input.
        """
        cleaned = {}
        for entry in self.credential_fields:
            value = (values.get(entry.name) or "").strip()
            if not value:
                raise ConnectError(
                    f"Unable to connect: enter the {entry.label} first.", code="empty"
                )
            if len(value) > MAX_CREDENTIAL_LENGTH:
                raise ConnectError(
                    f"Unable to connect: the {entry.label} is longer than {MAX_CREDENTIAL_LENGTH} "
                    "characters. Copy it again.",
                    code="too_long",
                )
            cleaned[entry.name] = value
        if len(cleaned) != 1:
            raise NotImplementedError("Providers with several credential inputs serialize them.")
        return next(iter(cleaned.values()))

    def credential_hint(self, credential: str) -> str:
        """Return the last characters of the credential, shown so Owners can tell keys apart."""
        return credential[-4:]

    # Fields the ATS owns on records linked to it: Lavalier shows them read-only, with the
    # note, and rejects changes to them.
    read_only_candidate_fields: dict[str, str] = {}
    read_only_role_fields: dict[str, str] = {}
    # Fields whose local edits are pushed to the ATS; edits to other fields stay local.
    pushed_candidate_fields: frozenset[str] = frozenset()
    pushed_role_fields: frozenset[str] = frozenset()
    # Keys of `Integration.options` that Owners set; a reconnect keeps them.
    owner_option_keys: frozenset[str] = frozenset({"default_source_id"})

    def settings(self, integration: Integration) -> list[ProviderSetting]:
        """List the Owner settings shown on the card.

        The default offers the source that applications created through Lavalier carry,
        from the sources the last sync stored in `integration.options["sources"]`.
        """
        sources = integration.options.get("sources") or []
        if not sources:
            return []
        choices = [("", "No source")]
        for source in sources:
            label = (
                f"{source['type']}: {source['title']}" if source.get("type") else source["title"]
            )
            choices.append((str(source["id"]), label))
        return [
            ProviderSetting(
                name="default_source_id",
                label="Source for applications created through Lavalier",
                choices=tuple(choices),
                value=str(integration.options.get("default_source_id") or ""),
            )
        ]

    def save_setting(self, *, organization, actor, name: str, value: str) -> None:
        """Save one setting from `settings`. Raises ValueError for an unknown name or value."""
        from .services import integration_set_default_source

        if name != "default_source_id":
            raise ValueError(f"Unknown setting {name!r}.")
        integration_set_default_source(organization=organization, actor=actor, source_id=value)

    def verify_credential(self, credential: str) -> VerifiedCredential:
        """Check the credential and its permissions against the ATS.

        Raises ConnectError with a message for the Owner when it cannot be used.
        """
        raise NotImplementedError

    def run_sync(self, integration: Integration, run: SyncRun, recorder: RunRecorder) -> None:
        """Bring Lavalier's copy up to date. `run.is_full` requests a full pass.

        Raises IntegrationAuthError when the credential stops working; other exceptions
        fail the run. Must be safe to run again after an interruption at any point.
        """
        raise NotImplementedError

    def deliver(self, integration: Integration, event: OutboxEvent) -> None:
        """Push one outbox event to the ATS.

        Raises DeliveryRejected when the ATS refuses it for good, TransientSyncError when it
        should be tried again later, and IntegrationAuthError when the credential no longer
        works. May run again for the same event after a crash, so a create must first look
        for what an earlier attempt may have created (`event.attempts` > 1).
        """
        raise NotImplementedError


_registry: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    _registry[provider.slug] = provider


def get_provider(slug: str) -> Provider:
    try:
        return _registry[slug]
    except KeyError:
        raise LookupError(f"No ATS provider is registered under {slug!r}.") from None


def all_providers() -> list[Provider]:
    return sorted(_registry.values(), key=lambda p: p.display_name)
