"""Reads from the Celery broker: queue depth for the ops page and a ping for /readyz.

Only the two brokers Lavalier runs with are read directly: Redis (kombu keeps each queue
as a list under the queue's name) and kombu's filesystem transport (one file per waiting
message). Anything else raises BrokerUnavailable for the depth.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

DEFAULT_QUEUE = "celery"
# kombu's Redis transport stores priorities other than 0 under "<queue>\x06\x16<priority>".
REDIS_PRIORITY_SEPARATOR = "\x06\x16"
REDIS_PRIORITY_STEPS = (3, 6, 9)


class BrokerUnavailable(Exception):
    """The broker could not be read; the message names the broker kind, never its URL."""


def _broker_url() -> str:
    return settings.CELERY_BROKER_URL


def _redis_client(timeout: float):
    import redis

    return redis.Redis.from_url(
        _broker_url(), socket_connect_timeout=timeout, socket_timeout=timeout
    )


def _filesystem_queue_folder() -> Path:
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    folder = options.get("data_folder_in")
    if not folder:
        raise BrokerUnavailable("the filesystem broker has no data_folder_in option")
    return Path(folder)


def broker_kind() -> str:
    return _broker_url().split("://", 1)[0]


def broker_queue_depth(queue: str = DEFAULT_QUEUE, *, timeout: float = 1.0) -> int:
    """Return how many messages wait in `queue`. Raises BrokerUnavailable."""
    kind = broker_kind()
    if kind in ("redis", "rediss"):
        import redis

        keys = [queue]
        keys += [f"{queue}{REDIS_PRIORITY_SEPARATOR}{step}" for step in REDIS_PRIORITY_STEPS]
        client = _redis_client(timeout)
        try:
            pipeline = client.pipeline(transaction=False)
            for key in keys:
                pipeline.llen(key)
            return sum(pipeline.execute())
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"Redis did not respond to LLEN: {type(exc).__name__}") from exc
        finally:
            client.close()
    if kind == "filesystem":
        suffix = f".{queue}.msg"
        try:
            entries = _filesystem_queue_folder().iterdir()
            return sum(1 for entry in entries if entry.name.endswith(suffix))
        except OSError as exc:
            raise BrokerUnavailable(
                f"the queue folder could not be listed: {exc.strerror}"
            ) from exc
    raise BrokerUnavailable(f"queue depth is not implemented for the {kind}:// broker")


def broker_ping(*, timeout: float = 1.0) -> None:
    """Check that the broker accepts connections within `timeout` seconds.

    Raises BrokerUnavailable.
    """
    kind = broker_kind()
    if kind in ("redis", "rediss"):
        import redis

        client = _redis_client(timeout)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise BrokerUnavailable(f"Redis did not respond to PING: {type(exc).__name__}") from exc
        finally:
            client.close()
        return
    if kind == "filesystem":
        folder = _filesystem_queue_folder()
        if not folder.is_dir():
            raise BrokerUnavailable("the filesystem broker's queue folder does not exist")
        return
    from kombu import Connection

    try:
        with Connection(_broker_url(), connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # kombu raises transport-specific errors
        raise BrokerUnavailable(
            f"the broker did not accept a connection: {type(exc).__name__}"
        ) from exc
