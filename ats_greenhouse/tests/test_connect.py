"""Connecting Greenhouse: the dialog's fields, credential checks and the one-ATS rule."""

import json

import pytest
from django.urls import reverse

from ats_greenhouse.tests.conftest import credential, sandbox_control
from integrations.models import Integration
from integrations.providers import ConnectError, get_provider
from integrations.services import integration_connect, integration_disconnect

pytestmark = pytest.mark.django_db

ONE_ATS = "Another ATS integration is currently active. Disconnect it first to connect {}."


def connect(organization, owner, **overrides):
    return integration_connect(
        organization=organization,
        actor=owner,
        provider_slug="greenhouse",
        credential=credential(**overrides),
    )


def test_fields_serialized_as_json():
    provider = get_provider("greenhouse")

    value = provider.credential_from_fields(
        {"client_id": " abc123 ", "client_secret": "s3cret\n", "user_id": "1001"}
    )

    assert json.loads(value) == {
        "client_id": "abc123",
        "client_secret": "s3cret",
        "user_id": "1001",
    }
    assert provider.credential_hint(value) == "c123"
    assert [f.name for f in provider.credential_fields] == ["client_id", "client_secret", "user_id"]


def test_fields_empty_or_non_numeric_user_rejected():
    provider = get_provider("greenhouse")

    with pytest.raises(ConnectError, match="enter the Client secret"):
        provider.credential_from_fields({"client_id": "a", "client_secret": " ", "user_id": "1"})
    with pytest.raises(ConnectError, match="User ID must be the number"):
        provider.credential_from_fields({"client_id": "a", "client_secret": "b", "user_id": "jane"})


def test_connect_stores_encrypted_credential(sandbox, organization, owner):
    integration = connect(organization, owner)

    assert integration.provider == "greenhouse"
    assert integration.credential_last4 == "full"
    assert "sandbox_secret" not in integration.encrypted_credential
    assert integration.credential_title == "Acting as Sandra Admin (user 1001)"


def test_wrong_secret(sandbox, organization, owner):
    with pytest.raises(ConnectError) as caught:
        connect(organization, owner, client_secret="wrong")

    assert caught.value.message.startswith(
        "Unable to connect: Greenhouse rejected the client id or client secret."
    )
    assert not Integration.objects.exists()


def test_unknown_client(sandbox, organization, owner):
    with pytest.raises(ConnectError, match="rejected the client id or client secret"):
        connect(organization, owner, client_id="nobody")


def test_unknown_user(sandbox, organization, owner):
    with pytest.raises(ConnectError, match="no active user with the id 999"):
        connect(organization, owner, user_id="999")


def test_missing_scopes_named(sandbox, organization, owner):
    with pytest.raises(ConnectError) as caught:
        connect(organization, owner, client_id="sandbox_no_candidates")

    message = caught.value.message
    assert "missing the scopes harvest:candidates:list, harvest:attachments:list." in message
    assert "Manage Scopes" in message


def test_read_only_credential_names_write_scopes(sandbox, organization, owner):
    with pytest.raises(ConnectError) as caught:
        connect(organization, owner, client_id="sandbox_read_only")

    for scope in (
        "harvest:candidates:update",
        "harvest:jobs:update",
        "harvest:applications:move",
        "harvest:attachments:create",
    ):
        assert scope in caught.value.message


def test_unreachable(settings, organization, owner):
    settings.GREENHOUSE_AUTH_URL = "http://127.0.0.1:9"
    settings.GREENHOUSE_API_URL = "http://127.0.0.1:9/v3"

    with pytest.raises(ConnectError) as caught:
        connect(organization, owner)

    assert caught.value.message == (
        "Unable to connect: Greenhouse could not be reached. Check your connection and try again in a few minutes."
    )


def test_token_endpoint_failing(sandbox, organization, owner):
    sandbox_control(
        sandbox,
        "POST",
        "/_sandbox/faults",
        {"status": 503, "endpoints": ["POST /token"], "count": 5},
    )

    with pytest.raises(ConnectError, match="could not be reached"):
        connect(organization, owner)


def test_greenhouse_blocked_while_ashby_active(sandbox, organization, owner):
    Integration.objects.create(
        organization=organization, provider="ashby", encrypted_credential="x"
    )

    with pytest.raises(ConnectError) as caught:
        connect(organization, owner)

    assert caught.value.message == ONE_ATS.format("Greenhouse")


def test_ashby_blocked_while_greenhouse_active(sandbox, organization, owner):
    connect(organization, owner)

    with pytest.raises(ConnectError) as caught:
        integration_connect(
            organization=organization, actor=owner, provider_slug="ashby", credential="sandbox_full"
        )

    assert caught.value.message == ONE_ATS.format("Ashby")
    integration_disconnect(organization=organization, actor=owner)


def test_connect_view_renders_three_fields_and_error(sandbox, owner_client):
    page = owner_client.get(reverse("integrations:index")).content.decode()
    for name in ("client_id", "client_secret", "user_id"):
        assert f'name="{name}"' in page

    response = owner_client.post(
        reverse("integrations:connect", args=["greenhouse"]),
        {"client_id": "sandbox_full", "client_secret": "nope", "user_id": "1001"},
    )

    assert response.status_code == 400
    assert "rejected the client id or client secret" in response.content.decode()


def test_card_sets_work_type_field(
    client, owner, connect_greenhouse, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    integration = connect_greenhouse()
    field = integration.options["job_custom_fields"][0]
    client.force_login(owner)

    html = client.get(reverse("integrations:index")).content.decode()
    assert "Job custom field that holds the employment type" in html

    with django_capture_on_commit_callbacks():
        response = client.post(
            reverse("integrations:settings", args=["greenhouse"]), {"work_type_field": field["id"]}
        )
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.options["work_type_field"] == field["id"]
