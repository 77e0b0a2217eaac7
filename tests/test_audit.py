"""The audit trail records who may do what (logins, roles, permissions) like plan changes; an import
from the command line names the user it ran as; HR filters the trail by object and by person."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError

from calls.models import ImportBatch
from calls.roles import HR, LEAD
from tests.calls.test_import_csv import GOOD
from tests.factories import UserFactory


def _entries(obj):
    return LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk")


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_a_role_given_in_the_admin_is_recorded_with_who_gave_it(client, people, root):
    client.force_login(root)
    user = people.agent_a.user
    response = client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": user.username,
            "first_name": "",
            "last_name": "",
            "email": "",
            "is_active": "on",
            "is_staff": "on",
            "groups": [Group.objects.get(name=LEAD).pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "08:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    entries = [e for e in _entries(user) if e.actor == root]
    changes = {field: value for e in entries for field, value in e.changes_dict.items()}
    assert changes["is_staff"] == ["False", "True"]
    groups = changes["groups"]
    assert groups["type"] == "m2m" and groups["objects"] == [LEAD]
    assert {g["operation"] for e in entries for g in [e.changes_dict.get("groups")] if g} == {
        "add",
        "delete",
    }  # the agent role removed, the lead role added


def test_a_password_change_is_recorded_without_the_hash(people):
    user = people.lead_a
    old = user.password
    user.set_password("another-long-password")
    user.save()
    entry = _entries(user).last()
    before, after = entry.changes_dict["password"]
    assert before != old and after != user.password and "*" in after  # masked, never the hash
    assert "last_login" not in entry.changes_dict


def test_a_roles_permissions_are_recorded(people, root):
    from auditlog.context import set_actor

    role = Group.objects.get(name=LEAD)
    permission = Permission.objects.get(codename="view_team")
    with set_actor(root):
        role.permissions.add(permission)
    entry = _entries(role).last()
    assert entry.actor == root
    assert entry.changes_dict["permissions"]["objects"] == [str(permission)]


def test_an_import_from_the_command_line_names_its_user(people, tmp_path, capsys):
    path = tmp_path / "oct.csv"
    path.write_text(GOOD)
    with pytest.raises(CommandError, match="--user"):
        call_command("import_calls", str(path), "--source", "acd")
    with pytest.raises(CommandError, match="'lead_a' is not an active HR user"):
        call_command("import_calls", str(path), "--source", "acd", "--user", "lead_a")
    assert not ImportBatch.objects.exists()
    call_command("import_calls", str(path), "--source", "acd", "--user", "hr_admin")
    batch = ImportBatch.objects.get()
    assert batch.created_by == people.hr
    created = _entries(batch).first()
    assert created.action == LogEntry.Action.CREATE and created.actor == people.hr
    assert {e.actor for e in _entries(batch)} == {people.hr}


def test_who_rolled_an_import_back_is_on_the_record(client, people, tmp_path):
    path = tmp_path / "oct.csv"
    path.write_text(GOOD)
    call_command("import_calls", str(path), "--source", "acd", "--user", "hr_admin")
    batch = ImportBatch.objects.get()
    rollback_hr = UserFactory(username="hr2", roles=[HR])
    client.force_login(rollback_hr)
    assert client.post(f"/api/v1/imports/{batch.pk}/rollback/").status_code == 200
    last = _entries(batch).last()
    assert last.actor == rollback_hr
    assert last.changes_dict["status"][1] == ImportBatch.Status.ROLLED_BACK


def test_hr_filters_the_trail_by_person_and_by_object(client, people, root):
    from auditlog.context import set_actor

    with set_actor(root):
        people.team_b.name = "Team B renamed"
        people.team_b.save()
    client.force_login(people.hr)
    assert client.post("/api/v1/regions/", {"code": "north", "name": "North"}).status_code == 201
    team_a = people.team_a
    with set_actor(people.hr):
        team_a.name = "Team A renamed"
        team_a.save()

    by_hr = client.get(f"/admin/auditlog/logentry/?actor={people.hr.pk}").content.decode()
    assert "North" in by_hr and "Team A renamed" in by_hr and "Team B renamed" not in by_hr
    by_root = client.get(f"/admin/auditlog/logentry/?actor={root.pk}").content.decode()
    assert "Team B renamed" in by_root and "North" not in by_root
    system = client.get("/admin/auditlog/logentry/?actor=system").content.decode()
    assert "Team B renamed" not in system and "Team A renamed" not in system

    team_type = ContentType.objects.get_for_model(team_a).pk
    listing = client.get("/admin/auditlog/logentry/").content.decode()
    assert f"resource_type={team_type}&amp;object_pk={team_a.pk}" in listing  # "its history"
    history = client.get(
        f"/admin/auditlog/logentry/?resource_type={team_type}&object_pk={team_a.pk}"
    ).content.decode()
    assert (
        "Team A renamed" in history and "Team B renamed" not in history and "North" not in history
    )
    # The filter names its people.
    assert "hr_admin" in listing and "root" in listing
