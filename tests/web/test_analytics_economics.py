"""The "Lifecycle and economics" page: figures, the seeds' claims, the costs form and
who may change what."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lavka.analytics.models import AnalyticsSettings, CostEntry
from lavka.analytics.services import analytics_recompute
from lavka.audit.models import AuditEvent
from tests.analytics.conftest import simulated_base  # noqa: F401 (the fixture)
from tests.analytics.test_economics import AS_OF, base  # noqa: F401 (the fixture)

URL = "/analytics/economics/"


@pytest.fixture
def run(base, org):  # noqa: F811
    return analytics_recompute(actor=org.analyst, as_of=AS_OF)


def cell(text, attribute, value):
    match = re.search(rf'<tr data-{attribute}="{value}">(.*?)</tr>', text, re.S)
    assert match, f"no row {attribute}={value}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_the_page_shows_the_claims_and_figures(client, run, org, django_assert_max_num_queries):
    client.force_login(org.analyst)

    with django_assert_max_num_queries(14):
        response = client.get(URL)

    text = response.content.decode()
    assert response.status_code == 200
    assert reverse("analytics:economics") == URL
    assert "Acquiring a client costs 1.2 times as much as keeping one." in text
    assert "₽450.00 per new client against ₽375.00 a year per client kept" in text
    assert "75% of clients did not pay off within their first year." in text
    assert "1 paid off within the year, 1 later, 2 not yet." in text
    assert "The retention simulation needs the purchase model." in text
    assert cell(text, "stage", "active").startswith("active")
    assert '<a href="/clients/?stage=lapsed"' in text
    assert cell(text, "stage", "active").endswith("3 43% 309")
    assert cell(text, "stage", "lapsed").endswith("2 29% 320")
    assert cell(text, "channel", "ads") == "ads ₽900.00 2 ₽450.00 2"
    assert 'data-figure="payback">month 14' in text
    assert "A new client pays off in month 14" in text
    assert '<tr aria-current="true"><th scope="row">14</th><td class="num">₽615.48</td>' in text
    assert 'id="payback-data"' in text and '<script src="/analytics/plotly.min.js" defer>' in text
    assert 'data-testid="cost-save"' in text
    assert 'data-testid="settings-save"' in text


def test_the_page_in_russian(client, run, org):
    client.force_login(org.analyst)
    client.cookies["django_language"] = "ru"

    text = client.get(URL).content.decode()

    assert '<html lang="ru"' in text
    assert cell(text, "channel", "ads") == "ads 900,00 ₽ 2 450,00 ₽ 2"


def test_a_rep_sees_the_stages_of_their_own_clients_only(client, run, org):
    client.force_login(org.colleague)

    text = client.get(URL).content.decode()

    # The seven clients belong to the rep: the colleague counts none, but reads the
    # company-wide costs and cannot change them.
    assert all(cell(text, "stage", s).endswith("0 0% —") for s in ("new", "active", "lost"))
    assert 'data-testid="costs"' in text
    assert 'data-testid="cost-save"' not in text
    assert 'data-testid="settings-save"' not in text


def test_the_rep_who_owns_them_counts_them(client, run, org):
    client.force_login(org.rep)

    text = client.get(URL).content.decode()

    assert cell(text, "stage", "lost").split()[-3:] == ["2", "29%", "0"]


def test_a_rep_cannot_add_change_or_delete_costs(client, run, org):
    client.force_login(org.rep)
    cost = CostEntry.objects.order_by("pk").first()
    before = CostEntry.objects.count()

    added = client.post(
        reverse("analytics:cost_add"), {"month": "2026-05", "kind": "retention", "amount": "10"}
    )
    changed = client.post(
        reverse("analytics:cost_edit", args=[cost.pk]),
        {"month": "2026-05", "kind": "retention", "amount": "10"},
    )
    deleted = client.post(reverse("analytics:cost_delete", args=[cost.pk]))

    assert (added.status_code, changed.status_code, deleted.status_code) == (403, 403, 403)
    assert CostEntry.objects.count() == before
    cost.refresh_from_db()
    assert cost.version == 1


def test_errors_stand_next_to_their_fields(client, org):
    client.force_login(org.analyst)

    response = client.post(
        reverse("analytics:cost_add"),
        {"month": "May", "kind": "bribes", "amount": "-5", "currency": "rubles"},
    )

    text = response.content.decode()
    assert response.status_code == 422
    assert CostEntry.objects.count() == 0
    for field, message in [
        ("month", "Enter a month such as 2026-05."),
        ("kind", "Choose acquisition or retention."),
        ("amount", "Enter a number from 0 up to 1,000,000,000,000,000."),
        ("currency", "Use a three-letter currency code, e.g. RUB."),
    ]:
        errors = re.search(rf'id="id_{field}_error">(.*?)</ul>', text, re.S)
        assert errors and message in errors.group(1), field
    assert 'value="rubles"' in text


def test_errors_in_russian(client, org):
    client.force_login(org.analyst)
    client.cookies["django_language"] = "ru"

    response = client.post(reverse("analytics:cost_add"), {"month": "2026-05", "kind": "retention"})

    assert response.status_code == 422
    assert re.search(r'id="id_amount_error">.*?</ul>', response.content.decode(), re.S)


def test_an_analyst_adds_changes_and_deletes_a_cost(client, org):
    client.force_login(org.analyst)

    added = client.post(
        reverse("analytics:cost_add"),
        {"month": "2026-05", "kind": "acquisition", "channel": "ads", "amount": "1 500,50"},
    )
    cost = CostEntry.objects.get()
    page = client.get(reverse("analytics:cost_edit", args=[cost.pk])).content.decode()
    changed = client.post(
        reverse("analytics:cost_edit", args=[cost.pk]),
        {"month": "2026-04", "kind": "acquisition", "channel": "ads", "amount": "2000"},
    )
    cost.refresh_from_db()

    assert added.status_code == 302 and added["Location"] == f"{URL}#costs"
    assert (cost.month, cost.amount, cost.currency, cost.version) == (
        dt.date(2026, 4, 1),
        Decimal("2000.00"),
        "RUB",
        2,
    )
    assert cost.created_by == org.analyst
    assert 'value="1500.50"' in page and "Change the cost" in page
    assert changed.status_code == 302
    row = f'data-cost="{cost.pk}"'
    assert row in client.get(URL).content.decode()
    deleted = client.post(reverse("analytics:cost_delete", args=[cost.pk]))
    assert deleted.status_code == 302
    assert not CostEntry.objects.exists()
    assert row not in client.get(URL).content.decode()

    # A cost deleted by mistake comes back from the trash.
    client.force_login(org.admin)
    trash = client.get(reverse("settings:trash"), {"kind": "analytics.costentry"})
    restored = client.post(reverse("settings:trash_restore", args=["analytics.costentry", cost.pk]))
    assert "ads 2026-04" in trash.content.decode()
    assert restored.status_code == 302
    assert CostEntry.objects.get().amount == Decimal("2000.00")
    assert list(
        AuditEvent.objects.filter(object_id=str(cost.pk), content_type__model="costentry")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["create", "update", "delete", "restore"]


def test_the_settings_are_validated_and_saved(client, org):
    client.force_login(org.admin)

    bad = client.post(
        reverse("analytics:economics_settings"),
        {"gross_margin_percent": "150", "retention_uplift_points": "5", "touch_cost_call": "x"},
    )
    good = client.post(
        reverse("analytics:economics_settings"),
        {
            "gross_margin_percent": "42,5",
            "retention_uplift_points": "10",
            "contact_hour_cost": "600",
            "touch_cost_call": "120",
        },
    )

    text = bad.content.decode()
    assert bad.status_code == 422
    assert "Enter a percentage from 0 to 100." in re.search(
        r'id="id_gross_margin_percent_error">(.*?)</ul>', text, re.S
    ).group(1)
    assert "Enter a number." in re.search(
        r'id="id_touch_cost_call_error">(.*?)</ul>', text, re.S
    ).group(1)
    assert good.status_code == 302
    stored = AnalyticsSettings.objects.get(pk=1)
    assert (stored.gross_margin_percent, stored.retention_uplift_points) == (42.5, 10.0)
    assert (stored.contact_hour_cost, stored.touch_costs) == (Decimal("600.00"), {"call": "120.00"})


def test_a_rep_cannot_change_the_settings(client, org):
    client.force_login(org.rep)

    response = client.post(reverse("analytics:economics_settings"), {"gross_margin_percent": "99"})

    assert response.status_code == 403
    assert not AnalyticsSettings.objects.filter(gross_margin_percent=99).exists()


def test_before_the_first_recompute_the_page_teaches(client, org):
    client.force_login(org.analyst)

    text = client.get(URL).content.decode()

    assert "No figures yet" in text
    assert 'data-testid="no-costs"' in text


def test_no_analytics_no_page(client, org):
    client.force_login(org.agent)

    assert client.get(URL).status_code == 404


def test_costs_are_imported_from_a_file(client, org):
    client.force_login(org.analyst)
    good = SimpleUploadedFile(
        "costs.csv", b"month,kind,amount,channel\n2026-01,acquisition,1000,ads\n", "text/csv"
    )
    bad = SimpleUploadedFile("costs.csv", b"month,kind,amount\n2026-02,retention,x\n", "text/csv")

    imported = client.post(reverse("analytics:cost_import"), {"file": good})
    refused = client.post(reverse("analytics:cost_import"), {"file": bad})

    assert imported.status_code == 302
    assert refused.status_code == 422
    assert "Row 2, amount: Enter a number." in refused.content.decode()
    assert list(CostEntry.objects.values_list("channel", "amount")) == [("ads", Decimal("1000"))]


def test_a_rep_cannot_import_costs(client, org):
    client.force_login(org.rep)
    upload = SimpleUploadedFile("costs.csv", b"month,kind,amount\n2026-01,retention,1\n")

    response = client.post(reverse("analytics:cost_import"), {"file": upload})

    assert response.status_code == 403
    assert not CostEntry.objects.exists()


def test_the_simulation_on_a_fitted_model_is_shown(client, simulated_base, org):  # noqa: F811
    run = analytics_recompute(actor=org.analyst, as_of=simulated_base)
    simulation = run.reports["economics"]["simulation"]
    client.force_login(org.analyst)

    text = client.get(URL).content.decode()

    change = simulation["profit_change"]
    percent = round(100 * simulation["profit_change_share"], 1)
    assert (
        "Keeping 5.0 percentage points more clients after each purchase would add "
        f"₽{change:,.2f} ({percent}%) to the expected profit of the next 12 months."
    ) in text
    assert "+5.0 points" in text
    assert "Chance of staying after a purchase" in text
    assert "so the rise is smaller" not in text


def test_a_base_that_hardly_ever_leaves_is_told_the_rise_is_smaller(client, simulated_base, org):  # noqa: F811
    run = analytics_recompute(actor=org.analyst, as_of=simulated_base)
    economics = run.reports["economics"]
    # A base whose clients stay after 99.99% of purchases (as if the fit had said so).
    economics["simulation"]["base"]["retention"] = 0.9999
    economics["simulation"]["scenario"]["retention"] = 0.999999
    economics["simulation"]["achieved_points"] = 0.0099
    type(run).objects.filter(pk=run.pk).update(reports=run.reports)
    client.force_login(org.analyst)

    text = client.get(URL).content.decode()

    claim = re.search(r'<li data-claim="simulation">(.*?)</li>', text, re.S).group(1)
    assert "Clients already stay after 99.99% of purchases, so the rise is smaller" in claim


def _names(http, url):
    response = http.get(url.replace("&amp;", "&"))
    assert response.status_code == 200
    return re.findall(r"data-row-link>([^<]+)</a>", response.content.decode())


def _csv_rows(response):
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_figures_open_the_clients_behind_them(client, run, org):
    from lavka.analytics.models import ClientScore
    from lavka.clients.models import Client

    client.force_login(org.analyst)

    text = client.get(URL).content.decode()

    # Acquisition by month: the month's (and channel's) new clients. B's source is
    # "Ads " and still counts for ads, as the report groups channels.
    links = dict(
        re.findall(r'<a href="(/clients/\?[^"]+)" data-testid="cac-new-clients">(\d+)</a>', text)
    )
    assert links == {
        "/clients/?cohort=2026-03&amp;source=ads": "1",
        "/clients/?cohort=2025-08&amp;source=ads": "1",
        "/clients/?cohort=2025-08": "2",
    }
    assert _names(client, "/clients/?cohort=2026-03&source=ads") == ["B"]
    assert _names(client, "/clients/?cohort=2025-08&source=ads") == ["A"]
    assert _names(client, "/clients/?cohort=2025-08") == ["A", "C"]
    # Two months of costs: the CAC's clients are the table's rows.
    assert 'data-testid="cac-clients"' not in text and 'href="#cac-month-title"' in text
    # The cost of loss opens the lost clients.
    lost = ClientScore.objects.filter(run=run, stage=5).values("client_id")
    expected = sorted(Client.objects.filter(pk__in=lost).values_list("name", flat=True))
    assert len(expected) == 2
    assert '<a href="/clients/?stage=lost" data-testid="loss-clients">' in text
    assert _names(client, "/clients/?stage=lost") == expected
    assert 'id="chart-payback"' in text and 'data-png="payback"' in text


def test_each_table_exports_as_csv(client, run, org):
    client.force_login(org.analyst)

    stages = _csv_rows(client.get(URL, {"export": "stages.csv"}))
    channels = _csv_rows(client.get(URL, {"export": "channels.csv"}))
    cac = _csv_rows(client.get(URL, {"export": "cac.csv"}))
    payback = _csv_rows(client.get(URL, {"export": "payback.csv"}))

    assert stages[0] == ["Stage", "Clients", "Share", "Average length, days"]
    assert stages[2] == ["active", "3", "0.4286", "309.0"]
    assert stages[5] == ["lapsed", "2", "0.2857", "319.5"]
    assert channels[0] == ["Channel", "Costs", "New clients", "CAC", "Payback month", "Currency"]
    assert channels[1] == ["ads", "900.0", "2", "450.0", "2", "RUB"]
    assert cac[0] == ["Month", "Channel", "Costs", "New clients", "CAC", "Currency"]
    assert ["2025-08", "", "450.0", "2", "225.0", "RUB"] in cac
    assert ["2026-03", "ads", "600.0", "1", "600.0", "RUB"] in cac
    assert payback[0] == ["Month of life", "Margin earned per client", "Currency"]
    assert payback[14] == ["14", "615.48", "RUB"]
    assert client.get(URL, {"export": "nope.csv"}).status_code == 404
