"""Lead files through the imports API (`target=leads`): the same steps as the wizard."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from lavka.identity.models import ApiToken
from lavka.identity.services import api_token_create
from lavka.leads.models import Lead

CSV = "Id,Company,Name,Email\nL-1,Альфа,Олег,oleg@alfa.example\nL-2,Бета,Ольга,olga@@beta\n"


@pytest.fixture(autouse=True)
def _private_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


def api(user):
    _token, raw = api_token_create(actor=user, name="t", scope=ApiToken.Scope.READ_WRITE)
    return HttpClient(), {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_lead_file_is_uploaded_started_and_its_row_errors_read(
    org, django_capture_on_commit_callbacks
):
    http, headers = api(org.admin)

    uploaded = http.post(
        "/api/v1/imports?target=leads",
        {"file": SimpleUploadedFile("leads.csv", CSV.encode(), content_type="text/csv")},
        **headers,
    )
    assert uploaded.status_code == 201, uploaded.content
    body = uploaded.json()
    assert (body["target"], body["mapping"]) == (
        "leads",
        {"0": "external_id", "1": "company", "2": "contact_name", "3": "email"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        started = http.post(f"/api/v1/imports/{body['id']}/start", **headers)
    assert started.status_code == 202

    run = http.get(f"/api/v1/imports/{body['id']}", **headers).json()
    errors = http.get(f"/api/v1/imports/{body['id']}/errors", **headers).json()
    assert run["status"] == "done"
    assert (run["counts"]["created"], run["counts"]["rejected"]) == (1, 1)
    assert [(e["row"], e["column"], e["kind"]) for e in errors["items"]] == [
        (3, "Email", "rejected")
    ]
    lead = Lead.objects.get()
    assert lead.source == "import"
    shown = http.get(f"/api/v1/leads/{lead.pk}", **headers).json()
    assert (shown["external_id"], shown["company"], shown["source"]) == ("L-1", "Альфа", "import")


def test_who_cannot_write_sales_cannot_upload_a_lead_file(org):
    org.analyst.role.capabilities = [*org.analyst.role.capabilities, "use_api"]
    org.analyst.role.save(update_fields=["capabilities"])
    http, headers = api(org.analyst)

    response = http.post(
        "/api/v1/imports?target=leads",
        {"file": SimpleUploadedFile("leads.csv", CSV.encode(), content_type="text/csv")},
        **headers,
    )

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    # The token itself works: reading is allowed.
    assert http.get("/api/v1/imports/mappings?target=leads", **headers).status_code == 200
