import io
import json

import pytest
from django.core.management import CommandError, call_command

from integrations.models import Integration

pytestmark = pytest.mark.django_db


def run_command(*args, stdin: str = "") -> str:
    out = io.StringIO()
    import sys

    original = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        call_command(*args, stdout=out)
    finally:
        sys.stdin = original
    return out.getvalue()


def test_connect_command_prints_dialog_message(sandbox, organization):
    with pytest.raises(CommandError) as caught:
        run_command(
            "integration_connect",
            "ashby",
            "--org",
            organization.slug,
            stdin="sandbox_deactivated\n",
        )

    assert "Unable to connect: this API key was deactivated in Ashby" in str(caught.value)


def test_connect_sync_and_status_commands(
    sandbox, organization, django_capture_on_commit_callbacks
):
    from ats_ashby.tests.expectations import expected_visible_candidate_ids

    with django_capture_on_commit_callbacks():
        output = run_command(
            "integration_connect", "ashby", "--org", organization.slug, stdin=" sandbox_full\n"
        )
    assert "Connected ashby" in output
    assert Integration.objects.get().credential_last4 == "full"

    output = run_command("integration_sync", "--org", organization.slug, "--full", "--wait")
    assert "Success" in output

    status = json.loads(run_command("integration_status", "--org", organization.slug, "--json"))
    assert status["provider"] == "ashby"
    assert status["state"] == "connected"
    assert status["last_synced_at"]
    assert status["counts"]["candidates"] == len(expected_visible_candidate_ids(sandbox.url))
    assert set(status["counts"]) == {"roles", "candidates", "applications", "resumes"}


def test_status_command_unknown_org():
    with pytest.raises(CommandError, match="No organization"):
        run_command("integration_status", "--org", "missing", "--json")


def test_sync_command_without_integration(organization):
    with pytest.raises(CommandError, match="no connected ATS"):
        run_command("integration_sync", "--org", organization.slug, "--wait")
