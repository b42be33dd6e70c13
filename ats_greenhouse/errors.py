"""Typed errors raised by the Greenhouse Harvest v3 client.

Every error derives from ``GreenhouseError``. Messages name the request (such as
``GET /candidates``) and Greenhouse's own error text, never a secret or a token, so they
are safe to log.
"""

from __future__ import annotations


class GreenhouseError(Exception):
    """Base class of every failed call to Greenhouse.

    Attributes:
        endpoint: the request as ``METHOD /resource`` (ids replaced by ``{id}``), ``POST /token``
            for the token endpoint, or ``file download``.
        status_code: HTTP status of the response, or None when none arrived.
    """

    def __init__(
        self, message: str, *, endpoint: str | None = None, status_code: int | None = None
    ):
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.status_code = status_code

    def __str__(self) -> str:
        return self.message


class GreenhouseAuthError(GreenhouseError):
    """The credential or its token was rejected. Never retried.

    ``reason`` is ``"invalid_client"`` (unknown client id or wrong secret),
    ``"invalid_user"`` (the user id given as ``sub`` is unknown or deactivated) or
    ``"token_rejected"`` (Harvest returned 401 even for a freshly issued token).
    """

    REASONS = ("invalid_client", "invalid_user", "token_rejected")

    def __init__(self, message: str, *, reason: str, **kwargs):
        super().__init__(message, **kwargs)
        if reason not in self.REASONS:
            raise ValueError(
                f"Invalid GreenhouseAuthError reason {reason!r}; expected one of {self.REASONS}"
            )
        self.reason = reason


class GreenhousePermissionError(GreenhouseError):
    """HTTP 403: the credential lacks a scope, or the user may not see the record.

    ``scope`` is the scope the client knows the request needs, or None. Never retried.
    """

    def __init__(self, message: str, *, scope: str | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.scope = scope


class GreenhouseNotFound(GreenhouseError):
    """HTTP 404: the record does not exist (deleted, merged, or a wrong id)."""


class GreenhouseRequestError(GreenhouseError):
    """HTTP 400 or 422: Greenhouse rejected the request's content. Never retried.

    ``errors`` lists ``{"message", "field"}`` dicts from the body, possibly empty.
    """

    def __init__(self, message: str, *, errors: list[dict] | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.errors = errors or []


class GreenhouseRateLimited(GreenhouseError):
    """HTTP 429 after the retries, or with a wait longer than the client may block.

    ``retry_after`` is the wait in seconds Greenhouse asked for, or None.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class GreenhouseServerError(GreenhouseError):
    """HTTP 5xx on every attempt of a read."""


class GreenhouseUnavailable(GreenhouseError):
    """Greenhouse could not be reached: connection errors or timeouts on every attempt."""


class GreenhouseResponseError(GreenhouseError):
    """The response could not be used: invalid JSON, a wrong shape or a foreign next link."""


class GreenhouseFileError(GreenhouseError):
    """An attachment could not be downloaded: its URL expired, or the file is too large."""


class GreenhouseWriteOutcomeUnknown(GreenhouseError):
    """A write was sent but no usable response came back (timeout, dropped connection, 5xx).

    The client does not repeat it, because a second request could create a duplicate.
    The caller looks the record up before trying again.
    """
