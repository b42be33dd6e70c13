"""Reads behind the Integrations page, the status command and the ops views."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from accounts.models import Organization
from candidates.models import Application, Candidate
from roles.models import Role

from .models import Integration, SyncRun
from .providers import Provider, all_providers
from .sync_runs import LOCK_TTL

ENTITY_LABELS = {
    "departments and locations": "departments and locations",
    "interview plans": "interview plans",
    "jobs": "jobs",
    "job_postings": "job posts",
    "candidates": "candidates",
    "applications": "applications",
    "visibility": "candidate visibility",
    "resumes": "resumes",
}


@dataclass
class Card:
    """Contents of one provider's card on Settings → Integrations."""

    provider: Provider
    state: str  # "not_connected", "syncing", "connected", "error", "blocked"
    integration: Integration | None = None
    blocking_provider: str = ""
    running: SyncRun | None = None
    runs: list[SyncRun] = field(default_factory=list)
    settings: list = field(default_factory=list)

    @property
    def polls(self) -> bool:
        return self.state in ("syncing", "connected", "error")

    @property
    def poll_seconds(self) -> int:
        """Poll fast while a sync runs, slowly otherwise so a queued sync shows up too."""
        return 2 if self.state == "syncing" or self.running is not None else 15

    @property
    def progress_text(self) -> str:
        run = self.running
        if run is None or not run.progress:
            return ""
        entity = ENTITY_LABELS.get(run.progress.get("entity", ""), run.progress.get("entity", ""))
        records = run.progress.get("records", 0)
        return f"Syncing {entity}: {records:,} so far"


def _is_stale(run: SyncRun) -> bool:
    """Return True for a run whose worker stopped renewing its lock, because it died."""
    last_sign_of_life = run.heartbeat_at or run.started_at
    return timezone.now() - last_sign_of_life > LOCK_TTL


def active_integration(organization: Organization) -> Integration | None:
    return Integration.objects.filter(organization=organization, is_active=True).first()


def integration_cards(organization: Organization, *, history: int = 10) -> list[Card]:
    active = active_integration(organization)
    cards = []
    for provider in all_providers():
        if active is None:
            cards.append(Card(provider=provider, state="not_connected"))
            continue
        if active.provider != provider.slug:
            cards.append(
                Card(
                    provider=provider,
                    state="blocked",
                    blocking_provider=_provider_name(active.provider),
                )
            )
            continue
        runs = list(active.runs.order_by("-started_at", "-id")[:history])
        running = next(
            (run for run in runs if run.outcome == SyncRun.Outcome.RUNNING and not _is_stale(run)),
            None,
        )
        if active.state == Integration.State.ERROR:
            state = "error"
        elif active.last_synced_at is None:
            state = "syncing"
        else:
            state = "connected"
        cards.append(
            Card(
                provider=provider,
                state=state,
                integration=active,
                running=running,
                runs=runs,
                settings=provider.settings(active),
            )
        )
    return cards


def integration_card(organization: Organization, provider_slug: str) -> Card | None:
    return next(
        (c for c in integration_cards(organization) if c.provider.slug == provider_slug), None
    )


def _provider_name(slug: str) -> str:
    return next((p.display_name for p in all_providers() if p.slug == slug), slug)


def integration_status(organization: Organization) -> dict:
    """Return the figures `integration_status --json` prints: what recruiters see now."""
    integration = active_integration(organization)
    provider = integration.provider if integration else None
    # Everything on the recruiters' candidate list, local candidates included.
    visible_candidates = Candidate.objects.filter(organization=organization, is_visible=True)
    state = "not_connected"
    if integration is not None:
        state = integration.state
    return {
        "provider": provider,
        "state": state,
        "last_synced_at": integration.last_synced_at.isoformat()
        if integration and integration.last_synced_at
        else None,
        "counts": {
            "roles": Role.objects.filter(
                organization=organization,
                is_visible=True,
                status=Role.Status.OPEN,
                **({"provider": provider} if provider else {}),
            ).count(),
            "candidates": visible_candidates.count(),
            "applications": Application.objects.filter(
                organization=organization, candidate__in=visible_candidates
            ).count(),
            "resumes": visible_candidates.exclude(resume="").count(),
        },
    }
