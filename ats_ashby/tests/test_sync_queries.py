"""Database queries of the Ashby sync grow with pages, not with records.

Each case syncs two small sandboxes, about three times apart in size, into two
organizations and compares the counts. The list pages' query counts are checked in
candidates/tests/test_views.py and roles/tests/test_views.py
(`test_list_query_count_same_at_5_and_500`, `test_detail_query_count_does_not_grow`).
"""

from collections import defaultdict
from dataclasses import dataclass, field

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ats_ashby.sandbox import start_sandbox
from ats_ashby.tests.conftest import sandbox_control
from integrations import sync_runs
from integrations.models import SyncRun
from integrations.services import integration_connect, integration_sync_run
from integrations.sync_runs import RunRecorder

pytestmark = pytest.mark.django_db

# Three or more candidate pages at both sizes, so that each has a full page between the
# first and the last.
SMALL_CANDIDATES = 250
LARGE_CANDIDATES = 700
JOBS = 12
# Passes over a list of records; each page is one bulk upsert.
PAGED_ENTITIES = ("candidates", "applications")
# Queries one page of candidates or applications may take: read existing rows, read rows
# with a pending push, the upsert, the ids of new rows, the stub candidates of an
# application page, and the lock renewal and progress write. A page that first meets a
# job missing from job.list adds a stub role (get_or_create) once per such job.
MAX_QUERIES_PER_PAGE = 8
INCREMENTAL_LISTS = ("job.list", "candidate.list", "application.list")


@dataclass
class SyncQueries:
    """Queries of one sync run, split at the recorder's calls."""

    total: int = 0
    before_resumes: int = 0
    # entity -> queries of each page, in order
    per_page: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    requests: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def measure_sync(monkeypatch, settings):
    """Return measure(organization, owner, sandbox, full) -> SyncQueries for one sync run.

    The first call for an organization connects it, which makes that run a full sync.
    """
    marks: list[tuple[str, str, int]] = []
    active: dict[str, CaptureQueriesContext] = {}
    original_start_entity = RunRecorder.start_entity
    original_page_done = RunRecorder.page_done

    def mark(kind: str, entity: str) -> None:
        if "capture" in active:
            marks.append((kind, entity, len(active["capture"].captured_queries)))

    def start_entity(self, entity):
        mark("start", entity)
        return original_start_entity(self, entity)

    def page_done(self, records):
        result = original_page_done(self, records)
        mark("page", self.entity)
        return result

    monkeypatch.setattr(RunRecorder, "start_entity", start_entity)
    # Progress is written at most once a second, so on a slow machine an extra write would
    # land on a random page. With a long interval only the forced writes remain.
    monkeypatch.setattr(sync_runs, "PROGRESS_INTERVAL_SECONDS", 3600)
    monkeypatch.setattr(RunRecorder, "page_done", page_done)

    def measure(organization, owner, sandbox) -> SyncQueries:
        settings.ASHBY_API_URL = sandbox.url
        integration = organization.integrations.filter(is_active=True).first()
        if integration is None:
            integration = integration_connect(
                organization=organization,
                actor=owner,
                provider_slug="ashby",
                credential="sandbox_full",
            )
        sandbox_control(sandbox, "POST", "/_sandbox/stats/reset", {})
        marks.clear()
        with CaptureQueriesContext(connection) as capture:
            active["capture"] = capture
            run = integration_sync_run(integration.pk, trigger="manual")
            del active["capture"]
        assert run.outcome == SyncRun.Outcome.SUCCESS, run.error_message

        result = SyncQueries(total=len(capture.captured_queries))
        result.before_resumes = next(
            (count for kind, entity, count in marks if kind == "start" and entity == "resumes"),
            result.total,
        )
        previous = 0
        for kind, entity, count in marks:
            if kind == "page" and entity in PAGED_ENTITIES:
                result.per_page[entity].append(count - previous)
            previous = count
        result.requests = sandbox_control(sandbox, "GET", "/_sandbox/stats")["endpoints"]
        return result

    return measure


@pytest.fixture
def two_accounts(organization, owner, other_organization, other_owner):
    """Two organizations, each connected to its own sandbox of a different size."""
    small = start_sandbox(port=0, seed=3, jobs=JOBS, candidates=SMALL_CANDIDATES)
    large = start_sandbox(port=0, seed=3, jobs=JOBS, candidates=LARGE_CANDIDATES)
    try:
        yield (organization, owner, small), (other_organization, other_owner, large)
    finally:
        small.stop()
        large.stop()


def test_full_sync_queries_per_page_constant(two_accounts, measure_sync):
    (small_org, small_owner, small_box), (large_org, large_owner, large_box) = two_accounts

    small = measure_sync(small_org, small_owner, small_box)
    large = measure_sync(large_org, large_owner, large_box)

    for entity in PAGED_ENTITIES:
        assert len(large.per_page[entity]) > len(small.per_page[entity]), entity
        assert max(small.per_page[entity]) <= MAX_QUERIES_PER_PAGE, (entity, small.per_page[entity])
        assert max(large.per_page[entity]) <= MAX_QUERIES_PER_PAGE, (entity, large.per_page[entity])
        # Full pages between the first and the last do the same work whatever the size. The
        # first also records the pass's start, and SQLite splits a full page's INSERT into
        # batches where PostgreSQL sends one, so the shorter last page may take fewer.
        assert set(small.per_page[entity][1:-1]) == set(large.per_page[entity][1:-1]), entity
        assert small.per_page[entity][0] == large.per_page[entity][0], entity


def test_full_sync_queries_grow_with_pages_not_records(two_accounts, measure_sync):
    (small_org, small_owner, small_box), (large_org, large_owner, large_box) = two_accounts

    small = measure_sync(small_org, small_owner, small_box)
    large = measure_sync(large_org, large_owner, large_box)

    extra_pages = sum(len(large.per_page[e]) - len(small.per_page[e]) for e in PAGED_ENTITIES)
    extra_queries = large.before_resumes - small.before_resumes
    assert extra_pages > 0
    assert extra_queries <= MAX_QUERIES_PER_PAGE * extra_pages, (extra_queries, extra_pages)


def test_incremental_sync_without_changes_same_queries(two_accounts, measure_sync):
    (small_org, small_owner, small_box), (large_org, large_owner, large_box) = two_accounts
    measure_sync(small_org, small_owner, small_box)
    measure_sync(large_org, large_owner, large_box)

    small = measure_sync(small_org, small_owner, small_box)
    large = measure_sync(large_org, large_owner, large_box)

    assert small.total == large.total
    for endpoint in INCREMENTAL_LISTS:
        assert small.requests.get(endpoint) == 1, (endpoint, small.requests)
        assert large.requests.get(endpoint) == 1, (endpoint, large.requests)
    assert "file.info" not in large.requests
