"""The demo leads: a web form and leads in every status, loaded once."""

from __future__ import annotations

import random

import pytest

from lavka.demo.leads import leads_demo_load
from lavka.leads.models import Lead, WebForm

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_web_form_and_leads_in_every_status_once(org, board):
    users = {"admin": org.admin, "anna": org.rep, "ivan": org.colleague}

    first = leads_demo_load(users=users, rng=random.Random(7))
    again = leads_demo_load(users=users, rng=random.Random(7))

    assert (first, again) == (11, 0)
    assert WebForm.objects.count() == 1
    assert set(Lead.objects.values_list("status", flat=True)) == set(Lead.Status.values)
    converted = Lead.objects.get(status="converted")
    assert converted.deal is not None and converted.client is not None
    assert Lead.objects.filter(source="web_form", owner=org.rep).count() == 5
