"""Smoke tests for the process fixtures: PostgreSQL, a real Celery worker, Redis, Chromium."""

from __future__ import annotations

import os
import time

import pytest
from celery import shared_task
from django.contrib.auth.models import Group
from django.db import connection

from lavalier.celery import app as celery_app
from tests.fixtures.processes import CeleryWorkerProcess, RedisTestServer

# The worker imports this module (--include) to register the task below.
WORKER_WITH_SMOKE_TASK = {"include": ["tests.test_processes_smoke"]}
ROW_WAIT_SECONDS = 30


@shared_task(name="tests.smoke.create_group")
def create_group(name: str) -> None:
    """Create an auth Group; the test reads it back from its own database connection."""
    Group.objects.create(name=name)


def _wait_for_group(name: str) -> bool:
    deadline = time.monotonic() + ROW_WAIT_SECONDS
    while time.monotonic() < deadline:
        if Group.objects.filter(name=name).exists():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db
def test_database_is_postgresql_under_make_test():
    if "LAVALIER_TEST_RUN_ID" not in os.environ:
        pytest.skip("only `make test` guarantees PostgreSQL")
    assert connection.vendor == "postgresql"
    assert connection.settings_dict["NAME"].startswith("test_")


@pytest.mark.slow
@pytest.mark.parametrize("celery_worker_process", [WORKER_WITH_SMOKE_TASK], indirect=True)
def test_worker_writes_row_visible_to_test(celery_worker_process: CeleryWorkerProcess):
    replies = celery_app.control.ping(destination=[celery_worker_process.nodename], timeout=5)
    assert replies == [{celery_worker_process.nodename: {"ok": "pong"}}]

    create_group.delay("written-by-worker")

    assert _wait_for_group("written-by-worker"), celery_worker_process.log_text()
    assert "tests.smoke.create_group" in celery_worker_process.log_text()


@pytest.mark.slow
@pytest.mark.parametrize("celery_worker_process", [WORKER_WITH_SMOKE_TASK], indirect=True)
def test_worker_restart_keeps_consuming(celery_worker_process: CeleryWorkerProcess):
    first_pid = celery_worker_process.pid
    celery_worker_process.restart()

    assert celery_worker_process.pid != first_pid
    create_group.delay("after-restart")
    assert _wait_for_group("after-restart"), celery_worker_process.log_text()


@pytest.mark.slow
@pytest.mark.parametrize("celery_worker_process", [WORKER_WITH_SMOKE_TASK], indirect=True)
def test_worker_reconnects_after_redis_restart(
    celery_worker_process: CeleryWorkerProcess, redis_server: RedisTestServer
):
    redis_server.restart(down_seconds=1.0, crash=True)

    assert redis_server.ping()
    create_group.delay("after-redis-restart")
    assert _wait_for_group("after-redis-restart"), celery_worker_process.log_text()


@pytest.mark.browser
def test_browser_reads_admin_login_title(live_server, page):
    page.goto(f"{live_server.url}/admin/login/")

    assert "Log in" in page.title()
