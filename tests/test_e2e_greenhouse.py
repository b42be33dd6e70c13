"""End-to-end: an Owner connects Greenhouse in Chromium and a real worker runs the sync.

Also checks the one-ATS rule in the browser: with Greenhouse connected, connecting Ashby
fails with the message the help docs quote.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from ats_greenhouse.sandbox import start_sandbox
from ats_greenhouse.tests.expectations import expected_visible_candidate_ids
from candidates.models import Candidate
from integrations.models import Integration
from tests.test_e2e_connect import collect_candidate_links, log_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SYNC_TIMEOUT_SECONDS = 120


@pytest.fixture
def greenhouse(settings):
    server = start_sandbox(port=0, seed=3, jobs=10, candidates=120)
    settings.GREENHOUSE_API_URL = server.api_url
    settings.GREENHOUSE_AUTH_URL = server.url
    yield server
    server.stop()


def test_greenhouse_connect_and_sync(
    page, live_server, greenhouse, owner, organization, celery_worker_factory
):
    worker = celery_worker_factory(
        env={"GREENHOUSE_API_URL": greenhouse.api_url, "GREENHOUSE_AUTH_URL": greenhouse.url}
    )
    log_in(page, live_server.url, owner.username)
    page.get_by_role("link", name="Settings · Integrations").click()

    card = page.locator("#card-greenhouse")
    card.locator("summary", has_text="Connect").click()
    card.get_by_label("Greenhouse Client ID").fill("  sandbox_full ")
    card.get_by_label("Greenhouse Client secret").fill("sandbox_secret")
    card.get_by_label("Greenhouse User ID").fill("1001")
    card.locator("form").get_by_role("button", name="Connect").click()

    status = page.locator("#card-greenhouse").get_by_test_id("sync-status")
    expect(status).to_be_visible()
    deadline = time.monotonic() + SYNC_TIMEOUT_SECONDS
    while not status.inner_text().startswith("Connected — Last synced"):
        if time.monotonic() > deadline:
            tail = "\n".join(worker.log_text().splitlines()[-40:])
            pytest.fail(f"The card never showed Connected: {status.inner_text()!r}\n{tail}")
        time.sleep(0.2)

    page.get_by_role("link", name="Candidates", exact=True).click()
    rows = collect_candidate_links(page)
    remote_ids = dict(
        Candidate.objects.filter(organization=organization, pk__in=[pk for _, pk in rows])
        .values_list("pk", "remote_id")
    )
    assert sorted(remote_ids[pk] for _, pk in rows) == sorted(
        expected_visible_candidate_ids(greenhouse)
    )

    # One ATS at a time: the Ashby card offers Connect, and the server rejects it.
    page.get_by_role("link", name="Settings · Integrations").click()
    ashby = page.locator("#card-ashby")
    expect(ashby).to_contain_text("Greenhouse is connected")
    ashby.locator("summary", has_text="Connect").click()
    ashby.get_by_label("Ashby API key").fill("sandbox_full")
    ashby.locator("form").get_by_role("button", name="Connect").click()
    expect(page.locator("#card-ashby").get_by_test_id("connect-error")).to_have_text(
        "Another ATS integration is currently active. Disconnect it first to connect Ashby."
    )
    assert Integration.objects.filter(organization=organization, is_active=True).count() == 1
    assert re.search(r"/settings/integrations/", page.url)
