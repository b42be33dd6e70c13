"""HTTP client for Ashby's public API.

Every Ashby call in Lavalier goes through ``AshbyClient``. Ashby's API is RPC over POST: each
endpoint is ``POST /<category>.<method>`` with a JSON body, and every response is an envelope
``{"success": bool, "results": ..., "errorInfo": ...}``. Many failures arrive as HTTP 200 with
``success: false``, so the client reads the body as well as the status and turns every failure
into one of the typed errors in ``ats_ashby.errors``.

Retry policy:

* Reads, and every page of a list, retry timeouts, connection errors, 429 and 5xx with
  exponential backoff and full jitter, capped at ``backoff_cap`` seconds, at most
  ``max_retries`` times. A ``Retry-After`` header (seconds or HTTP date) replaces the backoff,
  and one longer than ``backoff_cap`` raises ``AshbyRateLimited`` at once so the caller can
  reschedule.
* Writes retry only failures that prove Ashby did not process the request: a 429, or a
  connection that could not be opened. A timeout after sending, a dropped connection or a
  5xx raises ``AshbyWriteOutcomeUnknown``, because a second request could apply twice.
* 401, 403, missing permissions and business errors are never retried.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from typing import Any

import httpx

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

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.ashbyhq.com"
# Ashby documents 100 as both the default and the maximum page size.
PAGE_LIMIT = 100
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)


def timeout_with_read(read_seconds: float) -> httpx.Timeout:
    """Return DEFAULT_TIMEOUT with another read timeout (settings.ASHBY_READ_TIMEOUT_SECONDS)."""
    return httpx.Timeout(connect=5.0, read=read_seconds, write=30.0, pool=10.0)

SYNC_TOKEN_ERROR_CODES = frozenset({"sync_token_expired", "sync_token_invalid"})
# "cursor_invalid" appears in public test fixtures although Ashby documents the other two.
CURSOR_ERROR_CODES = frozenset({"next_cursor_expired", "invalid_next_cursor", "cursor_invalid"})
PERMISSION_ERROR_CODE = "missing_endpoint_permission"
RATE_LIMIT_ERROR_CODES = frozenset({"rate_limit_exceeded", "concurrent_limit_exceeded"})
PARTNER_RATE_LIMIT_SCOPE = "integration-partner"

# Request fields each write accepts, from the requestBody schemas of Ashby's OpenAPI document.
# A field outside these sets raises TypeError before anything is sent, so a caller cannot
# believe that Ashby stored a value (such as a candidate's position) that it ignores.
CANDIDATE_CREATE_FIELDS = frozenset(
    {
        "name",
        "email",
        "phoneNumber",
        "linkedInUrl",
        "githubUrl",
        "website",
        "alternateEmailAddresses",
        "sourceId",
        "creditedToUserId",
        "location",
        "createdAt",
    }
)
CANDIDATE_UPDATE_FIELDS = frozenset(
    {
        "name",
        "email",
        "phoneNumber",
        "linkedInUrl",
        "githubUrl",
        "websiteUrl",
        "alternateEmail",
        "socialLinks",
        "sourceId",
        "creditedToUserId",
        "location",
        "createdAt",
        "sendNotifications",
    }
)
JOB_UPDATE_FIELDS = frozenset(
    {"title", "teamId", "locationId", "defaultInterviewPlanId", "customRequisitionId"}
)
JOB_LIST_FILTERS = frozenset(
    {
        "createdAfter",
        "status",
        "openedAfter",
        "openedBefore",
        "closedAfter",
        "closedBefore",
        "includeUnpublishedJobPostingsIds",
        "expand",
    }
)
APPLICATION_LIST_FILTERS = frozenset({"createdAfter", "status", "jobId", "expand"})
JOB_POSTING_LIST_FILTERS = frozenset({"location", "department", "listedOnly", "jobBoardId"})
JOB_STATUSES = ("Draft", "Open", "Closed", "Archived")

# Allowed difference between Lavalier's clock and Ashby's when deciding whether a candidate
# found by candidate_create_reconciled was created by the failed attempt.
RECONCILE_CLOCK_SKEW = timedelta(minutes=5)
UPLOAD_LABEL = "presigned file upload"
DOWNLOAD_LABEL = "file download"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

# Exceptions raised before any byte of the request left the machine, so a retry cannot
# duplicate a write.
_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_ERROR_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
_ENDPOINT_PATTERN = re.compile(r"\b([a-z][A-Za-z]*\.[a-z][A-Za-z]*)\b")
_PERMISSION_PATTERN = re.compile(r"\b([a-z][A-Za-z]*(?:Read|Write))\b")


def _user_agent() -> str:
    try:
        version = metadata.version("lavalier")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"Lavalier/{version} (Ashby integration) httpx/{httpx.__version__}"


def _default_base_url() -> str:
    """Return ``settings.ASHBY_API_URL`` when Django settings load, else Ashby's public URL."""
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return DEFAULT_BASE_URL
    try:
        return getattr(settings, "ASHBY_API_URL", None) or DEFAULT_BASE_URL
    except ImproperlyConfigured:
        return DEFAULT_BASE_URL


