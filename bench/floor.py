"""The floor a sync is compared with: fetch every page, write every row with COPY.

Neither step processes anything, so together they bound from below what any sync of the
same account through the same API and into the same tables can cost.
"""

from __future__ import annotations

import io
import logging
import math
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from ats_ashby.client import PAGE_LIMIT, AshbyClient, Pages

logger = logging.getLogger(__name__)

# Lists that AshbyClient reads with a limit of PAGE_LIMIT and cursors; the others return
# everything in one response.
PAGINATED_ENDPOINTS = frozenset(
    {"department.list", "interviewPlan.list", "job.list", "candidate.list", "application.list"}
)


@dataclass
class FetchFloor:
    """Time, pages and records of one bare pass over every list the sync reads."""

    seconds: float = 0.0
    pages: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)
    resume_seconds: float = 0.0
    resumes: int = 0

    @property
    def requests(self) -> int:
        return sum(self.pages.values()) + 2 * self.resumes


def _drain(pages: Pages, floor: FetchFloor, endpoint: str) -> list[dict]:
    """Read every page of a pass; return the records only for the small lists."""
    kept: list[dict] = []
    for page in pages:
        floor.records[endpoint] = floor.records.get(endpoint, 0) + len(page)
        if endpoint in ("interviewPlan.list",):
            kept.extend(page)
    floor.pages[endpoint] = floor.pages.get(endpoint, 0) + pages.requests
    return kept


def fetch_floor(client: AshbyClient, resume_handles: list[str]) -> FetchFloor:
    """Fetch every list the sync reads, page by page, and each resume; process nothing.

    `resume_handles` are the file handles the sync downloaded; each costs a file.info
    request and a download, as in the sync.
    """
    floor = FetchFloor()
    started = time.perf_counter()
    _drain(client.department_list(), floor, "department.list")
    _drain(client.location_list(), floor, "location.list")
    _drain(client.source_list(), floor, "source.list")
    _drain(client.archive_reason_list(), floor, "archiveReason.list")
    plans = _drain(client.interview_plan_list(), floor, "interviewPlan.list")
    for plan in plans:
        _drain(client.interview_stage_list(plan["id"]), floor, "interviewStage.list")
    _drain(client.job_list(), floor, "job.list")
    _drain(client.job_posting_list(), floor, "jobPosting.list")
    _drain(client.candidate_list(), floor, "candidate.list")
    _drain(client.application_list(), floor, "application.list")
    floor.seconds = time.perf_counter() - started

    started = time.perf_counter()
    for handle in resume_handles:
        info = client.file_info(handle)
        client.download_file(info["url"], max_bytes=10 * 1024 * 1024)
    floor.resume_seconds = time.perf_counter() - started
    floor.resumes = len(resume_handles)
    return floor


def minimum_pages(records: int) -> int:
    """Pages a list of `records` needs at PAGE_LIMIT per page (an empty list takes one)."""
    return max(1, math.ceil(records / PAGE_LIMIT))


def copy_floor(
    database_url: str, tables: list[str], organization_id: int, scratch_organization_id: int
) -> dict:
    """Time COPY … FROM STDIN of the organization's rows into the same tables.

    The rows are copied under `scratch_organization_id`, so the unique (organization,
    provider, remote id) constraints do not conflict, and every index and foreign key
    is maintained as during the sync. Foreign keys still point at the original rows.
    The copy commits (Django's foreign keys are checked at commit) and is then deleted.
    Returns {"seconds": …, "rows": {table: n}}.
    """
    exported: dict[str, tuple[list[str], bytes]] = {}
    with psycopg.connect(database_url) as conn:
        for table in tables:
            columns = [
                row[0]
                for row in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = %s AND column_name <> 'id' ORDER BY ordinal_position",
                    (table,),
                )
            ]
            select_list = sql.SQL(", ").join(
                sql.Literal(scratch_organization_id)
                if name == "organization_id"
                else sql.Identifier(name)
                for name in columns
            )
            query = sql.SQL("COPY (SELECT {} FROM {} WHERE organization_id = {}) TO STDOUT").format(
                select_list, sql.Identifier(table), sql.Literal(organization_id)
            )
            buffer = io.BytesIO()
            with conn.cursor() as cursor, cursor.copy(query) as copy:
                for chunk in copy:
                    buffer.write(chunk)
            exported[table] = (columns, buffer.getvalue())
        conn.commit()

        rows: dict[str, int] = {}
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cursor:
            for table in tables:
                columns, data = exported[table]
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                with cursor.copy(statement) as copy:
                    copy.write(data)
                rows[table] = cursor.rowcount
        seconds = time.perf_counter() - started

        with conn.transaction():
            for table in reversed(tables):
                conn.execute(
                    sql.SQL("DELETE FROM {} WHERE organization_id = {}").format(
                        sql.Identifier(table), sql.Literal(scratch_organization_id)
                    )
                )
    logger.info(
        "copy floor measured",
        extra={"organization_id": organization_id, "seconds": round(seconds, 3)},
    )
    return {"seconds": seconds, "rows": rows}
