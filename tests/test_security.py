"""Security checks across the site: access, CSRF, headers, hostile ATS data, secrets, logins."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from celery.app.task import Task
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import AuditEvent
from ats_ashby.sandbox import start_sandbox
from ats_ashby.sandbox.keys import DEFAULT_KEYS
from ats_ashby.sandbox.records import StoredFile
from ats_ashby.tests.conftest import sandbox_control
from ats_ashby.tests.expectations import expected_visible_candidate_ids
from candidates.models import Candidate
from candidates.resumes import resume_download_name, resume_validate
from integrations.models import Integration, SyncRun
from integrations.services import integration_connect, integration_sync_run
from ops.middleware import LOGIN_BLOCKED_MESSAGE
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory

REPO_ROOT = Path(__file__).resolve().parents[1]
LOGIN_PATH = "/accounts/login/"
ADMIN_LOGIN_PATH = "/admin/login/"

# Strings a hostile or careless Ashby user can put into names, titles and file names.
SCRIPT = '<script>alert("lavalier")</script>'
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
RIGHT_TO_LEFT = "\u202eevil\u202c\u200f"
CONTROL = "bell\x07nul\x00esc\x1b[31m"
LONG = "L" * 5000


@pytest.fixture(autouse=True)
def empty_cache():
    """Login counters live in the shared cache; start and end every test with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def sandbox(settings):
    server = start_sandbox(port=0, seed=11, jobs=8, candidates=60)
    settings.ASHBY_API_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True)


# Access ------------------------------------------------------------------------------

