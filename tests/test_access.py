"""Who may open which URL, for every URL pattern of the project.

`ROWS` has one row per named URL outside the admin; `test_every_url_has_a_row` walks
the URL resolver, so a new URL without a row fails. Admin URLs are checked as a group:
anonymous users and members who are not staff are sent to the admin login.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern

from candidates import services as candidate_services
from candidates.tests.support import pipeline_role, stage_named  # noqa: F401
from tests.factories import ApplicationFactory, CandidateFactory, MembershipFactory, UserFactory

LOGIN_PATH = "/accounts/login/"
ADMIN_LOGIN_PATH = "/admin/login/"


@dataclass(frozen=True)
class Row:
    """Expected access to one URL.

    `member_status` is what a Recruiter and an Owner of the organization get, unless
    `recruiter_status` gives another status for Recruiters (403 on Owner-only views).
    With `object_scoped`, the URL points at one of the organization's objects and a
    member of another organization gets 404. `public` URLs do not send anonymous users
    to the login page; `anonymous_status` is then what they get.
    """

    kwargs: Callable[[SimpleNamespace], dict] = field(default=lambda world: {})
    method: str = "get"
    data: Callable[[SimpleNamespace], dict] = field(default=lambda world: {})
    member_status: int = 200
    recruiter_status: int | None = None
    object_scoped: bool = False
    public: bool = False
    anonymous_status: int | None = None


def candidate_pk(world):
    return {"pk": world.candidate.pk}


ROWS: dict[str, Row] = {
    # Accounts and home.
    "home": Row(member_status=302, public=True, anonymous_status=302),
    "login": Row(member_status=302, public=True, anonymous_status=200),
    "logout": Row(method="post", member_status=302, public=True, anonymous_status=302),
    # Candidates.
    "candidates:list": Row(),
    "candidates:create": Row(),
    "candidates:detail": Row(kwargs=candidate_pk, object_scoped=True),
    "candidates:status": Row(kwargs=candidate_pk, object_scoped=True),
    "candidates:edit": Row(kwargs=candidate_pk, object_scoped=True),
    "candidates:delete": Row(kwargs=candidate_pk, object_scoped=True),
    "candidates:resume": Row(kwargs=candidate_pk, object_scoped=True),
    "candidates:application_stage": Row(
        kwargs=lambda world: {"pk": world.application.pk},
        method="post",
        data=lambda world: {"stage": stage_named(world.role, "Onsite").pk},
        member_status=302,
        object_scoped=True,
    ),
    # Roles.
    "roles:list": Row(),
    "roles:detail": Row(kwargs=lambda world: {"pk": world.role.pk}, object_scoped=True),
    "roles:edit": Row(kwargs=lambda world: {"pk": world.role.pk}, object_scoped=True),
    # Integrations. No integration is connected in `world`, which is why sync_now,
    # disconnect and settings return 404 to an Owner and connect/update_key return
    # 400 for an empty form.
    "integrations:index": Row(),
    "integrations:card": Row(kwargs=lambda world: {"provider": "ashby"}),
    "integrations:connect": Row(
        kwargs=lambda world: {"provider": "ashby"},
        method="post",
        member_status=400,
        recruiter_status=403,
    ),
    "integrations:update_key": Row(
        kwargs=lambda world: {"provider": "ashby"},
        method="post",
        member_status=400,
        recruiter_status=403,
    ),
    "integrations:sync_now": Row(
        kwargs=lambda world: {"provider": "ashby"},
        method="post",
        member_status=404,
        recruiter_status=403,
    ),
    "integrations:disconnect": Row(
        kwargs=lambda world: {"provider": "ashby"},
        method="post",
        member_status=404,
        recruiter_status=403,
    ),
    "integrations:settings": Row(
        kwargs=lambda world: {"provider": "ashby"},
        method="post",
        member_status=404,
        recruiter_status=403,
    ),
    "integrations:retry_push": Row(
        kwargs=lambda world: {"record_type": "candidate", "record_id": world.candidate.pk},
        method="post",
        member_status=302,
        object_scoped=True,
    ),
    # Operations. The ops page is for staff only: members who are not staff get 404. The
    # health URLs need no login; no worker runs here, so the heartbeat check fails (503).
    "ops:dashboard": Row(member_status=404),
    "ops:healthz": Row(public=True, anonymous_status=200),
    "ops:readyz": Row(public=True, anonymous_status=200),
    "ops:healthz_worker": Row(member_status=503, public=True, anonymous_status=503),
}

# Admin URLs that do not send non-staff users to the admin login: (status, redirect path).
ADMIN_EXCEPTIONS = {
    "admin:login": (200, None),
    # The admin sends non-staff users from its logout URL to its index, which then
    # sends them to the admin login.
    "admin:logout": (302, "/admin/"),
}


def iter_patterns(patterns, prefix: str = "", namespace: str = ""):
    """Yield (full name or None, route, pattern) for every URL pattern, depth first."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner_namespace = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from iter_patterns(
                pattern.url_patterns, prefix + str(pattern.pattern), inner_namespace
            )
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield name, prefix + str(pattern.pattern), pattern


