import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from candidates import services
from candidates.models import Application, Candidate
from candidates.tests.support import stage_named
from tests.factories import ApplicationFactory, CandidateFactory, RoleFactory

PDF_BYTES = b"%PDF-1.4\n%%EOF\n"
# Queries of one candidate list page: session, user, membership, organization, count,
# roles and stages for the filters, the page of candidates and their applications.
LIST_PAGE_MAX_QUERIES = 9


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def page_text(response) -> str:
    return response.content.decode()


def build_candidates(organization, count, role, stage):
    candidates = Candidate.objects.bulk_create(
        [
            Candidate(
                organization=organization,
                name=f"Person {index:04d}",
                search_text=f"person {index:04d} p{index}@example.test",
                primary_email=f"p{index}@example.test",
            )
            for index in range(count)
        ]
    )
    Application.objects.bulk_create(
        [
            Application(organization=organization, candidate=candidate, role=role, stage=stage)
            for candidate in candidates
        ]
    )


# List


def test_list_shows_visible_candidates_of_own_org(
    recruiter_client, organization, other_organization
):
    CandidateFactory(organization=organization, name="Visible Person")
    CandidateFactory(organization=organization, name="Hidden Person", is_visible=False)
    CandidateFactory(organization=other_organization, name="Foreign Person")

    response = recruiter_client.get(reverse("candidates:list"))

    assert response.status_code == 200
    assert "Visible Person" in page_text(response)
    assert "Hidden Person" not in page_text(response)
    assert "Foreign Person" not in page_text(response)


def test_list_search_matches_name_and_email(recruiter_client, organization):
    CandidateFactory(organization=organization, name="Ada Lovelace")
    CandidateFactory(
        organization=organization,
        name="Grace Hopper",
        email_addresses=[{"value": "amazing@navy.test", "type": "Work", "is_primary": True}],
    )

    by_name = recruiter_client.get(reverse("candidates:list"), {"q": "lovelace"})
    by_email = recruiter_client.get(reverse("candidates:list"), {"q": "NAVY.test"})

    assert "Ada Lovelace" in page_text(by_name)
    assert "Grace Hopper" not in page_text(by_name)
    assert "Grace Hopper" in page_text(by_email)
    assert "Ada Lovelace" not in page_text(by_email)


def test_list_filters_by_role_and_stage(recruiter_client, organization, pipeline_role):
    other_role = RoleFactory(organization=organization)
    screen = stage_named(pipeline_role, "Screen")
    onsite = stage_named(pipeline_role, "Onsite")
    ApplicationFactory(
        organization=organization, role=pipeline_role, stage=screen, candidate__name="In Screen"
    )
    ApplicationFactory(
        organization=organization, role=pipeline_role, stage=onsite, candidate__name="In Onsite"
    )
    ApplicationFactory(organization=organization, role=other_role, candidate__name="Other Role")

    by_role = page_text(
        recruiter_client.get(reverse("candidates:list"), {"role": pipeline_role.pk})
    )
    by_stage = page_text(recruiter_client.get(reverse("candidates:list"), {"stage": onsite.pk}))
    bad_filter = recruiter_client.get(reverse("candidates:list"), {"role": "x"})

    assert "In Screen" in by_role
    assert "In Onsite" in by_role
    assert "Other Role" not in by_role
    assert "In Onsite" in by_stage
    assert "In Screen" not in by_stage
    assert bad_filter.status_code == 200


def test_list_paginates_by_50(recruiter_client, organization, pipeline_role):
    build_candidates(organization, 120, pipeline_role, stage_named(pipeline_role, "Screen"))

    first = recruiter_client.get(reverse("candidates:list"))
    last = recruiter_client.get(reverse("candidates:list"), {"page": 3})

    assert len(first.context["page"].object_list) == 50
    assert len(last.context["page"].object_list) == 20
    assert "Page 1 of 3" in page_text(first)


@pytest.mark.parametrize("total", [5, 500])
def test_list_query_count_is_constant(
    recruiter_client, organization, pipeline_role, total, django_assert_max_num_queries
):
    build_candidates(organization, total, pipeline_role, stage_named(pipeline_role, "Screen"))

    with django_assert_max_num_queries(LIST_PAGE_MAX_QUERIES):
        response = recruiter_client.get(reverse("candidates:list"))

    assert len(response.context["page"].object_list) == min(total, 50)


