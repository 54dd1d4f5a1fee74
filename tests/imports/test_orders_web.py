"""The order import wizard: upload, columns, preview, dry run, import, report."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from lavka.imports.models import ImportRun, SavedMapping
from lavka.jobs.models import Job
from lavka.sales.models import Order

CSV = (
    "Номер документа;Дата;Контрагент;ИНН;Артикул;Номенклатура;Кол-во;Цена;Сумма\n"
    "РН-1;01.02.2025;ООО Ромашка;7707083893;A-1;Бумага;2;300;600\n"
    "РН-1;01.02.2025;ООО Ромашка;7707083893;A-2;Ручка;10;15,5;155\n"
    "РН-2;31.02.2025;ИП Петров;;A-1;Бумага;1;300;300\n"
)


def test_the_wizard_imports_orders_from_upload_to_report(
    org, client, django_capture_on_commit_callbacks
):
    client.force_login(org.admin)

    page = client.get("/imports/orders/")
    assert page.status_code == 200
    assert "Import orders" in page.content.decode()

    uploaded = client.post(
        "/imports/orders/", {"file": SimpleUploadedFile("1c.csv", CSV.encode("cp1251"))}
    )
    run = ImportRun.objects.get()
    assert run.target == "orders"
    assert uploaded["Location"] == f"/imports/{run.pk}/mapping/"

    mapping_page = client.get(f"/imports/{run.pk}/mapping/").content.decode()
    assert '<option value="product_code" selected>' in mapping_page
    assert '<option value="client_inn" selected>' in mapping_page

    form = {f"col-{i}": field for i, field in run.mapping.items()}
    mapped = client.post(f"/imports/{run.pk}/mapping/", {**form, "save_as": "1C"})
    assert mapped["Location"] == f"/imports/{run.pk}/preview/"
    assert SavedMapping.objects.get(name="1C").target == "orders"

    preview = client.get(f"/imports/{run.pk}/preview/").content.decode()
    assert "Enter a date such as 31.12.2025 or 2025-12-31." in preview

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/imports/{run.pk}/run/", {"dry_run": "1"})
    dry = client.get(f"/imports/{run.pk}/").content.decode()
    assert Order.objects.count() == 0
    assert "Orders in the file" in dry
    assert Job.objects.get(kind="orders.import").status == Job.Status.SUCCEEDED

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/imports/{run.pk}/run/")
    assert started["Location"] == f"/imports/{run.pk}/"
    shown = client.get(f"/imports/{run.pk}/").content.decode()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE
    assert run.counts["orders_created"] == 1
    assert "Orders created" in shown
    assert 'data-testid="go-to-orders"' in shown
    assert Order.objects.get().total == 755

    report = client.get(f"/imports/{run.pk}/errors.csv")
    body = b"".join(report.streaming_content).decode("utf-8-sig")
    assert "4,Дата,31.02.2025,Enter a date such as 31.12.2025 or 2025-12-31." in body


def test_starting_without_a_date_column_says_what_is_missing(org, client):
    client.force_login(org.admin)
    client.post("/imports/orders/", {"file": SimpleUploadedFile("x.csv", CSV.encode())})
    run = ImportRun.objects.get()
    client.post(f"/imports/{run.pk}/mapping/", {"col-2": "client_name", "col-5": "product_name"})

    response = client.post(f"/imports/{run.pk}/run/", follow=True)

    assert "Map a column to the order date." in response.content.decode()
    assert Order.objects.count() == 0


def test_someone_without_sales_write_access_cannot_open_it(org, client):
    client.force_login(org.analyst)

    response = client.get("/imports/orders/")

    assert response.status_code == 403


def test_the_client_wizard_lists_only_client_imports(org, client):
    client.force_login(org.admin)
    client.post("/imports/orders/", {"file": SimpleUploadedFile("orders-file.csv", CSV.encode())})

    assert "orders-file.csv" not in client.get("/imports/").content.decode()
    assert "orders-file.csv" in client.get("/imports/orders/").content.decode()


def test_the_api_uploads_an_order_file_and_imports_it(org, django_capture_on_commit_callbacks):
    from django.test import Client as HttpClient

    from lavka.identity.models import ApiToken
    from lavka.identity.services import api_token_create

    _token, raw = api_token_create(actor=org.admin, name="t", scope=ApiToken.Scope.READ_WRITE)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    http = HttpClient()

    uploaded = http.post(
        "/api/v1/imports?target=orders",
        {"file": SimpleUploadedFile("o.csv", CSV.encode(), content_type="text/csv")},
        **headers,
    )
    assert uploaded.status_code == 201, uploaded.content
    body = uploaded.json()
    assert body["target"] == "orders"
    assert body["mapping"]["1"] == "ordered_on"
    with django_capture_on_commit_callbacks(execute=True):
        started = http.post(f"/api/v1/imports/{body['id']}/start", **headers)
    assert started.status_code == 202
    run = http.get(f"/api/v1/imports/{body['id']}", **headers).json()
    assert run["status"] == "done"
    assert run["counts"]["orders_created"] == 1
    errors = http.get(f"/api/v1/imports/{body['id']}/errors", **headers).json()
    assert [(e["row"], e["column"]) for e in errors["items"]] == [(4, "Дата")]


def test_the_run_page_costs_a_fixed_number_of_queries(
    org, client, tmp_path, django_assert_max_num_queries
):
    from lavka.imports.services import import_run_in_process, import_upload

    bad = "".join(f"РН-{n};31.02.2025;Клиент {n};;A-1;Бумага;1;1;1\n" for n in range(50))
    path = tmp_path / "o.csv"
    path.write_text(CSV + bad, encoding="utf-8")
    run = import_upload(actor=org.admin, name="o.csv", source=path, target="orders")
    import_run_in_process(actor=org.admin, run=run)
    client.force_login(org.admin)

    with django_assert_max_num_queries(12):
        response = client.get(f"/imports/{run.pk}/")

    assert response.content.decode().count("31.02.2025") == 51
