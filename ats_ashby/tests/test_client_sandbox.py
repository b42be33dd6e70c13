"""AshbyClient against a real sandbox server on 127.0.0.1.

One sandbox serves the whole module. Tests that inject faults clear them afterwards, and
tests that expire tokens or cursors start their own passes, so the order does not matter.
Every JSON request body is validated against Ashby's OpenAPI document on the way out.
"""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from ats_ashby.client import PAGE_LIMIT, AshbyClient
from ats_ashby.errors import (
    AshbyAuthError,
    AshbyCursorExpired,
    AshbyFileTooLarge,
    AshbyPermissionError,
    AshbyRequestError,
    AshbyResponseError,
    AshbyServerError,
    AshbySyncTokenExpired,
    AshbyWriteOutcomeUnknown,
)
from ats_ashby.sandbox import start_sandbox
from ats_ashby.tests.test_client_spec import ValidatingTransport

pytestmark = pytest.mark.slow

FULL_KEY = "sandbox_full"
# Short timeouts so that the sandbox's hang fault turns into a client timeout quickly.
FAST_TIMEOUT = httpx.Timeout(connect=2.0, read=0.5, write=2.0, pool=2.0)
RESUME_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def sandbox():
    running = start_sandbox(port=0, seed=1, jobs=40, candidates=2000)
    yield running
    running.stop()


@pytest.fixture
def control(sandbox):
    """httpx client for the sandbox control API; clears injected faults after the test."""
    with httpx.Client(base_url=sandbox.url, timeout=10.0) as http:
        yield http
        http.delete("/_sandbox/faults").raise_for_status()


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(sandbox, sleeps):
    clients = []

    def make(key=FULL_KEY, **options):
        transport = ValidatingTransport(httpx.HTTPTransport(), sandbox.url)
        options.setdefault("sleep", sleeps.append)
        client = AshbyClient(key, base_url=sandbox.url, transport=transport, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client):
    return make_client()


def post_control(control, path, body):
    response = control.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def collect_ids(pages):
    ids = []
    for page in pages:
        assert len(page) <= PAGE_LIMIT
        ids.extend(record["id"] for record in page)
    return ids


# Authentication and permissions -----------------------------------------------------------


def test_sandbox_api_key_info(client):
    info = client.api_key_info()

    assert "candidates:read" in info["scopes"]
    assert info["title"]


def test_sandbox_wrong_key_is_invalid(make_client):
    client = make_client("not-a-sandbox-key")

    with pytest.raises(AshbyAuthError) as raised:
        client.api_key_info()
    assert raised.value.reason == "invalid"
    assert raised.value.status_code == 403
    assert "not-a-sandbox-key" not in str(raised.value)


def test_sandbox_deactivated_key(make_client, sleeps):
    client = make_client("sandbox_deactivated")

    with pytest.raises(AshbyAuthError) as raised:
        list(client.candidate_list())
    assert raised.value.reason == "deactivated"
    assert sleeps == []


def test_sandbox_missing_candidates_write(make_client, sleeps):
    client = make_client("sandbox_no_candidates_write")

    with pytest.raises(AshbyPermissionError) as raised:
        client.candidate_create(name="Grace Hopper")
    assert raised.value.permission == "candidatesWrite"
    assert raised.value.endpoint == "candidate.create"
    assert sleeps == []


def test_sandbox_missing_interviews_read(make_client, client):
    plan_id = next(iter(client.interview_plan_list()))[0]["id"]
    limited = make_client("sandbox_no_interviews_read")

    with pytest.raises(AshbyPermissionError) as raised:
        list(limited.interview_stage_list(plan_id))
    assert raised.value.permission == "interviewsRead"
    assert raised.value.endpoint == "interviewStage.list"


# Pagination and incremental sync ----------------------------------------------------------


