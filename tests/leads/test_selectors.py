"""Who sees which leads: the sales area's read scope (every role x ownership case)."""

from __future__ import annotations

import pytest

from lavka.core.errors import NotFound
from lavka.leads.selectors import lead_get, lead_list, lead_status_counts, leads_visible_to
from lavka.leads.services import lead_create, lead_status_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def leads(org):
    def make(owner, name):
        return lead_create(actor=owner, contact_name=name, email=f"{owner.username}@x.example")

    return {
        "rep": make(org.rep, "Rep's"),
        "colleague": make(org.colleague, "Colleague's"),
        "north": make(org.north_rep, "North's"),
        "spb": make(org.spb_rep, "Spb's"),
        "manager": make(org.manager, "Manager's"),
    }


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("rep", {"rep"}),
        ("colleague", {"colleague"}),
        ("north_rep", {"north"}),
        ("manager", {"rep", "colleague", "north", "manager"}),
        ("sales_boss", {"rep", "colleague", "north", "spb", "manager"}),
        ("admin", {"rep", "colleague", "north", "spb", "manager"}),
        ("analyst", {"rep", "colleague", "north", "spb", "manager"}),
        ("marketer", set()),
        ("agent", set()),
        ("nobody", set()),
    ],
)
def test_each_role_sees_the_leads_of_its_scope(org, leads, who, sees):
    viewer = getattr(org, who)

    visible = set(leads_visible_to(viewer).values_list("pk", flat=True))

    assert visible == {leads[key].pk for key in sees}


def test_a_lead_out_of_scope_is_not_found(org, leads):
    with pytest.raises(NotFound):
        lead_get(viewer=org.rep, lead_id=leads["colleague"].pk)
    with pytest.raises(NotFound):
        lead_get(viewer=org.rep, lead_id="x")


def test_the_list_filters_by_status_source_owner_and_words(org, leads):
    lead_status_set(
        actor=org.manager, lead=leads["colleague"], status="disqualified", reason="Спам"
    )
    by_phone = lead_create(actor=org.rep, company="Ромашка", phone="+7 495 123-45-67")

    def names(**filters):
        return {lead.display_name for lead in lead_list(viewer=org.manager, **filters)}

    assert names(status="disqualified") == {"Colleague's"}
    assert "Colleague's" not in names(status="open")
    assert names(owner_id=org.rep.pk) == {"Rep's", "Ромашка"}
    assert names(query="ромаш") == {"Ромашка"}
    assert names(query="74951234567") == {by_phone.display_name}
    assert names(source="web_form") == set()
    assert lead_status_counts(viewer=org.manager) == {"new": 4, "disqualified": 1}
