"""Test helpers shared by the candidate, role and access tests: fake sync hooks and a
role with a pipeline. Each conftest that needs the fixtures imports them from here."""

import pytest

from lavalier import sync_hooks
from roles.models import PipelineStage
from tests.factories import InterviewPlanFactory, PipelineStageFactory, RoleFactory


class FakeHooks(sync_hooks.SyncHooks):
    """Sync hooks whose locks and archive reasons a test sets, and which record calls."""

    def __init__(self):
        self.candidate_locks: dict[str, str] = {}
        self.role_locks: dict[str, str] = {}
        self.reasons: list[tuple[str, str]] = []
        self.calls: list[tuple] = []

    def locked_candidate_fields(self, candidate):
        return dict(self.candidate_locks)

    def locked_role_fields(self, role):
        return dict(self.role_locks)

    def pending_creation_label(self, candidate):
        return "Pending creation in Ashby"

    def archive_reasons(self, organization_id):
        return list(self.reasons)

    def candidate_created(self, candidate, *, role, actor):
        self.calls.append(("candidate_created", candidate.pk, role.pk if role else None, actor))

    def candidate_updated(self, candidate, *, changed_fields, actor):
        self.calls.append(("candidate_updated", candidate.pk, frozenset(changed_fields), actor))

    def role_updated(self, role, *, changed_fields, actor):
        self.calls.append(("role_updated", role.pk, frozenset(changed_fields), actor))

    def application_stage_changed(self, application, *, archive_reason_id, actor):
        self.calls.append(("application_stage_changed", application.pk, archive_reason_id, actor))


@pytest.fixture
def fake_hooks():
    """Install FakeHooks for one test and put the previous hooks back afterwards."""
    previous = sync_hooks.get()
    hooks = FakeHooks()
    sync_hooks.install(hooks)
    yield hooks
    sync_hooks.install(previous)


@pytest.fixture
def pipeline_role(organization):
    """An open role whose plan has the stages Screen, Onsite, Hired and Archived."""
    plan = InterviewPlanFactory(organization=organization, title="Engineering plan")
    stage_types = [
        ("Screen", PipelineStage.StageType.PRE_INTERVIEW_SCREEN),
        ("Onsite", PipelineStage.StageType.ACTIVE),
        ("Hired", PipelineStage.StageType.HIRED),
        ("Archived", PipelineStage.StageType.ARCHIVED),
    ]
    for order, (title, stage_type) in enumerate(stage_types):
        PipelineStageFactory(plan=plan, title=title, order=order, stage_type=stage_type)
    return RoleFactory(organization=organization, title="Backend Engineer", interview_plan=plan)


def stage_named(role, title):
    return role.interview_plan.stages.get(title=title)