def test_sandbox_candidate_pass_complete(client, control):
    dump = control.get("/_sandbox/dump", params={"kind": "candidates"}).json()["results"]
    visible = {row["id"] for row in dump if not row["_hiddenWithoutConfidentialAccess"]}

    pages = client.candidate_list()
    ids = collect_ids(pages)

    assert len(ids) == len(set(ids))
    assert set(ids) == visible
    assert pages.requests == -(-len(visible) // PAGE_LIMIT)
    assert pages.sync_token


def test_sandbox_sync_token_only_after_pass(client):
    pages = client.application_list()
    iterator = iter(pages)
    first = next(iterator)

    assert len(first) == PAGE_LIMIT
    assert pages.sync_token is None
    for _ in iterator:
        assert pages.sync_token is None
    assert pages.sync_token


def test_sandbox_incremental_pass_after_activity(client, control):
    applications = client.application_list()
    collect_ids(applications)
    candidates = client.candidate_list()
    collect_ids(candidates)

    changed = post_control(control, "/_sandbox/activity", {"moves": 5, "new_candidates": 3})
    assert changed["moved"]
    assert len(changed["new_candidates"]) == 3

    changed_applications = set(
        collect_ids(client.application_list(sync_token=applications.sync_token))
    )
    changed_candidates = set(collect_ids(client.candidate_list(sync_token=candidates.sync_token)))

    assert set(changed["moved"]) <= changed_applications
    assert set(changed["new_applications"]) <= changed_applications
    assert set(changed["new_candidates"]) <= changed_candidates
    # An incremental pass returns the changes, not the whole organization.
    assert len(changed_candidates) < 100


def test_sandbox_expired_sync_token(client, control):
    pages = client.job_list()
    collect_ids(pages)

    post_control(control, "/_sandbox/expire", {"sync_tokens": True})

    with pytest.raises(AshbySyncTokenExpired) as raised:
        list(client.job_list(sync_token=pages.sync_token))
    assert raised.value.code == "sync_token_expired"
    # The caller drops the token and runs a full pass, which issues a new token.
    fresh = client.job_list()
    assert collect_ids(fresh)
    assert fresh.sync_token


def test_sandbox_expired_cursor_mid_pass(client, control, sleeps):
    pages = client.candidate_list()
    iterator = iter(pages)
    next(iterator)

    post_control(control, "/_sandbox/expire", {"cursors": True})

    with pytest.raises(AshbyCursorExpired) as raised:
        next(iterator)
    assert raised.value.code == "next_cursor_expired"
    assert pages.sync_token is None
    assert sleeps == []
    # The caller restarts the pass from the first page.
    assert collect_ids(client.candidate_list())


# Injected faults --------------------------------------------------------------------------


def test_sandbox_429_honours_retry_after(client, control, sleeps):
    post_control(
        control,
        "/_sandbox/faults",
        {"rate_429": 1.0, "retry_after": 1, "count": 2, "endpoints": ["job.list"]},
    )

    assert collect_ids(client.job_list())
    assert sleeps == [1.0, 1.0]


def test_sandbox_5xx_then_success(client, control, sleeps):
    post_control(
        control,
        "/_sandbox/faults",
        {"rate_5xx": 1.0, "status_5xx": 503, "count": 2, "endpoints": ["candidate.list"]},
    )

    assert collect_ids(client.candidate_list())
    assert len(sleeps) == 2


def test_sandbox_5xx_exhausts_retries(make_client, control, sleeps):
    client = make_client(max_retries=2)
    post_control(control, "/_sandbox/faults", {"rate_5xx": 1.0, "endpoints": ["job.info"]})

    with pytest.raises(AshbyServerError) as raised:
        client.job_info(str(uuid.uuid4()))
    assert raised.value.status_code == 500
    assert raised.value.request_id
    assert len(sleeps) == 2


def test_sandbox_hang_then_success(make_client, control, sleeps):
    client = make_client(timeout=FAST_TIMEOUT)
    post_control(
        control,
        "/_sandbox/faults",
        {"timeout_rate": 1.0, "hang_seconds": 2, "count": 1, "endpoints": ["source.list"]},
    )

    assert collect_ids(client.source_list())
    assert len(sleeps) == 1


def test_sandbox_truncated_page_retried(client, control, sleeps):
    post_control(
        control,
        "/_sandbox/faults",
        {"truncated_page_rate": 1.0, "count": 1, "endpoints": ["application.list"]},
    )

    pages = client.application_list()
    assert collect_ids(pages)
    assert len(sleeps) == 1


def test_sandbox_malformed_json(client, control):
    post_control(
        control,
        "/_sandbox/faults",
        {"malformed_json_rate": 1.0, "count": 1, "endpoints": ["apiKey.info"]},
    )

    with pytest.raises(AshbyResponseError, match="not valid JSON"):
        client.api_key_info()


def test_sandbox_write_hang_is_outcome_unknown(make_client, control, sleeps):
    client = make_client(timeout=FAST_TIMEOUT)
    candidate_id = client.candidate_create(name="Katherine Johnson")["id"]
    post_control(
        control,
        "/_sandbox/faults",
        {
            "fail_after_store": ["candidate.update"],
            "fail_after_store_mode": "hang",
            "hang_seconds": 2,
            "endpoints": ["candidate.update"],
            "count": 1,
        },
    )

    with pytest.raises(AshbyWriteOutcomeUnknown) as raised:
        client.candidate_update(candidate_id, name="Katherine G. Johnson")
    assert raised.value.endpoint == "candidate.update"
    assert sleeps == []
    # The sandbox stored the change before it hung, which is why a blind retry is unsafe.
    assert client.candidate_info(candidate_id)["name"] == "Katherine G. Johnson"


def test_sandbox_reconcile_adopts_stored_candidate(client, control):
    email = f"dorothy.{uuid.uuid4().hex[:8]}@example.com"
    post_control(
        control,
        "/_sandbox/faults",
        {"fail_after_store": ["candidate.create"], "endpoints": ["candidate.create"], "count": 1},
    )
    post_control(control, "/_sandbox/stats/reset", {})

    created = client.candidate_create_reconciled(name="Dorothy Vaughan", email=email)

    stats = control.get("/_sandbox/stats").json()
    assert stats["endpoints"]["candidate.create"] == 1
    assert stats["endpoints"]["candidate.search"] == 1
    assert stats["statuses"]["500"] == 1
    matches = client.candidate_search(email=email)
    assert [candidate["id"] for candidate in matches] == [created["id"]]


# Resume round trip ------------------------------------------------------------------------


def test_sandbox_resume_round_trip(client, control):
    candidate = client.candidate_create(name="Mary Jackson", email="mary.jackson@example.com")

    updated = client.candidate_upload_resume(
        candidate["id"], filename="mary.pdf", content=RESUME_PDF, content_type="application/pdf"
    )
    handle = updated["resumeFileHandle"]["handle"]
    assert client.candidate_info(candidate["id"])["resumeFileHandle"]["handle"] == handle

    url = client.file_info(handle)["url"]
    content, content_type = client.download_file(url, max_bytes=1024 * 1024)
    assert content == RESUME_PDF
    assert content_type == "application/pdf"

    with pytest.raises(AshbyFileTooLarge):
        client.download_file(client.file_info(handle)["url"], max_bytes=10)

    post_control(control, "/_sandbox/expire", {"file_urls": True})
    with pytest.raises(AshbyRequestError, match="HTTP 403"):
        client.download_file(url, max_bytes=1024 * 1024)


def test_sandbox_logs_never_contain_key(make_client, control, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client()
    post_control(
        control, "/_sandbox/faults", {"rate_5xx": 1.0, "count": 1, "endpoints": ["user.list"]}
    )

    collect_ids(client.user_list())
    with pytest.raises(AshbyAuthError):
        make_client("sandbox_deactivated").api_key_info()

    assert "ats_ashby.client" in {record.name for record in caplog.records}
    assert FULL_KEY not in caplog.text
    assert "sandbox_deactivated" not in caplog.text
    assert FULL_KEY not in repr(client)