def test_list_query_count_same_at_5_and_500(recruiter_client, organization, pipeline_role):
    stage = stage_named(pipeline_role, "Screen")
    build_candidates(organization, 5, pipeline_role, stage)
    with CaptureQueriesContext(connection) as small:
        recruiter_client.get(reverse("candidates:list"))

    build_candidates(organization, 495, pipeline_role, stage)
    with CaptureQueriesContext(connection) as large:
        recruiter_client.get(reverse("candidates:list"))

    assert len(small.captured_queries) == len(large.captured_queries)


# Detail


def test_detail_shows_push_state_and_pending_badge(recruiter_client, organization, fake_hooks):
    candidate = CandidateFactory(
        organization=organization, creation_pending=True, push_state="failed", push_error="HTTP 500"
    )

    text = page_text(recruiter_client.get(reverse("candidates:detail", args=[candidate.pk])))

    assert "Pending creation in Ashby" in text
    assert "Sync failed" in text
    assert "HTTP 500" in text
    assert reverse("candidates:edit", args=[candidate.pk]) not in text
    assert reverse("candidates:delete", args=[candidate.pk]) not in text


def test_detail_disables_stage_of_locked_application(recruiter_client, organization, pipeline_role):
    application = ApplicationFactory(
        organization=organization,
        role=pipeline_role,
        stage=stage_named(pipeline_role, "Archived"),
        status=Application.Status.ARCHIVED,
        provider="ashby",
        remote_id="app-1",
    )

    text = page_text(
        recruiter_client.get(reverse("candidates:detail", args=[application.candidate_id]))
    )

    assert services.STAGE_LOCKED_MESSAGE in text
    assert reverse("candidates:application_stage", args=[application.pk]) not in text
    assert "disabled" in text


def test_detail_hides_delete_for_ats_candidate(recruiter_client, organization):
    candidate = CandidateFactory(organization=organization, provider="ashby", remote_id="c-1")

    text = page_text(recruiter_client.get(reverse("candidates:detail", args=[candidate.pk])))

    assert reverse("candidates:delete", args=[candidate.pk]) not in text
    assert "can only be deleted there" in text


def test_status_card_polls_while_pending(recruiter_client, organization):
    candidate = CandidateFactory(organization=organization, push_state="pending")

    response = recruiter_client.get(reverse("candidates:status", args=[candidate.pk]))

    poll_url = reverse("candidates:status", args=[candidate.pk])
    assert f'data-poll-url="{poll_url}"' in page_text(response)
    assert "<html" not in page_text(response)


# Create, edit, delete


def test_create_with_resume_and_role(recruiter_client, organization, recruiter, pipeline_role):
    response = recruiter_client.post(
        reverse("candidates:create"),
        {
            "name": "Ada Lovelace",
            "email_addresses": "ada@example.test\nada@work.test",
            "phone_numbers": "+44 20 7946 0000",
            "social_links": "https://www.linkedin.com/in/ada\nhttps://ada.example",
            "title": "Analyst",
            "company": "Engines",
            "location": "London",
            "role": pipeline_role.pk,
            "resume": SimpleUploadedFile("ada.pdf", PDF_BYTES, content_type="application/pdf"),
        },
    )

    candidate = Candidate.objects.get(name="Ada Lovelace")
    assert response.status_code == 302
    assert response["Location"] == reverse("candidates:detail", args=[candidate.pk])
    assert candidate.email_addresses == [
        {"value": "ada@example.test", "type": "Personal", "is_primary": True},
        {"value": "ada@work.test", "type": "Personal", "is_primary": False},
    ]
    assert candidate.social_links == [
        {"type": "LinkedIn", "url": "https://www.linkedin.com/in/ada"},
        {"type": "Website", "url": "https://ada.example"},
    ]
    assert candidate.resume_name == "ada.pdf"
    assert candidate.applications.get().role == pipeline_role
    assert AuditEvent.objects.filter(action="candidate.created", actor=recruiter).exists()


def test_create_rejects_bad_input(recruiter_client, organization):
    response = recruiter_client.post(
        reverse("candidates:create"),
        {
            "name": "Bad",
            "email_addresses": "not-an-email",
            "social_links": "javascript:alert(1)",
            "resume": SimpleUploadedFile("x.html", b"<html>", content_type="text/html"),
        },
    )

    text = page_text(response)
    assert response.status_code == 200
    assert "is not a valid email address" in text
    assert "is not a valid web address" in text
    assert "is not a PDF, DOC or DOCX file" in text
    assert not Candidate.objects.exists()


