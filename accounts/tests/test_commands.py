import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership, Organization

pytestmark = pytest.mark.django_db


def test_create_organization_prints_password():
    out = io.StringIO()

    call_command("create_organization", "acme", "owner@acme.example", stdout=out)

    membership = Membership.objects.get(user__username="owner@acme.example")
    assert membership.role == Membership.Role.OWNER
    assert membership.organization.slug == "acme"
    assert "Password: " in out.getvalue()


@pytest.mark.parametrize(("slug", "email"), [("bad slug!", "a@b.example"), ("ok", "not-an-email")])
def test_create_organization_rejects_invalid_input(slug, email):
    with pytest.raises(CommandError, match="Invalid slug"):
        call_command("create_organization", slug, email, stdout=io.StringIO())

    assert not Organization.objects.exists()


def test_create_organization_reads_password_from_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-Passw0rd\n"))

    call_command(
        "create_organization",
        "acme",
        "owner@acme.example",
        "--password-stdin",
        stdout=io.StringIO(),
    )

    user = Membership.objects.get().user
    assert user.check_password("s3cret-Passw0rd")
