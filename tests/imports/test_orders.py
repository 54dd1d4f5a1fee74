"""The order import engine: clients and products found or created, lines grouped into
orders, re-runs that change nothing, rejected rows with their reasons, dry runs, and
resuming after a crash. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from lavka.audit.models import AuditEvent, OutboxEvent
from lavka.clients.models import Client
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.imports import orders as engine
from lavka.imports.models import ImportRowError, ImportRun, OrderImportLine
from lavka.imports.services import (
    import_can_resume,
    import_run_in_process,
    import_set_mapping,
    import_upload,
)
from lavka.sales.models import Order, OrderLine, Product, ProductCategory
from tests.factories import ClientFactory

HEADER = "Номер документа;Дата;Клиент;ИНН;Артикул;Товар;Категория;Количество;Цена;Сумма\n"
CSV = HEADER + (
    "РН-1;01.02.2025;ООО Ромашка;7707083893;A-1;Бумага А4;Бумага;2;300,00;600,00\n"
    "РН-1;01.02.2025;ООО Ромашка;7707083893;A-2;Ручка;Канцтовары;10;15,50;155,00\n"
    "РН-2;03.02.2025;ИП Петров;;A-1;Бумага А4;Бумага;1;300;300\n"
    "РН-3;03.02.2025;ИП Петров;;A-2;Ручка;Канцтовары;3;15,50;46,50\n"
)


def upload(actor, tmp_path, text, name="orders.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return import_upload(actor=actor, name=name, source=path, target="orders")


def run_import(actor, run, **kwargs):
    result = import_run_in_process(actor=actor, run=run, **kwargs)
    run.refresh_from_db()
    return result


def errors(run):
    return list(
        ImportRowError.objects.filter(run=run).values_list("row", "column", "value", "reason")
    )


def history():
    """Every order with its lines, as a user would read them."""
    return [
        (
            o.client.name,
            o.number,
            o.ordered_on,
            o.total,
            [
                (line.product.code, line.product_name, line.quantity, line.unit_price, line.amount)
                for line in o.lines.order_by("id")
            ],
        )
        for o in Order.objects.select_related("client").order_by("ordered_on", "number")
    ]


def test_columns_are_mapped_from_russian_headers(org, tmp_path):
    run = upload(org.admin, tmp_path, CSV)

    assert run.target == "orders"
    assert run.mapping == {
        "0": "number",
        "1": "ordered_on",
        "2": "client_name",
        "3": "client_inn",
        "4": "product_code",
        "5": "product_name",
        "6": "category",
        "7": "quantity",
        "8": "unit_price",
        "9": "amount",
    }


def test_import_creates_clients_products_and_orders_grouped_by_number(org, tmp_path):
    run = upload(org.admin, tmp_path, CSV)

    result = run_import(org.admin, run)

    assert result["counts"]["orders_created"] == 3
    assert result["counts"]["clients_created"] == 2
    assert result["counts"]["products_created"] == 2
    assert result["counts"]["rejected"] == 0
    assert history() == [
        (
            "ООО Ромашка",
            "РН-1",
            dt.date(2025, 2, 1),
            Decimal("755.00"),
            [
                ("A-1", "Бумага А4", Decimal("2.000"), Decimal("300.00"), Decimal("600.00")),
                ("A-2", "Ручка", Decimal("10.000"), Decimal("15.50"), Decimal("155.00")),
            ],
        ),
        (
            "ИП Петров",
            "РН-2",
            dt.date(2025, 2, 3),
            Decimal("300.00"),
            [("A-1", "Бумага А4", Decimal("1.000"), Decimal("300.00"), Decimal("300.00"))],
        ),
        (
            "ИП Петров",
            "РН-3",
            dt.date(2025, 2, 3),
            Decimal("46.50"),
            [("A-2", "Ручка", Decimal("3.000"), Decimal("15.50"), Decimal("46.50"))],
        ),
    ]
    romashka = Client.objects.get(inn="7707083893")
    assert romashka.name == "ООО Ромашка"
    assert romashka.owner == org.admin
    paper = Product.objects.get(code="A-1")
    assert paper.category.name == "Бумага"
    assert set(
        OrderLine.objects.filter(product=paper).values_list("category__name", flat=True)
    ) == {"Бумага"}
    order = Order.objects.get(number="РН-1")
    assert (order.source, order.external_id, order.owner, order.status) == (
        "import",
        "РН-1/2025",  # numbers start again each year in accounting systems
        org.admin,
        Order.Status.CONFIRMED,
    )
    assert OrderImportLine.objects.count() == 0  # staging is emptied
    assert run.status == ImportRun.Status.DONE


def test_existing_clients_and_products_are_matched_not_created(org, tmp_path):
    existing = ClientFactory(owner=org.rep, name="Ромашка (наша)", inn="7707083893")
    by_name = ClientFactory(owner=org.rep, name="ИП Петров")
    pen = Product.objects.create(code="P-9", name="Ручка")
    paper = Product.objects.create(code="A-1", name="Бумага офисная")
    text = (
        "Дата;Клиент;ИНН;Артикул;Товар;Сумма\n"
        "01.02.2025;ООО Ромашка;7707 0838 93;A-1;Бумага А4;600\n"  # INN with spaces
        "02.02.2025;ИП Петров;;;Ручка;100\n"  # the product by name, the client by name
    )
    run = upload(org.admin, tmp_path, text)

    result = run_import(org.admin, run)

    assert result["counts"]["clients_created"] == 0
    assert result["counts"]["products_created"] == 0
    assert Client.objects.count() == 2
    lines = {
        line.order.client_id: line.product_id for line in OrderLine.objects.select_related("order")
    }
    assert lines == {existing.pk: paper.pk, by_name.pk: pen.pk}
    # The order is the client owner's, like the rest of the client's history.
    assert set(Order.objects.values_list("owner_id", flat=True)) == {org.rep.pk}


def test_without_order_numbers_lines_of_one_client_and_day_make_one_order(org, tmp_path):
    text = (
        "Дата;Код клиента;Клиент;Товар;Количество;Цена\n"
        "01.02.2025;K-1;Альфа;Бумага;2;10\n"
        "01.02.2025;K-1;Альфа;Ручка;1;5,5\n"
        "02.02.2025;K-1;Альфа;Бумага;1;10\n"
        "01.02.2025;K-2;Бета;Бумага;1;10\n"
    )
    run = upload(org.admin, tmp_path, text)

    result = run_import(org.admin, run)

    assert result["counts"]["orders_created"] == 3
    alpha = Client.objects.get(external_id="K-1")
    first = Order.objects.get(client=alpha, ordered_on=dt.date(2025, 2, 1))
    assert first.total == Decimal("25.50")  # 2 x 10 + 1 x 5.50: amounts from the prices
    assert first.lines.count() == 2
    assert first.number == ""
    assert first.external_id == f"{alpha.pk}:2025-02-01"


def test_running_the_same_file_again_changes_nothing(org, tmp_path):
    run_import(org.admin, upload(org.admin, tmp_path, CSV))
    before = history()
    versions = dict(Order.objects.values_list("id", "version"))
    line_ids = set(OrderLine.objects.values_list("id", flat=True))

    again = run_import(org.admin, upload(org.admin, tmp_path, CSV, name="again.csv"))

    counts = again["counts"]
    assert (counts["orders_created"], counts["orders_updated"], counts["orders_unchanged"]) == (
        0,
        0,
        3,
    )
    assert (counts["clients_created"], counts["products_created"]) == (0, 0)
    assert history() == before
    assert dict(Order.objects.values_list("id", "version")) == versions
    assert set(OrderLine.objects.values_list("id", flat=True)) == line_ids


def test_a_changed_order_gets_the_files_lines(org, tmp_path):
    run_import(org.admin, upload(org.admin, tmp_path, CSV))
    changed = CSV.replace(
        "РН-2;03.02.2025;ИП Петров;;A-1;Бумага А4;Бумага;1;300;300",
        ("РН-2;03.02.2025;ИП Петров;;A-1;Бумага А4;Бумага;4;300;1200"),
    )

    result = run_import(org.admin, upload(org.admin, tmp_path, changed, name="changed.csv"))

    assert (result["counts"]["orders_updated"], result["counts"]["orders_unchanged"]) == (1, 2)
    order = Order.objects.get(number="РН-2")
    assert order.total == Decimal("1200.00")
    assert order.version == 2
    assert list(order.lines.values_list("quantity", flat=True)) == [Decimal("4.000")]


def test_every_rejected_row_is_listed_with_its_column_and_reason(org, tmp_path):
    text = HEADER + (
        "РН-1;01.02.2025;ООО Ромашка;7707083893;A-1;Бумага;Бумага;2;300;600\n"
        "РН-2;31.02.2025;ООО Ромашка;7707083893;A-1;Бумага;Бумага;2;300;600\n"
        "РН-3;01.02.2025;ООО Ромашка;1234567890;A-1;Бумага;Бумага;2;300;600\n"
        "РН-4;01.02.2025;ООО Ромашка;7707083893;A-1;Бумага;Бумага;-2;300;600\n"
        "РН-5;01.02.2025;ООО Ромашка;7707083893;A-1;Бумага;Бумага;2;три;600\n"
        "РН-6;01.02.2025;;;A-1;Бумага;Бумага;2;300;600\n"
        "РН-7;01.02.2025;ООО Ромашка;7707083893;;;;2;300;600\n"
        "РН-1;02.02.2025;ООО Ромашка;7707083893;A-1;Бумага;Бумага;1;300;300\n"
    )
    run = upload(org.admin, tmp_path, text)

    result = run_import(org.admin, run)

    assert result["counts"]["rejected"] == 7
    assert errors(run) == [
        (3, "Дата", "31.02.2025", "Enter a date such as 31.12.2025 or 2025-12-31."),
        (4, "ИНН", "1234567890", "INN “1234567890” is not valid: check the digits."),
        (5, "Количество", "-2", "Enter a number greater than zero."),
        (6, "Цена", "три", "Enter a number."),
        (
            7,
            "Клиент",
            "",
            "The client is missing: give its name, external ID, INN or email.",
        ),
        (8, "Артикул", "", "The product is missing: give its code or name."),
        (
            9,
            "Номер документа",
            "РН-1",
            "Order РН-1 already began in row 2 with another client or date: "
            "one order has one client and one date.",
        ),
    ]
    assert Order.objects.get().lines.count() == 1
    report = (tmp_path / "data" / run.error_report).read_text(encoding="utf-8-sig")
    assert "9,Номер документа,РН-1,Order РН-1 already began in row 2" in report


def test_reasons_are_in_the_users_language(org, tmp_path):
    org.admin.language = "ru"
    org.admin.save(update_fields=["language"])
    text = HEADER + "РН-1;01.02.2025;ООО Ромашка;;A-1;Бумага;;три;1;1\n"
    run = upload(org.admin, tmp_path, text)

    with translation.override("en"):  # the program's language is not the user's
        run_import(org.admin, run)

    assert ImportRowError.objects.get(run=run).reason == "Введите число."


def test_dry_run_writes_nothing_and_counts_what_an_import_would_do(org, tmp_path):
    text = CSV + "РН-4;31.02.2025;ИП Петров;;A-2;Ручка;Канцтовары;3;15,50;46,50\n"
    run = upload(org.admin, tmp_path, text)

    result = run_import(org.admin, run, dry_run=True)

    assert result["counts"] == {
        "lines": 4,
        "orders": 3,
        "clients_created": 2,
        "products_created": 2,
        "rejected": 1,
        "dry_run": True,
    }
    assert errors(run)[0][:2] == (6, "Дата")
    assert Order.objects.count() == 0
    assert Client.objects.count() == 0
    assert Product.objects.count() == 0
    assert ProductCategory.objects.count() == 0
    assert OrderImportLine.objects.count() == 0
    assert run.status == ImportRun.Status.UPLOADED


def test_one_audit_event_and_one_outbox_event_per_run(org, tmp_path):
    run = upload(org.admin, tmp_path, CSV)

    run_import(org.admin, run)

    events = OutboxEvent.objects.filter(kind="orders.imported")
    assert [(e.payload["run_id"], e.payload["orders_created"]) for e in events] == [(run.pk, 3)]
    audited = AuditEvent.objects.filter(object_id=str(run.pk), changes__has_key="orders_imported")
    assert audited.count() == 1


def test_a_crash_while_staging_leaves_whole_batches_and_the_import_resumes(
    org, tmp_path, monkeypatch
):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    run = upload(org.admin, tmp_path, CSV)
    calls = []

    def crash(done, total):
        calls.append(done)
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        import_run_in_process(actor=org.admin, run=run, progress=crash)
    run.refresh_from_db()

    assert run.status == ImportRun.Status.FAILED
    assert run.committed_row == 3  # the first batch (rows 2 and 3) committed whole
    assert OrderImportLine.objects.filter(run_id=run.pk).count() == 2
    assert Order.objects.count() == 0  # orders are written only once all is staged
    assert import_can_resume(run)

    result = run_import(org.admin, run)

    assert result["counts"]["orders_created"] == 3
    assert result["counts"]["clients_created"] == 2
    assert Client.objects.count() == 2
    assert OrderLine.objects.count() == 4
    assert run.status == ImportRun.Status.DONE


def test_a_crash_while_writing_orders_leaves_no_order_and_the_import_resumes(
    org, tmp_path, monkeypatch
):
    run = upload(org.admin, tmp_path, CSV)

    def crash(**kwargs):
        raise RuntimeError("killed")

    monkeypatch.setattr(engine, "outbox_publish", crash)
    with pytest.raises(RuntimeError):
        import_run_in_process(actor=org.admin, run=run)
    run.refresh_from_db()

    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0
    assert run.status == ImportRun.Status.FAILED

    monkeypatch.undo()
    result = run_import(org.admin, run)

    assert result["counts"]["orders_created"] == 3
    assert OrderLine.objects.count() == 4


def test_a_rep_cannot_add_products_nor_use_someone_elses_client(org, tmp_path):
    ClientFactory(owner=org.spb_rep, name="Чужой", inn="7707083893")
    Product.objects.create(code="A-1", name="Бумага")
    text = (
        "Дата;Клиент;ИНН;Артикул;Сумма\n"
        "01.02.2025;Чужой;7707083893;A-1;10\n"
        "01.02.2025;Свой;;A-1;10\n"
        "01.02.2025;Свой;;NEW;10\n"
    )
    run = upload(org.rep, tmp_path, text)

    result = run_import(org.rep, run)

    assert errors(run) == [
        (2, "ИНН", "7707083893", "A client with this INN exists and is not yours."),
        (
            4,
            "Артикул",
            "NEW",
            "There is no such product, and only an administrator may add products.",
        ),
    ]
    assert result["counts"]["orders_created"] == 1
    assert Order.objects.get().client.name == "Свой"


def test_someone_who_may_not_write_sales_cannot_import_orders(org, tmp_path):
    path = tmp_path / "o.csv"
    path.write_text(CSV, encoding="utf-8")

    with pytest.raises(NotPermitted):
        import_upload(actor=org.analyst, name="o.csv", source=path, target="orders")


def test_a_mapping_without_a_date_or_an_amount_is_refused_by_name(org, tmp_path):
    run = upload(org.admin, tmp_path, CSV)

    with pytest.raises(ValidationFailed) as failed:
        import_set_mapping(actor=org.admin, run=run, mapping={"0": "client_name", "1": "bogus"})
    assert failed.value.fields == {"1": ["Unknown field."]}

    import_set_mapping(actor=org.admin, run=run, mapping={"2": "client_name"})
    with pytest.raises(ValidationFailed) as failed:
        import_run_in_process(actor=org.admin, run=run)
    assert failed.value.fields["mapping"] == [
        "Map a column to the order date.",
        "Map a column to the product (code or name).",
        "Map a column to the amount or the unit price.",
    ]


def test_xlsx_files_import_too(org, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Order number", "Date", "Customer", "SKU", "Product", "Qty", "Amount", "Status"])
    sheet.append(["INV-1", dt.datetime(2025, 3, 1), "Acme", "S-1", "Widget", 2, 19.9, "paid"])
    sheet.append(["INV-1", dt.datetime(2025, 3, 1), "Acme", "S-2", "Gadget", 1, 5, "paid"])
    path = tmp_path / "orders.xlsx"
    book.save(path)
    run = import_upload(actor=org.admin, name="orders.xlsx", source=path, target="orders")

    result = run_import(org.admin, run)

    assert result["counts"]["rejected"] == 0, errors(run)
    order = Order.objects.get()
    assert (order.number, order.ordered_on, order.status, order.total) == (
        "INV-1",
        dt.date(2025, 3, 1),
        Order.Status.PAID,
        Decimal("24.90"),
    )


def test_staged_lines_lost_in_a_database_crash_are_staged_again_on_resume(
    org, tmp_path, monkeypatch
):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    run = upload(org.admin, tmp_path, CSV)

    def crash(done, total):
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        import_run_in_process(actor=org.admin, run=run, progress=crash)
    # On PostgreSQL the staging table is UNLOGGED: a database crash empties it.
    OrderImportLine.objects.all().delete()
    run.refresh_from_db()

    result = run_import(org.admin, run)

    assert result["counts"]["orders_created"] == 3
    assert result["counts"]["lines"] == 4
    assert Client.objects.count() == 2  # the clients of the first attempt are found again
    assert OrderLine.objects.count() == 4


@pytest.mark.parametrize("set_check_orders", [1, 10**9])
def test_while_orders_are_written_others_can_read_orders_clients_and_users(
    transactional_db, org, tmp_path, monkeypatch, set_check_orders
):
    """The orders phase takes no lock that stops readers: another session reads the
    orders, their lines, the clients, the products and the users (signing in) while
    the import's transaction is open, and sees the orders once it commits; whether the
    keys are checked row by row or, from SET_CHECK_ORDERS orders on, set-based. The
    foreign keys and their triggers are all there afterwards."""
    import psycopg
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer and readers that never wait")

    def keys():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE contype = 'f' AND conrelid IN "
                "('sales_order'::regclass, 'sales_orderline'::regclass) ORDER BY 1, 2"
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
                "WHERE tgrelid IN ('sales_order'::regclass, 'sales_orderline'::regclass) "
                "ORDER BY 1, 2"
            )
            return constraints, cursor.fetchall()

    before = keys()
    monkeypatch.setattr(engine, "SET_CHECK_ORDERS", set_check_orders)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    publish = engine.outbox_publish
    seen = []

    def publish_while_another_session_reads(**kwargs):
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute("SET lock_timeout = '2s'")
            for table in (
                "sales_order",
                "sales_orderline",
                "clients_client",
                "sales_product",
                "identity_user",
            ):
                seen.append((table, other.execute(f"SELECT count(*) FROM {table}").fetchone()[0]))
        return publish(**kwargs)

    monkeypatch.setattr(engine, "outbox_publish", publish_while_another_session_reads)
    users = connection.cursor().execute("SELECT count(*) FROM identity_user").fetchone()[0]

    result = run_import(org.admin, upload(org.admin, tmp_path, CSV))

    assert seen == [  # what was committed before the import's transaction
        ("sales_order", 0),
        ("sales_orderline", 0),
        ("clients_client", 2),
        ("sales_product", 2),
        ("identity_user", users),
    ]
    assert result["counts"]["orders_created"] == 3
    assert OrderLine.objects.count() == 4
    assert keys() == before
    assert len(before[0]) >= 5
    assert {enabled for _t, _n, enabled in before[1]} == {"O"}


@pytest.mark.parametrize("set_check_orders", [1, 10**9])
def test_a_line_whose_product_vanished_before_the_orders_are_written_fails_whole(
    transactional_db, org, tmp_path, monkeypatch, set_check_orders
):
    """Every key of every written row is checked, row by row or set-based: a product
    deleted between staging and writing (here: while the import was stopped) fails the
    orders' transaction, and nothing is written."""
    from django.db import IntegrityError

    monkeypatch.setattr(engine, "SET_CHECK_ORDERS", set_check_orders)
    run = upload(org.admin, tmp_path, CSV)

    def stop_after_staging(done, total):
        if done == total:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        import_run_in_process(actor=org.admin, run=run, progress=stop_after_staging)
    Product.objects.filter(code="A-2").delete()
    run.refresh_from_db()

    with pytest.raises(IntegrityError):
        import_run_in_process(actor=org.admin, run=run)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert Order.objects.count() == 0
    assert OrderLine.objects.count() == 0


