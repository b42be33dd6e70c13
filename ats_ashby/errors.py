"""Typed errors raised by the Ashby API client.

Every error derives from ``AshbyError``. The message (``str(error)``) is built by the client
from the endpoint name, the HTTP status and Ashby's own error text, with the API key removed,
so it is safe to log and to show to an organization owner.
"""

from __future__ import annotations


class AshbyError(Exception):
    """Base class for every failure of a call to Ashby.

    Attributes:
        endpoint: Ashby endpoint name such as ``candidate.list``, or None for calls that are
            not Ashby endpoints (presigned file URLs).
        status_code: HTTP status of the response, or None when no response arrived.
        code: ``errorInfo.code`` (or the first error code) from Ashby's error body, or None.
        request_id: ``errorInfo.requestId`` to quote to Ashby support, or None.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status_code = status_code
        self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message


class AshbyAuthError(AshbyError):
    """Ashby rejected the API key (HTTP 401 or 403).

    ``reason`` is ``"missing"`` (Ashby saw no key), ``"invalid"`` (unknown or wrong key) or
    ``"deactivated"`` (the key was revoked). Ashby documents 401 for a missing key and 403 for
    a wrong or deactivated one, and the client tells the last two apart from the error text,
    so ``"invalid"`` is the fallback when the text names neither. Never retried.
    """

    REASONS = ("invalid", "deactivated", "missing")

    def __init__(self, message: str, *, reason: str, **kwargs) -> None:
        super().__init__(message, **kwargs)
        if reason not in self.REASONS:
            raise ValueError(
                f"Invalid AshbyAuthError reason {reason!r}; expected one of {self.REASONS}"
            )
        self.reason = reason


class AshbyPermissionError(AshbyError):
    """The key is valid but lacks the module permission for an endpoint.

    Ashby returns the code ``missing_endpoint_permission``. ``endpoint`` is the endpoint named
    in Ashby's message, or the endpoint that was called when the message names none.
    ``permission`` is the permission named in the message (for example ``candidatesWrite``),
    or None. Never retried.
    """

    def __init__(self, message: str, *, permission: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.permission = permission


class AshbyRateLimited(AshbyError):
    """Ashby returned HTTP 429 and the client stopped retrying.

    ``retry_after`` is the wait in seconds that Ashby asked for, or None when it sent no
    ``Retry-After``. ``partner_scope`` is True when the limit applies to Lavalier's combined
    traffic as an integration partner (header ``X-RateLimit-Scope: integration-partner``)
    rather than to this organization's key.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        partner_scope: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        self.partner_scope = partner_scope


class AshbyServerError(AshbyError):
    """Ashby returned HTTP 5xx on every attempt."""


class AshbyUnavailable(AshbyError):
    """Ashby could not be reached: timeouts or connection errors on every attempt."""


class AshbySyncTokenExpired(AshbyError):
    """Ashby rejected the syncToken (``sync_token_expired`` or ``sync_token_invalid``).

    The caller drops the stored token and starts a full sync.
    """


class AshbyCursorExpired(AshbyError):
    """Ashby rejected the page cursor (``next_cursor_expired`` or ``invalid_next_cursor``).

    The caller restarts the pass from the first page, with the same syncToken or with none.
    """


class AshbyRequestError(AshbyError):
    """Ashby returned ``success: false`` with a business error, such as ``invalid_input``.

    ``errors`` is Ashby's ``errors`` list normalised to dicts with the keys ``message`` and
    ``parameter`` (``parameter`` is None when Ashby named none). Never retried.
    """

    def __init__(self, message: str, *, errors: list[dict] | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.errors = errors or []


class AshbyResponseError(AshbyError):
    """Ashby's response could not be used: invalid JSON or a missing ``success`` or ``results``."""


class AshbyFileTooLarge(AshbyError):
    """A downloaded file exceeded the byte limit the caller set; the download was stopped."""

    def __init__(self, message: str, *, max_bytes: int, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.max_bytes = max_bytes


class AshbyWriteOutcomeUnknown(AshbyError):
    """A write may or may not have been applied by Ashby.

    Raised when a write request was sent but no usable response came back: a timeout after
    the request was sent, a dropped connection or an HTTP 5xx. The client does not retry it,
    because a second request could create a duplicate. The caller reconciles (looks the
    object up) before trying again. ``endpoint`` names the write.
    """
