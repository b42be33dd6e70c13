"""Client for Greenhouse Harvest v3 and its OAuth client-credentials token endpoint.

All Greenhouse HTTP in Lavalier goes through ``GreenhouseClient``. It mints a bearer token
(HTTP Basic ``client_id:client_secret``, form body ``grant_type=client_credentials`` and
``sub=<user id>``), caches it until shortly before it expires, and mints a new one once
when Harvest returns 401. Lists follow the ``Link: rel="next"`` URL, whose opaque cursor
must be the only query parameter. Reads are retried on timeouts, connection errors, 5xx
and 429; writes are retried only when the request provably did not reach Greenhouse.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from .errors import (
    GreenhouseAuthError,
    GreenhouseError,
    GreenhouseFileError,
    GreenhouseNotFound,
    GreenhousePermissionError,
    GreenhouseRateLimited,
    GreenhouseRequestError,
    GreenhouseResponseError,
    GreenhouseServerError,
    GreenhouseUnavailable,
    GreenhouseWriteOutcomeUnknown,
)

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://harvest.greenhouse.io/v3"
DEFAULT_AUTH_URL = "https://auth.greenhouse.io"
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
# Harvest v3 allows 1 to 500 records per page; 100 is its default.
PER_PAGE = 200
MAX_PER_PAGE = 500
# A cached token is replaced this long before the expiry Greenhouse gave for it.
TOKEN_REFRESH_MARGIN = timedelta(seconds=60)
# Lifetime assumed when the token response has no expires_in (partner tokens last 1 hour).
DEFAULT_TOKEN_LIFETIME = timedelta(hours=1)
# Incremental filters start this much before the stored watermark. Together with `gte`, it
# keeps records whose update landed in the same second as the watermark, or was committed
# a moment late, in the next pass; upserts by id make the repeats harmless.
WATERMARK_OVERLAP = timedelta(seconds=2)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_ID_SEGMENT = re.compile(r"/\d+(?=/|$)")


def harvest_time(moment: datetime) -> str:
    """Format a datetime for Harvest filters: ISO 8601 UTC with milliseconds and a Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def updated_since(watermark: datetime) -> str:
    """Return the ``updated_at`` filter of an incremental pass from ``watermark``."""
    return f"gte|{harvest_time(watermark - WATERMARK_OVERLAP)}"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def error_text(response: httpx.Response) -> tuple[str, list[dict]]:
    """Read Greenhouse's error body defensively: ``message``, ``errors[]``, OAuth fields, text.

    Harvest v3's error shape is not documented, so each known shape is tried in turn.
    """
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:200] or f"HTTP {response.status_code}", []
    errors = []
    if isinstance(body, dict):
        for entry in body.get("errors") or []:
            if isinstance(entry, dict):
                errors.append(
                    {"message": str(entry.get("message", ""))[:200], "field": entry.get("field")}
                )
        message = body.get("message") or body.get("error_description") or body.get("error")
        if not message and errors:
            message = "; ".join(
                f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors
            )
        if message:
            return str(message)[:200], errors
    return f"HTTP {response.status_code}", errors


@dataclass
class Token:
    access_token: str
    expires_at: float
    scopes: frozenset[str]


class _Retry(Exception):
    def __init__(self, error: GreenhouseError, retry_after: float | None = None):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


class Pages:
    """Iterator over the pages (lists of dicts) of one Harvest list request.

    ``server_time`` is the ``Date`` of the first response, available after the first page:
    the moment Greenhouse started serving the pass, a safe watermark for the next one.
    """

    def __init__(self, client: GreenhouseClient, path: str, params: dict[str, Any]):
        self.client = client
        self.path = path
        self.params = params
        self.server_time: datetime | None = None

    def __iter__(self) -> Iterator[list[dict]]:
        url: str | None = f"{self.client.api_url}{self.path}"
        params: dict[str, Any] | None = self.params
        while url is not None:
            response = self.client.request("GET", url, params=params, label=f"GET {self.path}")
            if self.server_time is None:
                self.server_time = _response_date(response)
            records = _json(response, f"GET {self.path}")
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise GreenhouseResponseError(
                    f"Greenhouse GET {self.path} returned something other than a list of records",
                    endpoint=f"GET {self.path}",
                )
            yield records
            url = self.client.next_link(response, f"GET {self.path}")
            # The cursor in the next URL carries the filters and must be the only parameter.
            params = None

    def records(self) -> Iterator[dict]:
        for page in self:
            yield from page