def test_a_rep_cannot_take_over_someone_elses_order_by_its_number(org, tmp_path):
    ClientFactory(owner=org.spb_rep, name="Их клиент", external_id="THEIRS")
    ClientFactory(owner=org.rep, name="Мой клиент", external_id="MINE")
    Product.objects.create(code="A-1", name="Бумага")
    theirs = "Номер документа;Дата;Код клиента;Артикул;Сумма\nРН-1;01.02.2025;THEIRS;A-1;10\n"
    run_import(org.admin, upload(org.admin, tmp_path, theirs))
    mine = (
        "Номер документа;Дата;Код клиента;Артикул;Сумма\n"
        "РН-1;01.02.2025;MINE;A-1;99\n"
        "РН-2;01.02.2025;MINE;A-1;5\n"
    )
    run = upload(org.rep, tmp_path, mine, name="mine.csv")

    result = run_import(org.rep, run)

    assert errors(run) == [
        (2, "Номер документа", "РН-1", "This order exists and is not yours to change.")
    ]
    assert result["counts"]["rejected"] == 1
    assert result["counts"]["orders_created"] == 1
    order = Order.objects.get(number="РН-1")
    assert (order.client.external_id, order.total) == ("THEIRS", Decimal("10.00"))


def test_the_same_number_in_another_year_is_another_order(org, tmp_path):
    text = HEADER + (
        "РН-1;15.03.2024;ООО Ромашка;7707083893;A-1;Бумага;Бумага;1;10;10\n"
        "РН-1;01.02.2025;ИП Петров;;A-1;Бумага;Бумага;2;10;20\n"
    )

    result = run_import(org.admin, upload(org.admin, tmp_path, text))

    assert result["counts"]["orders_created"] == 2
    assert result["counts"]["rejected"] == 0
    assert sorted(Order.objects.values_list("external_id", "total")) == [
        ("РН-1/2024", Decimal("10.00")),
        ("РН-1/2025", Decimal("20.00")),
    ]


