"""Fixtures shared by every test: organizations, members and signed-in clients."""

import pytest

from accounts.models import Membership
from tests.factories import TEST_PASSWORD, MembershipFactory, OrganizationFactory

pytest_plugins = ["tests.fixtures.processes", "tests.fixtures.browser"]


@pytest.fixture
def organization(db):
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def other_organization(db):
    return OrganizationFactory(slug="globex", name="Globex")


@pytest.fixture
def owner(organization):
    return MembershipFactory(organization=organization, role=Membership.Role.OWNER).user


@pytest.fixture
def recruiter(organization):
    return MembershipFactory(organization=organization, role=Membership.Role.RECRUITER).user


@pytest.fixture
def other_owner(other_organization):
    return MembershipFactory(organization=other_organization, role=Membership.Role.OWNER).user


@pytest.fixture
def password():
    return TEST_PASSWORD


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def recruiter_client(client, recruiter):
    client.force_login(recruiter)
    return client


@pytest.fixture(autouse=True)
def celery_eager(request):
    """Run queued tasks inline, except in tests that start a real worker process."""
    from lavalier.celery import app

    uses_worker = any("celery_worker" in name for name in request.fixturenames)
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = not uses_worker
    yield
    app.conf.task_always_eager = previous