def test_create_offers_only_own_roles(recruiter_client, organization, other_organization):
    RoleFactory(organization=organization, title="Own Role")
    foreign = RoleFactory(organization=other_organization, title="Foreign Role")

    get_text = page_text(recruiter_client.get(reverse("candidates:create")))
    response = recruiter_client.post(
        reverse("candidates:create"), {"name": "X", "role": foreign.pk}
    )

    assert "Own Role" in get_text
    assert "Foreign Role" not in get_text
    assert response.status_code == 200
    assert not Candidate.objects.exists()


def test_edit_saves_changes(recruiter_client, organization):
    candidate = CandidateFactory(organization=organization, name="Old Name")
    form = {"name": "New Name", "email_addresses": candidate.primary_email}

    response = recruiter_client.post(reverse("candidates:edit", args=[candidate.pk]), form)

    candidate.refresh_from_db()
    assert response.status_code == 302
    assert candidate.name == "New Name"
    assert candidate.email_addresses[0]["type"] == "Personal"


def test_edit_shows_locked_field_disabled_with_note(recruiter_client, organization, fake_hooks):
    fake_hooks.candidate_locks = {"title": "Ashby cannot update a title."}
    candidate = CandidateFactory(organization=organization, title="Dev")

    text = page_text(recruiter_client.get(reverse("candidates:edit", args=[candidate.pk])))

    assert "Ashby cannot update a title." in text
    assert 'name="title" value="Dev" maxlength="300" disabled' in text


def test_edit_without_locked_field_keeps_it(recruiter_client, organization, fake_hooks):
    """Browsers leave disabled inputs out of the POST, which must not clear the field."""
    fake_hooks.candidate_locks = {"title": "Ashby cannot update a title."}
    candidate = CandidateFactory(organization=organization, name="Old", title="Dev")

    response = recruiter_client.post(
        reverse("candidates:edit", args=[candidate.pk]), {"name": "New"}
    )

    candidate.refresh_from_db()
    assert response.status_code == 302
    assert candidate.name == "New"
    assert candidate.title == "Dev"


def test_edit_crafted_locked_field_is_rejected(recruiter_client, organization, fake_hooks):
    fake_hooks.candidate_locks = {"title": "Ashby cannot update a title."}
    candidate = CandidateFactory(organization=organization, name="Old", title="Dev")

    response = recruiter_client.post(
        reverse("candidates:edit", args=[candidate.pk]), {"name": "New", "title": "CTO"}
    )

    candidate.refresh_from_db()
    assert response.status_code == 200
    assert "Title cannot be changed in Lavalier: Ashby cannot update a title." in page_text(
        response
    )
    assert candidate.name == "Old"
    assert candidate.title == "Dev"


def test_edit_pending_candidate_redirects(recruiter_client, organization, fake_hooks):
    candidate = CandidateFactory(organization=organization, name="Old", creation_pending=True)

    response = recruiter_client.post(
        reverse("candidates:edit", args=[candidate.pk]), {"name": "New"}, follow=True
    )

    candidate.refresh_from_db()
    assert candidate.name == "Old"
    assert "cannot be edited yet (Pending creation in Ashby)" in page_text(response)


def test_delete_confirms_then_deletes(recruiter_client, organization):
    candidate = CandidateFactory(organization=organization, name="Leaving")

    confirm = recruiter_client.get(reverse("candidates:delete", args=[candidate.pk]))
    response = recruiter_client.post(reverse("candidates:delete", args=[candidate.pk]))

    assert "cannot be undone" in page_text(confirm)
    assert response.status_code == 302
    assert not Candidate.objects.filter(pk=candidate.pk).exists()


def test_delete_ats_candidate_is_rejected(recruiter_client, organization):
    candidate = CandidateFactory(organization=organization, provider="ashby", remote_id="c-1")

    response = recruiter_client.post(reverse("candidates:delete", args=[candidate.pk]), follow=True)

    assert Candidate.objects.filter(pk=candidate.pk).exists()
    assert "came from Ashby" in page_text(response)


# Resume download