# A client, a product and a category new in each of three batches of two lines, a
# rejected row in the second: what the background writers must keep apart and in order.
BATCHED = HEADER + (
    "РН-1;01.02.2025;ООО Ромашка;7707083893;A-1;Бумага А4;Бумага;2;300,00;600,00\n"
    "РН-1;01.02.2025;ООО Ромашка;7707083893;A-2;Ручка;Канцтовары;10;15,50;155,00\n"
    "РН-2;03.02.2025;ИП Петров;;B-1;Скрепки;Мелочи;1;30;30\n"
    "РН-3;31.02.2025;ИП Петров;;A-2;Ручка;Канцтовары;3;15,50;46,50\n"
    "РН-4;05.02.2025;ООО Лютик;;C-1;Степлер;Техника;1;900;900\n"
    "РН-5;06.02.2025;ИП Петров;;A-1;Бумага А4;Бумага;1;300;300\n"
)


def batched_outcome(run):
    return (
        sorted(Client.objects.values_list("name", flat=True)),
        sorted(Product.objects.values_list("code", "category__name")),
        sorted(ProductCategory.objects.values_list("name", flat=True)),
        [(o[1], o[3], [line[0] for line in o[4]]) for o in history()],
        [e[:2] for e in errors(run)],
    )


BATCHED_OUTCOME = (
    ["ИП Петров", "ООО Лютик", "ООО Ромашка"],
    [("A-1", "Бумага"), ("A-2", "Канцтовары"), ("B-1", "Мелочи"), ("C-1", "Техника")],
    ["Бумага", "Канцтовары", "Мелочи", "Техника"],
    [
        ("РН-1", Decimal("755.00"), ["A-1", "A-2"]),
        ("РН-2", Decimal("30.00"), ["B-1"]),
        ("РН-4", Decimal("900.00"), ["C-1"]),
        ("РН-5", Decimal("300.00"), ["A-1"]),
    ],
    [(5, "Дата")],
)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("workers", [0, 2])
def test_staging_on_background_writers_gives_the_same_history(org, tmp_path, monkeypatch, workers):
    # With reading processes and outside a transaction, PostgreSQL writes each batch
    # (its new clients, products and categories, its staged lines and errors) on
    # background threads while the next batch is matched.
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    run = upload(org.admin, tmp_path, BATCHED)

    result = run_import(org.admin, run, workers=workers)

    assert batched_outcome(run) == BATCHED_OUTCOME
    counts = result["counts"]
    assert (counts["clients_created"], counts["products_created"]) == (3, 4)
    assert (counts["orders_created"], counts["rejected"]) == (4, 1)
    assert run.committed_row == 7
    assert run.status == ImportRun.Status.DONE


