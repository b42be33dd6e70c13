"""Settings → Integrations pages: who may do what, and what each state shows."""

import pytest
from django.urls import reverse

from accounts.models import AuditEvent
from integrations.models import Integration, SyncRun
from integrations.services import integration_sync_run

pytestmark = pytest.mark.django_db

INDEX = reverse("integrations:index")
CONNECT = reverse("integrations:connect", args=["ashby"])


def test_index_shows_connect_to_owner(owner_client):
    response = owner_client.get(INDEX)

    assert response.status_code == 200
    assert b"Not connected" in response.content
    assert CONNECT.encode() in response.content


def test_recruiter_sees_state_read_only(recruiter_client):
    response = recruiter_client.get(INDEX)

    assert response.status_code == 200
    assert CONNECT.encode() not in response.content
    assert b"Only Owners can connect" in response.content


@pytest.mark.parametrize("name", ["connect", "update_key", "sync_now", "disconnect"])
def test_recruiter_cannot_post_actions(recruiter_client, name):
    response = recruiter_client.post(
        reverse(f"integrations:{name}", args=["ashby"]), {"credential": "sandbox_full"}
    )

    assert response.status_code == 403
    assert not Integration.objects.exists()


def test_connect_failure_shows_message(sandbox, owner_client):
    response = owner_client.post(CONNECT, {"credential": "wrong-key"})

    assert response.status_code == 400
    assert "Unable to connect: the API key is not valid." in response.content.decode()
    assert b"wrong-key" not in response.content
    assert not Integration.objects.exists()


def test_connect_then_syncing_card(sandbox, owner_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = owner_client.post(CONNECT, {"credential": "  sandbox_full\n"}, follow=True)

    html = response.content.decode()
    assert "Syncing. This might take several minutes…" in html
    assert 'data-poll-url="/settings/integrations/ashby/card/"' in html
    assert "sandbox_full" not in html
    assert "…full" in html


def test_connected_card_after_sync(sandbox, owner_client, organization, owner, connect_ashby):
    connect_ashby()

    html = owner_client.get(reverse("integrations:card", args=["ashby"])).content.decode()

    assert "Connected — Last synced <time" in html
    # A connected card polls slowly, so a sync queued later (Sync now) still shows up.
    assert 'data-poll-seconds="15"' in html
    assert "Sync history" in html


def test_error_card_after_key_rejected(sandbox, owner_client, connect_ashby):
    from ats_ashby.tests.conftest import sandbox_control

    integration = connect_ashby()
    sandbox_control(sandbox, "POST", "/_sandbox/keys", {"sandbox_full": {"deactivated": True}})
    integration_sync_run(integration.pk, trigger="schedule")

    html = owner_client.get(INDEX).content.decode()
    assert "Unable to connect: the API key was rejected by Ashby. Update the key." in html
    assert "Update key" in html


def test_sync_now_and_disconnect(
    sandbox, owner_client, connect_ashby, django_capture_on_commit_callbacks
):
    connect_ashby()

    with django_capture_on_commit_callbacks() as callbacks:
        owner_client.post(reverse("integrations:sync_now", args=["ashby"]))
    assert len(callbacks) == 1

    response = owner_client.post(reverse("integrations:disconnect", args=["ashby"]), follow=True)
    assert "Disconnected from Ashby" in response.content.decode()
    assert not Integration.objects.filter(is_active=True).exists()
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert {"integration.connect", "integration.sync_now", "integration.disconnect"} <= set(actions)


def test_other_organization_sees_nothing(sandbox, connect_ashby, client, other_owner):
    connect_ashby()
    client.force_login(other_owner)

    html = client.get(INDEX).content.decode()

    assert "Not connected" in html
    assert client.post(reverse("integrations:disconnect", args=["ashby"])).status_code == 404


def test_unknown_provider_404(owner_client):
    assert owner_client.get(reverse("integrations:card", args=["nope"])).status_code == 404


def test_card_shows_progress_while_running(sandbox, owner_client, connect_ashby):
    integration = connect_ashby(sync=False)
    SyncRun.objects.create(
        organization_id=integration.organization_id,
        integration=integration,
        trigger="connect",
        progress={"entity": "candidates", "records": 1200},
    )

    html = owner_client.get(reverse("integrations:card", args=["ashby"])).content.decode()

    assert "Syncing candidates: 1,200 so far" in html


def test_owner_sets_default_source(sandbox, owner_client, connect_ashby):
    integration = connect_ashby()
    source = next(s for s in integration.options["sources"] if s["title"] == "Lavalier")

    html = owner_client.get(INDEX).content.decode()
    assert "Platform: Lavalier" in html

    response = owner_client.post(
        reverse("integrations:settings", args=["ashby"]), {"default_source_id": source["id"]}
    )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.options["default_source_id"] == source["id"]

    owner_client.post(
        reverse("integrations:settings", args=["ashby"]), {"default_source_id": "not-a-source"}
    )
    integration.refresh_from_db()
    assert integration.options["default_source_id"] == source["id"]
