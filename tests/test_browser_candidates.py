"""Drive Chromium through sign-in, candidate creation and an edit."""

import re

import pytest

from accounts.models import Membership
from candidates.models import Candidate
from tests.factories import TEST_PASSWORD, MembershipFactory, OrganizationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def recruiter_login(transactional_db):
    organization = OrganizationFactory(slug="browser-org", name="Browser Org")
    membership = MembershipFactory(organization=organization, role=Membership.Role.RECRUITER)
    return membership.user.username


def test_create_and_edit_candidate(page, live_server, recruiter_login):
    page.goto(f"{live_server.url}/")
    assert "/accounts/login/" in page.url

    page.get_by_label("Username").fill(recruiter_login)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/candidates/$"))
    page.get_by_role("link", name="New candidate").click()

    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Emails").fill("ada@example.test")
    page.get_by_label("Job title").fill("Analyst")
    page.get_by_role("button", name="Create candidate").click()
    page.wait_for_url(re.compile(r"/candidates/\d+/$"))
    assert page.get_by_role("heading", name="Ada Lovelace").is_visible()
    assert page.get_by_text("Created Ada Lovelace.").is_visible()

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Job title").fill("Chief Analyst")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/candidates/\d+/$"))
    assert page.get_by_text("Saved the candidate.").is_visible()
    assert page.get_by_text("Chief Analyst").is_visible()

    candidate = Candidate.objects.get(name="Ada Lovelace")
    assert candidate.title == "Chief Analyst"
    assert candidate.primary_email == "ada@example.test"