def _camel_case(name: str) -> str:
    """Convert a snake_case keyword (``linked_in_url``) to Ashby's field name (``linkedInUrl``).

    Names without underscores pass through, so callers may use Ashby's spelling directly.
    """
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _ashby_fields(fields: dict[str, Any], allowed: frozenset[str], endpoint: str) -> dict:
    """Rename keywords to Ashby's field names, drop None values and reject unknown fields."""
    body = {}
    for name, value in fields.items():
        field = _camel_case(name)
        if field not in allowed:
            raise TypeError(
                f"{endpoint} does not accept the field {name!r}; "
                f"accepted fields: {', '.join(sorted(allowed))}"
            )
        if value is not None:
            body[field] = value
    return body


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Return the wait in seconds from a ``Retry-After`` header, or None when absent or invalid.

    The header is either a number of seconds or an HTTP date. A date in the past means 0.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max((when - current).total_seconds(), 0.0)


@dataclass(frozen=True)
class ErrorDetails:
    """Error fields read from an Ashby error body (see ``parse_error_body`` for the shapes)."""

    code: str | None
    message: str
    request_id: str | None
    errors: list[dict]


GENERIC_ERROR_MESSAGE = "Ashby reported a failure without an error message"
# Characters of a non-JSON error body kept in an exception message.
ERROR_TEXT_LIMIT = 200


def parse_error_body(payload: Any) -> ErrorDetails:
    """Read code, message, requestId and errors from an Ashby error envelope.

    ``errors`` may be a list of strings, a list of ``{message, parameter}`` objects or null,
    and ``errorInfo`` may be null. The message prefers ``errorInfo.message``, then the first
    ``errors[i].message``, then the first ``errors[i]`` string, then a generic text.
    """
    if not isinstance(payload, dict):
        return ErrorDetails(None, GENERIC_ERROR_MESSAGE, None, [])

    error_info = payload.get("errorInfo")
    if not isinstance(error_info, dict):
        error_info = {}

    raw_errors = payload.get("errors")
    if isinstance(raw_errors, (str, dict)):
        raw_errors = [raw_errors]
    errors = []
    for item in raw_errors if isinstance(raw_errors, list) else []:
        if isinstance(item, str):
            errors.append({"message": item, "parameter": None})
        elif isinstance(item, dict):
            message = item.get("message") or item.get("code")
            parameter = item.get("parameter")
            errors.append(
                {
                    "message": str(message) if message is not None else None,
                    "parameter": str(parameter) if parameter is not None else None,
                }
            )

    code = error_info.get("code") if isinstance(error_info.get("code"), str) else None
    if code is None:
        # Without errorInfo, an errors entry that looks like a code ("sync_token_expired")
        # is the code. Sentences such as "Invalid limit" are messages only.
        for item in errors:
            if item["message"] and _ERROR_CODE_PATTERN.match(item["message"]):
                code = item["message"]
                break

    message = error_info.get("message") if isinstance(error_info.get("message"), str) else None
    if not message:
        message = next((item["message"] for item in errors if item["message"]), None)
    if not message:
        message = GENERIC_ERROR_MESSAGE

    request_id = error_info.get("requestId")
    return ErrorDetails(
        code=code,
        message=message,
        request_id=request_id if isinstance(request_id, str) else None,
        errors=errors,
    )


