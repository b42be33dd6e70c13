import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from accounts.models import AuditEvent
from roles import services
from roles.models import Role, WorkType
from tests.factories import RoleFactory


def test_role_update_changes_and_audits(organization, owner, fake_hooks):
    role = RoleFactory(organization=organization, title="Old", department="Eng")

    services.role_update(
        organization=organization,
        role_id=role.pk,
        actor=owner,
        changes={"title": "New", "department": "Eng", "work_type": WorkType.CONTRACT},
    )

    role.refresh_from_db()
    assert role.title == "New"
    assert role.work_type == WorkType.CONTRACT
    assert fake_hooks.calls == [("role_updated", role.pk, frozenset({"title", "work_type"}), owner)]
    event = AuditEvent.objects.get(action="role.updated")
    assert event.details == {"changed_fields": ["title", "work_type"]}


def test_role_update_rejects_locked_field(organization, owner, fake_hooks):
    fake_hooks.role_locks = {"title": "Rename the job in Ashby."}
    role = RoleFactory(organization=organization, title="Old", location="Berlin")

    with pytest.raises(ValidationError) as raised:
        services.role_update(
            organization=organization,
            role_id=role.pk,
            actor=owner,
            changes={"title": "New", "location": "Paris"},
        )

    assert raised.value.message_dict == {
        "title": ["Title cannot be changed in Lavalier: Rename the job in Ashby."]
    }
    role.refresh_from_db()
    assert role.title == "Old"
    assert role.location == "Berlin"
    assert fake_hooks.calls == []
    assert not AuditEvent.objects.exists()


def test_role_update_rejects_invalid_work_type(organization, owner):
    role = RoleFactory(organization=organization)

    with pytest.raises(ValidationError):
        services.role_update(
            organization=organization,
            role_id=role.pk,
            actor=owner,
            changes={"work_type": "forever"},
        )
    assert Role.objects.get(pk=role.pk).work_type == ""


def test_role_update_other_org_is_404(organization, other_organization, owner):
    foreign = RoleFactory(organization=other_organization, title="Theirs")

    with pytest.raises(Http404):
        services.role_update(
            organization=organization, role_id=foreign.pk, actor=owner, changes={"title": "Mine"}
        )
    foreign.refresh_from_db()
    assert foreign.title == "Theirs"


def test_role_update_rejects_unknown_field(organization, owner):
    role = RoleFactory(organization=organization)

    with pytest.raises(ValueError, match="status"):
        services.role_update(
            organization=organization, role_id=role.pk, actor=owner, changes={"status": "closed"}
        )
