"""The staff ops page: who may see it, what each row shows, its order and query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.models import Integration, OutboxEvent, SyncRun
from ops import selectors
from ops.broker import BrokerUnavailable
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def make_integration(*, slug, state=Integration.State.CONNECTED, synced_ago=None, failures=0):
    organization = OrganizationFactory(slug=slug, name=slug.title())
    now = timezone.now()
    integration = Integration.objects.create(
        organization=organization,
        provider="ashby",
        state=state,
        last_synced_at=now - synced_ago if synced_ago is not None else None,
    )
    for _ in range(failures):
        SyncRun.objects.create(
            organization=organization,
            integration=integration,
            trigger=SyncRun.Trigger.SCHEDULE,
            outcome=SyncRun.Outcome.FAILURE,
            error_message=f"{slug} run failed",
        )
    return integration


def test_dashboard_anonymous_redirects_to_login(client):
    response = client.get(reverse("ops:dashboard"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_dashboard_member_gets_404(client, owner):
    client.force_login(owner)

    assert client.get(reverse("ops:dashboard")).status_code == 404


def test_dashboard_sorts_error_then_failures_then_lag(staff_client):
    lagging = make_integration(slug="lagging", synced_ago=timedelta(hours=5))
    fresh = make_integration(slug="fresh", synced_ago=timedelta(minutes=1))
    failing = make_integration(slug="failing", synced_ago=timedelta(minutes=2), failures=2)
    broken = make_integration(
        slug="broken", state=Integration.State.ERROR, synced_ago=timedelta(minutes=1)
    )

    rows = selectors.ops_integration_rows()
    response = staff_client.get(reverse("ops:dashboard"))

    assert [row.integration.pk for row in rows] == [broken.pk, failing.pk, lagging.pk, fresh.pk]
    assert response.status_code == 200
    html = response.content.decode()
    positions = [
        html.index(f'data-integration-id="{i.pk}"') for i in (broken, failing, lagging, fresh)
    ]
    assert positions == sorted(positions)


def test_dashboard_row_figures(staff_client):
    integration = make_integration(slug="figures", synced_ago=timedelta(hours=2), failures=1)
    SyncRun.objects.create(
        organization=integration.organization,
        integration=integration,
        trigger=SyncRun.Trigger.SCHEDULE,
        outcome=SyncRun.Outcome.SUCCESS,
    )
    old_run = SyncRun.objects.create(
        organization=integration.organization,
        integration=integration,
        trigger=SyncRun.Trigger.SCHEDULE,
        outcome=SyncRun.Outcome.FAILURE,
    )
    SyncRun.objects.filter(pk=old_run.pk).update(started_at=timezone.now() - timedelta(days=2))
    for state, count in (
        (OutboxEvent.State.PENDING, 3),
        (OutboxEvent.State.FAILED, 2),
        (OutboxEvent.State.DELIVERED, 4),
    ):
        for _ in range(count):
            OutboxEvent.objects.create(
                organization=integration.organization,
                integration=integration,
                kind="candidate.update",
                record_type="candidate",
                record_id=1,
                state=state,
            )

    (row,) = selectors.ops_integration_rows()

    assert row.runs_24h == 2
    assert row.failures_24h == 1
    assert row.outbox_waiting == 3
    assert row.outbox_failed == 2
    assert row.last_error == "figures run failed"
    assert row.lag_text == "2 h 0 min"
    assert "figures run failed" in staff_client.get(reverse("ops:dashboard")).content.decode()


def test_dashboard_query_count_is_constant(staff_client):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(reverse("ops:dashboard"))
        assert response.status_code == 200
        return len(queries)

    make_integration(slug="first", failures=1)
    with_one = count_queries()
    for number in range(12):
        integration = make_integration(slug=f"more-{number}", failures=2)
        OutboxEvent.objects.create(
            organization=integration.organization,
            integration=integration,
            kind="candidate.update",
            record_type="candidate",
            record_id=number,
        )
    with_thirteen = count_queries()

    assert with_thirteen == with_one


def test_dashboard_shows_unknown_queue_depth_and_logs(staff_client, monkeypatch, caplog):
    def unavailable(*args, **kwargs):
        raise BrokerUnavailable("Redis did not answer LLEN: ConnectionError")

    monkeypatch.setattr(selectors, "broker_queue_depth", unavailable)

    response = staff_client.get(reverse("ops:dashboard"))

    assert response.status_code == 200
    assert "unknown" in response.content.decode()
    assert any(r.getMessage() == "celery queue depth unavailable" for r in caplog.records)


def test_dashboard_reads_queue_depth(staff_client, monkeypatch):
    monkeypatch.setattr(selectors, "broker_queue_depth", lambda *args, **kwargs: 17)

    response = staff_client.get(reverse("ops:dashboard"))

    assert "17 waiting" in response.content.decode()


def test_dashboard_escapes_error_text(staff_client):
    integration = make_integration(slug="hostile", state=Integration.State.ERROR)
    Integration.objects.filter(pk=integration.pk).update(error_message="<script>alert(1)</script>")

    html = staff_client.get(reverse("ops:dashboard")).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_dashboard_leaves_out_inactive_integrations(staff_client):
    integration = make_integration(slug="gone")
    Integration.objects.filter(pk=integration.pk).update(is_active=False)
    MembershipFactory(organization=integration.organization)

    assert selectors.ops_integration_rows() == []
    assert selectors.organizations_without_integration_count() == 1
