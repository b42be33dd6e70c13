"""GreenhouseClient against httpx.MockTransport: tokens, pagination, errors and retries."""

import json
from urllib.parse import parse_qs

import httpx
import pytest

from ats_greenhouse.client import GreenhouseClient, updated_since
from ats_greenhouse.errors import (
    GreenhouseAuthError,
    GreenhouseNotFound,
    GreenhousePermissionError,
    GreenhouseRateLimited,
    GreenhouseRequestError,
    GreenhouseResponseError,
    GreenhouseServerError,
    GreenhouseUnavailable,
    GreenhouseWriteOutcomeUnknown,
)

API = "https://harvest.test/v3"
AUTH = "https://auth.test"


class FakeGreenhouse:
    """Serve the token endpoint and queued Harvest responses, recording every request."""

    def __init__(self, expires_in=3600):
        self.expires_in = expires_in
        self.tokens_issued = 0
        self.requests: list[httpx.Request] = []
        self.responses: list = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/token":
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"token-{self.tokens_issued}",
                    "token_type": "Bearer",
                    "expires_in": self.expires_in,
                    "scope": "harvest:jobs:list",
                },
            )
        response = self.responses.pop(0)
        if isinstance(response, Exception):
            raise response
        return response

    @property
    def api_requests(self):
        return [r for r in self.requests if r.url.path != "/token"]


def make_client(fake, **options):
    options.setdefault("sleep", lambda seconds: None)
    return GreenhouseClient(
        "client-1234",
        "secret",
        "1001",
        api_url=API,
        auth_url=AUTH,
        transport=httpx.MockTransport(fake),
        **options,
    )


def test_token_request_uses_basic_auth_and_sub():
    fake = FakeGreenhouse()
    fake.responses.append(httpx.Response(200, json=[]))

    with make_client(fake) as client:
        list(client.list("jobs"))

    token_request = fake.requests[0]
    assert token_request.method == "POST"
    assert token_request.headers["Authorization"].startswith("Basic ")
    assert parse_qs(token_request.content.decode()) == {
        "grant_type": ["client_credentials"],
        "sub": ["1001"],
    }
    assert fake.api_requests[0].headers["Authorization"] == "Bearer token-1"


def test_token_cached_until_near_expiry():
    fake = FakeGreenhouse(expires_in=120)
    now = [1000.0]
    fake.responses.extend([httpx.Response(200, json=[]) for _ in range(3)])

    with make_client(fake, clock=lambda: now[0]) as client:
        list(client.list("jobs"))
        now[0] += 30
        list(client.list("jobs"))
        assert fake.tokens_issued == 1
        now[0] += 40  # 70 s after minting: within the 60 s refresh margin of a 120 s token
        list(client.list("jobs"))

    assert fake.tokens_issued == 2
    assert fake.api_requests[-1].headers["Authorization"] == "Bearer token-2"


def test_401_mints_new_token_once():
    fake = FakeGreenhouse()
    fake.responses.extend(
        [httpx.Response(401, json={"message": "expired"}), httpx.Response(200, json=[{"id": 1}])]
    )

    with make_client(fake) as client:
        pages = list(client.list("jobs"))

    assert pages == [[{"id": 1}]]
    assert fake.tokens_issued == 2


def test_repeated_401_raises_auth_error():
    fake = FakeGreenhouse()
    fake.responses.extend([httpx.Response(401, json={}), httpx.Response(401, json={})])

    with make_client(fake) as client, pytest.raises(GreenhouseAuthError) as caught:
        list(client.list("jobs"))

    assert caught.value.reason == "token_rejected"


def test_token_endpoint_invalid_client():
    def handler(request):
        return httpx.Response(
            401,
            json={"error": "invalid_client", "error_description": "Client authentication failed."},
        )

    with GreenhouseClient(
        "c", "wrong", "1001", api_url=API, auth_url=AUTH, transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(GreenhouseAuthError) as caught:
            client.token()

    assert caught.value.reason == "invalid_client"
    assert "wrong" not in str(caught.value)


def test_pagination_sends_cursor_alone():
    fake = FakeGreenhouse()
    next_url = f"{API}/candidates?cursor=abc123"
    fake.responses.extend(
        [
            httpx.Response(200, json=[{"id": 1}], headers={"Link": f'<{next_url}>; rel="next"'}),
            httpx.Response(200, json=[{"id": 2}], headers={"Link": ""}),
        ]
    )

    with make_client(fake, per_page=2) as client:
        records = list(
            client.list("candidates", updated_at="gte|2025-01-01T00:00:00.000Z").records()
        )

    assert [r["id"] for r in records] == [1, 2]
    first, second = fake.api_requests
    assert dict(first.url.params) == {"per_page": "2", "updated_at": "gte|2025-01-01T00:00:00.000Z"}
    assert dict(second.url.params) == {"cursor": "abc123"}


def test_next_link_to_other_host_refused():
    fake = FakeGreenhouse()
    fake.responses.append(
        httpx.Response(
            200, json=[], headers={"Link": '<https://evil.test/v3/jobs?cursor=x>; rel="next"'}
        )
    )

    with make_client(fake) as client, pytest.raises(GreenhouseResponseError):
        list(client.list("jobs"))


def test_updated_since_overlaps_watermark():
    from datetime import UTC, datetime

    assert (
        updated_since(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)) == "gte|2026-03-01T11:59:58.000Z"
    )


