"""Lead import (the "leads" target of the import engine): checking rows by the leads'
rules, source and campaign, matching existing leads, leads like clients, re-runs,
XLSX, dry run, resume, permission."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings

from lavka.audit.models import AuditEvent, OutboxEvent
from lavka.core.errors import NotPermitted
from lavka.imports.models import ImportRowError, ImportRun
from lavka.imports.services import (
    import_resume,
    import_run_in_process,
    import_set_mapping,
    import_set_options,
    import_upload,
)
from lavka.leads.models import Lead
from lavka.leads.services import lead_create
from lavka.leads.services.importing import plan as lead_import_plan
from lavka.notifications.models import Notification
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

CSV = (
    "Компания;ФИО;E-mail;Телефон;ИНН;Комментарий;Источник;utm_source\n"
    "ООО Ромашка;Иван Петров;ivan@romashka.example;8 (495) 123-45-67;7707083893;"
    "Нужен прайс;;yandex\n"
    "ИП Сидоров;Пётр Сидоров;petr@@example;;;;;\n"
    ";;anna@example.com;;;;;\n"
    "ООО Лютик;Мария Котова;maria@lyutik.example;;1234567890;;;\n"
    "Альфа;Олег;oleg@alfa.example;;;;выставка;\n"
    "Бета;Ольга;olga@beta.example;;;;Яндекс.Директ;\n"
    "Ромашка;Иван;IVAN@romashka.example;;;;;\n"
)


@pytest.fixture(autouse=True)
def _private_data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


def upload(actor, path, campaign=""):
    run = import_upload(actor=actor, name=path.name, source=path, target="leads")
    if campaign:
        run = import_set_options(actor=actor, run=run, options={"campaign": campaign})
    return run


def run_file(actor, path, *, campaign="", dry_run=False):
    run = upload(actor, path, campaign)
    result = import_run_in_process(actor=actor, run=run, dry_run=dry_run)
    run.refresh_from_db()
    return run, result


def report(run):
    return [
        (e.row, e.column, e.value, e.reason, e.kind)
        for e in ImportRowError.objects.filter(run=run).order_by("row", "id")
    ]


@pytest.fixture
def cp1251_file(tmp_path):
    path = tmp_path / "выставка.csv"
    path.write_bytes(CSV.encode("cp1251"))
    return path


def test_a_windows_1251_file_makes_leads_from_import_with_the_campaign_and_reports_bad_rows(
    org, cp1251_file
):
    run, result = run_file(org.rep, cp1251_file, campaign="Выставка 2026")

    assert run.target == "leads"
    assert (run.encoding, run.delimiter) == ("cp1251", ";")
    assert result["counts"] == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 1,
        "client_matches": 0,
        "rejected": 3,
    }
    leads = {lead.email: lead for lead in Lead.objects.all()}
    assert sorted(leads) == ["ivan@romashka.example", "oleg@alfa.example", "olga@beta.example"]
    ivan = leads["ivan@romashka.example"]
    assert (ivan.company, ivan.contact_name, ivan.phone, ivan.inn, ivan.message) == (
        "ООО Ромашка",
        "Иван Петров",
        "+74951234567",
        "7707083893",
        "Нужен прайс",
    )
    assert (ivan.source, ivan.campaign, ivan.utm_source) == ("import", "Выставка 2026", "yandex")
    assert (ivan.owner, ivan.team, ivan.status) == (org.rep, org.moscow, "new")
    assert leads["oleg@alfa.example"].source == "event"  # "выставка" is a source Lavka knows
    assert leads["olga@beta.example"].source == "import"
    assert "иван петров" in ivan.search_text
    assert report(run) == [
        (3, "E-mail", "petr@@example", "“petr@@example” is not a valid email address.", "rejected"),
        (4, "ФИО", "", "Enter a contact name or a company.", "rejected"),
        (5, "ИНН", "1234567890", "INN “1234567890” is not valid: check the digits.", "rejected"),
        (
            7,
            "Источник",
            "Яндекс.Директ",
            "Not a source Lavka knows: the lead's source is “Import”.",
            "note",
        ),
        (8, "E-mail", "IVAN@romashka.example", "Same email as row 2.", "duplicate"),
    ]
    path = Path(settings.DATA_DIR) / result["error_report"]
    with path.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["Row", "Column", "Value", "Problem", "Kind"]
    assert rows[1] == [
        "3",
        "E-mail",
        "petr@@example",
        "“petr@@example” is not a valid email address.",
        "rejected",
    ]
    assert (run.status, run.committed_row) == (ImportRun.Status.DONE, 8)


def test_each_batch_is_audited_once_on_the_run_and_published(org, cp1251_file):
    run, _result = run_file(org.rep, cp1251_file)

    events = AuditEvent.objects.filter(object_id=str(run.pk), changes__has_key="batch")
    assert events.count() == 1
    event = events.get()
    assert event.actor == org.rep
    assert sorted(event.changes["created"]) == sorted(Lead.objects.values_list("id", flat=True))
    published = OutboxEvent.objects.get(kind="leads.imported")
    assert published.payload["run_id"] == run.pk
    assert len(published.payload["created"]) == 3


def test_importing_the_same_file_again_changes_nothing(org, cp1251_file):
    first, _ = run_file(org.rep, cp1251_file, campaign="Выставка 2026")
    before = list(Lead.objects.order_by("id").values_list("id", "version", "updated_at"))

    again, result = run_file(org.rep, cp1251_file, campaign="Другая кампания")

    assert result["counts"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "duplicates": 1,
        "client_matches": 0,
        "rejected": 3,
    }
    assert list(Lead.objects.order_by("id").values_list("id", "version", "updated_at")) == before
    assert set(Lead.objects.values_list("campaign", flat=True)) == {"Выставка 2026"}
    assert [r[:2] for r in report(again)] == [r[:2] for r in report(first)]


def test_a_dry_run_counts_and_reports_but_writes_no_lead(org, cp1251_file):
    run, result = run_file(org.rep, cp1251_file, dry_run=True)

    assert result["counts"]["created"] == 3
    assert result["counts"]["dry_run"] is True
    assert Lead.objects.count() == 0
    assert len(report(run)) == 5
    assert run.status == ImportRun.Status.UPLOADED


def test_an_xlsx_file_with_owners_and_external_ids(org, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["External ID", "Company", "Contact name", "Email", "Phone", "Owner", "Campaign"])
    sheet.append(["L-1", "Acme", "John Smith", "john@acme.example", "", "rep", "Spring"])
    sheet.append(["L-2", "Globex", "Jane Doe", "", "+7 916 123-45-67", "", ""])
    sheet.append(["L-3", "Initech", "Bill", "bill@initech.example", "", "nosuchuser", ""])
    sheet.append(["L-4", "Umbrella", "Alice", "alice@umbrella.example", "", "spbrep", ""])
    path = tmp_path / "leads.xlsx"
    book.save(path)

    run, result = run_file(org.manager, path)

    assert run.format == "xlsx"
    assert (result["counts"]["created"], result["counts"]["rejected"]) == (2, 2)
    john = Lead.objects.get(external_id="L-1")
    assert (john.owner, john.team, john.campaign, john.source) == (
        org.rep,
        org.moscow,
        "Spring",
        "import",
    )
    jane = Lead.objects.get(external_id="L-2")
    assert (jane.owner, jane.phone) == (org.manager, "+79161234567")
    assert [(r[0], r[1], r[3]) for r in report(run)] == [
        (4, "Owner", "There is no user with this name or email."),
        (5, "Owner", "You cannot give leads to this user."),
    ]
    # The rep given a lead hears of it once; the importer, who gave themselves one, not.
    told = Notification.objects.get(recipient=org.rep)
    assert told.title == "1 new lead for you from the file “leads.xlsx”"
    assert told.url == f"/sales/leads/?owner={org.rep.pk}"
    assert not Notification.objects.filter(recipient=org.manager).exists()


def test_a_row_updates_the_lead_it_matches_and_keeps_its_source_and_status(org, tmp_path):
    lead = lead_create(
        actor=org.rep, company="Ромашка", email="ivan@romashka.example", source="phone"
    )
    path = tmp_path / "update.csv"
    path.write_text(
        "Email,Comment,Phone\nIVAN@romashka.example,Перезвонить в мае,+7 495 123-45-67\n",
        encoding="utf-8",
    )

    _run, result = run_file(org.rep, path)

    assert (result["counts"]["updated"], result["counts"]["created"]) == (1, 0)
    lead.refresh_from_db()
    assert (lead.message, lead.phone, lead.source, lead.status) == (
        "Перезвонить в мае",
        "+74951234567",
        "phone",
        "new",
    )
    assert lead.version == 2
    assert "74951234567" in lead.search_text


def test_a_colleagues_lead_is_not_changed_and_the_row_says_why(org, tmp_path):
    theirs = lead_create(actor=org.colleague, contact_name="Анна", email="anna@example.com")
    path = tmp_path / "theirs.csv"
    path.write_text("Name,Email,Message\nАнна,anna@example.com,Новое\n", encoding="utf-8")

    run, result = run_file(org.rep, path)

    assert (result["counts"]["rejected"], result["counts"]["created"]) == (1, 0)
    assert report(run) == [
        (
            2,
            "Email",
            "anna@example.com",
            "A lead with this email exists and is not yours to change.",
            "rejected",
        )
    ]
    theirs.refresh_from_db()
    assert (theirs.message, theirs.version) == ("", 1)


def test_one_office_phone_with_two_emails_stays_two_leads(org, tmp_path):
    lead_create(
        actor=org.rep, contact_name="Анна", email="anna@office.example", phone="+74951234567"
    )
    path = tmp_path / "office.csv"
    path.write_text(
        "Name,Email,Phone\n"
        "Борис,boris@office.example,+74951234567\n"
        "Вера,vera@office.example,+74951234567\n",
        encoding="utf-8",
    )

    _run, result = run_file(org.rep, path)

    assert (result["counts"]["created"], result["counts"]["duplicates"]) == (2, 0)
    assert Lead.objects.filter(phone="+74951234567").count() == 3


def test_a_new_lead_like_a_visible_client_is_imported_and_named_in_the_report(org, tmp_path):
    mine = ClientFactory(owner=org.rep, name="ООО Ромашка", inn="7707083893")
    ClientFactory(owner=org.spb_rep, name="Чужой клиент", email="olga@beta.example")
    path = tmp_path / "clients.csv"
    path.write_text(
        "Company,Name,Email,INN\n"
        "Ромашка,Иван,ivan@romashka.example,7707083893\n"
        "Бета,Ольга,olga@beta.example,\n",
        encoding="utf-8",
    )

    run, result = run_file(org.rep, path)

    assert (result["counts"]["created"], result["counts"]["client_matches"]) == (2, 1)
    assert report(run) == [
        (
            2,
            "INN",
            "7707083893",
            f"Imported; the client “ООО Ромашка” (#{mine.pk}) has the same INN: "
            "attach the lead to it when converting.",
            "client_match",
        )
    ]


def test_reasons_are_in_the_importers_language(org, cp1251_file):
    org.rep.language = "ru"
    org.rep.save(update_fields=["language"])

    run, _result = run_file(org.rep, cp1251_file)

    reasons = {row: reason for row, _c, _v, reason, _k in report(run)}
    assert reasons[3] == "«petr@@example» — некорректный адрес электронной почты."
    assert reasons[8] == "Тот же адрес эл. почты, что в строке 2."


def test_a_failed_import_resumes_after_its_last_batch_with_the_same_outcome(
    org, cp1251_file, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(lead_import_plan, "BATCH_SIZE", 3)
    run = upload(org.rep, cp1251_file)

    def stop_after_first_batch(done, total):
        raise RuntimeError("the worker died")

    with pytest.raises(RuntimeError):
        import_run_in_process(actor=org.rep, run=run, progress=stop_after_first_batch)
    run.refresh_from_db()
    assert (run.status, run.committed_row) == (ImportRun.Status.FAILED, 4)
    assert Lead.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        import_resume(actor=org.rep, run=run)

    run.refresh_from_db()
    assert run.status == ImportRun.Status.DONE
    assert run.counts == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 1,
        "client_matches": 0,
        "rejected": 3,
    }
    assert Lead.objects.count() == 3
    # Row 8 repeats row 2, committed before the failure: still a duplicate, not an update.
    assert report(run)[-1][0::3] == (8, "Same email as row 2.")


def test_the_mapping_must_name_the_lead_and_a_way_to_reach_them(org, tmp_path):
    from lavka.core.errors import ValidationFailed
    from lavka.imports.services import import_start

    path = tmp_path / "x.csv"
    path.write_text("Company,Message\nАльфа,Привет\n", encoding="utf-8")
    run = upload(org.rep, path)

    with pytest.raises(ValidationFailed) as refused:
        import_start(actor=org.rep, run=run)

    assert refused.value.fields == {"mapping": ["Map a column to the email or the phone."]}


def test_headers_are_recognised_in_russian_and_english(org, tmp_path):
    path = tmp_path / "bitrix.csv"
    path.write_text(
        "ID,Название компании,Фамилия,Имя,Отчество,Рабочий e-mail,Мобильный телефон,"
        "Источник,UTM Source,UTM Medium,UTM Campaign,Ответственный,Кампания,Комментарий\n",
        encoding="utf-8",
    )

    run = upload(org.rep, path)

    assert list(run.mapping.values()) == [
        "external_id",
        "company",
        "last_name",
        "first_name",
        "middle_name",
        "email",
        "phone",
        "source",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "owner",
        "campaign",
        "message",
    ]


def test_name_parts_make_the_contact_name_conversion_splits_again(org, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text(
        "Фамилия,Имя,Отчество,Email\nИванов,Иван,Иванович,ivan@example.com\n"
        "Smith,John,,john@example.com\n",
        encoding="utf-8",
    )

    run_file(org.rep, path)

    assert sorted(Lead.objects.values_list("contact_name", flat=True)) == [
        "John Smith",
        "Иванов Иван Иванович",
    ]


def test_a_campaign_longer_than_a_lead_keeps_is_refused_for_the_import(org, cp1251_file):
    from lavka.core.errors import ValidationFailed

    run = upload(org.rep, cp1251_file)

    with pytest.raises(ValidationFailed) as refused:
        import_set_options(actor=org.rep, run=run, options={"campaign": "x" * 101})

    assert refused.value.fields == {"campaign": ["At most 100 characters."]}


def test_someone_without_the_sales_area_cannot_import_leads(org, cp1251_file):
    with pytest.raises(NotPermitted):
        import_upload(actor=org.analyst, name="x.csv", source=cp1251_file, target="leads")

    assert ImportRun.objects.count() == 0
    assert Lead.objects.count() == 0


def test_an_importer_who_lost_the_sales_area_writes_nothing(org, cp1251_file):
    run = upload(org.rep, cp1251_file)
    run.mapping = dict(run.mapping)
    import_set_mapping(actor=org.rep, run=run, mapping=run.mapping)
    org.rep.role = org.analyst.role
    org.rep.save(update_fields=["role"])

    with pytest.raises(NotPermitted):
        import_run_in_process(actor=org.rep, run=run)

    assert Lead.objects.count() == 0
