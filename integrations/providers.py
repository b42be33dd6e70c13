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
    """What a provider learned while checking a credential."""

    title: str = ""
    scopes: tuple[str, ...] = field(default_factory=tuple)


class Provider:
    """Contract of an ATS provider. Methods raise NotImplementedError until implemented."""

    slug: str = ""
    display_name: str = ""
    # Shown in the Connect dialog: what to paste and where to find it.
    credential_label: str = "API key"
    credential_help: str = ""

    # Fields the ATS owns on records linked to it: Lavalier shows them read-only, with the
    # note, and rejects changes to them.
    read_only_candidate_fields: dict[str, str] = {}
    read_only_role_fields: dict[str, str] = {}
    # Fields whose local edits are pushed to the ATS; edits to other fields stay local.
    pushed_candidate_fields: frozenset[str] = frozenset()
    pushed_role_fields: frozenset[str] = frozenset()

    def verify_credential(self, credential: str) -> VerifiedCredential:
        """Check the credential and its permissions against the ATS.

        Raises ConnectError with a message for the Owner when it cannot be used.
        """
        raise NotImplementedError

    def run_sync(self, integration: Integration, run: SyncRun, recorder: RunRecorder) -> None:
        """Bring Lavalier's copy up to date. `run.is_full` asks for a full pass.

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
