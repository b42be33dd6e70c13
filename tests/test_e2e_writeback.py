"""End-to-end write-back: recruiters' edits in Chromium reach the Ashby sandbox through a
real Celery worker, and actions Ashby owns are rejected in the page and on crafted POSTs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from ats_ashby.provider import MANAGED_IN_ASHBY
from ats_ashby.sandbox import start_sandbox
from ats_ashby.tests.conftest import sandbox_control
from candidates.models import Application, Candidate, PushState
from candidates.services import STAGE_LOCKED_MESSAGE
from integrations.models import Integration, OutboxEvent, SyncRun
from integrations.services import integration_connect
from roles.models import PipelineStage, Role
from tests.factories import TEST_PASSWORD
from tests.fixtures.processes import CeleryWorkerProcess

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SANDBOX_OPTIONS = {"seed": 3, "jobs": 10, "candidates": 120}
SYNC_TIMEOUT_SECONDS = 120
PUSH_TIMEOUT_SECONDS = 60
# The candidate page's status card polls every 5 s.
STATUS_CARD_TIMEOUT_MS = 30_000
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def sandbox(settings):
    """A small in-process sandbox that lives for the test, with Lavalier pointed at it."""
    server = start_sandbox(port=0, **SANDBOX_OPTIONS)
    settings.ASHBY_API_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def worker(sandbox, celery_worker_factory) -> CeleryWorkerProcess:
    return celery_worker_factory(env={"ASHBY_API_URL": sandbox.url})


@pytest.fixture
def synced(worker, organization, owner) -> Integration:
    """The organization connected to the sandbox, after the worker's first full sync."""
    integration = integration_connect(
        organization=organization, actor=owner, provider_slug="ashby", credential="sandbox_full"
    )

    def finished() -> bool:
        integration.refresh_from_db()
        return integration.last_synced_at is not None

    wait_for(finished, timeout=SYNC_TIMEOUT_SECONDS, description="the first sync", worker=worker)
    run = SyncRun.objects.filter(integration=integration).latest("started_at")
    assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message
    return integration


@pytest.fixture
def owner_page(page, live_server, owner):
    """The page, signed in as the Owner through the login form."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/candidates/$"))
    return page


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float,
    description: str,
    worker: CeleryWorkerProcess | None = None,
) -> None:
    """Poll condition every 0.1 s, failing with the worker's log tail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            log_tail = ""
            if worker is not None:
                log_tail = "\nLast worker log lines:\n" + "\n".join(
                    worker.log_text().splitlines()[-60:]
                )
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {description}.{log_tail}")
        time.sleep(0.1)


def sandbox_dump(sandbox, kind: str, remote_id: str | None = None) -> list[dict]:
    suffix = f"&id={remote_id}" if remote_id else ""
    return sandbox_control(sandbox, "GET", f"/_sandbox/dump?kind={kind}{suffix}")["results"]


def sandbox_candidates_with_email(sandbox, email: str) -> list[dict]:
    return [
        candidate
        for candidate in sandbox_dump(sandbox, "candidates")
        if any(entry.get("value") == email for entry in candidate.get("emailAddresses") or [])
    ]


def detail_url(live_server, candidate: Candidate) -> str:
    return f"{live_server.url}/candidates/{candidate.pk}/"


def csrf_token(page) -> str:
    return page.locator("input[name=csrfmiddlewaretoken]").first.input_value()


def test_candidate_edit_pushed_and_fields_locked(
    owner_page, live_server, sandbox, synced, organization, worker
):
    page = owner_page
    candidate = (
        Candidate.objects.filter(organization=organization, is_visible=True).order_by("pk").first()
    )
    page.goto(detail_url(live_server, candidate))

    page.get_by_role("link", name="Edit").click()
    for label in ("Job title", "Company", "Location"):
        expect(page.get_by_label(label, exact=True)).to_be_disabled()
    expect(page.get_by_text(MANAGED_IN_ASHBY)).to_have_count(3)
    page.get_by_label("Name").fill("Renamed In Chromium")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url(detail_url(live_server, candidate))
    expect(page.get_by_role("heading", name="Renamed In Chromium")).to_be_visible()
    expect(page.locator(".status-card .badge-push-synced")).to_have_text(
        "Saved and synced", timeout=STATUS_CARD_TIMEOUT_MS
    )
    assert sandbox_dump(sandbox, "candidates", candidate.remote_id)[0]["name"] == (
        "Renamed In Chromium"
    )


