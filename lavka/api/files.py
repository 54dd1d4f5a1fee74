"""Files API: attachments on clients and on contracts. Upload (multipart), list,
download and delete, through the same selectors and services as the client card; the
service enforces the size limit (LAVKA_ATTACHMENT_MAX_MB) and the accepted types
(judged by extension and by the first bytes)."""

import datetime as dt
from typing import Any

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from lavka.api.pagination import LimitOffset
from lavka.clients.models import Contract
from lavka.clients.selectors import client_get
from lavka.clients.selectors.blocks import attachment_get, attachment_list, contract_get
from lavka.clients.services.blocks import attachment_add, attachment_remove
from lavka.core.errors import NotFound, ValidationFailed

router = Router(tags=["files"])


class FileOut(Schema):
    id: int
    client_id: int
    contract_id: int | None
    name: str
    size: int
    content_type: str
    is_signed_copy: bool
    uploaded_at: dt.datetime
    uploaded_by_id: int | None
    download_url: str

    @staticmethod
    def resolve_download_url(obj: Any) -> str:
        return f"/api/v1/files/{obj.pk}/download"


def _upload(file: UploadedFile | None) -> UploadedFile:
    if file is None or not file.name:
        raise ValidationFailed(fields={"file": [_("Choose a file to upload.")]})
    return file


@router.get("/clients/{client_id}/files", response=list[FileOut], operation_id="list_client_files")
@paginate(LimitOffset)
def list_client_files(request: HttpRequest, client_id: int) -> Any:
    """Every live file of the client, those on its contracts included (see
    `contract_id`), newest first."""
    return attachment_list(viewer=request.user, client_id=client_id)


@router.post("/clients/{client_id}/files", response={201: FileOut}, operation_id="upload_file")
def upload_file(
    request: HttpRequest,
    client_id: int,
    file: UploadedFile | None = File(None),  # noqa: B008
    contract_id: int | None = Form(None),
    is_signed_copy: bool = Form(False),
) -> Any:
    """multipart/form-data with `file`; `contract_id` attaches it to one of the client's
    contracts, `is_signed_copy` marks it as that contract's signed copy."""
    client = client_get(viewer=request.user, client_id=client_id)
    contract: Contract | None = None
    if contract_id is not None:
        try:
            contract = contract_get(viewer=request.user, contract_id=contract_id)
        except NotFound:
            contract = None
        if contract is None or contract.client_id != client.pk:
            raise ValidationFailed(fields={"contract_id": [_("This client has no such contract.")]})
    attachment = attachment_add(
        actor=request.user,
        client=client,
        upload=_upload(file),
        contract=contract,
        is_signed_copy=is_signed_copy,
    )
    return Status(201, attachment)


@router.get(
    "/contracts/{contract_id}/files", response=list[FileOut], operation_id="list_contract_files"
)
@paginate(LimitOffset)
def list_contract_files(request: HttpRequest, contract_id: int) -> Any:
    return attachment_list(viewer=request.user, contract_id=contract_id)


@router.post(
    "/contracts/{contract_id}/files", response={201: FileOut}, operation_id="upload_contract_file"
)
def upload_contract_file(
    request: HttpRequest,
    contract_id: int,
    file: UploadedFile | None = File(None),  # noqa: B008
    is_signed_copy: bool = Form(False),
) -> Any:
    contract = contract_get(viewer=request.user, contract_id=contract_id)
    attachment = attachment_add(
        actor=request.user,
        client=contract.client,
        upload=_upload(file),
        contract=contract,
        is_signed_copy=is_signed_copy,
    )
    return Status(201, attachment)


@router.get("/files/{file_id}", response=FileOut, operation_id="get_file")
def get_file(request: HttpRequest, file_id: int) -> Any:
    return attachment_get(viewer=request.user, attachment_id=file_id)


@router.get("/files/{file_id}/download", operation_id="download_file")
def download_file(request: HttpRequest, file_id: int) -> FileResponse:
    """The file itself, streamed, with its content type and its name in
    Content-Disposition (RFC 6266, non-ASCII names as filename*)."""
    attachment = attachment_get(viewer=request.user, attachment_id=file_id)
    try:
        stream = attachment.file.open("rb")
    except FileNotFoundError:
        raise NotFound(resource="attachment", id=file_id) from None
    response = FileResponse(
        stream,
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@router.delete("/files/{file_id}", response={204: None}, operation_id="delete_file")
def delete_file(request: HttpRequest, file_id: int) -> Any:
    """Move the file to the trash."""
    attachment = attachment_get(viewer=request.user, attachment_id=file_id)
    attachment_remove(actor=request.user, attachment=attachment)
    return Status(204, None)
