import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import Application
from candidates.services import STAGE_LOCKED_MESSAGE
from candidates.tests.support import stage_named
from roles.models import Role
from tests.factories import ApplicationFactory, RoleFactory

# Session, user, membership, organization, count and the page of roles.
LIST_PAGE_MAX_QUERIES = 6


def page_text(response) -> str:
    return response.content.decode()


def build_roles(organization, count):
    Role.objects.bulk_create(
        [Role(organization=organization, title=f"Role {index:04d}") for index in range(count)]
    )


def test_list_shows_visible_roles_with_status_filter(
    recruiter_client, organization, other_organization
):
    RoleFactory(organization=organization, title="Open Role", status=Role.Status.OPEN)
    RoleFactory(organization=organization, title="Closed Role", status=Role.Status.CLOSED)
    RoleFactory(organization=organization, title="Hidden Role", is_visible=False)
    RoleFactory(organization=other_organization, title="Foreign Role")

    everything = page_text(recruiter_client.get(reverse("roles:list")))
    closed = page_text(recruiter_client.get(reverse("roles:list"), {"status": "closed"}))
    invalid = recruiter_client.get(reverse("roles:list"), {"status": "nonsense"})

    assert "Open Role" in everything
    assert "Closed Role" in everything
    assert "Hidden Role" not in everything
    assert "Foreign Role" not in everything
    assert "Closed Role" in closed
    assert "Open Role" not in closed
    assert invalid.status_code == 200


@pytest.mark.parametrize("total", [5, 500])
def test_list_query_count_is_constant(
    recruiter_client, organization, total, django_assert_max_num_queries
):
    build_roles(organization, total)

    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        response = recruiter_client.get(reverse("roles:list"))

    assert len(response.context["page"].object_list) == min(total, 50)


def test_list_query_count_same_at_5_and_500(recruiter_client, organization):
    build_roles(organization, 5)
    with CaptureQueriesContext(connection) as small:
        recruiter_client.get(reverse("roles:list"))

    build_roles(organization, 495)
    with CaptureQueriesContext(connection) as large:
        recruiter_client.get(reverse("roles:list"))

    assert len(small.captured_queries) == len(large.captured_queries)


def test_detail_shows_pipeline_in_order(recruiter_client, organization, pipeline_role):
    ApplicationFactory(
        organization=organization,
        role=pipeline_role,
        stage=stage_named(pipeline_role, "Onsite"),
        candidate__name="Onsite Person",
    )
    ApplicationFactory(
        organization=organization,
        role=pipeline_role,
        stage=stage_named(pipeline_role, "Archived"),
        status=Application.Status.ARCHIVED,
        provider="ashby",
        remote_id="app-1",
        candidate__name="Archived Person",
    )

    text = page_text(recruiter_client.get(reverse("roles:detail", args=[pipeline_role.pk])))

    positions = [text.index(f"<h3>{title} ") for title in ("Screen", "Onsite", "Hired", "Archived")]
    assert positions == sorted(positions)
    assert "Onsite Person" in text
    assert "Archived Person" in text
    assert STAGE_LOCKED_MESSAGE in text


def test_detail_query_count_does_not_grow(recruiter_client, organization, pipeline_role):
    screen = stage_named(pipeline_role, "Screen")
    ApplicationFactory(organization=organization, role=pipeline_role, stage=screen)
    with CaptureQueriesContext(connection) as small:
        recruiter_client.get(reverse("roles:detail", args=[pipeline_role.pk]))

    for _ in range(20):
        ApplicationFactory(organization=organization, role=pipeline_role, stage=screen)
    with CaptureQueriesContext(connection) as large:
        recruiter_client.get(reverse("roles:detail", args=[pipeline_role.pk]))

    assert len(small.captured_queries) == len(large.captured_queries)


def test_edit_saves_role(recruiter_client, organization):
    role = RoleFactory(organization=organization, title="Old")

    response = recruiter_client.post(
        reverse("roles:edit", args=[role.pk]),
        {
            "title": "New",
            "department": "Data",
            "location": "Paris",
            "work_type": "contract",
            "description": "Build things.",
        },
    )

    role.refresh_from_db()
    assert response.status_code == 302
    assert (role.title, role.department, role.work_type) == ("New", "Data", "contract")


def test_edit_locked_field_disabled_and_enforced(recruiter_client, organization, fake_hooks):
    fake_hooks.role_locks = {"title": "Rename the job in Ashby."}
    role = RoleFactory(organization=organization, title="Old", location="Berlin")

    form_page = page_text(recruiter_client.get(reverse("roles:edit", args=[role.pk])))
    crafted = recruiter_client.post(
        reverse("roles:edit", args=[role.pk]), {"title": "New", "location": "Paris"}
    )
    browser_like = recruiter_client.post(
        reverse("roles:edit", args=[role.pk]), {"location": "Paris"}
    )

    assert "Rename the job in Ashby." in form_page
    assert 'name="title" value="Old" maxlength="300" disabled' in form_page
    assert "Title cannot be changed in Lavalier: Rename the job in Ashby." in page_text(crafted)
    assert browser_like.status_code == 302
    role.refresh_from_db()
    assert role.title == "Old"
    assert role.location == "Paris"
