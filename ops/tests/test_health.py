"""/healthz, /readyz and /healthz/worker, and the heartbeat task behind the last one."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ops import views
from ops.broker import BrokerUnavailable
from ops.models import WorkerHeartbeat
from ops.tasks import record_heartbeat


def test_healthz_answers_ok_without_database(client):
    # No django_db mark: any database query here raises instead of passing.
    response = client.get(reverse("ops:healthz"))

    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_readyz_ok(client):
    response = client.get(reverse("ops:readyz"))

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok"},
        "failed": [],
    }


@pytest.mark.django_db
def test_readyz_broker_failure_is_503(client, monkeypatch, caplog):
    def unavailable(*, timeout):
        raise BrokerUnavailable("Redis did not answer PING: ConnectionError")

    monkeypatch.setattr(views, "broker_ping", unavailable)

    response = client.get(reverse("ops:readyz"))

    assert response.status_code == 503
    assert response.json()["failed"] == ["broker"]
    assert response.json()["checks"]["database"] == "ok"
    assert any(r.getMessage() == "readiness check failed: broker" for r in caplog.records)


@pytest.mark.django_db
def test_readyz_database_failure_is_503(client, monkeypatch):
    from django.db import OperationalError

    class BrokenCursor:
        def __enter__(self):
            raise OperationalError("connection refused")

        def __exit__(self, *args):
            return False

    monkeypatch.setattr(views.connection, "cursor", lambda: BrokenCursor())

    response = client.get(reverse("ops:readyz"))

    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert "refused" not in response.content.decode()


@pytest.mark.django_db
def test_worker_health_missing_heartbeat_is_503(client):
    response = client.get(reverse("ops:healthz_worker"))

    assert response.status_code == 503
    assert response.json() == {"status": "missing", "age_seconds": None}


@pytest.mark.django_db
def test_worker_health_after_heartbeat_task(client):
    record_heartbeat.delay()

    response = client.get(reverse("ops:healthz_worker"))

    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert WorkerHeartbeat.objects.count() == 1


@pytest.mark.django_db
def test_worker_health_stale_heartbeat_is_503(client, settings):
    settings.WORKER_HEARTBEAT_MAX_AGE_MINUTES = 3
    WorkerHeartbeat.objects.create(name="celery", beat_at=timezone.now() - timedelta(minutes=4))

    response = client.get(reverse("ops:healthz_worker"))

    assert response.status_code == 503
    assert response.json()["status"] == "stale"
    assert response.json()["age_seconds"] >= 240


def test_beat_schedules_heartbeat_every_minute(settings):
    entries = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "ops.record_heartbeat"
    ]

    assert entries == [{"task": "ops.record_heartbeat", "schedule": 60.0}]


@pytest.mark.django_db
def test_health_responses_reveal_no_configuration(client, settings):
    bodies = [
        client.get(reverse(name)).content.decode()
        for name in ("ops:healthz", "ops:readyz", "ops:healthz_worker")
    ]

    for body in bodies:
        assert settings.CELERY_BROKER_URL not in body
        assert settings.DATABASES["default"]["NAME"] not in body
        assert "127.0.0.1" not in body
    assert set(json.loads(bodies[1])) == {"status", "checks", "failed"}
