from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from lavka.clients.exports import export_path
from lavka.imports.models import ImportRun, SavedMapping
from lavka.jobs.models import Job
from tests.factories import ClientFactory


def test_the_wizard_maps_saves_the_mapping_and_previews(org, client):
    client.force_login(org.rep)
    file = SimpleUploadedFile("c.csv", "Kunde;Post\nAcme;bad@\n".encode("cp1251"))

    uploaded = client.post("/imports/", {"file": file})
    run = ImportRun.objects.get()
    mapped = client.post(
        f"/imports/{run.pk}/mapping/", {"col-0": "name", "col-1": "email", "save_as": "shop"}
    )
    preview = client.get(f"/imports/{run.pk}/preview/")

    assert uploaded.status_code == 302
    assert uploaded["Location"] == f"/imports/{run.pk}/mapping/"
    assert mapped["Location"] == f"/imports/{run.pk}/preview/"
    assert SavedMapping.objects.get(name="shop").mapping == {"Kunde": "name", "Post": "email"}
    assert "“bad@” is not a valid email address." in preview.content.decode()


def test_a_bad_upload_shows_the_files_problem(org, client):
    client.force_login(org.rep)

    response = client.post("/imports/", {"file": SimpleUploadedFile("x.xlsx", b"nope")})

    assert response.status_code == 422
    assert "This file is not an Excel workbook (.xlsx)." in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_someone_without_write_access_cannot_open_the_wizard(org, client):
    client.force_login(org.analyst)

    response = client.post("/imports/", {"file": SimpleUploadedFile("c.csv", b"Name\nA\n")})

    assert response.status_code == 403
    assert ImportRun.objects.count() == 0


def test_filtered_list_exports_to_xlsx_as_a_job(org, client, django_capture_on_commit_callbacks):
    ClientFactory(owner=org.rep, name="Person one", kind="person")
    ClientFactory(owner=org.rep, name="Org one", kind="organisation")
    client.force_login(org.rep)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/exports/clients/", {"format": "xlsx", "kind": "person"})
    job = Job.objects.get(kind="clients.export")
    download = client.get(f"/exports/{job.pk}/file/")

    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == Job.Status.SUCCEEDED
    assert download.status_code == 200
    rows = list(
        load_workbook(export_path(job.pk, "xlsx"), read_only=True)
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert [r[rows[0].index("name")] for r in rows[1:]] == ["Person one"]
