"""The lead import wizard, from the leads list: upload, columns (with the import's
campaign), preview, dry run, import, the report; who may use it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from lavka.imports.models import ImportRun, SavedMapping
from lavka.jobs.models import Job
from lavka.leads.models import Lead

CSV = (
    "Компания;ФИО;E-mail;Телефон;Источник\n"
    "ООО Ромашка;Иван Петров;ivan@romashka.example;8 (495) 123-45-67;\n"
    "ИП Сидоров;Пётр Сидоров;petr@@example;;\n"
    "Альфа;Олег;oleg@alfa.example;;Выставка\n"
)


@pytest.fixture(autouse=True)
def _private_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


def logged_in(user):
    http = HttpClient()
    http.force_login(user)
    return http


def test_the_leads_list_offers_the_import_to_who_may_create_leads(org):
    rep_page = logged_in(org.rep).get("/sales/leads/").content.decode()
    analyst_page = logged_in(org.analyst).get("/sales/leads/").content.decode()

    assert 'href="/imports/leads/"' in rep_page
    assert "Import leads" in rep_page
    assert 'href="/imports/leads/"' not in analyst_page


def test_the_wizard_imports_leads_from_upload_to_report(org, django_capture_on_commit_callbacks):
    http = logged_in(org.rep)

    page = http.get("/imports/leads/")
    assert page.status_code == 200
    assert "Import leads" in page.content.decode()

    uploaded = http.post(
        "/imports/leads/", {"file": SimpleUploadedFile("expo.csv", CSV.encode("cp1251"))}
    )
    run = ImportRun.objects.get()
    assert run.target == "leads"
    assert uploaded["Location"] == f"/imports/{run.pk}/mapping/"

    mapping_page = http.get(f"/imports/{run.pk}/mapping/").content.decode()
    assert '<option value="contact_name" selected>' in mapping_page
    assert '<option value="source" selected>' in mapping_page
    assert 'data-testid="import-campaign"' in mapping_page

    form = {f"col-{i}": field for i, field in run.mapping.items()}
    mapped = http.post(
        f"/imports/{run.pk}/mapping/", {**form, "campaign": "Выставка 2026", "save_as": "Expo"}
    )
    assert mapped["Location"] == f"/imports/{run.pk}/preview/"
    assert SavedMapping.objects.get(name="Expo").target == "leads"
    run.refresh_from_db()
    assert run.options["campaign"] == "Выставка 2026"

    preview = http.get(f"/imports/{run.pk}/preview/").content.decode()
    assert "“petr@@example” is not a valid email address." in preview
    assert 'href="/imports/leads/"' in preview  # the breadcrumb leads back to this wizard

    with django_capture_on_commit_callbacks(execute=True):
        http.post(f"/imports/{run.pk}/run/", {"dry_run": "1"})
    dry = http.get(f"/imports/{run.pk}/").content.decode()
    assert Lead.objects.count() == 0
    assert "Like existing clients" in dry
    assert Job.objects.get(kind="leads.import").status == Job.Status.SUCCEEDED

    with django_capture_on_commit_callbacks(execute=True):
        started = http.post(f"/imports/{run.pk}/run/")
    assert started["Location"] == f"/imports/{run.pk}/"
    shown = http.get(f"/imports/{run.pk}/").content.decode()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE
    assert (run.counts["created"], run.counts["rejected"]) == (2, 1)
    assert 'data-testid="go-to-leads"' in shown
    assert "petr@@example" in shown
    assert set(Lead.objects.values_list("source", "campaign")) == {
        ("import", "Выставка 2026"),
        ("event", "Выставка 2026"),
    }
    job = Job.objects.filter(kind="leads.import").order_by("-id").first()
    assert job.message == (
        "Leads: created 2, updated 0, unchanged 0, duplicates 0, like existing clients 0, "
        "rejected 1."
    )

    report = http.get(f"/imports/{run.pk}/errors.csv")
    body = b"".join(report.streaming_content).decode("utf-8-sig")
    assert "3,E-mail,petr@@example,“petr@@example” is not a valid email address.,rejected" in body


def test_a_too_long_campaign_is_shown_under_its_field(org):
    http = logged_in(org.rep)
    http.post("/imports/leads/", {"file": SimpleUploadedFile("x.csv", CSV.encode())})
    run = ImportRun.objects.get()
    form = {f"col-{i}": field for i, field in run.mapping.items()}

    response = http.post(f"/imports/{run.pk}/mapping/", {**form, "campaign": "x" * 101})

    assert response.status_code == 422
    assert "At most 100 characters." in response.content.decode()
    run.refresh_from_db()
    assert (run.status, run.options.get("campaign")) == (ImportRun.Status.UPLOADED, None)


def test_someone_without_the_sales_area_cannot_import_leads(org):
    http = logged_in(org.analyst)

    page = http.get("/imports/leads/")
    posted = http.post("/imports/leads/", {"file": SimpleUploadedFile("x.csv", CSV.encode())})

    assert (page.status_code, posted.status_code) == (403, 403)
    assert ImportRun.objects.count() == 0
    assert Lead.objects.count() == 0


def test_the_client_wizard_lists_no_lead_imports(org):
    http = logged_in(org.admin)
    http.post("/imports/leads/", {"file": SimpleUploadedFile("leads-file.csv", CSV.encode())})

    assert "leads-file.csv" not in http.get("/imports/").content.decode()
    assert "leads-file.csv" in http.get("/imports/leads/").content.decode()
