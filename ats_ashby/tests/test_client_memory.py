"""Memory test: a candidate.list pass keeps one page at a time in memory, not the whole list."""

from __future__ import annotations

import gc
import json
import tracemalloc
import uuid
from collections.abc import Iterator

import httpx

from ats_ashby.client import PAGE_LIMIT, AshbyClient
from ats_ashby.tests.test_client_spec import validate_body, validate_request

BASE_URL = "https://ashby.test"
PAGE_COUNT = 30
# Padding that makes each candidate about 4 KB, so one page is several hundred kilobytes and
# the memory of 30 pages is far above interpreter noise.
NOTE_LENGTH = 4000


def candidate(page: int, index: int) -> dict:
    return {
        "id": str(uuid.UUID(int=page * PAGE_LIMIT + index)),
        "name": f"Candidate {page}-{index}",
        "primaryEmailAddress": {"value": f"c{page}-{index}@example.com", "type": "Personal"},
        "position": "x" * NOTE_LENGTH,
    }


def page_body(page: int) -> bytes:
    """Build one candidate.list response; called only when the page is requested."""
    payload = {
        "success": True,
        "results": [candidate(page, index) for index in range(PAGE_LIMIT)],
        "moreDataAvailable": page < PAGE_COUNT - 1,
    }
    if page < PAGE_COUNT - 1:
        payload["nextCursor"] = f"page-{page + 1}"
    else:
        payload["syncToken"] = "final-token"
    return json.dumps(payload).encode()


def stream_page(page: int) -> Iterator[bytes]:
    """Yield one page's body, built when the client starts reading it, like a socket stream."""
    yield page_body(page)


class LazyPagesTransport(httpx.BaseTransport):
    """Serves candidate.list pages generated on demand and keeps nothing it has served."""

    def __init__(self) -> None:
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        validate_request(request, BASE_URL)
        body = json.loads(request.content)
        expected_cursor = None if self.requests == 0 else f"page-{self.requests}"
        assert body.get("cursor") == expected_cursor
        assert body["limit"] == PAGE_LIMIT
        page = self.requests
        self.requests += 1
        return httpx.Response(200, content=stream_page(page))


def measure_one_page() -> int:
    """Return the peak traced memory of decoding and holding one page (bytes)."""
    gc.collect()
    tracemalloc.start()
    try:
        raw = page_body(0)
        records = json.loads(raw)["results"]
        assert len(records) == PAGE_LIMIT
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_candidate_pages_held_one_at_a_time():
    # Load the OpenAPI document and resolve the schema before tracing, so the cached
    # document does not count as memory held by the pass.
    validate_body("candidate.list", {"limit": PAGE_LIMIT, "cursor": "page-1"})
    one_page = measure_one_page()

    client = AshbyClient("sk_test_memory", base_url=BASE_URL, transport=LazyPagesTransport())
    seen = 0
    gc.collect()
    tracemalloc.start()
    try:
        pages = client.candidate_list()
        for page in pages:
            assert len(page) == PAGE_LIMIT
            seen += len(page)
            # The caller releases each page after saving it, as a sync does.
            del page
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        client.close()

    assert seen == PAGE_COUNT * PAGE_LIMIT
    assert pages.sync_token == "final-token"
    assert pages.requests == PAGE_COUNT
    # Keeping every page would need about PAGE_COUNT times one page. Decoding a page while its
    # raw bytes are still alive costs a little more than one page, so allow three.
    assert peak < 3 * one_page, f"peak {peak} bytes, one page {one_page} bytes"