def test_resume_download_headers(recruiter_client, organization, recruiter):
    candidate = services.candidate_create(
        organization=organization,
        actor=recruiter,
        name="Ada",
        resume=SimpleUploadedFile('my "cv"\r\n.pdf', PDF_BYTES),
    )

    response = recruiter_client.get(reverse("candidates:resume", args=[candidate.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\r" not in disposition
    assert "\n" not in disposition
    assert '"cv"' not in disposition
    assert disposition.endswith('.pdf"')


def test_resume_download_other_org_is_404(client, other_owner, organization, recruiter):
    candidate = services.candidate_create(
        organization=organization,
        actor=recruiter,
        name="Ada",
        resume=SimpleUploadedFile("cv.pdf", PDF_BYTES),
    )
    client.force_login(other_owner)

    assert client.get(reverse("candidates:resume", args=[candidate.pk])).status_code == 404


def test_resume_download_without_resume_is_404(recruiter_client, organization):
    candidate = CandidateFactory(organization=organization)

    assert (
        recruiter_client.get(reverse("candidates:resume", args=[candidate.pk])).status_code == 404
    )


# Stage change


def test_stage_change_from_role_page_returns_there(recruiter_client, organization, pipeline_role):
    application = ApplicationFactory(
        organization=organization, role=pipeline_role, stage=stage_named(pipeline_role, "Screen")
    )
    onsite = stage_named(pipeline_role, "Onsite")
    role_url = reverse("roles:detail", args=[pipeline_role.pk])

    response = recruiter_client.post(
        reverse("candidates:application_stage", args=[application.pk]),
        {"stage": onsite.pk, "next": role_url},
    )

    application.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == role_url
    assert application.stage == onsite


def test_stage_change_ignores_external_next(recruiter_client, organization, pipeline_role):
    application = ApplicationFactory(organization=organization, role=pipeline_role)

    response = recruiter_client.post(
        reverse("candidates:application_stage", args=[application.pk]),
        {"stage": stage_named(pipeline_role, "Onsite").pk, "next": "https://evil.example/"},
    )

    assert response["Location"] == reverse("candidates:detail", args=[application.candidate_id])


def test_stage_change_crafted_on_locked_application(recruiter_client, organization, pipeline_role):
    archived = stage_named(pipeline_role, "Archived")
    application = ApplicationFactory(
        organization=organization,
        role=pipeline_role,
        stage=archived,
        status=Application.Status.ARCHIVED,
        provider="ashby",
        remote_id="app-1",
    )

    response = recruiter_client.post(
        reverse("candidates:application_stage", args=[application.pk]),
        {"stage": stage_named(pipeline_role, "Onsite").pk},
        follow=True,
    )

    application.refresh_from_db()
    assert application.stage == archived
    assert services.STAGE_LOCKED_MESSAGE in page_text(response)


def test_stage_change_archive_reason_required(
    recruiter_client, organization, pipeline_role, fake_hooks
):
    fake_hooks.reasons = [("r-1", "Not a fit")]
    application = ApplicationFactory(organization=organization, role=pipeline_role)
    archived = stage_named(pipeline_role, "Archived")

    detail = page_text(
        recruiter_client.get(reverse("candidates:detail", args=[application.candidate_id]))
    )
    missing = recruiter_client.post(
        reverse("candidates:application_stage", args=[application.pk]),
        {"stage": archived.pk},
        follow=True,
    )
    chosen = recruiter_client.post(
        reverse("candidates:application_stage", args=[application.pk]),
        {"stage": archived.pk, "archive_reason": "r-1"},
    )

    application.refresh_from_db()
    assert "Not a fit" in detail
    assert "Choose an archive reason" in page_text(missing)
    assert chosen.status_code == 302
    assert application.status == Application.Status.ARCHIVED
    assert application.archive_reason == "Not a fit"


def test_stage_change_get_not_allowed(recruiter_client, organization):
    application = ApplicationFactory(organization=organization)

    response = recruiter_client.get(reverse("candidates:application_stage", args=[application.pk]))

    assert response.status_code == 405


def test_detail_query_count_does_not_grow(recruiter_client, organization, pipeline_role):
    candidate = CandidateFactory(organization=organization)
    ApplicationFactory(organization=organization, candidate=candidate, role=pipeline_role)
    url = reverse("candidates:detail", args=[candidate.pk])
    with CaptureQueriesContext(connection) as small:
        recruiter_client.get(url)

    for _ in range(10):
        ApplicationFactory(organization=organization, candidate=candidate)
    with CaptureQueriesContext(connection) as large:
        recruiter_client.get(url)

    assert len(small.captured_queries) == len(large.captured_queries)


def test_create_form_sent_twice_creates_one(recruiter_client, organization):
    import uuid

    from candidates.models import Candidate

    data = {
        "name": "Dana Double",
        "email_addresses": "dana.double@example.test",
        "submission_id": uuid.uuid4().hex,
    }

    first = recruiter_client.post(reverse("candidates:create"), data)
    second = recruiter_client.post(reverse("candidates:create"), data)

    created = Candidate.objects.get(organization=organization, name="Dana Double")
    assert first["Location"] == reverse("candidates:detail", args=[created.pk])
    assert second["Location"] == reverse("candidates:detail", args=[created.pk])
    assert Candidate.objects.filter(organization=organization, name="Dana Double").count() == 1
