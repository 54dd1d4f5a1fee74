"""How audit values read in the record history: labels, not codes."""

from __future__ import annotations

from django.utils import translation

from lavka.web.templatetags.lavka import audit_value


def test_choices_read_as_their_label_in_the_users_language():
    with translation.override("ru"):
        assert audit_value("organisation", "kind") == "Организация"
    with translation.override("en"):
        assert audit_value("organisation", "kind") == "Organisation"
        assert audit_value("active", "status") == "Active"


def test_amounts_are_grouped_and_whole_amounts_lose_the_zero_cents():
    with translation.override("en"):
        assert audit_value("500000.00", "credit_limit") == "500,000"
        assert audit_value("1234.50", "credit_limit") == "1,234.50"


def test_empty_collections_and_related_records():
    assert audit_value({}, "custom") == ""
    assert audit_value([], "tags") == ""
    assert audit_value({"id": 3, "label": "Ольга Смирнова"}, "owner") == "Ольга Смирнова"
    assert audit_value({"car_brand": "Volvo", "hobby": ""}, "custom") == "car_brand: Volvo"
    assert audit_value("free text", "notes") == "free text"
