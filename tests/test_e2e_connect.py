"""End-to-end: an Owner connects Ashby in Chromium and a real worker runs the first sync.

The sandbox delays every response by 100 ms, so the sync lasts several seconds and the
Integrations card, which polls every 2 s, shows its progress change before it shows
Connected.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from playwright.sync_api import expect

from ats_ashby.provider import DEACTIVATED_KEY_MESSAGE, INVALID_KEY_MESSAGE
from ats_ashby.sandbox import start_sandbox
from ats_ashby.tests.conftest import sandbox_control
from ats_ashby.tests.expectations import expected_visible_candidate_ids
from candidates.models import Candidate
from integrations.models import Integration
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SANDBOX_OPTIONS = {"seed": 3, "jobs": 10, "candidates": 120}
SYNC_TIMEOUT_SECONDS = 120
PROGRESS_PATTERN = re.compile(r"Syncing [a-z ]+: [\d,]+ so far")
CANDIDATE_LINK_PATTERN = re.compile(r"/candidates/(\d+)/$")


@pytest.fixture
def sandbox(settings):
    """A small in-process sandbox that lives for the test, with Lavalier pointed at it."""
    server = start_sandbox(port=0, **SANDBOX_OPTIONS)
    settings.ASHBY_API_URL = server.url
    yield server
    server.stop()


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/candidates/$"))


def submit_connect_form(page, key: str) -> None:
    """Open Settings → Integrations, open Ashby's Connect dialog, paste key, click Connect."""
    page.get_by_role("link", name="Settings · Integrations").click()
    card = page.locator("#card-ashby")
    card.locator("summary", has_text="Connect").click()
    card.get_by_label("Ashby API key").fill(key)
    card.locator("form").get_by_role("button", name="Connect").click()


def card_texts(page) -> list[str]:
    """Read the texts of the Ashby card's status lines in one step, as the page shows them."""
    return page.evaluate(
        """() => Array.from(
            document.querySelectorAll('#card-ashby [data-testid^="sync-"]'),
            element => element.textContent.trim())"""
    )


def collect_candidate_links(page) -> list[tuple[str, int]]:
    """Follow the candidate list's Next links and return (name, pk) for every row."""
    rows = []
    while True:
        links = page.locator("table.table tbody tr td:first-child > a")
        for index in range(links.count()):
            link = links.nth(index)
            match = CANDIDATE_LINK_PATTERN.search(link.get_attribute("href"))
            assert match, link.get_attribute("href")
            rows.append((link.inner_text().strip(), int(match.group(1))))
        next_link = page.get_by_role("link", name="Next →")
        if not next_link.count():
            return rows
        next_link.click()
        page.wait_for_load_state()


def test_connect_shows_progress_then_exact_candidates(
    page, live_server, sandbox, owner, organization, celery_worker_factory
):
    worker = celery_worker_factory(env={"ASHBY_API_URL": sandbox.url})
    sandbox_control(sandbox, "POST", "/_sandbox/faults", {"latency_ms": 100})
    log_in(page, live_server.url, owner.username)

    # Browsers drop line breaks from a password input's value, but keep the spaces.
    submit_connect_form(page, "  \n sandbox_full \n ")

    card = page.locator("#card-ashby")
    expect(card.get_by_test_id("sync-status")).to_have_text(
        "Syncing. This might take several minutes…"
    )
    # A reload would start a new document and lose this marker.
    page.evaluate("window.lavalierTestMarker = 'set before the sync finished'")
    seen_texts: list[str] = []
    deadline = time.monotonic() + SYNC_TIMEOUT_SECONDS
    while not any(text.startswith("Connected — Last synced") for text in seen_texts):
        if time.monotonic() > deadline:
            tail = "\n".join(worker.log_text().splitlines()[-40:])
            pytest.fail(f"The card never showed Connected; it showed {seen_texts[-3:]}.\n{tail}")
        for text in card_texts(page):
            if text not in seen_texts:
                seen_texts.append(text)
        time.sleep(0.1)

    progress_texts = [text for text in seen_texts if PROGRESS_PATTERN.fullmatch(text)]
    assert len(progress_texts) >= 2, f"the progress line did not change: {seen_texts}"
    assert page.evaluate("window.lavalierTestMarker") == "set before the sync finished"
    integration = Integration.objects.get(organization=organization, is_active=True)
    assert integration.credential_last4 == "full"

    page.get_by_role("link", name="Candidates", exact=True).click()
    rows = collect_candidate_links(page)

    expected_ids = expected_visible_candidate_ids(sandbox.url)
    remote_id_by_pk = dict(
        Candidate.objects.filter(organization=organization, pk__in=[pk for _, pk in rows])
        .values_list("pk", "remote_id")
    )
    shown_remote_ids = [remote_id_by_pk.get(pk) for _, pk in rows]
    assert len(rows) > 50, "the list should span two pages of 50"
    assert sorted(shown_remote_ids) == sorted(expected_ids)
    sandbox_candidates = sandbox_control(sandbox, "GET", "/_sandbox/dump?kind=candidates")
    sandbox_names = {
        candidate["id"]: candidate["name"] for candidate in sandbox_candidates["results"]
    }
    assert Counter(name for name, _ in rows) == Counter(sandbox_names[i] for i in expected_ids)


@pytest.mark.parametrize(
    ("key", "message"),
    [("not-a-real-key", INVALID_KEY_MESSAGE), ("sandbox_deactivated", DEACTIVATED_KEY_MESSAGE)],
    ids=["invalid", "deactivated"],
)
def test_connect_failure_shown_in_dialog(
    page, live_server, sandbox, owner, organization, key, message
):
    log_in(page, live_server.url, owner.username)

    submit_connect_form(page, key)

    error = page.locator("#card-ashby").get_by_test_id("connect-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(message)
    assert error.inner_text().startswith("Unable to connect")
    assert not Integration.objects.filter(organization=organization).exists()
