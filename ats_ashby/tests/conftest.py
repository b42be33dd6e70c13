import pytest

from ats_ashby.sandbox import start_sandbox


@pytest.fixture
def sandbox(settings):
    """A small sandbox on loopback, with Lavalier's settings pointed at it."""
    server = start_sandbox(port=0, seed=7, jobs=12, candidates=150)
    settings.ASHBY_API_URL = server.url
    yield server
    server.stop()


def sandbox_control(server, method: str, path: str, body: dict | None = None) -> dict:
    """Call the sandbox's /_sandbox control API (not Ashby's), returning its JSON."""
    import json
    import urllib.request

    request = urllib.request.Request(
        server.url + path,
        method=method,
        data=json.dumps(body or {}).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture
def connect_ashby(sandbox, organization, owner):
    """Connect the organization to the sandbox and run the first sync in this process."""
    from integrations.services import integration_connect, integration_sync_run

    def connect(key: str = "sandbox_full", *, sync: bool = True):
        integration = integration_connect(
            organization=organization, actor=owner, provider_slug="ashby", credential=key
        )
        if sync:
            run = integration_sync_run(integration.pk, trigger="connect")
            assert run is not None
            assert run.outcome == "success", run.error_message
        integration.refresh_from_db()
        return integration

    return connect
