import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from candidates import selectors
from candidates.tests.support import stage_named
from tests.factories import ApplicationFactory, CandidateFactory, RoleFactory


def test_list_scoped_and_visible(organization, other_organization):
    own = CandidateFactory(organization=organization)
    CandidateFactory(organization=organization, is_visible=False)
    CandidateFactory(organization=other_organization)

    assert list(selectors.candidate_list(organization=organization)) == [own]


def test_list_search_needs_every_word(organization):
    ada = CandidateFactory(organization=organization, name="Ada Lovelace")
    CandidateFactory(organization=organization, name="Ada Byron")

    found = selectors.candidate_list(organization=organization, search="  LOVELACE ada ")

    assert list(found) == [ada]


def test_list_role_filter_one_row_per_candidate(organization, pipeline_role):
    candidate = CandidateFactory(organization=organization)
    ApplicationFactory(organization=organization, candidate=candidate, role=pipeline_role)
    ApplicationFactory(
        organization=organization, candidate=candidate, role=RoleFactory(organization=organization)
    )

    found = selectors.candidate_list(organization=organization, role_id=pipeline_role.pk)

    assert list(found) == [candidate]


def test_list_stage_filter_ignores_other_org(organization, other_organization, pipeline_role):
    screen = stage_named(pipeline_role, "Screen")
    ApplicationFactory(organization=other_organization, stage=screen)

    assert list(selectors.candidate_list(organization=organization, stage_id=screen.pk)) == []


def test_list_prefetches_applications(organization, pipeline_role):
    for _ in range(3):
        ApplicationFactory(organization=organization, role=pipeline_role)

    candidates = list(selectors.candidate_list(organization=organization))
    with CaptureQueriesContext(connection) as queries:
        titles = [a.role.title for c in candidates for a in c.applications.all()]
        stages = [a.stage for c in candidates for a in c.applications.all()]

    assert len(titles) == len(stages) == 3
    assert len(queries.captured_queries) == 0


def test_get_other_org_or_hidden_is_404(organization, other_organization):
    foreign = CandidateFactory(organization=other_organization)
    hidden = CandidateFactory(organization=organization, is_visible=False)

    with pytest.raises(Http404):
        selectors.candidate_get(organization=organization, candidate_id=foreign.pk)
    with pytest.raises(Http404):
        selectors.candidate_get_with_applications(organization=organization, candidate_id=hidden.pk)


def test_application_get_scoped(organization, other_organization):
    foreign = ApplicationFactory(organization=other_organization)

    with pytest.raises(Http404):
        selectors.application_get(organization=organization, application_id=foreign.pk)