def test_new_candidate_created_once_with_source(
    owner_page, live_server, sandbox, synced, organization, worker
):
    page = owner_page
    email = "nina.new@example.test"
    role = (
        Role.objects.filter(
            organization=organization, is_visible=True, interview_plan__isnull=False
        )
        .order_by("title", "pk")
        .first()
    )
    page.get_by_role("link", name="Settings · Integrations").click()
    card = page.locator("#card-ashby")
    card.get_by_label("Source for applications created through Lavalier").select_option(
        label="Platform: Lavalier"
    )
    card.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Ashby settings saved.")).to_be_visible()
    source_id = Integration.objects.get(pk=synced.pk).options["default_source_id"]
    assert source_id
    # The sandbox delays its candidate.create response by 3 s, so the page shows the
    # pending state first.
    sandbox_control(
        sandbox, "POST", "/_sandbox/faults", {"latency_ms": 3000, "endpoints": ["candidate.create"]}
    )

    page.get_by_role("link", name="Candidates", exact=True).click()
    page.get_by_role("link", name="New candidate").click()
    page.get_by_label("Name").fill("Nina New")
    page.get_by_label("Emails").fill(email)
    page.get_by_label("Resume").set_input_files(
        {"name": "nina-new.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_label("Apply to role").select_option(value=str(role.pk))
    page.get_by_role("button", name="Create candidate").click()

    page.wait_for_url(re.compile(r"/candidates/\d+/$"))
    pending_badge = page.locator(".status-card .badge-pending")
    expect(pending_badge).to_have_text("Pending creation in Ashby")
    expect(pending_badge).to_have_count(0, timeout=STATUS_CARD_TIMEOUT_MS)
    expect(page.locator(".status-card .badge-push-synced")).to_have_text("Saved and synced")

    candidate = Candidate.objects.get(organization=organization, name="Nina New")
    remote = sandbox_candidates_with_email(sandbox, email)
    assert len(remote) == 1
    assert remote[0]["id"] == candidate.remote_id
    assert remote[0].get("resumeFileHandle")
    remote_applications = [
        application
        for application in sandbox_dump(sandbox, "applications")
        if application["candidate"]["id"] == candidate.remote_id
    ]
    assert len(remote_applications) == 1
    assert remote_applications[0]["job"]["id"] == role.remote_id
    assert remote_applications[0]["source"]["id"] == source_id


def test_stage_move_reaches_ashby(
    owner_page, live_server, sandbox, synced, organization, worker
):
    page = owner_page
    application = (
        Application.objects.filter(
            organization=organization,
            status=Application.Status.ACTIVE,
            stage__stage_type=PipelineStage.StageType.ACTIVE,
            candidate__is_visible=True,
            role__interview_plan__isnull=False,
        )
        .select_related("candidate", "role", "stage")
        .order_by("pk")
        .first()
    )
    target = (
        PipelineStage.objects.filter(plan_id=application.role.interview_plan_id)
        .exclude(pk=application.stage_id)
        .exclude(stage_type=PipelineStage.StageType.ARCHIVED)
        .order_by("-order")
        .first()
    )
    page.goto(detail_url(live_server, application.candidate))

    stage_select = page.get_by_label(
        f"Stage for {application.candidate.name} on {application.role.title}"
    )
    stage_select.select_option(value=str(target.pk))
    stage_select.locator("xpath=ancestor::form").get_by_role("button", name="Move").click()

    expect(page.get_by_text(f"to {target.title} on {application.role.title}")).to_be_visible()
    wait_for(
        lambda: sandbox_dump(sandbox, "applications", application.remote_id)[0][
            "currentInterviewStage"
        ]["id"]
        == target.remote_id,
        timeout=PUSH_TIMEOUT_SECONDS,
        description="Ashby to show the new stage",
        worker=worker,
    )
    wait_for(
        lambda: Application.objects.get(pk=application.pk).push_state == PushState.SYNCED,
        timeout=PUSH_TIMEOUT_SECONDS,
        description="the application's push state to be synced",
        worker=worker,
    )


def test_locked_actions_reject_crafted_posts(
    owner_page, live_server, sandbox, synced, organization, worker
):
    page = owner_page
    archived = (
        Application.objects.filter(
            organization=organization,
            status=Application.Status.ARCHIVED,
            candidate__is_visible=True,
            role__interview_plan__isnull=False,
        )
        .select_related("candidate", "stage")
        .order_by("pk")
        .first()
    )
    candidate = archived.candidate
    other_stage = (
        PipelineStage.objects.filter(
            plan_id=archived.role.interview_plan_id, stage_type=PipelineStage.StageType.ACTIVE
        )
        .order_by("order")
        .first()
    )
    remote_before = sandbox_dump(sandbox, "applications", archived.remote_id)[0]
    page.goto(detail_url(live_server, candidate))

    # Every archived application of the candidate shows the same locked control.
    locked_control = page.locator(".stage-form.is-locked").first
    expect(locked_control.get_by_role("combobox")).to_be_disabled()
    expect(locked_control.get_by_role("button", name="Move")).to_be_disabled()
    expect(locked_control.get_by_text(STAGE_LOCKED_MESSAGE)).to_be_visible()

    # A POST the page never offers, sent with the browser's session cookie and CSRF token.
    response = page.request.post(
        f"{live_server.url}/candidates/applications/{archived.pk}/stage/",
        form={"csrfmiddlewaretoken": csrf_token(page), "stage": str(other_stage.pk)},
        max_redirects=0,
    )
    assert response.status == 302
    page.goto(detail_url(live_server, candidate))
    expect(page.locator(".messages .message-error")).to_have_text(STAGE_LOCKED_MESSAGE)
    unchanged = Application.objects.get(pk=archived.pk)
    assert (unchanged.stage_id, unchanged.status) == (archived.stage_id, archived.status)

    title_before = Candidate.objects.get(pk=candidate.pk).title
    response = page.request.post(
        f"{live_server.url}/candidates/{candidate.pk}/edit/",
        form={
            "csrfmiddlewaretoken": csrf_token(page),
            "name": candidate.name,
            "email_addresses": "\n".join(e["value"] for e in candidate.email_addresses),
            "phone_numbers": "\n".join(p["value"] for p in candidate.phone_numbers),
            "social_links": "\n".join(s["url"] for s in candidate.social_links),
            "title": "Crafted Title",
            "company": candidate.company,
            "location": candidate.location,
        },
        max_redirects=0,
    )
    assert response.status == 200, "a rejected edit renders the form again"
    assert "cannot be changed in Lavalier: " + MANAGED_IN_ASHBY in response.text()
    assert Candidate.objects.get(pk=candidate.pk).title == title_before

    assert not OutboxEvent.objects.filter(organization=organization).exists()
    assert sandbox_dump(sandbox, "applications", archived.remote_id)[0] == remote_before
    remote_candidate = sandbox_dump(sandbox, "candidates", candidate.remote_id)[0]
    assert remote_candidate.get("position", "") != "Crafted Title"
