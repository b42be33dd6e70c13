import json
import urllib.request

import pytest

from ats_greenhouse.sandbox import start_sandbox

FULL_CREDENTIAL = {
    "client_id": "sandbox_full",
    "client_secret": "sandbox_secret",
    "user_id": "1001",
}


def credential(**overrides) -> str:
    return json.dumps({**FULL_CREDENTIAL, **overrides}, sort_keys=True)


@pytest.fixture
def sandbox(settings):
    """A small Greenhouse sandbox on loopback, with Lavalier's settings pointed at it."""
    server = start_sandbox(port=0, seed=3, jobs=10, candidates=120)
    settings.GREENHOUSE_API_URL = server.api_url
    settings.GREENHOUSE_AUTH_URL = server.url
    yield server
    server.stop()


def sandbox_control(server, method: str, path: str, body: dict | None = None):
    """Call the sandbox's /_sandbox control API (not Greenhouse's), returning its JSON."""
    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def dump(server, kind: str, remote_id=None) -> list[dict]:
    suffix = f"&id={remote_id}" if remote_id else ""
    return sandbox_control(server, "GET", f"/_sandbox/dump?kind={kind}{suffix}")["results"]


@pytest.fixture
def connect_greenhouse(sandbox, organization, owner):
    """Connect the organization to the sandbox, choose the work-type field, run the first sync."""
    from integrations.models import Integration
    from integrations.services import integration_connect, integration_sync_run

    def connect(
        *, sync: bool = True, work_type_field: str | None = "employment_type", org=None, actor=None
    ):
        integration = integration_connect(
            organization=org or organization,
            actor=actor if org else owner,
            provider_slug="greenhouse",
            credential=credential(),
        )
        if work_type_field:
            Integration.objects.filter(pk=integration.pk).update(
                options={"work_type_field": work_type_field}
            )
        if sync:
            run = integration_sync_run(integration.pk, trigger="connect")
            assert run is not None
            assert run.outcome == "success", run.error_message
        integration.refresh_from_db()
        return integration

    return connect