ALL_PATTERNS = list(iter_patterns(get_resolver().url_patterns))
ADMIN_PATTERNS = [entry for entry in ALL_PATTERNS if entry[1].startswith("admin/")]
SITE_PATTERNS = [entry for entry in ALL_PATTERNS if not entry[1].startswith("admin/")]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(organization, owner, recruiter, pipeline_role):  # noqa: F811
    """One candidate with a resume and an application in the role's Screen stage."""
    candidate = candidate_services.candidate_create(
        organization=organization,
        actor=owner,
        name="Access Candidate",
        resume=SimpleUploadedFile("cv.pdf", b"%PDF-1.4\n%%EOF\n"),
    )
    application = ApplicationFactory(
        organization=organization,
        candidate=candidate,
        role=pipeline_role,
        stage=stage_named(pipeline_role, "Screen"),
    )
    return SimpleNamespace(
        organization=organization, candidate=candidate, role=pipeline_role, application=application
    )


def send(client, name: str, world):
    row = ROWS[name]
    url = reverse(name, kwargs=row.kwargs(world))
    if row.method == "post":
        return client.post(url, row.data(world))
    return client.get(url)


def test_every_url_has_a_row():
    unnamed = [route for name, route, _ in SITE_PATTERNS if name is None]
    missing = [name for name, _, _ in SITE_PATTERNS if name is not None and name not in ROWS]
    stale = sorted(set(ROWS) - {name for name, _, _ in SITE_PATTERNS})

    assert unnamed == [], "Give these URL patterns a name and a row in ROWS."
    assert missing == [], "Add a row to ROWS in tests/test_access.py for these URLs."
    assert stale == [], "These rows name URLs that no longer exist."


@pytest.mark.parametrize("name", sorted(ROWS))
def test_anonymous(client, world, name):
    row = ROWS[name]

    response = send(client, name, world)

    if row.public:
        assert response.status_code == row.anonymous_status
    else:
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == LOGIN_PATH


@pytest.mark.parametrize("name", sorted(n for n, row in ROWS.items() if row.object_scoped))
def test_other_organization_gets_404(client, world, other_owner, name):
    client.force_login(other_owner)

    response = send(client, name, world)

    assert response.status_code == 404


@pytest.mark.parametrize("member", ["recruiter", "owner"])
@pytest.mark.parametrize("name", sorted(ROWS))
def test_members_of_the_organization(client, world, request, member, name):
    row = ROWS[name]
    client.force_login(request.getfixturevalue(member))
    expected = row.member_status
    if member == "recruiter" and row.recruiter_status is not None:
        expected = row.recruiter_status

    response = send(client, name, world)

    assert response.status_code == expected


def test_staff_without_membership_gets_404(client, world):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)

    response = client.get(reverse("candidates:detail", kwargs={"pk": world.candidate.pk}))

    assert response.status_code == 404


# Admin


def admin_path(name: str | None, route: str, pattern: URLPattern) -> str:
    """Build a concrete path for an admin pattern, with 1 for every argument."""
    if isinstance(pattern.pattern, RegexPattern):
        if name == "admin:app_list":
            return "/admin/candidates/"
        return "/admin/no-such-page/"
    return "/" + re.sub(r"<[^>]+>", "1", route)


@pytest.mark.parametrize("who", ["anonymous", "recruiter", "owner"])
def test_admin_rejects_non_staff(client, db, request, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    failures = []

    for name, route, pattern in ADMIN_PATTERNS:
        path = admin_path(name, route, pattern)
        expected_status, expected_location = ADMIN_EXCEPTIONS.get(name, (302, ADMIN_LOGIN_PATH))
        response = client.get(path)
        location = urlsplit(response.get("Location", "")).path or None
        if (response.status_code, location) != (expected_status, expected_location):
            failures.append((path, response.status_code, location))

    assert failures == []


def test_admin_staff_sees_only_own_organization(client, organization, other_organization):
    staff = MembershipFactory(organization=organization, user__is_staff=True).user
    staff.user_permissions.add(*Permission.objects.filter(codename="view_candidate"))
    CandidateFactory(organization=organization, name="Own Candidate")
    foreign = CandidateFactory(organization=other_organization, name="Foreign Candidate")
    client.force_login(staff)

    changelist = client.get(reverse("admin:candidates_candidate_changelist"))
    foreign_change = client.get(reverse("admin:candidates_candidate_change", args=[foreign.pk]))

    assert changelist.status_code == 200
    assert "Own Candidate" in changelist.content.decode()
    assert "Foreign Candidate" not in changelist.content.decode()
    assert foreign_change.status_code == 302  # The admin redirects a missing object to its index.


def test_admin_changelists_render_for_superuser(admin_client, world):
    for name in (
        "admin:candidates_candidate_changelist",
        "admin:candidates_application_changelist",
        "admin:roles_role_changelist",
        "admin:roles_jobpost_changelist",
        "admin:roles_interviewplan_changelist",
        "admin:roles_pipelinestage_changelist",
    ):
        response = admin_client.get(reverse(name), {"q": "access"})
        assert response.status_code == 200, name
