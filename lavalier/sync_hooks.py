"""The seam between the recruiter-facing apps and whichever ATS integration is connected.

`candidates` and `roles` never import a provider. Their services call the active hooks
object at the points below, and `integrations` installs its implementation at start-up
(`install`). The default does nothing, which is the behaviour with no ATS connected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from candidates.models import Application, Candidate
    from roles.models import Role


class SyncHooks:
    """No ATS: nothing is read-only and nothing is pushed anywhere."""

    def locked_candidate_fields(self, candidate: Candidate) -> dict[str, str]:
        """Map each field the ATS owns on this candidate to the note shown beside it."""
        return {}

    def locked_role_fields(self, role: Role) -> dict[str, str]:
        return {}

    def pending_creation_label(self, candidate: Candidate) -> str:
        """Badge text while a candidate created here waits for the ATS, such as
        "Pending creation in Ashby"."""
        return "Pending creation"

    def archive_reasons(self, organization_id: int) -> list[tuple[str, str]]:
        """Choices (remote id, text) for moving an application to an archived stage."""
        return []

    def candidate_created(self, candidate: Candidate, *, role: Role | None, actor: Any) -> None:
        """Called inside the creating transaction."""

    def candidate_updated(
        self, candidate: Candidate, *, changed_fields: set[str], actor: Any
    ) -> None:
        """Called inside the updating transaction with the names of the changed fields."""

    def application_created(self, application: Application, *, actor: Any) -> None:
        """Called inside the transaction that added an application to an existing candidate."""

    def retry_push_url(self, record: Candidate | Application | Role) -> str:
        """URL of the form that queues a failed push of this record again; empty for none."""
        return ""

    def role_updated(self, role: Role, *, changed_fields: set[str], actor: Any) -> None:
        """Called inside the updating transaction with the names of the changed fields."""

    def application_stage_changed(
        self, application: Application, *, archive_reason_id: str | None, actor: Any
    ) -> None:
        """Called inside the transaction that moved the application to a new stage."""


_active: SyncHooks = SyncHooks()


def install(hooks: SyncHooks) -> None:
    global _active
    _active = hooks


def get() -> SyncHooks:
    return _active
