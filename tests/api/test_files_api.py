"""The files API: attachments on clients and contracts, uploaded, listed, downloaded
and deleted by those who may, with the type and size limits explained."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient

from lavka.audit.models import AuditEvent
from lavka.clients.models import Attachment
from lavka.clients.services.blocks import attachment_add, contract_create
from lavka.identity.models import ApiToken
from lavka.identity.services import api_token_create
from tests.factories import ClientFactory

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def bearer(user):
    _token, raw = api_token_create(actor=user, name="test", scope=ApiToken.Scope.READ_WRITE)
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    return tmp_path


def stored_files(root):
    return sorted(p.name for p in root.rglob("*") if p.is_file())


@pytest.fixture
def http():
    return HttpClient()


@pytest.fixture
def romashka(org):
    return ClientFactory(owner=org.rep, team=org.moscow, name="Romashka", email="", phone="")


@pytest.fixture
def offer(org, romashka):
    return attachment_add(
        actor=org.rep, client=romashka, upload=SimpleUploadedFile("offer.pdf", PDF)
    )


def test_file_uploaded_to_a_client_is_listed_downloaded_and_in_its_history(org, http, romashka):
    auth = bearer(org.rep)

    uploaded = http.post(
        f"/api/v1/clients/{romashka.pk}/files",
        {"file": SimpleUploadedFile("Коммерческое предложение.pdf", PDF)},
        **auth,
    )

    assert uploaded.status_code == 201
    body = uploaded.json()
    assert (body["name"], body["size"], body["content_type"], body["contract_id"]) == (
        "Коммерческое предложение.pdf",
        len(PDF),
        "application/pdf",
        None,
    )
    assert body["download_url"] == f"/api/v1/files/{body['id']}/download"
    listed = http.get(f"/api/v1/clients/{romashka.pk}/files", **auth).json()
    assert [f["id"] for f in listed["items"]] == [body["id"]]
    assert listed["count"] == 1
    download = http.get(body["download_url"], **auth)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == (
        "attachment; filename*=utf-8''%D0%9A%D0%BE%D0%BC%D0%BC%D0%B5%D1%80%D1%87%D0%B5%D1%81"
        "%D0%BA%D0%BE%D0%B5%20%D0%BF%D1%80%D0%B5%D0%B4%D0%BB%D0%BE%D0%B6%D0%B5%D0%BD%D0%B8"
        "%D0%B5.pdf"
    )
    assert download["X-Content-Type-Options"] == "nosniff"
    event = AuditEvent.objects.for_record(romashka).latest("id")
    assert (event.action, event.changes) == (
        "update",
        {"files": [None, "Коммерческое предложение.pdf"]},
    )


def test_a_name_with_quotes_and_a_path_is_cut_to_a_safe_file_name(org, http, romashka):
    auth = bearer(org.rep)

    uploaded = http.post(
        f"/api/v1/clients/{romashka.pk}/files",
        {"file": SimpleUploadedFile('../../etc/"quoted".pdf', PDF)},
        **auth,
    )
    download = http.get(uploaded.json()["download_url"], **auth)

    assert uploaded.json()["name"] == '"quoted".pdf'
    assert download["Content-Disposition"] == 'attachment; filename="\\"quoted\\".pdf"'


def test_signed_copy_uploaded_to_a_contract_is_in_both_lists(org, http, romashka):
    contract = contract_create(actor=org.rep, client=romashka, number="Д-7")
    auth = bearer(org.rep)

    uploaded = http.post(
        f"/api/v1/contracts/{contract.pk}/files",
        {"file": SimpleUploadedFile("signed.pdf", PDF), "is_signed_copy": "true"},
        **auth,
    )
    by_client_form = http.post(
        f"/api/v1/clients/{romashka.pk}/files",
        {"file": SimpleUploadedFile("annex.pdf", PDF), "contract_id": str(contract.pk)},
        **auth,
    )

    assert (uploaded.status_code, by_client_form.status_code) == (201, 201)
    assert (uploaded.json()["contract_id"], uploaded.json()["is_signed_copy"]) == (
        contract.pk,
        True,
    )
    on_contract = http.get(f"/api/v1/contracts/{contract.pk}/files", **auth).json()["items"]
    on_client = http.get(f"/api/v1/clients/{romashka.pk}/files", **auth).json()["items"]
    assert [f["name"] for f in on_contract] == ["annex.pdf", "signed.pdf"]
    assert [(f["name"], f["contract_id"]) for f in on_client] == [
        ("annex.pdf", contract.pk),
        ("signed.pdf", contract.pk),
    ]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        (
            "setup.exe",
            b"MZ\x90\x00",
            "Files of this type are not accepted. Upload a PDF, an image, an office "
            "document, a text or CSV file, or a ZIP archive.",
        ),
        (
            "invoice.pdf",
            b"MZ\x90\x00" + b"\x00" * 100,
            "The file's contents do not match its extension “.pdf”: it is refused.",
        ),
        ("empty.pdf", b"", "The file is empty."),
    ],
)
def test_a_refused_file_gets_422_with_the_reason_and_nothing_is_stored(
    org, http, romashka, storage, name, content, reason
):
    auth = bearer(org.rep)
    events_before = AuditEvent.objects.count()

    response = http.post(
        f"/api/v1/clients/{romashka.pk}/files", {"file": SimpleUploadedFile(name, content)}, **auth
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"file": [reason]}
    assert Attachment.objects.count() == 0
    assert stored_files(storage) == []
    assert AuditEvent.objects.count() == events_before


def test_a_file_over_the_limit_gets_422_saying_the_limit(org, http, romashka, storage, settings):
    settings.ATTACHMENT_MAX_BYTES = 2 * 1024 * 1024
    big = SimpleUploadedFile("scan.pdf", PDF + b"0" * (2 * 1024 * 1024))

    response = http.post(f"/api/v1/clients/{romashka.pk}/files", {"file": big}, **bearer(org.rep))

    assert response.status_code == 422
    assert response.json()["fields"] == {"file": ["The file is too large: at most 2 MB."]}
    assert Attachment.objects.count() == 0
    assert stored_files(storage) == []


def test_upload_without_a_file_or_with_anothers_contract_names_the_field(org, http, romashka):
    other = ClientFactory(owner=org.rep, team=org.moscow, name="Vasilek")
    their_contract = contract_create(actor=org.rep, client=other, number="V-1")
    auth = bearer(org.rep)

    no_file = http.post(f"/api/v1/clients/{romashka.pk}/files", {}, **auth)
    wrong_contract = http.post(
        f"/api/v1/clients/{romashka.pk}/files",
        {"file": SimpleUploadedFile("a.pdf", PDF), "contract_id": str(their_contract.pk)},
        **auth,
    )

    assert no_file.status_code == 422
    assert no_file.json()["fields"] == {"file": ["Choose a file to upload."]}
    assert wrong_contract.status_code == 422
    assert wrong_contract.json()["fields"] == {"contract_id": ["This client has no such contract."]}
    assert Attachment.objects.count() == 0


def test_another_teams_rep_gets_404_everywhere_and_nothing_changes(
    org, http, romashka, offer, storage
):
    contract = contract_create(actor=org.rep, client=romashka, number="Д-1")
    auth = bearer(org.spb_rep)
    events_before = AuditEvent.objects.count()

    responses = [
        http.get(f"/api/v1/clients/{romashka.pk}/files", **auth),
        http.get(f"/api/v1/contracts/{contract.pk}/files", **auth),
        http.get(f"/api/v1/files/{offer.pk}", **auth),
        http.get(f"/api/v1/files/{offer.pk}/download", **auth),
        http.delete(f"/api/v1/files/{offer.pk}", **auth),
        http.post(
            f"/api/v1/clients/{romashka.pk}/files",
            {"file": SimpleUploadedFile("x.pdf", PDF)},
            **auth,
        ),
        http.post(
            f"/api/v1/contracts/{contract.pk}/files",
            {"file": SimpleUploadedFile("x.pdf", PDF)},
            **auth,
        ),
    ]

    assert [r.status_code for r in responses] == [404] * 7
    assert {r.json()["code"] for r in responses} == {"not_found"}
    assert list(Attachment.objects.values_list("name", "deleted_at")) == [("offer.pdf", None)]
    assert len(stored_files(storage)) == 1
    assert AuditEvent.objects.count() == events_before


def test_a_colleague_who_may_only_read_can_download_but_not_delete(org, http, offer):
    auth = bearer(org.colleague)

    download = http.get(f"/api/v1/files/{offer.pk}/download", **auth)
    deleted = http.delete(f"/api/v1/files/{offer.pk}", **auth)

    assert download.status_code == 200
    assert deleted.status_code == 403
    offer.refresh_from_db()
    assert offer.deleted_at is None


def test_deleted_file_goes_to_the_trash_and_is_no_longer_served(org, http, romashka, offer):
    auth = bearer(org.rep)

    deleted = http.delete(f"/api/v1/files/{offer.pk}", **auth)

    assert deleted.status_code == 204
    offer = Attachment.all_objects.get(pk=offer.pk)
    assert offer.deleted_by == org.rep
    assert http.get(f"/api/v1/clients/{romashka.pk}/files", **auth).json()["items"] == []
    assert http.get(f"/api/v1/files/{offer.pk}/download", **auth).status_code == 404
    assert AuditEvent.objects.for_record(offer).get().action == "delete"
    assert AuditEvent.objects.for_record(romashka).latest("id").changes == {
        "files": ["offer.pdf", None]
    }
