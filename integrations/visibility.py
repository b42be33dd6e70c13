"""Lavalier's rule for which synced candidates recruiters see, the same for every ATS."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from candidates.models import Application, Candidate
from roles.models import PipelineStage, Role


def candidate_visibility_update(*, organization_id: int, provider: str) -> tuple[int, int]:
    """Show exactly the synced candidates with a qualifying application; return (shown, hidden).

    Qualifying: active, in a stage past the pre-interview ones (neither lead nor
    pre-interview screen), on an open job that the ATS still lists. Candidates created in
    Lavalier keep their visibility, and rows are never deleted.
    """
    qualifying = Application.objects.filter(
        candidate=OuterRef("pk"),
        is_linked=True,
        status=Application.Status.ACTIVE,
        stage__isnull=False,
        role__status=Role.Status.OPEN,
        role__is_linked=True,
    ).exclude(stage__stage_type__in=PipelineStage.PRE_INTERVIEW_TYPES)
    synced = Candidate.objects.filter(
        organization_id=organization_id, provider=provider, origin=Candidate.Origin.ATS
    )
    with transaction.atomic():
        shown = (
            synced.filter(is_visible=False, is_linked=True)
            .filter(Exists(qualifying))
            .update(is_visible=True)
        )
        hidden = (
            synced.filter(is_visible=True)
            .filter(~Exists(qualifying) | Q(is_linked=False))
            .update(is_visible=False)
        )
    return shown, hidden