@pytest.mark.django_db(transaction=True)
def test_a_batch_failing_on_a_background_writer_leaves_the_earlier_ones_whole(
    org, tmp_path, monkeypatch
):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    run = upload(org.admin, tmp_path, BATCHED)
    real_stage = engine._stage

    def stage_and_fail_the_second(lines):
        # Two writer threads: the second batch may be written before the first.
        if any("Скрепки" in line for line in lines):
            raise RuntimeError("disk full")
        real_stage(lines)

    monkeypatch.setattr(engine, "_stage", stage_and_fail_the_second)
    with pytest.raises(RuntimeError, match="disk full"):
        import_run_in_process(actor=org.admin, run=run, workers=2)
    run.refresh_from_db()

    # Only the first batch (rows 2 and 3) is there: its client, products, categories
    # and staged lines; nothing of the second batch's new client, product or category.
    assert run.status == ImportRun.Status.FAILED
    assert run.committed_row == 3
    assert list(Client.objects.values_list("name", flat=True)) == ["ООО Ромашка"]
    assert sorted(Product.objects.values_list("code", flat=True)) == ["A-1", "A-2"]
    assert sorted(ProductCategory.objects.values_list("name", flat=True)) == [
        "Бумага",
        "Канцтовары",
    ]
    assert OrderImportLine.objects.filter(run_id=run.pk).count() == 2
    assert Order.objects.count() == 0

    monkeypatch.setattr(engine, "_stage", real_stage)
    result = run_import(org.admin, run, workers=2)

    assert batched_outcome(run) == BATCHED_OUTCOME
    assert result["counts"]["clients_created"] == 3
    assert run.status == ImportRun.Status.DONE


