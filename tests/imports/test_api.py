from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from lavka.clients.models import Client
from lavka.identity.models import ApiToken
from lavka.identity.services import api_token_create
from lavka.imports.models import ImportRun, SavedMapping

CSV = "Название;Почта;ИНН\nООО Ромашка;info@romashka.ru;7707083893\nООО Лютик;lutik@;\n"


def bearer(user):
    _token, raw = api_token_create(actor=user, name="test", scope=ApiToken.Scope.READ_WRITE)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def http():
    return HttpClient()


def upload(http, headers, text=CSV, name="clients.csv"):
    file = SimpleUploadedFile(name, text.encode("cp1251"), content_type="text/csv")
    return http.post("/api/v1/imports", {"file": file}, **headers)


def test_upload_detects_the_file_and_premaps_columns(org, http):
    response = upload(http, bearer(org.rep))

    assert response.status_code == 201
    body = response.json()
    assert (body["format"], body["encoding"], body["delimiter"]) == ("csv", "cp1251", ";")
    assert body["header"] == ["Название", "Почта", "ИНН"]
    assert body["mapping"] == {"0": "name", "1": "email", "2": "inn"}
    assert body["status"] == "uploaded"


def test_an_unreadable_upload_gets_a_clear_error(org, http):
    file = SimpleUploadedFile("x.xlsx", b"nope")

    response = http.post("/api/v1/imports", {"file": file}, **bearer(org.rep))

    assert response.status_code == 422
    assert response.json()["code"] == "import_file_unreadable"
    assert response.json()["detail"] == "This file is not an Excel workbook (.xlsx)."
    assert ImportRun.objects.count() == 0


def test_set_mapping_saves_it_under_a_name(org, http):
    headers = bearer(org.rep)
    run_id = upload(http, headers).json()["id"]

    response = http.put(
        f"/api/v1/imports/{run_id}/mapping",
        {"mapping": {"0": "name", "1": "email"}, "save_as": "shop"},
        content_type="application/json",
        **headers,
    )

    assert response.status_code == 200
    assert response.json()["mapping"] == {"0": "name", "1": "email"}
    assert SavedMapping.objects.get(name="shop").mapping == {"Название": "name", "Почта": "email"}


def test_a_field_mapped_twice_is_refused(org, http):
    headers = bearer(org.rep)
    run_id = upload(http, headers).json()["id"]

    response = http.put(
        f"/api/v1/imports/{run_id}/mapping",
        {"mapping": {"0": "name", "1": "name"}},
        content_type="application/json",
        **headers,
    )

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["1"]
    assert ImportRun.objects.get(pk=run_id).mapping == {"0": "name", "1": "email", "2": "inn"}


def test_preview_marks_the_bad_cells(org, http):
    headers = bearer(org.rep)
    run_id = upload(http, headers).json()["id"]

    body = http.get(f"/api/v1/imports/{run_id}/preview", **headers).json()

    assert [r["row"] for r in body["rows"]] == [2, 3]
    assert body["rows"][0]["cells"][1] == {"value": "info@romashka.ru", "error": None}
    assert body["rows"][1]["cells"][1] == {
        "value": "lutik@",
        "error": "“lutik@” is not a valid email address.",
    }


def test_dry_run_then_start_then_status_and_errors(org, http, django_capture_on_commit_callbacks):
    headers = bearer(org.rep)
    run_id = upload(http, headers).json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        dry = http.post(f"/api/v1/imports/{run_id}/dry-run", **headers)
    after_dry = http.get(f"/api/v1/imports/{run_id}", **headers).json()
    clients_after_dry = Client.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        started = http.post(f"/api/v1/imports/{run_id}/start", **headers)
    status = http.get(f"/api/v1/imports/{run_id}", **headers).json()
    errors = http.get(f"/api/v1/imports/{run_id}/errors", **headers).json()

    assert dry.status_code == 202
    assert after_dry["counts"] == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 1,
        "dry_run": True,
    }
    assert clients_after_dry == 0
    assert started.status_code == 202
    assert status["status"] == "done"
    assert status["job"]["status"] == "succeeded"
    assert status["counts"] == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 1,
    }
    assert errors["count"] == 1
    assert errors["items"] == [
        {
            "row": 3,
            "column": "Почта",
            "value": "lutik@",
            "reason": "“lutik@” is not a valid email address.",
            "kind": "rejected",
        }
    ]
    assert list(Client.objects.values_list("name", flat=True)) == ["ООО Ромашка"]


def test_someone_elses_run_is_not_found(org, http):
    run_id = upload(http, bearer(org.rep)).json()["id"]

    response = http.post(f"/api/v1/imports/{run_id}/start", **bearer(org.colleague))

    assert response.status_code == 404
    assert ImportRun.objects.get(pk=run_id).status == "uploaded"
