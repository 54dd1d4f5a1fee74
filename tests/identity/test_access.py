"""The access policy for every role x ownership case, on the first domain model
(clients). Expectations are written out by hand from the role descriptions, not
computed from the grants table, so a wrong default grant fails here."""

from __future__ import annotations

import pytest

from lavka.audit.models import AuditEvent
from lavka.clients.models import Client
from lavka.clients.permissions import can_edit_client
from lavka.clients.selectors import client_get, clients_visible_to
from lavka.clients.services import client_update
from lavka.core.errors import NotFound, NotPermitted
from tests.factories import ClientFactory

VIEWERS = ["admin", "manager", "rep", "marketer", "agent", "analyst", "nobody"]
OWNERSHIP = {
    # case -> attribute of the org fixture owning the record ("viewer" = the viewer)
    "own": "viewer",
    "same_team": "colleague",
    "team_below": "north_rep",
    "team_above": "sales_boss",
    "other_team": "spb_rep",
}

# (can read, can write) per viewer and ownership case, for the clients area.
EXPECTED = {
    "admin": {
        "own": (1, 1),
        "same_team": (1, 1),
        "team_below": (1, 1),
        "team_above": (1, 1),
        "other_team": (1, 1),
    },
    "manager": {
        "own": (1, 1),
        "same_team": (1, 1),
        "team_below": (1, 1),
        "team_above": (0, 0),
        "other_team": (0, 0),
    },
    "rep": {
        "own": (1, 1),
        "same_team": (1, 0),
        "team_below": (0, 0),
        "team_above": (0, 0),
        "other_team": (0, 0),
    },
    "marketer": {
        "own": (1, 0),
        "same_team": (1, 0),
        "team_below": (1, 0),
        "team_above": (1, 0),
        "other_team": (1, 0),
    },
    "agent": {
        "own": (1, 1),
        "same_team": (1, 0),
        "team_below": (1, 0),
        "team_above": (1, 0),
        "other_team": (1, 0),
    },
    "analyst": {
        "own": (1, 0),
        "same_team": (1, 0),
        "team_below": (1, 0),
        "team_above": (1, 0),
        "other_team": (1, 0),
    },
    "nobody": {
        "own": (0, 0),
        "same_team": (0, 0),
        "team_below": (0, 0),
        "team_above": (0, 0),
        "other_team": (0, 0),
    },
}

CASES = [(v, c) for v in VIEWERS for c in OWNERSHIP]


def _record(org, viewer, case) -> Client:
    owner = viewer if OWNERSHIP[case] == "viewer" else getattr(org, OWNERSHIP[case])
    return ClientFactory(owner=owner, team=owner.team, name=f"{case} client")


@pytest.mark.parametrize(("viewer_name", "case"), CASES)
def test_read_access_follows_role_and_ownership(org, viewer_name, case):
    viewer = getattr(org, viewer_name)
    record = _record(org, viewer, case)

    visible = clients_visible_to(viewer).filter(pk=record.pk).exists()

    assert visible is bool(EXPECTED[viewer_name][case][0])


@pytest.mark.parametrize(("viewer_name", "case"), CASES)
def test_write_access_follows_role_and_ownership(org, viewer_name, case):
    viewer = getattr(org, viewer_name)
    record = _record(org, viewer, case)

    assert can_edit_client(viewer, record) is bool(EXPECTED[viewer_name][case][1])


@pytest.mark.parametrize(
    ("viewer_name", "case"), [(v, c) for v, c in CASES if not EXPECTED[v][c][0]]
)
def test_unreadable_record_looks_missing_and_nothing_changes(org, viewer_name, case):
    viewer = getattr(org, viewer_name)
    record = _record(org, viewer, case)
    events_before = AuditEvent.objects.count()

    with pytest.raises(NotFound) as missing:
        client_get(viewer=viewer, client_id=record.pk)

    with pytest.raises(NotFound) as really_missing:
        client_get(viewer=viewer, client_id=record.pk + 10_000)
    assert missing.value.detail == really_missing.value.detail
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("viewer_name", "case"), [(v, c) for v, c in CASES if EXPECTED[v][c] == (1, 0)]
)
def test_readable_but_not_writable_record_refuses_update_and_stays_the_same(org, viewer_name, case):
    viewer = getattr(org, viewer_name)
    record = _record(org, viewer, case)
    events_before = AuditEvent.objects.count()

    with pytest.raises(NotPermitted):
        client_update(actor=viewer, client=record, name="Hijacked")

    record.refresh_from_db()
    assert record.name == f"{case} client"
    assert record.version == 1
    assert AuditEvent.objects.count() == events_before


def test_inactive_user_sees_nothing(org):
    record = ClientFactory(owner=org.rep, team=org.moscow)
    org.rep.is_active = False

    assert not clients_visible_to(org.rep).filter(pk=record.pk).exists()
    assert can_edit_client(org.rep, record) is False


def test_moving_a_team_under_another_changes_what_its_manager_sees(org):
    from lavka.identity.services import team_update

    spb_client = ClientFactory(owner=org.spb_rep, team=org.spb)
    assert not clients_visible_to(org.manager).filter(pk=spb_client.pk).exists()

    team_update(actor=org.admin, team=org.spb, parent=org.moscow)

    manager = type(org.manager).objects.get(pk=org.manager.pk)
    assert clients_visible_to(manager).filter(pk=spb_client.pk).exists()