@pytest.mark.parametrize("set_check_orders", [1, 10**9])
def test_a_changed_order_deleted_while_the_orders_are_written_fails_whole(
    transactional_db, org, tmp_path, monkeypatch, set_check_orders
):
    """An order the file changes, found in Lavka, then deleted by someone else before
    the import locks the orders table: its new lines would point nowhere, so the
    orders' transaction fails whole, however the keys are checked."""
    import psycopg
    from django.db import IntegrityError, connection

    if connection.vendor != "postgresql":
        pytest.skip("another session writing while the import's transaction is open")
    run_import(org.admin, upload(org.admin, tmp_path, CSV))
    changed = CSV.replace(
        "РН-2;03.02.2025;ИП Петров;;A-1;Бумага А4;Бумага;1;300;300",
        "РН-2;03.02.2025;ИП Петров;;A-1;Бумага А4;Бумага;4;300;1200",
    )
    run = upload(org.admin, tmp_path, changed, name="changed.csv")
    monkeypatch.setattr(engine, "SET_CHECK_ORDERS", set_check_orders)
    real_refuse = engine._refuse_others_orders
    doomed = Order.objects.get(number="РН-2").pk

    def deleted_meanwhile(cursor, run, actor):
        # Another session removes the order (as purging the trash does) and commits.
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute("DELETE FROM sales_orderline WHERE order_id = %s", [doomed])
            other.execute("DELETE FROM sales_order WHERE id = %s", [doomed])
        return real_refuse(cursor, run, actor)

    monkeypatch.setattr(engine, "_refuse_others_orders", deleted_meanwhile)
    with pytest.raises(IntegrityError):
        import_run_in_process(actor=org.admin, run=run)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert sorted(Order.objects.values_list("number", flat=True)) == ["РН-1", "РН-3"]
