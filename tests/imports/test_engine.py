from __future__ import annotations

import contextlib

import pytest

from lavka.audit.context import audit_context
from lavka.audit.models import AuditEvent, OutboxEvent
from lavka.clients.models import Client, ContactPoint
from lavka.core.errors import NotFound
from lavka.imports import engine
from lavka.imports.models import ImportRowError, ImportRun
from lavka.imports.readers import FileProblem
from lavka.imports.services import (
    MAX_FILE_BYTES,
    import_resume,
    import_run_in_process,
    import_start,
    import_upload,
)
from lavka.jobs.models import Job
from tests.factories import ClientFactory

BAD_CSV = (
    "Название;Email;Телефон;ИНН;Город\n"
    "ООО Ромашка;info@romashka.ru;8 (495) 123-45-67;7707083893;Москва\n"
    "ООО Лютик;lutik@example;+7 916 123-45-67;;Тверь\n"
    "ООО Василёк;vasilek@example.ru;12345;;Казань\n"
    "ООО Кактус;kaktus@example.ru;;1234567890;Омск\n"
    ";noname@example.ru;;;Пермь\n"
    "ИП Иванов;ivanov@example.ru;+7 912 000 11 22;7736207543;Тула\n"
)


def upload(actor, tmp_path, text, name="clients.csv", encoding="cp1251"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return import_upload(actor=actor, name=name, source=path)


def run_import(actor, run, **kwargs):
    result = import_run_in_process(actor=actor, run=run, **kwargs)
    run.refresh_from_db()
    return result


def errors(run):
    return list(
        ImportRowError.objects.filter(run=run).values_list(
            "row", "column", "value", "reason", "kind"
        )
    )


def test_windows_1251_semicolon_file_imports_good_rows_and_reports_each_bad_one(org, tmp_path):
    run = upload(org.rep, tmp_path, BAD_CSV)

    result = run_import(org.rep, run)

    assert result["counts"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 4,
    }
    assert errors(run) == [
        (3, "Email", "lutik@example", "“lutik@example” is not a valid email address.", "rejected"),
        (4, "Телефон", "12345", "“12345” is not a valid phone number.", "rejected"),
        (5, "ИНН", "1234567890", "INN “1234567890” is not valid: check the digits.", "rejected"),
        (6, "Название", "", "Enter the client's name.", "rejected"),
    ]
    romashka = Client.objects.get(name="ООО Ромашка")
    assert (romashka.email, romashka.phone, romashka.inn, romashka.city, romashka.owner) == (
        "info@romashka.ru",
        "+74951234567",
        "7707083893",
        "Москва",
        org.rep,
    )
    assert sorted(Client.objects.values_list("name", flat=True)) == ["ИП Иванов", "ООО Ромашка"]
    assert ContactPoint.objects.filter(client=romashka, is_primary=True).count() == 2
    assert run.status == ImportRun.Status.DONE
    report = (engine.error_report_path(run)).read_text(encoding="utf-8-sig").splitlines()
    assert report[0] == "Row,Column,Value,Problem,Kind"
    assert (
        report[1] == "3,Email,lutik@example,“lutik@example” is not a valid email address.,rejected"
    )
    assert len(report) == 5


def test_importing_the_same_file_again_changes_nothing(org, tmp_path):
    run_import(org.rep, upload(org.rep, tmp_path, BAD_CSV))
    versions = dict(Client.objects.values_list("name", "version"))
    audit_before = AuditEvent.objects.filter(object_repr__startswith="ООО").count()

    second = upload(org.rep, tmp_path, BAD_CSV)
    result = run_import(org.rep, second)

    assert result["counts"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "duplicates": 0,
        "rejected": 4,
    }
    assert dict(Client.objects.values_list("name", "version")) == versions
    assert AuditEvent.objects.filter(object_repr__startswith="ООО").count() == audit_before
    assert Client.objects.count() == 2


@pytest.mark.parametrize(
    ("header", "row"),
    [
        ("External ID;Name;City", "A-1;New name;Omsk"),
        ("Email;Name;City", "old@example.org;New name;Omsk"),
        ("INN;Name;City", "7707083893;New name;Omsk"),
    ],
)
def test_upsert_by_external_id_email_or_inn_updates_the_existing_client(org, tmp_path, header, row):
    client = ClientFactory(
        name="Old name",
        external_id="A-1",
        email="old@example.org",
        inn="7707083893",
        city="Tver",
        owner=org.rep,
    )
    run = upload(org.rep, tmp_path, f"{header}\n{row}\n", encoding="utf-8")

    result = run_import(org.rep, run)

    client.refresh_from_db()
    assert result["counts"]["updated"] == 1
    assert result["counts"]["created"] == 0
    assert (client.name, client.city, client.version) == ("New name", "Omsk", 2)
    assert Client.objects.count() == 1
    event = AuditEvent.objects.filter(object_id=str(run.pk), changes__has_key="updated").get()
    assert event.changes["updated"] == [client.pk]
    outbox = OutboxEvent.objects.get(kind="clients.imported")
    assert outbox.payload["updated"] == [client.pk]


def test_a_client_the_importer_cannot_edit_is_rejected_not_changed(org, tmp_path):
    client = ClientFactory(name="Theirs", email="spb@example.org", owner=org.spb_rep)
    run = upload(org.rep, tmp_path, "Email;Name\nspb@example.org;Mine now\n", encoding="utf-8")

    result = run_import(org.rep, run)

    client.refresh_from_db()
    assert result["counts"]["rejected"] == 1
    assert errors(run) == [
        (
            2,
            "Email",
            "spb@example.org",
            "A client with this email exists and is not yours to change.",
            "rejected",
        )
    ]
    assert (client.name, client.version) == ("Theirs", 1)


def test_duplicates_inside_the_file_are_reported_once_and_created_once(org, tmp_path):
    text = (
        "Name;Email;INN\nA;a@example.org;\nB;a@example.org;\nC;c@example.org;7707083893\n"
        "D;d@example.org;7707083893\n"
    )
    run = upload(org.rep, tmp_path, text, encoding="utf-8")

    result = run_import(org.rep, run)

    assert result["counts"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 2,
        "rejected": 0,
    }
    assert errors(run) == [
        (3, "Email", "a@example.org", "Same email as row 2.", "duplicate"),
        (5, "INN", "7707083893", "Same INN as row 4.", "duplicate"),
    ]
    assert sorted(Client.objects.values_list("name", flat=True)) == ["A", "C"]


def test_dry_run_counts_and_reports_but_writes_no_client(org, tmp_path):
    run = upload(org.rep, tmp_path, BAD_CSV)

    result = run_import(org.rep, run, dry_run=True)

    assert result["counts"]["created"] == 2
    assert result["counts"]["rejected"] == 4
    assert len(errors(run)) == 4
    assert Client.objects.count() == 0
    assert run.committed_row == 0


def test_a_file_over_100_mb_is_refused_with_a_clear_message(org, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:
        fh.write(b"Name\n")
        fh.truncate(MAX_FILE_BYTES + 1)

    with pytest.raises(FileProblem) as caught:
        import_upload(actor=org.rep, name="huge.csv", source=path)

    assert caught.value.message == "The file is larger than 100 MB. Split it into smaller files."
    assert ImportRun.objects.count() == 0


def test_broken_quotes_give_a_clear_message_and_import_nothing(org, tmp_path):
    text = 'Name,Email\n"Acme,a@example.org\nBeta,b@example.org\n'
    path = tmp_path / "broken.csv"
    path.write_text(text)

    with pytest.raises(FileProblem) as caught:
        run = import_upload(actor=org.rep, name="broken.csv", source=path)
        import_run_in_process(actor=org.rep, run=run)

    assert "check the quotes" in caught.value.message
    assert Client.objects.count() == 0


def test_an_xlsx_that_is_not_a_spreadsheet_is_refused(org, tmp_path):
    path = tmp_path / "clients.xlsx"
    path.write_bytes(b"this is not a workbook")

    with pytest.raises(FileProblem) as caught:
        import_upload(actor=org.rep, name="clients.xlsx", source=path)

    assert caught.value.message == "This file is not an Excel workbook (.xlsx)."
    assert ImportRun.objects.count() == 0


def crash_on_the_third_batch_written(monkeypatch):
    """With BATCH_SIZE 3, the batch of rows 8-10 fails after its rows are written. By
    its rows, not by the order of the calls: two writer threads may start writing
    batches in either order (and counting calls from both raced)."""
    real_write = engine.Importer.write

    def crashing(self, plan):
        real_write(self, plan)
        if plan.first_row == 8:
            raise RuntimeError("killed")

    monkeypatch.setattr(engine.Importer, "write", crashing)
    return real_write


TEN_CLIENTS_AND_A_DUPLICATE = "\n".join(
    ["Name;Email"]
    + [f"Client {n};c{n}@example.org" for n in range(1, 5)]
    + ["Client 2 again;c2@example.org"]
    + [f"Client {n};c{n}@example.org" for n in range(5, 11)]
)


def assert_two_whole_batches_then_resume_finishes(org, run, monkeypatch, real_write, capture):
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert run.committed_row == 7
    assert Client.objects.count() == 5
    assert run.counts == {
        "created": 5,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 1,
        "rejected": 0,
    }

    monkeypatch.setattr(engine.Importer, "write", real_write)
    with capture(execute=True):
        job = import_resume(actor=org.rep, run=run)
    run.refresh_from_db()

    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
    assert run.status == ImportRun.Status.DONE
    assert run.counts == {
        "created": 10,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 1,
        "rejected": 0,
    }
    assert Client.objects.count() == 10
    assert errors(run) == [(6, "Email", "c2@example.org", "Same email as row 3.", "duplicate")]


def test_a_crash_mid_import_leaves_whole_batches_and_resume_finishes(
    org, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(engine, "BATCH_SIZE", 3)
    run = upload(org.rep, tmp_path, TEN_CLIENTS_AND_A_DUPLICATE + "\n", encoding="utf-8")
    real_write = crash_on_the_third_batch_written(monkeypatch)

    with pytest.raises(RuntimeError):
        import_run_in_process(actor=org.rep, run=run)

    assert_two_whole_batches_then_resume_finishes(
        org, run, monkeypatch, real_write, django_capture_on_commit_callbacks
    )


@pytest.mark.django_db(transaction=True)
def test_a_crash_while_batches_are_written_in_the_background_leaves_whole_batches(
    org, tmp_path, monkeypatch
):
    # Outside a transaction and with worker processes, batches are written on
    # background threads (two at a time on PostgreSQL) while the next are matched.
    monkeypatch.setattr(engine, "BATCH_SIZE", 3)
    run = upload(org.rep, tmp_path, TEN_CLIENTS_AND_A_DUPLICATE + "\n", encoding="utf-8")
    real_write = crash_on_the_third_batch_written(monkeypatch)

    with pytest.raises(RuntimeError):
        import_run_in_process(actor=org.rep, run=run, workers=2)

    assert_two_whole_batches_then_resume_finishes(
        org, run, monkeypatch, real_write, lambda execute: contextlib.nullcontext()
    )


@pytest.mark.django_db(transaction=True)
def test_writing_in_the_background_gives_the_same_outcome_and_one_audit_event_per_batch(
    org, tmp_path, monkeypatch
):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    run = upload(org.rep, tmp_path, BAD_CSV)

    with audit_context(via="cli", command="import clients"):
        result = run_import(org.rep, run, workers=2)

    assert result["counts"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 4,
    }
    assert run.committed_row == 7
    assert [e[:2] for e in errors(run)] == [
        (3, "Email"),
        (4, "Телефон"),
        (5, "ИНН"),
        (6, "Название"),
    ]
    assert sorted(Client.objects.values_list("name", flat=True)) == ["ИП Иванов", "ООО Ромашка"]
    batches = AuditEvent.objects.filter(object_id=str(run.pk), changes__has_key="batch")
    assert sorted(e.changes["batch"] for e in batches) == [[2, 3], [4, 5], [6, 7]]
    assert {e.meta["command"] for e in batches} == {"import clients"}
    assert sum(len(e.changes["created"]) for e in batches) == 2


def test_start_runs_the_import_as_a_job_with_the_counts_in_its_result(
    org, tmp_path, django_capture_on_commit_callbacks
):
    run = upload(org.rep, tmp_path, BAD_CSV)

    with django_capture_on_commit_callbacks(execute=True):
        job = import_start(actor=org.rep, run=run)

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["counts"]["created"] == 2
    assert job.message == ("Created 2, updated 0, unchanged 0, duplicates 0, rejected 4.")


def test_someone_elses_run_cannot_be_started(org, tmp_path):
    run = upload(org.rep, tmp_path, BAD_CSV)

    with pytest.raises(NotFound):
        import_start(actor=org.colleague, run=run)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.UPLOADED
    assert Client.objects.count() == 0


def test_empty_cells_keep_existing_values_and_defaults(org, tmp_path):
    client = ClientFactory(name="Acme", email="a@example.org", city="Tver", owner=org.rep)
    text = "Email;Name;City;Currency;Tags\na@example.org;Acme;;;\nb@example.org;Beta;;;vip, опт\n"
    run = upload(org.rep, tmp_path, text, encoding="utf-8")

    result = run_import(org.rep, run)

    client.refresh_from_db()
    beta = Client.objects.get(name="Beta")
    assert (result["counts"]["unchanged"], result["counts"]["created"]) == (1, 1)
    assert (client.city, client.currency, client.version) == ("Tver", "RUB", 1)
    assert (beta.currency, beta.kind) == ("RUB", "organisation")
    assert sorted(beta.tags.values_list("name", flat=True)) == ["vip", "опт"]


def test_kind_tier_and_owner_are_read_from_words_codes_and_emails(org, tmp_path):
    from lavka.clients.models import Tier

    Tier.objects.get_or_create(code="vip", defaults={"name": "VIP"})
    text = (
        "Name;Type;Tier;Owner\n"
        "Иванов Иван;Физлицо;vip;colleague@example.com\n"
        "Beta;company;VIP;spbrep\n"
        "Gamma;company;gold;\n"
    )
    run = upload(org.manager, tmp_path, text, encoding="utf-8")

    result = run_import(org.manager, run)

    ivanov = Client.objects.get(name="Иванов Иван")
    assert (ivanov.kind, ivanov.tier.code, ivanov.owner) == ("person", "vip", org.colleague)
    assert result["counts"]["rejected"] == 2
    assert [(r, c, v, reason) for r, c, v, reason, _k in errors(run)] == [
        (3, "Owner", "spbrep", "You cannot give clients to this user."),
        (4, "Tier", "gold", "There is no such tier."),
    ]


def test_validating_in_worker_processes_gives_the_same_outcome(org, tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    run = upload(org.rep, tmp_path, BAD_CSV)

    result = run_import(org.rep, run, workers=2)

    assert result["counts"] == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "rejected": 4,
    }
    assert [e[:2] for e in errors(run)] == [
        (3, "Email"),
        (4, "Телефон"),
        (5, "ИНН"),
        (6, "Название"),
    ]
    assert sorted(Client.objects.values_list("name", flat=True)) == ["ИП Иванов", "ООО Ромашка"]
    assert Client.objects.get(name="ООО Ромашка").search_text.startswith("ооо ромашка")


def test_a_broken_quote_near_the_end_is_refused_before_anything_is_imported(org, tmp_path):
    lines = ["Name,Email"] + [f"C{n},c{n}@example.org" for n in range(1, 5000)]
    lines.append('"Broken,x@example.org')
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\nLast,last@example.org\n")

    with pytest.raises(FileProblem) as caught:
        import_upload(actor=org.rep, name="late.csv", source=path)

    assert "check the quotes" in caught.value.message
    assert ImportRun.objects.count() == 0
    assert Client.objects.count() == 0


def test_a_new_row_with_an_existing_clients_phone_is_reported_not_created(org, tmp_path):
    existing = ClientFactory(owner=org.rep, name="Romashka LLC", phone="+74951234567")
    run = upload(
        org.rep,
        tmp_path,
        "Name;Phone;City\nООО Ромашка;8 (495) 123-45-67;Москва\nООО Лютик;+7 916 123-45-67;Тверь\n",
    )

    result = run_import(org.rep, run)

    assert result["counts"] == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 1,
        "rejected": 0,
    }
    assert errors(run) == [
        (
            2,
            "Phone",
            "8 (495) 123-45-67",  # as typed in the file
            f"May be the same client as #{existing.pk} Romashka LLC (same phone).",
            "duplicate",
        )
    ]
    assert sorted(Client.objects.values_list("name", flat=True)) == ["Romashka LLC", "ООО Лютик"]


def test_a_phone_duplicate_the_importer_cannot_see_is_reported_without_its_name(org, tmp_path):
    ClientFactory(owner=org.spb_rep, name="Secret LLC", phone="+74951234567")
    run = upload(org.rep, tmp_path, "Name;Phone\nООО Ромашка;8 (495) 123-45-67\n")

    result = run_import(org.rep, run)

    assert result["counts"]["duplicates"] == 1
    assert result["counts"]["created"] == 0
    assert errors(run) == [
        (2, "Phone", "8 (495) 123-45-67", "A client with this phone already exists.", "duplicate")
    ]
    assert list(Client.objects.values_list("name", flat=True)) == ["Secret LLC"]


def test_two_new_rows_with_the_same_phone_create_one_client(org, tmp_path):
    run = upload(
        org.rep,
        tmp_path,
        "Name;Phone\nООО Ромашка;8 (495) 123-45-67\nРомашка ООО;+7 495 123 45 67\n",
    )

    result = run_import(org.rep, run)

    assert (result["counts"]["created"], result["counts"]["duplicates"]) == (1, 1)
    assert errors(run) == [(3, "Phone", "+7 495 123 45 67", "Same phone as row 2.", "duplicate")]
    assert list(Client.objects.values_list("name", flat=True)) == ["ООО Ромашка"]