def test_429_waits_for_retry_after():
    fake = FakeGreenhouse()
    slept = []
    fake.responses.extend(
        [httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json=[])]
    )

    with make_client(fake, sleep=slept.append) as client:
        list(client.list("jobs"))

    assert slept == [3.0]


def test_429_longer_than_cap_raises():
    fake = FakeGreenhouse()
    fake.responses.append(httpx.Response(429, headers={"Retry-After": "120"}))

    with (
        make_client(fake, backoff_cap=10) as client,
        pytest.raises(GreenhouseRateLimited) as caught,
    ):
        list(client.list("jobs"))

    assert caught.value.retry_after == 120


def test_read_retries_5xx_then_gives_up():
    fake = FakeGreenhouse()
    fake.responses.extend([httpx.Response(502, text="bad gateway") for _ in range(3)])

    with make_client(fake, max_retries=2) as client, pytest.raises(GreenhouseServerError):
        list(client.list("jobs"))

    assert len(fake.api_requests) == 3


def test_read_retries_timeout():
    fake = FakeGreenhouse()
    fake.responses.extend([httpx.ReadTimeout("slow"), httpx.Response(200, json=[{"id": 9}])])

    with make_client(fake) as client:
        assert list(client.list("jobs").records()) == [{"id": 9}]


def test_unreachable_raises_unavailable():
    fake = FakeGreenhouse()
    fake.responses.extend([httpx.ConnectError("refused") for _ in range(3)])

    with make_client(fake, max_retries=2) as client, pytest.raises(GreenhouseUnavailable):
        list(client.list("jobs"))


@pytest.mark.parametrize("failure", [httpx.Response(500, json={}), httpx.ReadTimeout("slow")])
def test_write_not_retried_after_send(failure):
    fake = FakeGreenhouse()
    fake.responses.append(failure)

    with make_client(fake) as client, pytest.raises(GreenhouseWriteOutcomeUnknown):
        client.candidate_update(5, {"first_name": "A"})

    assert len(fake.api_requests) == 1


def test_write_retried_when_never_sent():
    fake = FakeGreenhouse()
    fake.responses.extend([httpx.ConnectError("refused"), httpx.Response(200, json={"id": 5})])

    with make_client(fake) as client:
        assert client.candidate_update(5, {"first_name": "A"}) == {"id": 5}

    assert json.loads(fake.api_requests[-1].content) == {"first_name": "A"}


def test_403_names_scope():
    fake = FakeGreenhouse()
    fake.responses.append(httpx.Response(403, json={"message": "Forbidden"}))

    with make_client(fake) as client, pytest.raises(GreenhousePermissionError) as caught:
        client.application_move(7, to_stage_id=9)

    assert caught.value.scope == "harvest:applications:move"


def test_404_and_422_are_typed():
    fake = FakeGreenhouse()
    fake.responses.extend(
        [
            httpx.Response(404, json={"message": "not found"}),
            httpx.Response(
                422,
                json={
                    "message": "Invalid",
                    "errors": [{"message": "can't be blank", "field": "name"}],
                },
            ),
        ]
    )

    with make_client(fake) as client:
        with pytest.raises(GreenhouseNotFound):
            client.get("jobs", 1)
        with pytest.raises(GreenhouseRequestError) as caught:
            client.job_update(1, {"name": ""})

    assert caught.value.errors == [{"message": "can't be blank", "field": "name"}]


def test_malformed_json_raises_response_error():
    fake = FakeGreenhouse()
    fake.responses.append(httpx.Response(200, content=b"{not json"))

    with make_client(fake) as client, pytest.raises(GreenhouseResponseError):
        list(client.list("jobs"))


def test_repr_hides_secret():
    with make_client(FakeGreenhouse()) as client:
        assert "secret" not in repr(client).replace("secret='***'", "")


def test_sandbox_rejects_extra_parameter_with_cursor_and_fault_retry(settings):
    """The sandbox enforces the cursor rule, and the client survives an injected 503."""
    from ats_greenhouse.sandbox import start_sandbox
    from ats_greenhouse.tests.conftest import sandbox_control

    with start_sandbox(seed=2, jobs=4, candidates=30) as server:
        with GreenhouseClient(
            "sandbox_full",
            "sandbox_secret",
            "1001",
            api_url=server.api_url,
            auth_url=server.url,
            per_page=7,
            sleep=lambda s: None,
        ) as client:
            sandbox_control(
                server,
                "POST",
                "/_sandbox/faults",
                {"status": 503, "endpoints": ["GET /candidates"]},
            )
            ids = [c["id"] for c in client.list("candidates").records()]
            assert len(ids) == len(set(ids)) == 30
            first = client.request("GET", f"{server.api_url}/candidates", params={"per_page": 7})
            next_url = client.next_link(first, "GET /candidates")
            with pytest.raises(GreenhouseRequestError):
                client.request("GET", next_url + "&per_page=7")