class _RetryableFailure(Exception):
    """Internal signal that one attempt failed transiently; ``error`` is raised once retries end."""

    def __init__(self, error: AshbyError, *, retry_after: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class Pages:
    """One pass over an Ashby list endpoint, fetched page by page as it is iterated.

    Iterating yields each page as a ``list[dict]`` and requests the next page only when the
    caller asks for it, so at most one page is held here at a time. A ``Pages`` object can be
    iterated once.

    ``sync_token`` is None until the last page has been yielded and the caller has asked for
    the next one (the loop ended). It then contains the ``syncToken`` of the last page, or
    stays None when the endpoint sends none. Store it only after the whole pass is saved.
    ``requests`` counts HTTP requests made so far, retries included.

    Errors: ``AshbyCursorExpired`` mid-pass means the caller restarts the pass from the first
    page (with the same syncToken or none). ``AshbySyncTokenExpired`` means the caller drops
    the stored token and runs a full pass.
    """

    def __init__(
        self,
        client: AshbyClient,
        endpoint: str,
        body: dict[str, Any],
        *,
        paginated: bool,
    ) -> None:
        self.endpoint = endpoint
        self.sync_token: str | None = None
        self.requests = 0
        self._client = client
        self._body = body
        self._paginated = paginated
        self._started = False

    def __repr__(self) -> str:
        return f"Pages(endpoint={self.endpoint!r}, requests={self.requests})"

    def __iter__(self) -> Iterator[list[dict]]:
        if self._started:
            raise RuntimeError(
                f"This {self.endpoint} pass was already iterated; call the list method again "
                "to start a new pass"
            )
        self._started = True
        return self._iterate_pages()

    def _count_request(self) -> None:
        self.requests += 1

    def _iterate_pages(self) -> Iterator[list[dict]]:
        cursor: str | None = None
        while True:
            body = dict(self._body)
            if self._paginated:
                body["limit"] = PAGE_LIMIT
            if cursor is not None:
                body["cursor"] = cursor

            payload = self._client._post(
                self.endpoint, body, write=False, on_request=self._count_request
            )
            records, more, next_cursor, sync_token = self._read_page(payload, cursor)
            # Drop this frame's reference to the raw envelope so that only the caller keeps
            # the page alive while it is being processed.
            del payload

            yield records
            del records

            if not more:
                self.sync_token = sync_token
                return
            cursor = next_cursor

    def _read_page(
        self, payload: dict, cursor: str | None
    ) -> tuple[list[dict], bool, str | None, str | None]:
        records = payload["results"]
        if not isinstance(records, list) or not all(isinstance(item, dict) for item in records):
            raise AshbyResponseError(
                f"Ashby {self.endpoint} returned results that are not a list of objects",
                endpoint=self.endpoint,
            )

        more = payload.get("moreDataAvailable", False)
        if not isinstance(more, bool):
            raise AshbyResponseError(
                f"Ashby {self.endpoint} returned a non-boolean moreDataAvailable",
                endpoint=self.endpoint,
            )

        next_cursor = payload.get("nextCursor")
        if more and (not isinstance(next_cursor, str) or not next_cursor):
            raise AshbyResponseError(
                f"Ashby {self.endpoint} set moreDataAvailable without a nextCursor",
                endpoint=self.endpoint,
            )
        if more and next_cursor == cursor:
            raise AshbyResponseError(
                f"Ashby {self.endpoint} returned the same nextCursor twice; stopping the pass "
                "to avoid an endless loop",
                endpoint=self.endpoint,
            )

        sync_token = payload.get("syncToken")
        if sync_token is not None and not isinstance(sync_token, str):
            raise AshbyResponseError(
                f"Ashby {self.endpoint} returned a syncToken that is not a string",
                endpoint=self.endpoint,
            )
        return records, more, next_cursor, sync_token


class AshbyClient:
    """Client for Ashby's public API, holding one ``httpx.Client`` for its lifetime.

    Methods are named after the endpoint in snake_case and return the ``results`` payload.
    List methods return ``Pages``. Every failure raises a subclass of ``AshbyError``.
    The API key is sent as the Basic-auth username with an empty password, only to
    ``base_url``, and never appears in logs, exception messages or ``repr()``.
    Close the client with ``close()`` or use it as a context manager.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: httpx.Timeout | None = None,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        key = (api_key or "").strip()
        if not key:
            raise ValueError("The Ashby API key is empty; paste the key from Ashby's admin page")
        if any(character.isspace() or not character.isprintable() for character in key):
            raise ValueError(
                "The Ashby API key contains whitespace or control characters; "
                "copy the key again without extra characters"
            )
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")

        self._api_key = key
        self._auth = httpx.BasicAuth(key, "")
        self.base_url = (base_url or _default_base_url()).rstrip("/")
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self._random = random.Random()
        # Authentication is passed per Ashby request rather than set on the httpx client, so
        # downloads and uploads to presigned URLs on other hosts never carry the key.
        self._http = httpx.Client(
            timeout=self.timeout,
            transport=transport,
            headers={"User-Agent": _user_agent()},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"AshbyClient(base_url={self.base_url!r}, api_key='***')"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AshbyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Organization and key ------------------------------------------------------------------

    def api_key_info(self) -> dict:
        """Return the key's ``title``, ``createdAt`` and ``scopes``; a cheap connection check."""
        return self._call_object("apiKey.info", {})

    def source_list(self, *, include_archived: bool = True) -> Pages:
        """List application sources, archived ones included by default for old applications."""
        return Pages(self, "source.list", {"includeArchived": include_archived}, paginated=False)

    def archive_reason_list(self, *, include_archived: bool = True) -> Pages:
        return Pages(
            self, "archiveReason.list", {"includeArchived": include_archived}, paginated=False
        )

    def department_list(self, *, include_archived: bool = True) -> Pages:
        return Pages(self, "department.list", {"includeArchived": include_archived}, paginated=True)

    def location_list(self, *, include_archived: bool = True) -> Pages:
        # location.list's schema forbids properties beyond includeArchived and
        # includeLocationHierarchy, so no limit is sent.
        return Pages(self, "location.list", {"includeArchived": include_archived}, paginated=False)

    def user_list(self, *, include_deactivated: bool = True) -> Pages:
        return Pages(self, "user.list", {"includeDeactivated": include_deactivated}, paginated=True)

    # Jobs ----------------------------------------------------------------------------------

    def job_list(
        self, *, sync_token: str | None = None, include_drafts: bool = False, **filters: Any
    ) -> Pages:
        """List jobs; Ashby leaves drafts out unless ``status`` lists ``Draft``.

        With ``include_drafts=True`` the client adds ``Draft`` to the ``status`` filter, or
        sends all four statuses when no filter was given. Other filters use Ashby's names in
        snake_case or camelCase (``opened_after``, ``expand``).
        """
        body = _ashby_fields(filters, JOB_LIST_FILTERS, "job.list")
        if include_drafts:
            statuses = list(body.get("status") or JOB_STATUSES)
            if "Draft" not in statuses:
                statuses.append("Draft")
            body["status"] = statuses
        if sync_token is not None:
            body["syncToken"] = sync_token
        return Pages(self, "job.list", body, paginated=True)

    def job_info(self, job_id: str) -> dict:
        return self._call_object("job.info", {"id": job_id})

    def job_update(self, job_id: str, **fields: Any) -> dict:
        """Update a job's title, team, location, default plan or requisition id.

        Not retried after a timeout or 5xx: raises ``AshbyWriteOutcomeUnknown``. Applying the
        same update twice is harmless, so the caller may simply send it again.
        """
        body = {"jobId": job_id, **_ashby_fields(fields, JOB_UPDATE_FIELDS, "job.update")}
        return self._call_object("job.update", body, write=True)

    def job_posting_list(self, **filters: Any) -> Pages:
        """List published job postings, unlisted ones included unless ``listed_only=True``."""
        body = _ashby_fields(filters, JOB_POSTING_LIST_FILTERS, "jobPosting.list")
        return Pages(self, "jobPosting.list", body, paginated=False)

    def job_posting_info(self, job_posting_id: str) -> dict:
        return self._call_object("jobPosting.info", {"jobPostingId": job_posting_id})

    def interview_plan_list(self, include_archived: bool = True) -> Pages:
        return Pages(
            self, "interviewPlan.list", {"includeArchived": include_archived}, paginated=True
        )

    def interview_stage_list(self, interview_plan_id: str) -> Pages:
        """List a plan's stages in plan order."""
        return Pages(
            self, "interviewStage.list", {"interviewPlanId": interview_plan_id}, paginated=False
        )

    # Applications --------------------------------------------------------------------------

    def application_list(self, *, sync_token: str | None = None, **filters: Any) -> Pages:
        """List applications; filters are ``created_after`` (ms epoch), ``status``, ``job_id``
        and ``expand``."""
        body = _ashby_fields(filters, APPLICATION_LIST_FILTERS, "application.list")
        if sync_token is not None:
            body["syncToken"] = sync_token
        return Pages(self, "application.list", body, paginated=True)

    def application_info(self, application_id: str) -> dict:
        return self._call_object("application.info", {"applicationId": application_id})

    def application_create(
        self,
        candidate_id: str,
        job_id: str,
        *,
        interview_stage_id: str | None = None,
        source_id: str | None = None,
        interview_plan_id: str | None = None,
        credited_to_user_id: str | None = None,
        created_at: str | None = None,
    ) -> dict:
        """Create an application of a candidate to a job.

        Not retried after a timeout or 5xx: raises ``AshbyWriteOutcomeUnknown``, and the
        caller checks the candidate's ``applicationIds`` before creating again.
        """
        body = {"candidateId": candidate_id, "jobId": job_id}
        optional = {
            "interviewStageId": interview_stage_id,
            "sourceId": source_id,
            "interviewPlanId": interview_plan_id,
            "creditedToUserId": credited_to_user_id,
            "createdAt": created_at,
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        return self._call_object("application.create", body, write=True)

    def application_change_stage(
        self,
        application_id: str,
        interview_stage_id: str,
        *,
        archive_reason_id: str | None = None,
    ) -> dict:
        """Move an application to a stage; ``archive_reason_id`` is required for archive stages.

        Not retried after a timeout or 5xx: raises ``AshbyWriteOutcomeUnknown``. Moving to the
        same stage again is harmless, so the caller may re-read the application and resend.
        """
        body = {"applicationId": application_id, "interviewStageId": interview_stage_id}
        if archive_reason_id is not None:
            body["archiveReasonId"] = archive_reason_id
        return self._call_object("application.changeStage", body, write=True)

    # Candidates ----------------------------------------------------------------------------

    def candidate_list(self, *, sync_token: str | None = None) -> Pages:
        body = {"syncToken": sync_token} if sync_token is not None else {}
        return Pages(self, "candidate.list", body, paginated=True)

    def candidate_info(self, candidate_id: str) -> dict:
        return self._call_object("candidate.info", {"id": candidate_id})

    def candidate_create(self, **fields: Any) -> dict:
        """Create a candidate; ``name`` is required.

        Not retried after a timeout or 5xx: raises ``AshbyWriteOutcomeUnknown``. Use
        ``candidate_create_reconciled`` to recover without creating a duplicate.
        """
        body = _ashby_fields(fields, CANDIDATE_CREATE_FIELDS, "candidate.create")
        if not body.get("name"):
            raise TypeError("candidate.create requires a non-empty name")
        return self._call_object("candidate.create", body, write=True)

    def candidate_create_reconciled(
        self, *, name: str, email: str | None = None, **fields: Any
    ) -> dict:
        """Create a candidate, recovering from an unknown outcome without a duplicate.

        Contract:

        1. Sends ``candidate.create`` once.
        2. If that raises ``AshbyWriteOutcomeUnknown`` and ``email`` is given, calls
           ``candidate.search`` by email and returns the candidate whose name and email match
           exactly and whose ``createdAt`` is no earlier than the attempt's start (minus
           five minutes for clock skew). Several such matches return the oldest.
        3. Otherwise (no email, or no match) sends ``candidate.create`` once more and returns
           its result. A second ``AshbyWriteOutcomeUnknown`` propagates to the caller.

        Without an email a duplicate remains possible when the first request did reach
        Ashby, because names are not unique. Errors from the search propagate unchanged.
        NOTE: if Ashby is still processing the first request when the search runs, the
        search misses it and a duplicate is created; nothing here waits for that case.
        """
        attempt_started = datetime.now(UTC)
        try:
            return self.candidate_create(name=name, email=email, **fields)
        except AshbyWriteOutcomeUnknown as outcome_unknown:
            logger.warning(
                "Ashby candidate.create outcome unknown; reconciling",
                extra={"endpoint": "candidate.create", "error": type(outcome_unknown).__name__},
            )

        if email:
            found = self._find_created_candidate(name, email, attempt_started)
            if found is not None:
                logger.info(
                    "Ashby candidate.create adopted the candidate created by the failed attempt",
                    extra={"endpoint": "candidate.create", "candidate_id": found.get("id")},
                )
                return found

        logger.info(
            "Ashby candidate.create found no candidate from the failed attempt; creating again",
            extra={"endpoint": "candidate.create"},
        )
        return self.candidate_create(name=name, email=email, **fields)

    def _find_created_candidate(
        self, name: str, email: str, attempt_started: datetime
    ) -> dict | None:
        earliest = attempt_started - RECONCILE_CLOCK_SKEW
        expected_email = email.strip().casefold()
        expected_name = name.strip().casefold()
        matches = []
        for candidate in self.candidate_search(email=email):
            emails = [candidate.get("primaryEmailAddress")] + list(
                candidate.get("emailAddresses") or []
            )
            addresses = {
                entry.get("value", "").strip().casefold()
                for entry in emails
                if isinstance(entry, dict) and isinstance(entry.get("value"), str)
            }
            if expected_email not in addresses:
                continue
            if str(candidate.get("name", "")).strip().casefold() != expected_name:
                continue
            created_at = _parse_timestamp(candidate.get("createdAt"))
            if created_at is None or created_at < earliest:
                continue
            matches.append((created_at, candidate))
        if not matches:
            return None
        if len(matches) > 1:
            logger.warning(
                "Ashby candidate.search found several candidates created during the attempt",
                extra={"endpoint": "candidate.search", "count": len(matches)},
            )
        matches.sort(key=lambda match: match[0])
        return matches[0][1]

    def candidate_update(self, candidate_id: str, **fields: Any) -> dict:
        """Update a candidate. Ashby cannot update position, company or school.

        Pass ``send_notifications=False`` from a sync. Not retried after a timeout or 5xx:
        raises ``AshbyWriteOutcomeUnknown``. The same update applied twice is harmless.
        """
        body = {
            "candidateId": candidate_id,
            **_ashby_fields(fields, CANDIDATE_UPDATE_FIELDS, "candidate.update"),
        }
        return self._call_object("candidate.update", body, write=True)

    def candidate_search(self, *, email: str | None = None, name: str | None = None) -> list[dict]:
        """Return candidates matching both filters; Ashby caps the result at 100, unpaginated."""
        body = {}
        if email is not None:
            body["email"] = email
        if name is not None:
            body["name"] = name
        if not body:
            raise TypeError("candidate_search requires email, name or both")
        results = self._post("candidate.search", body, write=False)["results"]
        if not isinstance(results, list) or not all(isinstance(item, dict) for item in results):
            raise AshbyResponseError(
                "Ashby candidate.search returned results that are not a list of objects",
                endpoint="candidate.search",
            )
        return results

    # Files ---------------------------------------------------------------------------------

    def candidate_upload_resume(
        self, candidate_id: str, *, filename: str, content: bytes, content_type: str
    ) -> dict:
        """Upload a resume file and attach it to a candidate; returns the candidate.

        Runs Ashby's three steps: ``file.createFileUploadHandle``, a multipart POST to the
        presigned URL (every returned field first, the ``file`` part last), then
        ``candidate.uploadResume``. Only the first step is retried, since an unused handle has
        no effect. A timeout or 5xx in the later steps raises ``AshbyWriteOutcomeUnknown``.
        Running the whole upload again is safe: it stores a new file and replaces the resume.
        """
        handle = self._call_object(
            "file.createFileUploadHandle",
            {
                "fileUploadContext": "CandidateResume",
                "filename": filename,
                "contentType": content_type,
                "contentLength": len(content),
            },
        )
        for field in ("handle", "url", "fields"):
            if field not in handle:
                raise AshbyResponseError(
                    f"Ashby file.createFileUploadHandle returned no {field!r}",
                    endpoint="file.createFileUploadHandle",
                )
        if not isinstance(handle["fields"], dict):
            raise AshbyResponseError(
                "Ashby file.createFileUploadHandle returned fields that are not an object",
                endpoint="file.createFileUploadHandle",
            )

        self._upload_to_presigned_url(
            handle["url"],
            handle["fields"],
            filename=filename,
            content=content,
            content_type=content_type,
        )
        return self._call_object(
            "candidate.uploadResume",
            {"candidateId": candidate_id, "resumeHandle": handle["handle"]},
            write=True,
        )

    def file_info(self, file_handle: str) -> dict:
        """Return ``{"url": ...}``, a short-lived signed URL; fetch it just before downloading."""
        return self._call_object("file.info", {"fileHandle": file_handle})

    def download_file(self, url: str, *, max_bytes: int) -> tuple[bytes, str | None]:
        """Download a file from a URL returned by ``file_info``; returns (content, content type).

        Streams the body and raises ``AshbyFileTooLarge`` as soon as it exceeds ``max_bytes``
        (or at once when ``Content-Length`` already does). The API key is never sent. Retries
        like a read. A 4xx, usually an expired URL, raises ``AshbyRequestError``.
        """
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        _check_file_url(url)

        def attempt(retries: int) -> tuple[bytes, str | None]:
            started = time.monotonic()
            try:
                with self._http.stream("GET", url, headers={"Accept": "*/*"}) as response:
                    self._log_response(DOWNLOAD_LABEL, response.status_code, started, retries)
                    self._check_file_response(DOWNLOAD_LABEL, response, write=False)
                    return _read_limited(response, max_bytes), response.headers.get("content-type")
            except httpx.TransportError as exc:
                raise self._transport_failure(DOWNLOAD_LABEL, exc, write=False) from exc

        return self._with_retries(DOWNLOAD_LABEL, attempt)

    def _upload_to_presigned_url(
        self,
        url: str,
        fields: dict[str, str],
        *,
        filename: str,
        content: bytes,
        content_type: str,
    ) -> None:
        _check_file_url(url)

        def attempt(retries: int) -> None:
            started = time.monotonic()
            try:
                # httpx writes the data fields before the files, which puts "file" last as the
                # presigned POST requires.
                response = self._http.post(
                    url,
                    data={str(name): str(value) for name, value in fields.items()},
                    files={"file": (filename, content, content_type)},
                )
            except httpx.TransportError as exc:
                raise self._transport_failure(UPLOAD_LABEL, exc, write=True) from exc
            self._log_response(UPLOAD_LABEL, response.status_code, started, retries)
            self._check_file_response(UPLOAD_LABEL, response, write=True)

        self._with_retries(UPLOAD_LABEL, attempt)

    def _check_file_response(self, label: str, response: httpx.Response, *, write: bool) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _RetryableFailure(
                AshbyRateLimited(
                    f"{label} was rate limited (HTTP 429)",
                    endpoint=label,
                    status_code=status,
                    retry_after=retry_after,
                ),
                retry_after=retry_after,
            )
        if status >= 500:
            if write:
                raise AshbyWriteOutcomeUnknown(
                    f"{label} failed with HTTP {status}; the file may or may not be stored",
                    endpoint=label,
                    status_code=status,
                )
            raise _RetryableFailure(
                AshbyServerError(
                    f"{label} failed with HTTP {status}", endpoint=label, status_code=status
                )
            )
        raise AshbyRequestError(
            f"{label} failed with HTTP {status}; the presigned URL may have expired, "
            "so request a new one from Ashby",
            endpoint=label,
            status_code=status,
            code=f"http_{status}",
        )

    # Transport -----------------------------------------------------------------------------

    def _call_object(self, endpoint: str, body: dict, *, write: bool = False) -> dict:
        results = self._post(endpoint, body, write=write)["results"]
        if not isinstance(results, dict):
            raise AshbyResponseError(
                f"Ashby {endpoint} returned results that are not an object",
                endpoint=endpoint,
            )
        return results

    def _post(
        self,
        endpoint: str,
        body: dict,
        *,
        write: bool,
        on_request: Callable[[], None] | None = None,
    ) -> dict:
        """POST one Ashby endpoint with retries; return the success envelope or raise."""

        def attempt(retries: int) -> dict:
            if on_request is not None:
                on_request()
            started = time.monotonic()
            try:
                # Streaming keeps the raw body out of the httpx.Response, which sits in a
                # reference cycle and would otherwise keep every page's bytes alive until the
                # garbage collector runs.
                with self._http.stream(
                    "POST",
                    f"{self.base_url}/{endpoint}",
                    json=body,
                    auth=self._auth,
                    headers={
                        "Content-Type": "application/json",
                        "Accept": "application/json; version=1",
                    },
                ) as response:
                    raw = b"".join(response.iter_bytes())
            except httpx.TransportError as exc:
                raise self._transport_failure(endpoint, exc, write=write) from exc
            return self._read_envelope(endpoint, response, raw, started, retries, write=write)

        return self._with_retries(endpoint, attempt)

    def _with_retries(self, label: str, attempt: Callable[[int], Any]) -> Any:
        retries = 0
        while True:
            try:
                return attempt(retries)
            except _RetryableFailure as failure:
                retry_after = failure.retry_after
                if retries >= self.max_retries:
                    raise failure.error from failure.__cause__
                if retry_after is not None and retry_after > self.backoff_cap:
                    # Waiting longer than the cap inside one call would block a worker; the
                    # caller reschedules using the error's retry_after instead.
                    raise failure.error from failure.__cause__
                delay = self._backoff_delay(retries, retry_after)
                logger.warning(
                    "Ashby %s failed (%s); retry %d of %d in %.2fs",
                    label,
                    type(failure.error).__name__,
                    retries + 1,
                    self.max_retries,
                    delay,
                    extra={
                        "endpoint": label,
                        "error": type(failure.error).__name__,
                        "status_code": failure.error.status_code,
                        "retry": retries + 1,
                        "delay": delay,
                        "request_id": failure.error.request_id,
                    },
                )
                self._sleep(delay)
                retries += 1

    def _backoff_delay(self, retries: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self.backoff_cap, self.backoff_base * (2**retries))
        return self._random.uniform(0.0, ceiling)

    def _transport_failure(
        self, endpoint: str, exc: httpx.TransportError, *, write: bool
    ) -> Exception:
        """Map an httpx transport error to the error to raise or the retry signal."""
        kind = type(exc).__name__
        if isinstance(exc, _NOT_SENT_ERRORS):
            return _RetryableFailure(
                AshbyUnavailable(
                    f"Could not connect to Ashby for {endpoint} ({kind})", endpoint=endpoint
                )
            )
        if isinstance(exc, _TRANSIENT_ERRORS):
            if write:
                return AshbyWriteOutcomeUnknown(
                    f"Ashby {endpoint} was sent but no response arrived ({kind}); "
                    "the write may or may not have been applied",
                    endpoint=endpoint,
                )
            return _RetryableFailure(
                AshbyUnavailable(f"Ashby {endpoint} did not respond ({kind})", endpoint=endpoint)
            )
        return AshbyUnavailable(
            f"Ashby {endpoint} failed before a response ({kind})", endpoint=endpoint
        )

    def _read_envelope(
        self,
        endpoint: str,
        response: httpx.Response,
        raw: bytes,
        started: float,
        retries: int,
        *,
        write: bool,
    ) -> dict:
        """Return the success envelope of a response, or raise the matching error."""
        status = response.status_code
        try:
            payload = json.loads(raw) if raw.strip() else None
        except ValueError:
            payload = None
        details = parse_error_body(payload)
        text = raw.decode("utf-8", errors="replace").strip()
        if payload is None and status >= 400 and text:
            # A plain-text error body (for example "Invalid API key") is still the best message.
            snippet = " ".join(text.split())[:ERROR_TEXT_LIMIT]
            details = ErrorDetails(None, snippet, None, [])
        request_id = details.request_id or response.headers.get("x-request-id")
        self._log_response(endpoint, status, started, retries, request_id)

        failed = status >= 400 or (isinstance(payload, dict) and payload.get("success") is False)
        if failed or status == 429:
            self._raise_failure(endpoint, response, payload, details, request_id, write=write)

        if not 200 <= status < 300:
            raise AshbyResponseError(
                f"Ashby {endpoint} returned unexpected HTTP {status}",
                endpoint=endpoint,
                status_code=status,
                request_id=request_id,
            )
        if payload is None:
            raise AshbyResponseError(
                f"Ashby {endpoint} returned a body that is not valid JSON (HTTP {status})",
                endpoint=endpoint,
                status_code=status,
                request_id=request_id,
            )
        if not isinstance(payload, dict) or not isinstance(payload.get("success"), bool):
            raise AshbyResponseError(
                f"Ashby {endpoint} returned JSON without a boolean 'success' field",
                endpoint=endpoint,
                status_code=status,
                request_id=request_id,
            )
        if "results" not in payload:
            raise AshbyResponseError(
                f"Ashby {endpoint} returned success without 'results'",
                endpoint=endpoint,
                status_code=status,
                request_id=request_id,
            )
        return payload

    def _raise_failure(
        self,
        endpoint: str,
        response: httpx.Response,
        payload: Any,
        details: ErrorDetails,
        request_id: str | None,
        *,
        write: bool,
    ) -> None:
        status = response.status_code
        code = details.code
        ashby_message = self._redact(details.message)
        common = {
            "endpoint": endpoint,
            "status_code": status,
            "code": code,
            "request_id": request_id,
        }
        summary = f"Ashby {endpoint} failed with HTTP {status}"
        if code:
            summary += f", code {code}"
        summary += f": {ashby_message}"
        if request_id:
            summary += f" (requestId {request_id})"

        if status == 429 or code in RATE_LIMIT_ERROR_CODES:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            partner_scope = (
                response.headers.get("x-ratelimit-scope", "").strip().lower()
                == PARTNER_RATE_LIMIT_SCOPE
            )
            # A 429 is rejected before processing, so even a write may be retried.
            raise _RetryableFailure(
                AshbyRateLimited(
                    summary, retry_after=retry_after, partner_scope=partner_scope, **common
                ),
                retry_after=retry_after,
            )

        if status >= 500:
            if write:
                raise AshbyWriteOutcomeUnknown(
                    f"{summary}. The write may or may not have been applied", **common
                )
            raise _RetryableFailure(AshbyServerError(summary, **common))

        if code == PERMISSION_ERROR_CODE:
            endpoint_match = _ENDPOINT_PATTERN.search(details.message)
            permission_match = _PERMISSION_PATTERN.search(details.message)
            common["endpoint"] = endpoint_match.group(1) if endpoint_match else endpoint
            raise AshbyPermissionError(
                summary,
                permission=permission_match.group(1) if permission_match else None,
                **common,
            )
        if status in (401, 403):
            raise AshbyAuthError(
                summary, reason=_auth_reason(status, code, details.message), **common
            )
        if code in SYNC_TOKEN_ERROR_CODES:
            raise AshbySyncTokenExpired(summary, **common)
        if code in CURSOR_ERROR_CODES:
            raise AshbyCursorExpired(summary, **common)
        if payload is None and status >= 400:
            summary = f"Ashby {endpoint} failed with HTTP {status} and a body that is not JSON"
            common["code"] = f"http_{status}"
        raise AshbyRequestError(
            summary,
            errors=[
                {
                    "message": self._redact(item["message"]) if item["message"] else None,
                    "parameter": item["parameter"],
                }
                for item in details.errors
            ],
            **common,
        )

    def _log_response(
        self,
        endpoint: str,
        status: int,
        started: float,
        retries: int,
        request_id: str | None = None,
    ) -> None:
        duration_ms = (time.monotonic() - started) * 1000
        logger.debug(
            "Ashby %s HTTP %d in %.0f ms (retry %d, requestId %s)",
            endpoint,
            status,
            duration_ms,
            retries,
            request_id,
            extra={
                "endpoint": endpoint,
                "status_code": status,
                "duration_ms": round(duration_ms),
                "retry": retries,
                "request_id": request_id,
            },
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]") if text else text


def _auth_reason(status: int, code: str | None, message: str) -> str:
    """Guess why Ashby rejected the key from the status and the error text."""
    text = f"{code or ''} {message}".lower()
    if "deactivat" in text or "revoked" in text or "disabled" in text:
        return "deactivated"
    if "missing" in text or "no api key" in text or "not provided" in text:
        return "missing"
    if status == 401 and not ("invalid" in text or "wrong" in text):
        return "missing"
    return "invalid"


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _check_file_url(url: str) -> None:
    """Reject file URLs that are not https, except plain http on loopback for local testing."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise AshbyResponseError("Ashby returned a file URL that is not a valid URL") from exc
    if parsed.scheme == "https" and parsed.host:
        return
    if parsed.scheme == "http" and parsed.host in LOOPBACK_HOSTS:
        return
    raise AshbyResponseError(
        f"Refusing a file URL with scheme {parsed.scheme!r} on host {parsed.host!r}; "
        "only https URLs (or http on loopback) are fetched"
    )


def _read_limited(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise AshbyFileTooLarge(
            f"The file is {declared} bytes, more than the limit of {max_bytes} bytes",
            endpoint=DOWNLOAD_LABEL,
            max_bytes=max_bytes,
        )
    chunks = []
    received = 0
    for chunk in response.iter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise AshbyFileTooLarge(
                f"The file exceeded the limit of {max_bytes} bytes; download stopped",
                endpoint=DOWNLOAD_LABEL,
                max_bytes=max_bytes,
            )
        chunks.append(chunk)
    return b"".join(chunks)