# path: {who: (status, redirect path or None)}
ACCESS_TABLE = {
    "/ops/": {
        "anonymous": (302, LOGIN_PATH),
        "recruiter": (404, None),
        "other_owner": (404, None),
        "staff": (200, None),
    },
    "/healthz": {who: (200, None) for who in ("anonymous", "recruiter", "other_owner", "staff")},
    "/readyz": {who: (200, None) for who in ("anonymous", "recruiter", "other_owner", "staff")},
    # No worker runs in this test, so the heartbeat check fails for everyone alike.
    "/healthz/worker": {
        who: (503, None) for who in ("anonymous", "recruiter", "other_owner", "staff")
    },
    "/admin/": {
        "anonymous": (302, ADMIN_LOGIN_PATH),
        "recruiter": (302, ADMIN_LOGIN_PATH),
        "other_owner": (302, ADMIN_LOGIN_PATH),
        "staff": (200, None),
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["anonymous", "recruiter", "other_owner", "staff"])
@pytest.mark.parametrize("path", sorted(ACCESS_TABLE))
def test_access_table(client, request, who, path):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    expected_status, expected_location = ACCESS_TABLE[path][who]

    response = client.get(path)

    assert response.status_code == expected_status
    location = urlsplit(response.get("Location", "")).path or None
    assert location == expected_location


# CSRF --------------------------------------------------------------------------------


def iter_routes(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from iter_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def concrete_path(route: str) -> str | None:
    """Turn a route into a path with 1 for each argument; None for regex admin routes."""
    if route.startswith("^") or "(?P" in route:
        return None
    path = re.sub(r"<slug:[^>]+>", "ashby", route)
    path = re.sub(r"<[^>]+>", "1", path)
    return "/" + path


ALL_POST_PATHS = sorted(
    {p for p in map(concrete_path, iter_routes(get_resolver().url_patterns)) if p}
)


@pytest.mark.django_db
def test_post_without_csrf_token_rejected_everywhere(owner, staff):
    failures = []
    for user in (None, owner, staff):
        client = Client(enforce_csrf_checks=True)
        if user is not None:
            client.force_login(user)
        for path in ALL_POST_PATHS:
            response = client.post(path, {"name": "x", "username": "x", "password": "x"})
            if response.status_code != 403:
                who = getattr(user, "username", "anonymous")
                failures.append((who, path, response.status_code))

    assert len(ALL_POST_PATHS) > 20
    assert failures == []


@pytest.mark.django_db
def test_post_with_csrf_token_accepted(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    client.get(reverse("candidates:list"))
    token = client.cookies["csrftoken"].value

    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": token})

    assert response.status_code == 302


# Cookies and headers -------------------------------------------------------------------


@pytest.mark.django_db
def test_session_and_csrf_cookie_flags(client, owner, settings):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client.get(reverse("login"))
    csrf_cookie = client.cookies["csrftoken"]

    response = client.post(
        reverse("login"), {"username": owner.username, "password": TEST_PASSWORD}, secure=True
    )
    session_cookie = response.cookies[settings.SESSION_COOKIE_NAME]

    assert response.status_code == 302
    assert session_cookie["httponly"] is True
    assert session_cookie["secure"] is True
    assert session_cookie["samesite"] == "Lax"
    assert csrf_cookie["httponly"] is True
    assert csrf_cookie["samesite"] == "Lax"
    assert csrf_cookie["secure"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/candidates/", "/ops/", "/healthz"])
def test_security_headers(client, owner, path):
    client.force_login(owner)

    response = client.get(path)

    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_hsts_sent_over_https_when_enabled(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000

    response = client.get("/healthz", secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000"


def settings_values(env: dict[str, str], names: list[str]) -> dict:
    """Import the settings in a fresh interpreter with `env` and return some values."""
    code = (
        "import json, lavalier.test_settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_secure_cookies_setting_turns_on_hsts_and_secure_flags():
    names = ["SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"]

    secure = settings_values({"SECURE_COOKIES": "true"}, names)
    plain = settings_values({"SECURE_COOKIES": "false"}, names)

    assert secure == {"SECURE_HSTS_SECONDS": 31536000, "SESSION_COOKIE_SECURE": True,
                      "CSRF_COOKIE_SECURE": True}
    assert plain == {"SECURE_HSTS_SECONDS": 0, "SESSION_COOKIE_SECURE": False,
                     "CSRF_COOKIE_SECURE": False}


def test_templates_and_scripts_need_no_inline_code():
    """The CSP allows no inline script or style, so the app's own files must not need any."""
    offenders = []
    for path in sorted((REPO_ROOT / "templates").rglob("*.html")):
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"\sstyle=", r"\son[a-z]+=",
                        r"javascript:"):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append((path.name, pattern))
    script = (REPO_ROOT / "static" / "js" / "app.js").read_text()
    for pattern in (r"\beval\(", r"new Function\(", r"\.setAttribute\(\s*['\"]on", r"\.style\."):
        if re.search(pattern, script):
            offenders.append(("app.js", pattern))

    assert offenders == []


# Hostile data from Ashby ---------------------------------------------------------------


def edit_sandbox(sandbox, visible_ids: set[str]) -> dict[str, str]:
    """Put hostile strings into the sandbox's candidates, a job, a stage and resume names.

    Returns the remote ids of the edited records. Edits the in-process sandbox's state
    directly, because its control API has no endpoint to rename records.
    """
    state = sandbox.state
    with state.lock:
        org = state.org
        candidate = next(c for c in org.candidates if c.id in visible_ids)
        candidate.name = SCRIPT + RIGHT_TO_LEFT + CONTROL
        candidate.position = ATTRIBUTE + LONG
        candidate.company = CONTROL
        state.touch(candidate)
        application = org.application_by_id[candidate.application_ids[0]]
        job = org.job_by_id[application.job_id]
        job["title"] = SCRIPT + " Engineer " + RIGHT_TO_LEFT
        state.touch(job)
        stage = org.stage_by_id[application.stage_id]
        stage["title"] = ATTRIBUTE + CONTROL
        file_owner = next(
            c for c in org.candidates
            if c.id in visible_ids and c.resume_file_id and c is not candidate
        )
        org.files[file_owner.resume_file_id] = StoredFile(
            file_owner.resume_file_id,
            "..\\../../etc/<script>passwd</script>.pdf",
            "application/pdf",
            data=b"%PDF-1.4\n%%EOF\n",
            candidate_id=file_owner.id,
        )
        html_owner = next(
            c for c in org.candidates
            if c.id in visible_ids and c.resume_file_id and c not in (candidate, file_owner)
        )
        org.files[html_owner.resume_file_id] = StoredFile(
            html_owner.resume_file_id,
            "cv.pdf",
            "text/html",
            data=b"<html><script>alert(1)</script></html>",
            candidate_id=html_owner.id,
        )
    return {
        "candidate": candidate.id,
        "job": job["id"],
        "file_owner": file_owner.id,
        "html_owner": html_owner.id,
    }


def assert_escaped(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "\x00" not in html


@pytest.mark.django_db
def test_hostile_ashby_data_renders_escaped(
    sandbox, organization, owner, client, admin_client, staff, caplog
):
    edited = edit_sandbox(sandbox, expected_visible_candidate_ids(sandbox.url))
    integration = integration_connect(
        organization=organization, actor=owner, provider_slug="ashby", credential="sandbox_full"
    )

    run = integration_sync_run(integration.pk, trigger="connect")

    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    candidate = Candidate.objects.get(organization=organization, remote_id=edited["candidate"])
    assert candidate.name.startswith(SCRIPT)
    assert len(candidate.title) <= 300
    client.force_login(owner)
    role = candidate.applications.first().role
    pages = {
        "candidate list": client.get(reverse("candidates:list")),
        "candidate search": client.get(reverse("candidates:list"), {"q": "script"}),
        "candidate detail": client.get(reverse("candidates:detail", args=[candidate.pk])),
        "role list": client.get(reverse("roles:list")),
        "role detail": client.get(reverse("roles:detail", args=[role.pk])),
        "integrations": client.get(reverse("integrations:index")),
        "admin candidates": admin_client.get(reverse("admin:candidates_candidate_changelist")),
        "admin candidate": admin_client.get(
            reverse("admin:candidates_candidate_change", args=[candidate.pk])
        ),
    }
    client.force_login(staff)
    pages["ops"] = client.get(reverse("ops:dashboard"))

    for label, response in pages.items():
        assert response.status_code == 200, label
        assert_escaped(response.content.decode())
    assert "&lt;script&gt;alert" in pages["candidate detail"].content.decode()
    assert "&lt;script&gt;alert" in pages["role detail"].content.decode()


@pytest.mark.django_db
def test_resume_names_and_types_from_ashby_stored_safely(sandbox, organization, owner, caplog):
    edited = edit_sandbox(sandbox, expected_visible_candidate_ids(sandbox.url))
    integration = integration_connect(
        organization=organization, actor=owner, provider_slug="ashby", credential="sandbox_full"
    )

    run = integration_sync_run(integration.pk, trigger="connect")

    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    stored = Candidate.objects.get(organization=organization, remote_id=edited["file_owner"])
    assert stored.resume.name
    assert ".." not in stored.resume.name
    assert Path(stored.resume.name).name == "resume.pdf"
    assert "/" not in stored.resume_name
    assert "\\" not in stored.resume_name
    assert stored.resume_content_type == "application/pdf"
    download_name = resume_download_name(stored.resume_name, stored.resume_content_type)
    assert re.fullmatch(r"[\w.-]+\.pdf", download_name)

    refused = Candidate.objects.get(organization=organization, remote_id=edited["html_owner"])
    assert not refused.resume
    warnings = [
        r for r in caplog.records
        if r.name == "ats_ashby.sync" and r.levelname == "WARNING" and "resume" in r.getMessage()
    ]
    assert any(getattr(r, "candidate_id", None) == refused.pk for r in warnings)


@pytest.mark.parametrize(
    "name, content",
    [
        ("../../etc/passwd.pdf", b"<html><script>alert(1)</script></html>"),
        ("cv.html", b"%PDF-1.4\n"),
        ("cv.pdf", b"PK\x03\x04 not a pdf"),
    ],
)
def test_uploaded_resume_with_wrong_content_refused(name, content):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        resume_validate(SimpleUploadedFile(name, content, content_type="application/pdf"))


@pytest.mark.django_db
def test_uploaded_resume_with_path_name_stored_inside_media(owner_client, organization, settings):
    response = owner_client.post(
        reverse("candidates:create"),
        {
            "name": "Path Name",
            "resume": SimpleUploadedFile("../../../../tmp/evil.pdf", b"%PDF-1.4\n"),
        },
    )

    assert response.status_code == 302
    candidate = Candidate.objects.get(organization=organization, name="Path Name")
    assert ".." not in candidate.resume.name
    resolved = Path(candidate.resume.path).resolve()
    assert resolved.is_relative_to(Path(settings.MEDIA_ROOT).resolve())


# The API key ---------------------------------------------------------------------------

SECRET_KEY_VALUE = "lvk_live_TOPSECRET_7f3a9c1e5b2d4068"


@pytest.mark.django_db
def test_api_key_never_leaks(
    sandbox, organization, owner, client, admin_client, staff, caplog, monkeypatch,
    django_capture_on_commit_callbacks,
):
    caplog.set_level("DEBUG")
    sandbox_control(sandbox, "POST", "/_sandbox/keys", {
        SECRET_KEY_VALUE: {"title": "Security test key",
                           "scopes": DEFAULT_KEYS["sandbox_full"]["scopes"]},
    })
    task_calls = []
    original_apply_async = Task.apply_async

    def recording_apply_async(self, args=None, kwargs=None, **options):
        task_calls.append({"task": self.name, "args": args, "kwargs": kwargs, "options": options})
        return original_apply_async(self, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", recording_apply_async)
    client.force_login(owner)

    # Connect (the first sync runs eagerly on commit), then a sync that fails on the key.
    with django_capture_on_commit_callbacks(execute=True):
        connected = client.post(
            reverse("integrations:connect", args=["ashby"]), {"credential": SECRET_KEY_VALUE}
        )
    integration = Integration.objects.get(organization=organization, is_active=True)
    assert connected.status_code == 302
    assert integration.last_synced_at is not None
    sandbox_control(sandbox, "POST", "/_sandbox/keys", {
        SECRET_KEY_VALUE: {"title": "Security test key", "deactivated": True,
                           "scopes": DEFAULT_KEYS["sandbox_full"]["scopes"]},
    })
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("integrations:sync_now", args=["ashby"]))
    integration.refresh_from_db()
    assert integration.state == Integration.State.ERROR

    # A second organization's failed connect with another key must not echo it either.
    other_key = SECRET_KEY_VALUE.replace("TOPSECRET", "OTHERSECRET")
    other_owner = MembershipFactory(organization__slug="initech", role="owner").user
    other_client = Client()
    other_client.force_login(other_owner)
    refused = other_client.post(
        reverse("integrations:connect", args=["ashby"]), {"credential": other_key}
    )
    assert refused.status_code == 400

    client.force_login(staff)
    ops_page = client.get(reverse("ops:dashboard"))
    client.force_login(owner)
    pages = {
        "integrations": client.get(reverse("integrations:index")),
        "card": client.get(reverse("integrations:card", args=["ashby"])),
        "not found": client.get("/no-such-page/"),
        "refused connect": refused,
        "ops": ops_page,
        "admin integrations": admin_client.get(
            reverse("admin:integrations_integration_changelist")
        ),
        "admin integration": admin_client.get(
            reverse("admin:integrations_integration_change", args=[integration.pk])
        ),
        "admin runs": admin_client.get(reverse("admin:integrations_syncrun_changelist")),
        "admin audit": admin_client.get(reverse("admin:accounts_auditevent_changelist")),
    }
    audit = json.dumps(list(AuditEvent.objects.values("action", "target", "details")), default=str)
    runs = json.dumps(list(SyncRun.objects.values()), default=str)
    stored = json.dumps(
        list(Integration.objects.values("credential_last4", "credential_title", "options",
                                        "error_message")),
        default=str,
    )
    log_text = caplog.text + "\n".join(repr(vars(r)) for r in caplog.records)

    assert any(call["task"] == "integrations.sync_integration" for call in task_calls)
    for secret in (SECRET_KEY_VALUE, other_key):
        for label, response in pages.items():
            assert response.status_code in (200, 400, 404), label
            assert secret not in response.content.decode(), label
        assert secret not in json.dumps(task_calls, default=str)
        assert secret not in audit
        assert secret not in runs
        assert secret not in stored
        assert secret not in log_text


# Login rate limit -----------------------------------------------------------------------


def attempt_login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_login_blocked_after_five_failures_per_username(client, owner, settings):
    for _ in range(settings.LOGIN_RATE_LIMIT_USERNAME_FAILURES):
        assert attempt_login(client, owner.username, "wrong").status_code == 200

    blocked = attempt_login(client, owner.username, TEST_PASSWORD)

    assert blocked.status_code == 429
    assert LOGIN_BLOCKED_MESSAGE.format(minutes=15) in blocked.content.decode()
    assert blocked["Retry-After"] == str(settings.LOGIN_RATE_LIMIT_WINDOW_SECONDS)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_limit_ignores_username_case(client, owner, settings):
    for _ in range(settings.LOGIN_RATE_LIMIT_USERNAME_FAILURES):
        attempt_login(client, owner.username.upper(), "wrong")

    assert attempt_login(client, owner.username, TEST_PASSWORD).status_code == 429


@pytest.mark.django_db
def test_login_limit_per_username_leaves_other_users(client, owner, recruiter, settings):
    for _ in range(settings.LOGIN_RATE_LIMIT_USERNAME_FAILURES):
        attempt_login(client, owner.username, "wrong")

    response = attempt_login(client, recruiter.username, TEST_PASSWORD)

    assert response.status_code == 302


@pytest.mark.django_db
def test_login_blocked_per_address(client, owner, settings):
    settings.LOGIN_RATE_LIMIT_ADDRESS_FAILURES = 6
    for number in range(6):
        attempt_login(client, f"guess{number}@example.test", "wrong")

    assert attempt_login(client, owner.username, TEST_PASSWORD).status_code == 429
    other_address = Client(REMOTE_ADDR="203.0.113.9")
    assert attempt_login(other_address, owner.username, TEST_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_login_success_clears_username_failures(client, owner, settings):
    limit = settings.LOGIN_RATE_LIMIT_USERNAME_FAILURES
    for _ in range(limit - 1):
        attempt_login(client, owner.username, "wrong")
    assert attempt_login(client, owner.username, TEST_PASSWORD).status_code == 302
    client.logout()

    for _ in range(limit - 1):
        attempt_login(client, owner.username, "wrong")

    assert attempt_login(client, owner.username, TEST_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_admin_login_also_limited(client, staff, settings):
    for _ in range(settings.LOGIN_RATE_LIMIT_USERNAME_FAILURES):
        client.post(ADMIN_LOGIN_PATH, {"username": staff.username, "password": "wrong"})

    response = client.post(
        ADMIN_LOGIN_PATH, {"username": staff.username, "password": TEST_PASSWORD}
    )

    assert response.status_code == 429