class GreenhouseClient:
    """One organization's Harvest v3 client, holding an ``httpx.Client`` for its lifetime.

    The secret and tokens never appear in logs, messages or ``repr()``. Tokens are sent only
    to ``api_url``; attachment downloads carry no credentials. Use it as a context manager.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        user_id: str | int | None,
        *,
        api_url: str = DEFAULT_API_URL,
        auth_url: str = DEFAULT_AUTH_URL,
        timeout: httpx.Timeout | None = None,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        per_page: int = PER_PAGE,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ):
        if not client_id or not client_secret:
            raise ValueError("The Greenhouse client id and client secret must not be empty")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
        self.client_id = client_id
        self._secret = client_secret
        self.user_id = str(user_id) if user_id not in (None, "") else None
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.per_page = per_page
        self._sleep = sleep
        self._clock = clock
        self._random = random.Random()
        self._token: Token | None = None
        self._http = httpx.Client(
            timeout=timeout or DEFAULT_TIMEOUT,
            transport=transport,
            headers={"User-Agent": "Lavalier/1.0 (Greenhouse Harvest v3)"},
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"GreenhouseClient(api_url={self.api_url!r}, client_id=…{self.client_id[-4:]}, secret='***')"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GreenhouseClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # Tokens ------------------------------------------------------------------------------

    def token(self) -> Token:
        """Return the cached token, minting a new one when none is cached or it nears expiry."""
        if (
            self._token is None
            or self._clock() >= self._token.expires_at - TOKEN_REFRESH_MARGIN.total_seconds()
        ):
            self._token = self._with_retries("POST /token", lambda: self._mint_token())
        return self._token

    def _mint_token(self) -> Token:
        label = "POST /token"
        form = {"grant_type": "client_credentials"}
        if self.user_id:
            form["sub"] = self.user_id
        basic = base64.b64encode(f"{self.client_id}:{self._secret}".encode()).decode()
        try:
            response = self._http.post(
                f"{self.auth_url}/token",
                data=form,
                headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise _Retry(
                GreenhouseUnavailable(
                    f"Could not reach the Greenhouse token endpoint ({type(exc).__name__})",
                    endpoint=label,
                )
            ) from exc
        self._log(label, response)
        if response.status_code >= 500 or response.status_code == 429:
            raise self._retryable_status(label, response)
        if response.status_code in (400, 401, 403):
            message, _ = error_text(response)
            code = _oauth_error(response)
            reason = "invalid_user" if code == "invalid_grant" else "invalid_client"
            raise GreenhouseAuthError(
                f"Greenhouse rejected the token request: {message}",
                reason=reason,
                endpoint=label,
                status_code=response.status_code,
            )
        if response.status_code != 200:
            message, _ = error_text(response)
            raise GreenhouseResponseError(
                f"Greenhouse token endpoint returned HTTP {response.status_code}: {message}",
                endpoint=label,
                status_code=response.status_code,
            )
        body = _json(response, label)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise GreenhouseResponseError(
                "The Greenhouse token response has no access_token", endpoint=label
            )
        lifetime = body.get("expires_in")
        seconds = (
            float(lifetime)
            if isinstance(lifetime, (int, float)) and lifetime > 0
            else DEFAULT_TOKEN_LIFETIME.total_seconds()
        )
        scope = body.get("scope")
        scopes = frozenset(scope.split()) if isinstance(scope, str) else frozenset()
        logger.info(
            "greenhouse token issued",
            extra={"client_id_hint": self.client_id[-4:], "expires_in": seconds},
        )
        return Token(body["access_token"], self._clock() + seconds, scopes)

    def token_scopes(self) -> frozenset[str] | None:
        """Scopes granted to the credential, from the token response's ``scope``.

        Returns None when the response listed none; the caller then learns about a missing
        scope from a 403 on the first request that needs it.
        """
        token = self.token()
        return token.scopes or None

    # Requests ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        label: str | None = None,
    ) -> httpx.Response:
        """Send one Harvest request with the bearer token; return the 2xx response or raise.

        A 401 mints a new token and repeats the request once (the request was not applied).
        Reads retry timeouts, connection errors, 5xx and 429. Writes retry only connection
        failures before sending and 429; other failures raise GreenhouseWriteOutcomeUnknown.
        """
        label = label or f"{method} {_ID_SEGMENT.sub('/{id}', url[len(self.api_url) :])}"
        write = method != "GET"
        refreshed = False

        def attempt() -> httpx.Response:
            nonlocal refreshed
            token = self.token()
            try:
                response = self._http.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    headers={
                        "Authorization": f"Bearer {token.access_token}",
                        "Accept": "application/json",
                    },
                )
            except httpx.TransportError as exc:
                raise self._transport_failure(label, exc, write=write) from exc
            self._log(label, response)
            status = response.status_code
            if status == 401:
                if refreshed:
                    raise GreenhouseAuthError(
                        f"Greenhouse rejected a new access token for {label}",
                        reason="token_rejected",
                        endpoint=label,
                        status_code=401,
                    )
                refreshed = True
                self._token = None
                raise _Retry(
                    GreenhouseAuthError(
                        f"Greenhouse rejected the access token for {label}",
                        reason="token_rejected",
                        endpoint=label,
                        status_code=401,
                    ),
                    retry_after=0.0,
                )
            if 200 <= status < 300:
                return response
            message, errors = error_text(response)
            if status == 403:
                raise GreenhousePermissionError(
                    f"Greenhouse {label} was forbidden: {message}",
                    scope=required_scope(method, label),
                    endpoint=label,
                    status_code=403,
                )
            if status == 404:
                raise GreenhouseNotFound(
                    f"Greenhouse {label}: not found ({message})", endpoint=label, status_code=404
                )
            if status == 429 or (status >= 500 and not write):
                raise self._retryable_status(label, response)
            if status >= 500:
                raise GreenhouseWriteOutcomeUnknown(
                    f"Greenhouse {label} returned HTTP {status}; the write may or may not have been applied",
                    endpoint=label,
                    status_code=status,
                )
            raise GreenhouseRequestError(
                f"Greenhouse rejected {label}: {message}",
                errors=errors,
                endpoint=label,
                status_code=status,
            )

        return self._with_retries(label, attempt)

    def next_link(self, response: httpx.Response, label: str) -> str | None:
        """Return the ``rel="next"`` URL of a list response, or None on the last page."""
        match = _LINK_NEXT.search(response.headers.get("Link") or "")
        if not match:
            return None
        url = match.group(1)
        if not url.startswith(self.api_url + "/"):
            # The token goes only to the configured API host.
            raise GreenhouseResponseError(
                f"Greenhouse {label} sent a next link outside the API URL", endpoint=label
            )
        return url

    def _retryable_status(self, label: str, response: httpx.Response) -> _Retry:
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            reset = response.headers.get("X-RateLimit-Reset")
            if retry_after is None and reset and reset.isdigit():
                retry_after = max(0.0, int(reset) - self._clock())
            return _Retry(
                GreenhouseRateLimited(
                    f"Greenhouse {label} was rate limited (429)",
                    endpoint=label,
                    status_code=429,
                    retry_after=retry_after,
                ),
                retry_after,
            )
        return _Retry(
            GreenhouseServerError(
                f"Greenhouse {label} failed with HTTP {status}", endpoint=label, status_code=status
            )
        )

    def _transport_failure(
        self, label: str, exc: httpx.TransportError, *, write: bool
    ) -> Exception:
        kind = type(exc).__name__
        if isinstance(exc, _NOT_SENT_ERRORS):
            return _Retry(
                GreenhouseUnavailable(
                    f"Could not connect to Greenhouse for {label} ({kind})", endpoint=label
                )
            )
        if write:
            return GreenhouseWriteOutcomeUnknown(
                f"Greenhouse {label} was sent but no response arrived ({kind}); the write may or may not "
                "have been applied",
                endpoint=label,
            )
        return _Retry(
            GreenhouseUnavailable(f"Greenhouse {label} did not respond ({kind})", endpoint=label)
        )

    def _with_retries(self, label: str, attempt: Callable[[], Any]) -> Any:
        retries = 0
        while True:
            try:
                return attempt()
            except _Retry as failure:
                error = failure.error
                if retries >= self.max_retries:
                    raise error from failure.__cause__
                if failure.retry_after is not None and failure.retry_after > self.backoff_cap:
                    # Blocking a worker that long is worse than failing: the caller reschedules.
                    raise error from failure.__cause__
                delay = failure.retry_after
                if delay is None:
                    delay = self._random.uniform(
                        0.0, min(self.backoff_cap, self.backoff_base * 2**retries)
                    )
                retries += 1
                logger.warning(
                    "greenhouse request failed; retrying",
                    extra={
                        "endpoint": label,
                        "error": type(error).__name__,
                        "status_code": error.status_code,
                        "retry": retries,
                        "max_retries": self.max_retries,
                        "delay_s": round(delay, 2),
                    },
                )
                self._sleep(delay)

    def _log(self, label: str, response: httpx.Response) -> None:
        logger.debug(
            "greenhouse response",
            extra={
                "endpoint": label,
                "status_code": response.status_code,
                "ratelimit_limit": response.headers.get("X-RateLimit-Limit"),
                "ratelimit_remaining": response.headers.get("X-RateLimit-Remaining"),
            },
        )

    # Reads -------------------------------------------------------------------------------

    def list(self, resource: str, **filters: Any) -> Pages:
        """Pages of ``GET /<resource>`` with the given filters (lists become comma-separated)."""
        params: dict[str, Any] = {"per_page": self.per_page}
        for name, value in filters.items():
            if value is None:
                continue
            if isinstance(value, (list, tuple, set, frozenset)):
                values = [str(v) for v in value]
                if name.endswith("ids") and len(values) > 50:
                    raise ValueError(f"{name} accepts at most 50 ids, got {len(values)}")
                value = ",".join(values)
            params[name] = value
        return Pages(self, f"/{resource}", params)

    def get(self, resource: str, record_id: str | int) -> dict:
        response = self.request(
            "GET", f"{self.api_url}/{resource}/{int(record_id)}", label=f"GET /{resource}/{{id}}"
        )
        return _object(response, f"GET /{resource}/{{id}}")

    def list_by_ids(self, resource: str, ids: list[str | int], **filters: Any) -> Iterator[dict]:
        """Records of ``resource`` with the given ids, 50 per request as Harvest allows."""
        ids = list(ids)
        for start in range(0, len(ids), 50):
            yield from self.list(resource, ids=ids[start : start + 50], **filters).records()

    # Writes ------------------------------------------------------------------------------

    def _write(self, method: str, path: str, body: dict, label: str) -> dict:
        return _object(
            self.request(method, f"{self.api_url}{path}", json_body=body, label=label), label
        )

    def candidate_create(self, body: dict) -> dict:
        return self._write("POST", "/candidates", body, "POST /candidates")

    def candidate_update(self, candidate_id: str | int, body: dict) -> dict:
        return self._write(
            "PATCH", f"/candidates/{int(candidate_id)}", body, "PATCH /candidates/{id}"
        )

    def job_update(self, job_id: str | int, body: dict) -> dict:
        return self._write("PATCH", f"/jobs/{int(job_id)}", body, "PATCH /jobs/{id}")

    def application_create(self, body: dict) -> dict:
        return self._write("POST", "/applications", body, "POST /applications")

    def application_move(self, application_id: str | int, *, to_stage_id: str | int | None) -> dict:
        body = {"to_stage_id": int(to_stage_id)} if to_stage_id is not None else {}
        return self._write(
            "POST",
            f"/applications/{int(application_id)}/move",
            body,
            "POST /applications/{id}/move",
        )

    def attachment_create(
        self, *, application_id: str | int, filename: str, attachment_type: str, content: bytes
    ) -> dict:
        body = {
            "application_id": int(application_id),
            "filename": filename,
            "type": attachment_type,
            "content": base64.b64encode(content).decode(),
        }
        return self._write("POST", "/attachments", body, "POST /attachments")

    # Files -------------------------------------------------------------------------------

    def download(self, url: str, *, max_bytes: int) -> bytes:
        """Download an attachment from its signed URL, without credentials; retried like a read."""
        label = "file download"
        parsed = httpx.URL(url)
        if not (
            parsed.scheme == "https" or (parsed.scheme == "http" and parsed.host in LOOPBACK_HOSTS)
        ):
            raise GreenhouseFileError(
                "Refusing an attachment URL that is not https", endpoint=label
            )

        def attempt() -> bytes:
            try:
                with self._http.stream("GET", url) as response:
                    if response.status_code in (403, 404, 410):
                        raise GreenhouseFileError(
                            f"The attachment URL was rejected ({response.status_code}); it may have expired",
                            endpoint=label,
                            status_code=response.status_code,
                        )
                    if response.status_code == 429 or response.status_code >= 500:
                        response.read()
                        raise self._retryable_status(label, response)
                    if response.status_code != 200:
                        raise GreenhouseFileError(
                            f"Attachment download returned HTTP {response.status_code}",
                            endpoint=label,
                            status_code=response.status_code,
                        )
                    chunks, received = [], 0
                    for chunk in response.iter_bytes():
                        received += len(chunk)
                        if received > max_bytes:
                            raise GreenhouseFileError(
                                f"The attachment exceeds {max_bytes} bytes", endpoint=label
                            )
                        chunks.append(chunk)
                    return b"".join(chunks)
            except httpx.TransportError as exc:
                raise self._transport_failure(label, exc, write=False) from exc

        return self._with_retries(label, attempt)


# NOTE: Harvest v3 scope names per endpoint are inferred from the documented pattern
# harvest:<resource>:<action> and the few documented examples (harvest:candidates:list,
# harvest:applications:move). The write actions (create, update) are a guess; this table
# is the one place to correct them against the live reference.
READ_SCOPES = {
    resource: f"harvest:{resource}:list"
    for resource in (
        "jobs",
        "job_posts",
        "job_interview_stages",
        "applications",
        "candidates",
        "attachments",
        "sources",
        "rejection_reasons",
        "departments",
        "offices",
        "users",
    )
}
WRITE_SCOPES = {
    "POST /candidates": "harvest:candidates:create",
    "PATCH /candidates/{id}": "harvest:candidates:update",
    "PATCH /jobs/{id}": "harvest:jobs:update",
    "POST /applications": "harvest:applications:create",
    "POST /applications/{id}/move": "harvest:applications:move",
    "POST /attachments": "harvest:attachments:create",
}


def required_scope(method: str, label: str) -> str | None:
    """Return the scope a request needs, from the tables above, or None when unknown."""
    if method == "GET":
        resource = label.split(" /", 1)[-1].split("/", 1)[0]
        return READ_SCOPES.get(resource)
    return WRITE_SCOPES.get(label)


def _oauth_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _json(response: httpx.Response, label: str) -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        raise GreenhouseResponseError(
            f"Greenhouse {label} returned invalid JSON",
            endpoint=label,
            status_code=response.status_code,
        ) from None


def _object(response: httpx.Response, label: str) -> dict:
    body = _json(response, label)
    if not isinstance(body, dict):
        raise GreenhouseResponseError(
            f"Greenhouse {label} returned something other than an object", endpoint=label
        )
    return body


def _response_date(response: httpx.Response) -> datetime | None:
    try:
        moment = parsedate_to_datetime(response.headers.get("Date") or "")
    except (TypeError, ValueError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
