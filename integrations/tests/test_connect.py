"""Connecting an ATS: credential checks, messages, the one-ATS rule and storage."""

import threading

import pytest
from django.db import connection

from accounts.models import AuditEvent
from ats_ashby.sandbox import start_sandbox
from integrations import crypto
from integrations.models import Integration
from integrations.providers import ConnectError, VerifiedCredential, get_provider
from integrations.services import (
    integration_connect,
    integration_disconnect,
    integration_update_credential,
)

pytestmark = pytest.mark.django_db

ANOTHER_ACTIVE = (
    "Another ATS integration is currently active. Disconnect it first to connect Ashby."
)


def connect(organization, owner, key):
    return integration_connect(
        organization=organization, actor=owner, provider_slug="ashby", credential=key
    )


@pytest.mark.parametrize(
    ("key", "code", "expected"),
    [
        ("not-a-real-key", "auth_invalid", "the API key is not valid"),
        ("sandbox_deactivated", "auth_deactivated", "was deactivated in Ashby"),
        ("sandbox_no_candidates_write", "permission", "missing the permission Candidates (write)"),
        ("sandbox_no_interviews_read", "permission", "missing the permission Interviews (read)"),
    ],
)
def test_connect_rejects_key(sandbox, organization, owner, key, code, expected):
    with pytest.raises(ConnectError) as caught:
        connect(organization, owner, key)

    assert caught.value.code == code
    assert caught.value.message.startswith("Unable to connect")
    assert expected in caught.value.message
    assert not Integration.objects.exists()
    assert not AuditEvent.objects.exists()


def test_connect_names_every_missing_permission(organization, owner, settings):
    keys = {
        "partial": {"title": "Partial", "scopes": ["jobs:read", "candidates:read", "apiKeys:read"]}
    }
    with start_sandbox(port=0, seed=1, jobs=2, candidates=5, keys=keys) as server:
        settings.ASHBY_API_URL = server.url
        with pytest.raises(ConnectError) as caught:
            connect(organization, owner, "partial")

    message = caught.value.message
    for label in (
        "Interviews (read)",
        "Hiring Process Metadata (read)",
        "Organization (read)",
        "Offers (read)",
        "Approvals (read)",
        "Jobs (write)",
        "Candidates (write)",
    ):
        assert label in message
    assert "Configure API Key Permissions" in message


def test_connect_reports_ashby_unreachable(organization, owner, settings):
    server = start_sandbox(port=0, seed=1, jobs=2, candidates=5)
    settings.ASHBY_API_URL = server.url
    server.stop()

    with pytest.raises(ConnectError) as caught:
        connect(organization, owner, "sandbox_full")

    assert caught.value.code == "unavailable"
    assert "Ashby could not be reached" in caught.value.message
    assert not Integration.objects.exists()


def test_connect_strips_whitespace_and_encrypts(
    sandbox, organization, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        integration = connect(organization, owner, "  sandbox_full \r\n")

    assert len(callbacks) == 1, "the first sync is queued after commit"
    assert integration.credential_last4 == "full"
    assert "sandbox_full" not in integration.encrypted_credential
    assert crypto.decrypt(integration.encrypted_credential) == "sandbox_full"
    event = AuditEvent.objects.get(action="integration.connect")
    assert "sandbox_full" not in str(event.details)


def test_connect_refuses_second_ats(sandbox, organization, owner):
    connect(organization, owner, "sandbox_full")

    with pytest.raises(ConnectError) as caught:
        connect(organization, owner, "sandbox_full")

    assert caught.value.message == ANOTHER_ACTIVE
    assert Integration.objects.filter(organization=organization).count() == 1


def test_one_active_rule_is_a_constraint(sandbox, organization, owner):
    from django.db import IntegrityError, transaction

    connect(organization, owner, "sandbox_full")
    with pytest.raises(IntegrityError), transaction.atomic():
        Integration.objects.create(organization=organization, provider="greenhouse")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections")
def test_concurrent_connects_only_one_wins(organization, owner, monkeypatch):
    provider = get_provider("ashby")
    barrier = threading.Barrier(2)

    def slow_verify(credential):
        barrier.wait(timeout=10)  # both requests pass the quick check before either saves
        return VerifiedCredential(title="test")

    monkeypatch.setattr(provider, "verify_credential", slow_verify)
    outcomes = []

    def attempt():
        from django.db import connection as thread_connection

        try:
            connect(organization, owner, "sandbox_full")
            outcomes.append("connected")
        except ConnectError as exc:
            outcomes.append(exc.message)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == sorted(["connected", ANOTHER_ACTIVE])
    assert Integration.objects.filter(organization=organization, is_active=True).count() == 1


def test_update_key_keeps_integration(sandbox, organization, owner):
    integration = connect(organization, owner, "sandbox_full")
    sandbox_keys = {"second_full": {"title": "Second"}}
    del sandbox_keys  # the sandbox accepts its documented full key only

    updated = integration_update_credential(
        organization=organization, actor=owner, credential="sandbox_full\n"
    )

    assert updated.pk == integration.pk
    with pytest.raises(ConnectError):
        integration_update_credential(
            organization=organization, actor=owner, credential="sandbox_deactivated"
        )
    updated.refresh_from_db()
    assert crypto.decrypt(updated.encrypted_credential) == "sandbox_full"


def test_disconnect_erases_key_and_allows_new_connection(sandbox, organization, owner):
    connect(organization, owner, "sandbox_full")

    old = integration_disconnect(organization=organization, actor=owner)

    assert old.encrypted_credential == ""
    assert old.state == Integration.State.DISCONNECTED
    assert connect(organization, owner, "sandbox_full").pk != old.pk


def test_key_rotation_keeps_stored_key_readable(settings):
    from cryptography.fernet import Fernet

    token = crypto.encrypt("secret-key")
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]

    assert crypto.decrypt(token) == "secret-key"
    assert crypto.decrypt(crypto.rotate(token)) == "secret-key"
