"""Login rate limiting: failed sign-ins counted per username and per client address.

Counters live in Django's default cache, so every web process shares them when the cache
is Redis or a file cache. Each counter starts its window at the first failure and expires
after LOGIN_RATE_LIMIT_WINDOW_SECONDS. A successful sign-in clears the username's counter,
not the address's. When the cache fails, sign-in stays open and the error is logged.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver

logger = logging.getLogger(__name__)

KEY_PREFIX = "login-failures"


def _digest(value: str) -> str:
    # Usernames are personal data, so keys and log lines carry a hash of them.
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _keys(*, username: str, address: str) -> dict[str, str]:
    keys = {"address": f"{KEY_PREFIX}:address:{_digest(address or 'unknown')}"}
    if username:
        keys["username"] = f"{KEY_PREFIX}:username:{_digest(username.strip().lower())}"
    return keys


def _limits() -> dict[str, int]:
    return {
        "username": settings.LOGIN_RATE_LIMIT_USERNAME_FAILURES,
        "address": settings.LOGIN_RATE_LIMIT_ADDRESS_FAILURES,
    }


def client_address(request) -> str:
    """Return the address the request came from, as the server saw it.

    X-Forwarded-For is ignored because clients can forge it; behind a proxy, have the
    proxy or gunicorn (--forwarded-allow-ips) set REMOTE_ADDR.
    """
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def login_blocked_scope(*, username: str, address: str) -> str | None:
    """Return "username" or "address" when that counter reached its limit, else None."""
    keys = _keys(username=username, address=address)
    limits = _limits()
    try:
        counts = cache.get_many(list(keys.values()))
    except Exception as exc:  # any cache backend error: fail open, but say so
        logger.warning("login rate limit unavailable", extra={"error": type(exc).__name__})
        return None
    for scope, key in keys.items():
        if counts.get(key, 0) >= limits[scope]:
            return scope
    return None


def login_failure_record(*, username: str, address: str) -> None:
    """Count one failed sign-in for the username and the address."""
    window = settings.LOGIN_RATE_LIMIT_WINDOW_SECONDS
    for scope, key in _keys(username=username, address=address).items():
        try:
            if not cache.add(key, 1, timeout=window):
                cache.incr(key)
        except ValueError:
            # The key expired between add() and incr(); start a new window.
            cache.add(key, 1, timeout=window)
        except Exception as exc:  # any cache backend error
            logger.warning(
                "login failure not counted", extra={"scope": scope, "error": type(exc).__name__}
            )


def login_failures_clear(*, username: str) -> None:
    keys = _keys(username=username, address="")
    try:
        if "username" in keys:
            cache.delete(keys["username"])
    except Exception as exc:  # any cache backend error
        logger.warning("login failures not cleared", extra={"error": type(exc).__name__})


@receiver(user_login_failed, dispatch_uid="ops.ratelimit.count_failure")
def _count_failure(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", "") or "")
    login_failure_record(username=username, address=client_address(request))
    logger.info(
        "sign-in failed",
        extra={"username_hash": _digest(username.strip().lower())[:12] if username else ""},
    )


@receiver(user_logged_in, dispatch_uid="ops.ratelimit.clear_failures")
def _clear_failures(sender, request, user, **kwargs):
    login_failures_clear(username=user.get_username())
