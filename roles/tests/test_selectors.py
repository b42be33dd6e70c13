from candidates.tests.support import stage_named
from roles import selectors
from roles.models import Role
from tests.factories import ApplicationFactory, CandidateFactory, RoleFactory


def test_role_list_visible_and_status(organization, other_organization):
    open_role = RoleFactory(organization=organization, status=Role.Status.OPEN)
    closed_role = RoleFactory(organization=organization, status=Role.Status.CLOSED)
    RoleFactory(organization=organization, is_visible=False)
    RoleFactory(organization=other_organization)

    assert set(selectors.role_list(organization=organization)) == {open_role, closed_role}
    assert list(selectors.role_list(organization=organization, status="closed")) == [closed_role]


def test_role_list_counts_visible_applicants(organization):
    role = RoleFactory(organization=organization)
    ApplicationFactory(organization=organization, role=role)
    hidden = CandidateFactory(organization=organization, is_visible=False)
    ApplicationFactory(organization=organization, role=role, candidate=hidden)

    assert selectors.role_list(organization=organization).get().applicant_count == 1


def test_role_pipeline_groups_by_stage(organization, pipeline_role):
    screen = stage_named(pipeline_role, "Screen")
    onsite = stage_named(pipeline_role, "Onsite")
    in_screen = ApplicationFactory(organization=organization, role=pipeline_role, stage=screen)
    in_onsite = ApplicationFactory(organization=organization, role=pipeline_role, stage=onsite)
    unstaged = ApplicationFactory(organization=organization, role=pipeline_role, stage=None)
    role = selectors.role_get(organization=organization, role_id=pipeline_role.pk)

    columns = selectors.role_pipeline(organization=organization, role=role)

    assert [column.stage.title if column.stage else None for column in columns] == [
        "Screen",
        "Onsite",
        "Hired",
        "Archived",
        None,
    ]
    assert columns[0].applications == [in_screen]
    assert columns[1].applications == [in_onsite]
    assert columns[-1].applications == [unstaged]
