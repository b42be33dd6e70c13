"""Queue depth and ping against the broker the tests run with (Redis under `make test`)."""

import pytest

from ops import broker
from ops.broker import BrokerUnavailable, broker_ping, broker_queue_depth


def test_queue_depth_counts_waiting_messages(settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs the Redis broker that `make test` starts")
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = "ops-test-queue"
    client.delete(queue)
    client.rpush(queue, "a", "b", "c")
    try:
        assert broker_queue_depth(queue) == 3
    finally:
        client.delete(queue)


def test_queue_depth_filesystem_counts_queue_files(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    for number in range(4):
        (tmp_path / f"{number}_abc.celery.msg").write_bytes(b"{}")
    (tmp_path / "9_abc.other.msg").write_bytes(b"{}")

    assert broker_queue_depth() == 4
    broker_ping()


def test_queue_depth_unreachable_redis_raises(settings):
    from tests.fixtures.processes import find_free_port

    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{find_free_port()}/0"

    with pytest.raises(BrokerUnavailable):
        broker_queue_depth(timeout=0.5)
    with pytest.raises(BrokerUnavailable):
        broker_ping(timeout=0.5)


def test_queue_depth_unknown_broker_raises(settings):
    settings.CELERY_BROKER_URL = "amqp://127.0.0.1:1//"

    with pytest.raises(BrokerUnavailable, match="not implemented"):
        broker.broker_queue_depth()
