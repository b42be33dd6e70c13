"""Tests of AshbyClient against Ashby responses mocked with respx.

Every request body the client sends is checked against the requestBody schema of Ashby's
OpenAPI document when the test ends (see ``test_client_spec``).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from ats_ashby.client import PAGE_LIMIT, AshbyClient, Pages, parse_retry_after
from ats_ashby.errors import (
    AshbyAuthError,
    AshbyCursorExpired,
    AshbyError,
    AshbyFileTooLarge,
    AshbyPermissionError,
    AshbyRateLimited,
    AshbyRequestError,
    AshbyResponseError,
    AshbyServerError,
    AshbySyncTokenExpired,
    AshbyUnavailable,
    AshbyWriteOutcomeUnknown,
)
from ats_ashby.tests.test_client_spec import validate_request

BASE_URL = "https://ashby.test"
API_KEY = "sk_live_3f9c2b7e1d8a4c6f9e0b5a7d2c4e6f8a"
FILE_HOST = "https://files.ashby.test"

JOB_ID = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
JOB_POSTING_ID = "7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
PLAN_ID = "8b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"
STAGE_ID = "9c4d5e6f-7a8b-4c9d-0e1f-2a3b4c5d6e7f"
APPLICATION_ID = "0d5e6f7a-8b9c-4d0e-8f2a-3b4c5d6e7f80"
CANDIDATE_ID = "1e6f7a8b-9c0d-4e1f-8a3b-4c5d6e7f8091"
ARCHIVE_REASON_ID = "2f7a8b9c-0d1e-4f2a-8b4c-5d6e7f8091a2"
SOURCE_ID = "3a8b9c0d-1e2f-4a3b-8c5d-6e7f8091a2b3"


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def ashby():
    """respx router for Ashby; validates every request body against the spec at teardown."""
    with respx.mock(assert_all_called=False) as router:
        yield router
        for call in router.calls:
            validate_request(call.request, BASE_URL)


@pytest.fixture
def client(ashby, sleeps):
    with AshbyClient(API_KEY, base_url=BASE_URL, sleep=sleeps.append) as ashby_client:
        yield ashby_client


def route(router, endpoint):
    return router.post(f"{BASE_URL}/{endpoint}")


def ok(results, **extra):
    return httpx.Response(200, json={"success": True, "results": results, **extra})


def failure(code, message="Something failed", *, status=200, request_id="req_01", headers=None):
    body = {
        "success": False,
        "errors": [code],
        "errorInfo": {"code": code, "message": message, "requestId": request_id},
    }
    return httpx.Response(status, json=body, headers=headers)


def sent_body(call):
    return json.loads(call.request.content)


def consume(result):
    """Run a client call to completion; a Pages result is iterated into one list of records."""
    if isinstance(result, Pages):
        return [record for page in result for record in page]
    return result


# Endpoint families: (endpoint, call, expected request body, sample results).

OBJECT_READS = [
    ("apiKey.info", lambda c: c.api_key_info(), {}, {"title": "Lavalier", "scopes": []}),
    ("job.info", lambda c: c.job_info(JOB_ID), {"id": JOB_ID}, {"id": JOB_ID}),
    (
        "jobPosting.info",
        lambda c: c.job_posting_info(JOB_POSTING_ID),
        {"jobPostingId": JOB_POSTING_ID},
        {"id": JOB_POSTING_ID},
    ),
    (
        "application.info",
        lambda c: c.application_info(APPLICATION_ID),
        {"applicationId": APPLICATION_ID},
        {"id": APPLICATION_ID},
    ),
    (
        "candidate.info",
        lambda c: c.candidate_info(CANDIDATE_ID),
        {"id": CANDIDATE_ID},
        {"id": CANDIDATE_ID},
    ),
    (
        "file.info",
        lambda c: c.file_info("handle-1"),
        {"fileHandle": "handle-1"},
        {"url": f"{FILE_HOST}/resume.pdf"},
    ),
]

LISTS = [
    ("job.list", lambda c: c.job_list(), {"limit": PAGE_LIMIT}),
    ("jobPosting.list", lambda c: c.job_posting_list(), {}),
    (
        "interviewPlan.list",
        lambda c: c.interview_plan_list(),
        {"includeArchived": True, "limit": PAGE_LIMIT},
    ),
    (
        "interviewStage.list",
        lambda c: c.interview_stage_list(PLAN_ID),
        {"interviewPlanId": PLAN_ID},
    ),
    ("application.list", lambda c: c.application_list(), {"limit": PAGE_LIMIT}),
    ("candidate.list", lambda c: c.candidate_list(), {"limit": PAGE_LIMIT}),
    ("source.list", lambda c: c.source_list(), {"includeArchived": True}),
    ("archiveReason.list", lambda c: c.archive_reason_list(), {"includeArchived": True}),
    (
        "department.list",
        lambda c: c.department_list(),
        {"includeArchived": True, "limit": PAGE_LIMIT},
    ),
    ("location.list", lambda c: c.location_list(), {"includeArchived": True}),
    (
        "user.list",
        lambda c: c.user_list(),
        {"includeDeactivated": True, "limit": PAGE_LIMIT},
    ),
]

PAGINATED_LISTS = [
    ("job.list", lambda c, token: c.job_list(sync_token=token)),
    ("application.list", lambda c, token: c.application_list(sync_token=token)),
    ("candidate.list", lambda c, token: c.candidate_list(sync_token=token)),
    ("interviewPlan.list", lambda c, token: c.interview_plan_list()),
    ("department.list", lambda c, token: c.department_list()),
    ("user.list", lambda c, token: c.user_list()),
]

WRITES = [
    (
        "job.update",
        lambda c: c.job_update(JOB_ID, title="Staff Engineer", team_id=PLAN_ID),
        {"jobId": JOB_ID, "title": "Staff Engineer", "teamId": PLAN_ID},
        {"id": JOB_ID},
    ),
    (
        "application.create",
        lambda c: c.application_create(
            CANDIDATE_ID, JOB_ID, interview_stage_id=STAGE_ID, source_id=SOURCE_ID
        ),
        {
            "candidateId": CANDIDATE_ID,
            "jobId": JOB_ID,
            "interviewStageId": STAGE_ID,
            "sourceId": SOURCE_ID,
        },
        {"id": APPLICATION_ID},
    ),
    (
        "application.changeStage",
        lambda c: c.application_change_stage(
            APPLICATION_ID, STAGE_ID, archive_reason_id=ARCHIVE_REASON_ID
        ),
        {
            "applicationId": APPLICATION_ID,
            "interviewStageId": STAGE_ID,
            "archiveReasonId": ARCHIVE_REASON_ID,
        },
        {"id": APPLICATION_ID},
    ),
    (
        "candidate.create",
        lambda c: c.candidate_create(name="Ada Lovelace", email="ada@example.com"),
        {"name": "Ada Lovelace", "email": "ada@example.com"},
        {"id": CANDIDATE_ID},
    ),
    (
        "candidate.update",
        lambda c: c.candidate_update(
            CANDIDATE_ID, linked_in_url="https://linkedin.com/in/ada", send_notifications=False
        ),
        {
            "candidateId": CANDIDATE_ID,
            "linkedInUrl": "https://linkedin.com/in/ada",
            "sendNotifications": False,
        },
        {"id": CANDIDATE_ID},
    ),
]

READS = [(endpoint, call) for endpoint, call, _, _ in OBJECT_READS] + [
    (endpoint, call) for endpoint, call, _ in LISTS
]
ALL_CALLS = READS + [(endpoint, call) for endpoint, call, _, _ in WRITES]


def list_ids(cases):
    return [case[0] for case in cases]


# Construction, headers and secrecy --------------------------------------------------------


def test_client_sends_auth_and_headers(ashby):
    route(ashby, "apiKey.info").mock(return_value=ok({"title": "k"}))
    with AshbyClient(f"  {API_KEY}\r\n", base_url=BASE_URL) as client:
        client.api_key_info()

    request = ashby.calls.last.request
    expected = base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json; version=1"
    assert "Lavalier" in request.headers["user-agent"]
    assert request.method == "POST"
    assert json.loads(request.content) == {}


def test_client_has_explicit_timeouts():
    with AshbyClient(API_KEY, base_url=BASE_URL) as client:
        assert client.timeout.connect is not None
        assert client.timeout.read is not None


def test_client_base_url_from_django_settings(settings):
    settings.ASHBY_API_URL = "http://127.0.0.1:8765/"
    with AshbyClient(API_KEY) as client:
        assert client.base_url == "http://127.0.0.1:8765"


def test_client_rejects_empty_key():
    with pytest.raises(ValueError, match="empty"):
        AshbyClient(" \n ")


def test_client_rejects_key_with_inner_whitespace():
    with pytest.raises(ValueError) as raised:
        AshbyClient("abc def")
    assert "abc" not in str(raised.value)


def test_client_close_closes_http_client():
    client = AshbyClient(API_KEY, base_url=BASE_URL)
    with client:
        pass
    assert client._http.is_closed


def test_client_repr_hides_key():
    with AshbyClient(API_KEY, base_url=BASE_URL) as client:
        assert API_KEY not in repr(client)
        assert API_KEY not in str(client)
        assert BASE_URL in repr(client)


def test_key_absent_from_errors_and_logs(ashby, client, caplog):
    caplog.set_level(logging.DEBUG)
    # An error message that echoes the key must not carry it into the exception.
    route(ashby, "apiKey.info").mock(
        return_value=failure("invalid_api_key", f"Key {API_KEY} is not valid", status=403)
    )
    route(ashby, "candidate.info").mock(side_effect=[httpx.ReadTimeout("t")] * 6)
    route(ashby, "candidate.create").mock(return_value=httpx.Response(502, text="bad gateway"))
    route(ashby, "job.info").mock(
        side_effect=[httpx.Response(503), failure("invalid_input", API_KEY)]
    )

    raised = []
    for call in (
        lambda: client.api_key_info(),
        lambda: client.candidate_info(CANDIDATE_ID),
        lambda: client.candidate_create(name="Ada"),
        lambda: client.job_info(JOB_ID),
    ):
        with pytest.raises(AshbyError) as error:
            call()
        raised.append(error.value)

    assert len(raised) == 4
    for error in raised:
        assert API_KEY not in str(error)
        assert API_KEY not in repr(error)
        assert API_KEY not in repr(vars(error))
    assert caplog.records, "expected log lines"
    assert API_KEY not in caplog.text
    encoded = base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert encoded not in caplog.text


def test_responses_logged_at_debug_with_request_id(ashby, client, caplog):
    caplog.set_level(logging.DEBUG, logger="ats_ashby.client")
    route(ashby, "job.info").mock(
        side_effect=[
            failure("server_error", status=500, request_id="req_first"),
            ok({"id": JOB_ID}),
        ]
    )
    client.job_info(JOB_ID)

    response_lines = [r for r in caplog.records if r.levelno == logging.DEBUG]
    retry_lines = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(response_lines) == 2
    assert response_lines[0].endpoint == "job.info"
    assert response_lines[0].status_code == 500
    assert response_lines[0].request_id == "req_first"
    assert response_lines[1].retry == 1
    assert hasattr(response_lines[1], "duration_ms")
    assert len(retry_lines) == 1
    assert "job.info" in retry_lines[0].getMessage()


# Success per endpoint family --------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "call", "body", "results"), OBJECT_READS, ids=list_ids(OBJECT_READS)
)
def test_object_read_returns_results(ashby, client, endpoint, call, body, results):
    mocked = route(ashby, endpoint).mock(return_value=ok(results))

    assert call(client) == results
    assert mocked.call_count == 1
    assert sent_body(mocked.calls.last) == body


@pytest.mark.parametrize(("endpoint", "call", "body"), LISTS, ids=list_ids(LISTS))
def test_list_returns_single_page(ashby, client, endpoint, call, body):
    records = [{"id": str(uuid.uuid4())} for _ in range(3)]
    mocked = route(ashby, endpoint).mock(return_value=ok(records, moreDataAvailable=False))

    pages = call(client)
    assert isinstance(pages, Pages)
    assert list(pages) == [records]
    assert pages.requests == 1
    assert pages.sync_token is None
    assert sent_body(mocked.calls.last) == body


@pytest.mark.parametrize(("endpoint", "call", "body", "results"), WRITES, ids=list_ids(WRITES))
def test_write_returns_results(ashby, client, endpoint, call, body, results):
    mocked = route(ashby, endpoint).mock(return_value=ok(results))

    assert call(client) == results
    assert sent_body(mocked.calls.last) == body


def test_candidate_search_returns_list(ashby, client):
    found = [{"id": CANDIDATE_ID, "name": "Ada"}]
    mocked = route(ashby, "candidate.search").mock(return_value=ok(found))

    assert client.candidate_search(email="ada@example.com") == found
    assert sent_body(mocked.calls.last) == {"email": "ada@example.com"}


def test_candidate_search_requires_filter(client):
    with pytest.raises(TypeError):
        client.candidate_search()


def test_job_list_include_drafts_adds_draft_status(ashby, client):
    mocked = route(ashby, "job.list").mock(return_value=ok([], moreDataAvailable=False))

    list(client.job_list(include_drafts=True))
    assert sent_body(mocked.calls[0])["status"] == ["Draft", "Open", "Closed", "Archived"]

    list(client.job_list(include_drafts=True, status=["Open"]))
    assert sent_body(mocked.calls[1])["status"] == ["Open", "Draft"]

    list(client.job_list(status=["Open"], opened_after=1659979196538))
    assert sent_body(mocked.calls[2]) == {
        "status": ["Open"],
        "openedAfter": 1659979196538,
        "limit": PAGE_LIMIT,
    }


def test_application_list_sends_filters(ashby, client):
    mocked = route(ashby, "application.list").mock(return_value=ok([], moreDataAvailable=False))

    list(client.application_list(job_id=JOB_ID, status="Active", created_after=1659979196538))
    assert sent_body(mocked.calls.last) == {
        "jobId": JOB_ID,
        "status": "Active",
        "createdAfter": 1659979196538,
        "limit": PAGE_LIMIT,
    }


def test_write_rejects_unknown_field(ashby, client):
    mocked = route(ashby, "candidate.update")

    with pytest.raises(TypeError, match="position"):
        client.candidate_update(CANDIDATE_ID, position="CTO")
    with pytest.raises(TypeError, match="employment_type"):
        client.job_update(JOB_ID, employment_type="FullTime")
    assert mocked.call_count == 0


def test_list_filter_rejects_unknown_field(client):
    with pytest.raises(TypeError, match="colour"):
        client.job_posting_list(colour="blue")


# Pagination -------------------------------------------------------------------------------


def three_pages(total=237):
    """Return a respx side effect serving ``total`` records in pages of at most 100."""
    records = [{"id": str(uuid.uuid4()), "index": index} for index in range(total)]
    cursors = [None, "cursor-page-2", "cursor-page-3"]

    def respond(request):
        body = json.loads(request.content)
        page_number = cursors.index(body.get("cursor"))
        start = page_number * body["limit"]
        chunk = records[start : start + body["limit"]]
        more = start + body["limit"] < total
        payload = {"success": True, "results": chunk, "moreDataAvailable": more}
        if more:
            payload["nextCursor"] = cursors[page_number + 1]
            # A syncToken on an intermediate page must be ignored.
            payload["syncToken"] = f"not-final-{page_number}"
        else:
            payload["syncToken"] = "sync-token-final"
        return httpx.Response(200, json=payload)

    return records, respond


@pytest.mark.parametrize(("endpoint", "call"), PAGINATED_LISTS, ids=list_ids(PAGINATED_LISTS))
def test_list_traverses_three_pages(ashby, client, endpoint, call):
    records, respond = three_pages()
    mocked = route(ashby, endpoint).mock(side_effect=respond)

    pages = call(client, None)
    received = []
    for page in pages:
        received.append(page)
        assert pages.sync_token is None

    assert [len(page) for page in received] == [100, 100, 37]
    assert [record for page in received for record in page] == records
    assert pages.sync_token == "sync-token-final"
    assert pages.requests == 3

    bodies = [sent_body(call) for call in mocked.calls]
    assert [body["limit"] for body in bodies] == [100, 100, 100]
    assert [body.get("cursor") for body in bodies] == [None, "cursor-page-2", "cursor-page-3"]


@pytest.mark.parametrize(
    ("endpoint", "call"), PAGINATED_LISTS[:3], ids=list_ids(PAGINATED_LISTS[:3])
)
def test_list_sends_sync_token_on_every_page(ashby, client, endpoint, call):
    _, respond = three_pages()
    mocked = route(ashby, endpoint).mock(side_effect=respond)

    list(call(client, "stored-token"))

    assert [sent_body(call)["syncToken"] for call in mocked.calls] == ["stored-token"] * 3


def test_list_without_sync_token_leaves_none(ashby, client):
    route(ashby, "source.list").mock(return_value=ok([{"id": SOURCE_ID}], moreDataAvailable=False))

    pages = client.source_list()
    list(pages)
    assert pages.sync_token is None


def test_list_follows_cursor_on_unpaginated_endpoint(ashby, client):
    mocked = route(ashby, "interviewStage.list").mock(
        side_effect=[
            ok([{"id": "a"}], moreDataAvailable=True, nextCursor="next"),
            ok([{"id": "b"}], moreDataAvailable=False),
        ]
    )

    assert consume(client.interview_stage_list(PLAN_ID)) == [{"id": "a"}, {"id": "b"}]
    assert "limit" not in sent_body(mocked.calls[0])
    assert sent_body(mocked.calls[1])["cursor"] == "next"


def test_pages_count_retried_requests(ashby, client):
    route(ashby, "candidate.list").mock(
        side_effect=[httpx.Response(503), ok([{"id": "a"}], moreDataAvailable=False)]
    )

    pages = client.candidate_list()
    list(pages)
    assert pages.requests == 2


def test_pages_iterate_only_once(ashby, client):
    route(ashby, "candidate.list").mock(return_value=ok([], moreDataAvailable=False))

    pages = client.candidate_list()
    list(pages)
    with pytest.raises(RuntimeError, match="already iterated"):
        iter(pages)


def test_pages_fetch_lazily(ashby, client):
    mocked = route(ashby, "candidate.list").mock(return_value=ok([], moreDataAvailable=False))

    client.candidate_list()
    assert mocked.call_count == 0


def test_more_data_without_cursor_raises(ashby, client):
    route(ashby, "candidate.list").mock(return_value=ok([{"id": "a"}], moreDataAvailable=True))

    with pytest.raises(AshbyResponseError, match="nextCursor"):
        consume(client.candidate_list())


def test_repeated_cursor_raises(ashby, client):
    route(ashby, "candidate.list").mock(
        return_value=ok([{"id": "a"}], moreDataAvailable=True, nextCursor="same")
    )

    with pytest.raises(AshbyResponseError, match="same nextCursor"):
        consume(client.candidate_list())


def test_list_results_not_list_raises(ashby, client):
    route(ashby, "candidate.list").mock(return_value=ok({"id": "a"}, moreDataAvailable=False))

    with pytest.raises(AshbyResponseError, match="not a list"):
        consume(client.candidate_list())


# Expired sync tokens and cursors ----------------------------------------------------------


@pytest.mark.parametrize("code", ["sync_token_expired", "sync_token_invalid"])
def test_expired_sync_token_raises(ashby, client, code):
    mocked = route(ashby, "application.list").mock(return_value=failure(code, "Drop it"))

    pages = client.application_list(sync_token="old")
    with pytest.raises(AshbySyncTokenExpired) as raised:
        list(pages)
    assert raised.value.code == code
    assert mocked.call_count == 1
    assert pages.sync_token is None


@pytest.mark.parametrize("code", ["next_cursor_expired", "invalid_next_cursor"])
def test_expired_cursor_mid_pass_raises(ashby, client, sleeps, code):
    route(ashby, "candidate.list").mock(
        side_effect=[
            ok([{"id": "a"}], moreDataAvailable=True, nextCursor="c2"),
            failure(code, "Restart the pass"),
        ]
    )

    pages = client.candidate_list(sync_token="kept")
    iterator = iter(pages)
    assert next(iterator) == [{"id": "a"}]
    with pytest.raises(AshbyCursorExpired) as raised:
        next(iterator)
    assert raised.value.code == code
    assert pages.sync_token is None
    assert sleeps == []


# Authentication and permission errors -----------------------------------------------------


@pytest.mark.parametrize(("endpoint", "call"), ALL_CALLS, ids=list_ids(ALL_CALLS))
def test_401_raises_auth_error_missing(ashby, client, sleeps, endpoint, call):
    mocked = route(ashby, endpoint).mock(
        return_value=httpx.Response(401, text="Unauthorized: no API key provided")
    )

    with pytest.raises(AshbyAuthError) as raised:
        consume(call(client))
    assert raised.value.reason == "missing"
    assert raised.value.status_code == 401
    assert mocked.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize(("endpoint", "call"), ALL_CALLS, ids=list_ids(ALL_CALLS))
def test_403_wrong_key_raises_auth_error(ashby, client, sleeps, endpoint, call):
    mocked = route(ashby, endpoint).mock(
        return_value=httpx.Response(403, text="Forbidden: invalid API key")
    )

    with pytest.raises(AshbyAuthError) as raised:
        consume(call(client))
    assert raised.value.reason == "invalid"
    assert mocked.call_count == 1
    assert sleeps == []


def test_403_deactivated_key_raises_auth_error(ashby, client, sleeps):
    mocked = route(ashby, "candidate.list").mock(
        return_value=failure("api_key_deactivated", "This API key has been deactivated", status=403)
    )

    with pytest.raises(AshbyAuthError) as raised:
        consume(client.candidate_list())
    assert raised.value.reason == "deactivated"
    assert raised.value.code == "api_key_deactivated"
    assert mocked.call_count == 1
    assert sleeps == []


def test_401_with_invalid_key_text_reason_invalid(ashby, client):
    route(ashby, "apiKey.info").mock(return_value=httpx.Response(401, text="Invalid API key"))

    with pytest.raises(AshbyAuthError) as raised:
        client.api_key_info()
    assert raised.value.reason == "invalid"


@pytest.mark.parametrize("status", [403, 200])
@pytest.mark.parametrize(("endpoint", "call"), ALL_CALLS, ids=list_ids(ALL_CALLS))
def test_missing_permission_raises(ashby, client, sleeps, endpoint, call, status):
    message = f"The API key lacks the candidatesWrite permission required by {endpoint}"
    mocked = route(ashby, endpoint).mock(
        return_value=failure("missing_endpoint_permission", message, status=status)
    )

    with pytest.raises(AshbyPermissionError) as raised:
        consume(call(client))
    assert raised.value.endpoint == endpoint
    assert raised.value.permission == "candidatesWrite"
    assert raised.value.code == "missing_endpoint_permission"
    assert mocked.call_count == 1
    assert sleeps == []


def test_missing_permission_without_details(ashby, client):
    route(ashby, "user.list").mock(
        return_value=failure("missing_endpoint_permission", "Missing permission", status=403)
    )

    with pytest.raises(AshbyPermissionError) as raised:
        consume(client.user_list())
    assert raised.value.endpoint == "user.list"
    assert raised.value.permission is None


# Rate limits ------------------------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "call"), ALL_CALLS, ids=list_ids(ALL_CALLS))
def test_429_with_retry_after_sleeps_then_succeeds(ashby, client, sleeps, endpoint, call):
    results = [] if endpoint.endswith(".list") else {"id": "x"}
    mocked = route(ashby, endpoint).mock(
        side_effect=[
            failure("rate_limit_exceeded", status=429, headers={"Retry-After": "2"}),
            ok(results, moreDataAvailable=False),
        ]
    )

    consume(call(client))
    assert sleeps == [2.0]
    assert mocked.call_count == 2


def test_429_without_retry_after_uses_jittered_backoff(ashby, client, sleeps):
    route(ashby, "candidate.info").mock(
        side_effect=[httpx.Response(429)] * 3 + [ok({"id": CANDIDATE_ID})]
    )

    client.candidate_info(CANDIDATE_ID)
    assert len(sleeps) == 3
    for retry, delay in enumerate(sleeps):
        assert 0.0 <= delay <= 0.5 * 2**retry


def test_429_with_http_date_retry_after(ashby, client, sleeps):
    later = datetime.now(UTC) + timedelta(seconds=10)
    route(ashby, "job.info").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": format_datetime(later, usegmt=True)}),
            ok({"id": JOB_ID}),
        ]
    )

    client.job_info(JOB_ID)
    assert len(sleeps) == 1
    assert 8.0 <= sleeps[0] <= 10.0


def test_429_exhausting_retries_raises_rate_limited(ashby, sleeps):
    route(ashby, "candidate.list").mock(
        return_value=failure("rate_limit_exceeded", status=429, headers={"Retry-After": "1"})
    )

    with AshbyClient(API_KEY, base_url=BASE_URL, max_retries=3, sleep=sleeps.append) as client:
        with pytest.raises(AshbyRateLimited) as raised:
            consume(client.candidate_list())
    assert raised.value.retry_after == 1.0
    assert raised.value.partner_scope is False
    assert sleeps == [1.0, 1.0, 1.0]


def test_429_partner_scope_header(ashby, sleeps):
    route(ashby, "job.info").mock(
        return_value=httpx.Response(429, headers={"X-RateLimit-Scope": "integration-partner"})
    )

    with AshbyClient(API_KEY, base_url=BASE_URL, max_retries=0, sleep=sleeps.append) as client:
        with pytest.raises(AshbyRateLimited) as raised:
            client.job_info(JOB_ID)
    assert raised.value.partner_scope is True
    assert raised.value.retry_after is None


def test_429_retry_after_beyond_cap_raises_at_once(ashby, client, sleeps):
    mocked = route(ashby, "job.info").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "3600"})
    )

    with pytest.raises(AshbyRateLimited) as raised:
        client.job_info(JOB_ID)
    assert raised.value.retry_after == 3600.0
    assert sleeps == []
    assert mocked.call_count == 1


def test_rate_limit_code_at_http_200_retried(ashby, client, sleeps):
    route(ashby, "job.info").mock(
        side_effect=[failure("concurrent_limit_exceeded"), ok({"id": JOB_ID})]
    )

    assert client.job_info(JOB_ID) == {"id": JOB_ID}
    assert len(sleeps) == 1


def test_backoff_grows_and_is_capped(ashby, sleeps):
    route(ashby, "job.info").mock(return_value=httpx.Response(503))

    with AshbyClient(
        API_KEY,
        base_url=BASE_URL,
        max_retries=8,
        backoff_base=1.0,
        backoff_cap=4.0,
        sleep=sleeps.append,
    ) as client:
        client._random.seed(7)
        with pytest.raises(AshbyServerError):
            client.job_info(JOB_ID)
    assert len(sleeps) == 8
    for retry, delay in enumerate(sleeps):
        assert 0.0 <= delay <= min(4.0, 2**retry)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("5", 5.0), ("0", 0.0), ("-3", 0.0), ("1.5", 1.5), ("soon", None), (None, None)],
)
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header) == expected


def test_parse_retry_after_past_date_is_zero():
    past = format_datetime(datetime(2020, 1, 1, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(past) == 0.0


# Server errors and timeouts ---------------------------------------------------------------


@pytest.mark.parametrize(("endpoint", "call"), READS, ids=list_ids(READS))
def test_5xx_then_success(ashby, client, sleeps, endpoint, call):
    results = [] if endpoint.endswith(".list") else {"id": "x"}
    mocked = route(ashby, endpoint).mock(
        side_effect=[
            httpx.Response(502, text="<html>bad gateway</html>"),
            failure("internal_error", status=500),
            ok(results, moreDataAvailable=False),
        ]
    )

    consume(call(client))
    assert mocked.call_count == 3
    assert len(sleeps) == 2


def test_5xx_exhausting_retries_raises_server_error(ashby, client, sleeps):
    mocked = route(ashby, "job.info").mock(
        return_value=failure("internal_error", "Ashby had a problem", status=500)
    )

    with pytest.raises(AshbyServerError) as raised:
        client.job_info(JOB_ID)
    assert raised.value.status_code == 500
    assert raised.value.code == "internal_error"
    assert raised.value.request_id == "req_01"
    assert mocked.call_count == 6
    assert len(sleeps) == 5


@pytest.mark.parametrize(("endpoint", "call"), READS, ids=list_ids(READS))
def test_timeout_then_success(ashby, client, sleeps, endpoint, call):
    results = [] if endpoint.endswith(".list") else {"id": "x"}
    mocked = route(ashby, endpoint).mock(
        side_effect=[
            httpx.ReadTimeout("timed out"),
            httpx.ConnectError("refused"),
            ok(results, moreDataAvailable=False),
        ]
    )

    consume(call(client))
    assert mocked.call_count == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize(("endpoint", "call"), READS, ids=list_ids(READS))
def test_timeout_exhausting_retries_raises_unavailable(ashby, client, sleeps, endpoint, call):
    mocked = route(ashby, endpoint).mock(side_effect=httpx.ReadTimeout("timed out"))

    with pytest.raises(AshbyUnavailable) as raised:
        consume(call(client))
    assert raised.value.endpoint == endpoint
    assert mocked.call_count == 6
    assert len(sleeps) == 5


def test_max_retries_zero_does_not_retry(ashby, sleeps):
    mocked = route(ashby, "job.info").mock(side_effect=httpx.ConnectTimeout("slow"))

    with AshbyClient(API_KEY, base_url=BASE_URL, max_retries=0, sleep=sleeps.append) as client:
        with pytest.raises(AshbyUnavailable):
            client.job_info(JOB_ID)
    assert mocked.call_count == 1
    assert sleeps == []


# Writes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "side_effect",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("connection dropped"),
        httpx.Response(500),
        httpx.Response(503, json={"success": False, "errorInfo": {"code": "unavailable"}}),
    ],
    ids=["timeout", "dropped", "500", "503-envelope"],
)
@pytest.mark.parametrize(("endpoint", "call", "body", "results"), WRITES, ids=list_ids(WRITES))
def test_write_outcome_unknown_not_retried(
    ashby, client, sleeps, endpoint, call, body, results, side_effect
):
    mocked = route(ashby, endpoint).mock(side_effect=[side_effect, ok(results)])

    with pytest.raises(AshbyWriteOutcomeUnknown) as raised:
        call(client)
    assert raised.value.endpoint == endpoint
    assert mocked.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize(("endpoint", "call", "body", "results"), WRITES, ids=list_ids(WRITES))
def test_write_retried_when_connection_never_opened(
    ashby, client, sleeps, endpoint, call, body, results
):
    mocked = route(ashby, endpoint).mock(side_effect=[httpx.ConnectError("refused"), ok(results)])

    assert call(client) == results
    assert mocked.call_count == 2
    assert len(sleeps) == 1


@pytest.mark.parametrize(("endpoint", "call", "body", "results"), WRITES, ids=list_ids(WRITES))
def test_write_business_error_not_retried(ashby, client, sleeps, endpoint, call, body, results):
    mocked = route(ashby, endpoint).mock(return_value=failure("invalid_input", "Bad input"))

    with pytest.raises(AshbyRequestError) as raised:
        call(client)
    assert raised.value.code == "invalid_input"
    assert mocked.call_count == 1
    assert sleeps == []


# Error bodies -----------------------------------------------------------------------------


ERROR_SHAPES = [
    (
        "strings",
        {
            "success": False,
            "errors": ["application_not_found"],
            "errorInfo": {
                "code": "application_not_found",
                "message": "No application with that id",
                "requestId": "req_9",
            },
        },
        "application_not_found",
        "No application with that id",
        "req_9",
        [{"message": "application_not_found", "parameter": None}],
    ),
    (
        "objects",
        {"success": False, "errors": [{"message": "Invalid limit", "parameter": "limit"}]},
        None,
        "Invalid limit",
        None,
        [{"message": "Invalid limit", "parameter": "limit"}],
    ),
    (
        "null-errors",
        {
            "success": False,
            "errors": None,
            "errorInfo": {"code": "invalid_input", "message": "Request payload is malformed"},
        },
        "invalid_input",
        "Request payload is malformed",
        None,
        [],
    ),
    (
        "null-errorInfo",
        {"success": False, "errors": ["interview_stage_not_found"], "errorInfo": None},
        "interview_stage_not_found",
        "interview_stage_not_found",
        None,
        [{"message": "interview_stage_not_found", "parameter": None}],
    ),
    (
        "nothing",
        {"success": False, "errors": None, "errorInfo": None},
        None,
        "Ashby reported a failure without an error message",
        None,
        [],
    ),
]


@pytest.mark.parametrize(
    ("shape", "body", "code", "message", "request_id", "errors"),
    ERROR_SHAPES,
    ids=[shape[0] for shape in ERROR_SHAPES],
)
@pytest.mark.parametrize(("endpoint", "call"), ALL_CALLS, ids=list_ids(ALL_CALLS))
def test_success_false_at_200_raises_request_error(
    ashby, client, sleeps, endpoint, call, shape, body, code, message, request_id, errors
):
    mocked = route(ashby, endpoint).mock(return_value=httpx.Response(200, json=body))

    with pytest.raises(AshbyRequestError) as raised:
        consume(call(client))
    error = raised.value
    assert error.code == code
    assert message in str(error)
    assert error.request_id == request_id
    assert error.errors == errors
    assert error.endpoint == endpoint
    assert mocked.call_count == 1
    assert sleeps == []


def test_4xx_with_envelope_raises_request_error(ashby, client):
    route(ashby, "candidate.create").mock(
        return_value=failure("invalid_input", "name is required", status=400)
    )

    with pytest.raises(AshbyRequestError) as raised:
        client.candidate_create(name="Ada")
    assert raised.value.status_code == 400
    assert "name is required" in str(raised.value)


def test_404_html_raises_request_error(ashby, client):
    route(ashby, "job.info").mock(return_value=httpx.Response(404, text="<html>Not found</html>"))

    with pytest.raises(AshbyRequestError) as raised:
        client.job_info(JOB_ID)
    assert raised.value.code == "http_404"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, text='{"success": true, "results": '),
        httpx.Response(200, text=""),
        httpx.Response(200, json=[1, 2, 3]),
        httpx.Response(200, json={"results": {"id": "x"}}),
        httpx.Response(200, json={"success": "yes", "results": {}}),
        httpx.Response(200, json={"success": True}),
        httpx.Response(302, headers={"Location": "https://login.ashby.test"}),
    ],
    ids=[
        "html",
        "truncated",
        "empty",
        "array",
        "no-success",
        "success-string",
        "no-results",
        "redirect",
    ],
)
@pytest.mark.parametrize(("endpoint", "call"), ALL_CALLS, ids=list_ids(ALL_CALLS))
def test_malformed_response_raises_response_error(ashby, client, endpoint, call, response):
    route(ashby, endpoint).mock(return_value=response)

    with pytest.raises(AshbyResponseError) as raised:
        consume(call(client))
    assert raised.value.endpoint == endpoint


def test_object_results_not_object_raises(ashby, client):
    route(ashby, "job.info").mock(return_value=ok(["not", "an", "object"]))

    with pytest.raises(AshbyResponseError, match="not an object"):
        client.job_info(JOB_ID)


# Reconciled candidate create --------------------------------------------------------------


def search_result(name, email, created_at):
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "createdAt": created_at.isoformat().replace("+00:00", "Z"),
        "primaryEmailAddress": {"value": email, "type": "Personal", "isPrimary": True},
        "emailAddresses": [{"value": email, "type": "Personal", "isPrimary": True}],
    }


def test_reconcile_adopts_candidate_created_by_attempt(ashby, client):
    created = search_result("Ada Lovelace", "Ada@Example.com", datetime.now(UTC))
    create = route(ashby, "candidate.create").mock(side_effect=httpx.ReadTimeout("timed out"))
    search = route(ashby, "candidate.search").mock(return_value=ok([created]))

    result = client.candidate_create_reconciled(name="Ada Lovelace", email="ada@example.com")

    assert result == created
    assert create.call_count == 1
    assert sent_body(search.calls.last) == {"email": "ada@example.com"}


def test_reconcile_ignores_older_namesake_and_creates_again(ashby, client):
    older = search_result("Ada Lovelace", "ada@example.com", datetime(2021, 5, 1, tzinfo=UTC))
    other_name = search_result("Ada King", "ada@example.com", datetime.now(UTC))
    fresh = {"id": CANDIDATE_ID, "name": "Ada Lovelace"}
    create = route(ashby, "candidate.create").mock(side_effect=[httpx.Response(502), ok(fresh)])
    route(ashby, "candidate.search").mock(return_value=ok([older, other_name]))

    result = client.candidate_create_reconciled(
        name="Ada Lovelace", email="ada@example.com", phone_number="555-0100"
    )

    assert result == fresh
    assert create.call_count == 2
    assert sent_body(create.calls[1]) == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "phoneNumber": "555-0100",
    }


def test_reconcile_without_email_creates_again_once(ashby, client):
    create = route(ashby, "candidate.create").mock(
        side_effect=[httpx.ReadTimeout("t"), httpx.ReadTimeout("t"), ok({"id": "x"})]
    )
    search = route(ashby, "candidate.search")

    with pytest.raises(AshbyWriteOutcomeUnknown):
        client.candidate_create_reconciled(name="Ada Lovelace")
    assert create.call_count == 2
    assert search.call_count == 0


def test_reconcile_not_needed_on_success(ashby, client):
    route(ashby, "candidate.create").mock(return_value=ok({"id": CANDIDATE_ID}))
    search = route(ashby, "candidate.search")

    assert client.candidate_create_reconciled(name="Ada", email="a@example.com") == {
        "id": CANDIDATE_ID
    }
    assert search.call_count == 0


# Resume upload and file download ----------------------------------------------------------


def test_upload_resume_runs_three_steps(ashby, client):
    fields = {"key": "uploads/abc", "policy": "cG9saWN5", "x-amz-signature": "sig"}
    route(ashby, "file.createFileUploadHandle").mock(
        return_value=ok({"handle": "handle-9", "url": f"{FILE_HOST}/upload", "fields": fields})
    )
    upload = ashby.post(f"{FILE_HOST}/upload").mock(return_value=httpx.Response(204))
    attach = route(ashby, "candidate.uploadResume").mock(return_value=ok({"id": CANDIDATE_ID}))

    result = client.candidate_upload_resume(
        CANDIDATE_ID, filename="cv.pdf", content=b"%PDF-1.4 test", content_type="application/pdf"
    )

    assert result == {"id": CANDIDATE_ID}
    handle_body = sent_body(ashby.calls[0])
    assert handle_body == {
        "fileUploadContext": "CandidateResume",
        "filename": "cv.pdf",
        "contentType": "application/pdf",
        "contentLength": 13,
    }
    upload_request = upload.calls.last.request
    assert "authorization" not in upload_request.headers
    content = upload_request.content
    positions = [content.index(f'name="{name}"'.encode()) for name in fields]
    file_position = content.index(b'name="file"; filename="cv.pdf"')
    assert positions == sorted(positions)
    assert file_position > max(positions)
    assert b"%PDF-1.4 test" in content
    assert sent_body(attach.calls.last) == {
        "candidateId": CANDIDATE_ID,
        "resumeHandle": "handle-9",
    }


def test_upload_resume_storage_timeout_is_outcome_unknown(ashby, client, sleeps):
    route(ashby, "file.createFileUploadHandle").mock(
        return_value=ok({"handle": "h", "url": f"{FILE_HOST}/upload", "fields": {}})
    )
    upload = ashby.post(f"{FILE_HOST}/upload").mock(side_effect=httpx.ReadTimeout("t"))
    attach = route(ashby, "candidate.uploadResume")

    with pytest.raises(AshbyWriteOutcomeUnknown):
        client.candidate_upload_resume(
            CANDIDATE_ID, filename="cv.pdf", content=b"x", content_type="application/pdf"
        )
    assert upload.call_count == 1
    assert attach.call_count == 0


def test_upload_resume_rejected_by_storage(ashby, client):
    route(ashby, "file.createFileUploadHandle").mock(
        return_value=ok({"handle": "h", "url": f"{FILE_HOST}/upload", "fields": {}})
    )
    ashby.post(f"{FILE_HOST}/upload").mock(return_value=httpx.Response(403, text="<Error/>"))

    with pytest.raises(AshbyRequestError, match="HTTP 403"):
        client.candidate_upload_resume(
            CANDIDATE_ID, filename="cv.pdf", content=b"x", content_type="application/pdf"
        )


def test_upload_resume_handle_without_url_raises(ashby, client):
    route(ashby, "file.createFileUploadHandle").mock(return_value=ok({"handle": "h"}))

    with pytest.raises(AshbyResponseError, match="url"):
        client.candidate_upload_resume(
            CANDIDATE_ID, filename="cv.pdf", content=b"x", content_type="application/pdf"
        )


def test_download_file_returns_content_without_key(ashby, client):
    download = ashby.get(f"{FILE_HOST}/resume.pdf").mock(
        return_value=httpx.Response(
            200, content=b"%PDF-1.4 body", headers={"Content-Type": "application/pdf"}
        )
    )

    content, content_type = client.download_file(f"{FILE_HOST}/resume.pdf", max_bytes=1000)

    assert content == b"%PDF-1.4 body"
    assert content_type == "application/pdf"
    assert "authorization" not in download.calls.last.request.headers


def test_download_file_stops_past_max_bytes(ashby, client):
    chunks_sent = []

    def stream():
        for _ in range(100):
            chunks_sent.append(1)
            yield b"x" * 1024

    ashby.get(f"{FILE_HOST}/big.pdf").mock(return_value=httpx.Response(200, content=stream()))

    with pytest.raises(AshbyFileTooLarge) as raised:
        client.download_file(f"{FILE_HOST}/big.pdf", max_bytes=4096)
    assert raised.value.max_bytes == 4096
    assert len(chunks_sent) < 100


def test_download_file_rejects_large_content_length(ashby, client):
    ashby.get(f"{FILE_HOST}/big.pdf").mock(return_value=httpx.Response(200, content=b"x" * 5000))

    with pytest.raises(AshbyFileTooLarge, match="5000 bytes"):
        client.download_file(f"{FILE_HOST}/big.pdf", max_bytes=4096)


def test_download_file_retries_5xx(ashby, client, sleeps):
    download = ashby.get(f"{FILE_HOST}/resume.pdf").mock(
        side_effect=[
            httpx.Response(503),
            httpx.ReadTimeout("t"),
            httpx.Response(200, content=b"ok"),
        ]
    )

    assert client.download_file(f"{FILE_HOST}/resume.pdf", max_bytes=10) == (b"ok", None)
    assert download.call_count == 3
    assert len(sleeps) == 2


def test_download_file_expired_url_raises_request_error(ashby, client, sleeps):
    ashby.get(f"{FILE_HOST}/resume.pdf").mock(return_value=httpx.Response(403))

    with pytest.raises(AshbyRequestError, match="expired"):
        client.download_file(f"{FILE_HOST}/resume.pdf", max_bytes=10)
    assert sleeps == []


@pytest.mark.parametrize(
    "url", ["http://files.ashby.test/resume.pdf", "file:///etc/passwd", "ftp://127.0.0.1/x"]
)
def test_download_file_rejects_unsafe_url(ashby, client, url):
    with pytest.raises(AshbyResponseError, match="Refusing"):
        client.download_file(url, max_bytes=10)
    assert len(ashby.calls) == 0
