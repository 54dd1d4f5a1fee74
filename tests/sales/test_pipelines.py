"""Pipelines and stages as data: the default pipeline, and the administrators' edits."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.utils import translation

from lavka.audit.models import AuditEvent
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.sales.errors import StageHasDeals
from lavka.sales.models import Deal, DealStageChange, Pipeline, Stage
from lavka.sales.selectors.pipelines import pipeline_default, stage_list
from lavka.sales.services import deal_create, deal_delete, deal_move
from lavka.sales.services.pipelines import (
    pipeline_create,
    pipeline_update,
    stage_create,
    stage_delete,
    stage_update,
    stages_reorder,
)
from tests.factories import ClientFactory

migration = importlib.import_module("lavka.sales.migrations.0002_default_pipeline")


def names(pipeline):
    return [
        (s.name, s.kind, s.probability)
        for s in Stage.objects.filter(pipeline=pipeline, is_archived=False).order_by("order")
    ]


# --- the default pipeline --------------------------------------------------------------


def test_the_migration_creates_an_english_default_pipeline(org):
    pipeline = pipeline_default(viewer=org.rep)

    assert pipeline.name == "Sales"
    assert names(pipeline) == [
        ("Qualification", "open", 10),
        ("Needs analysis", "open", 20),
        ("Proposal", "open", 40),
        ("Negotiation", "open", 60),
        ("Contract", "open", 80),
        ("Won", "won", 100),
        ("Lost", "lost", 0),
    ]


def test_on_a_russian_server_the_default_stages_are_named_in_russian(db, settings):
    settings.LANGUAGE_CODE = "ru"
    Pipeline.objects.all().delete()

    migration.create_default_pipeline(apps, None)

    pipeline = Pipeline.objects.get()
    assert (pipeline.name, pipeline.is_default) == ("Продажи", True)
    assert [n for n, _kind, _p in names(pipeline)] == [
        "Квалификация",
        "Выявление потребностей",
        "Коммерческое предложение",
        "Переговоры",
        "Договор",
        "Успешно",
        "Проиграна",
    ]


def test_a_new_pipeline_gets_the_default_stages_in_the_administrators_language(org):
    with translation.override("ru"):
        pipeline = pipeline_create(actor=org.admin, name="Тендеры", is_default=True)

    assert names(pipeline)[0] == ("Квалификация", "open", 10)
    assert list(Pipeline.objects.filter(is_default=True)) == [pipeline]


def test_a_pipeline_needs_an_open_a_won_and_a_lost_stage(org):
    with pytest.raises(ValidationFailed) as error:
        pipeline_create(
            actor=org.admin,
            name="Half",
            stages=[{"name": "Talk", "kind": "open"}, {"name": "Won", "kind": "won"}],
        )

    assert list(error.value.fields) == ["stages"]
    assert not Pipeline.objects.filter(name="Half").exists()


# --- editing stages -----------------------------------------------------------------------


def test_only_administrators_edit_pipelines_and_stages(org, board):
    with pytest.raises(NotPermitted):
        stage_create(actor=org.manager, pipeline=board.pipeline, name="Demo")
    with pytest.raises(NotPermitted):
        stage_update(actor=org.rep, stage=board.lead, name="Leads")
    with pytest.raises(NotPermitted):
        stages_reorder(actor=org.manager, pipeline=board.pipeline, stage_ids=[])
    with pytest.raises(NotPermitted):
        stage_delete(actor=org.manager, stage=board.offer)
    with pytest.raises(NotPermitted):
        pipeline_update(actor=org.manager, pipeline=board.pipeline, name="Mine")

    assert names(board.pipeline) == [
        ("Lead", "open", 10),
        ("Offer", "open", 50),
        ("Won", "won", 100),
        ("Lost", "lost", 0),
    ]


def test_a_new_open_stage_goes_after_the_last_open_one(org, board):
    stage_create(
        actor=org.admin, pipeline=board.pipeline, name="Demo", probability=70, colour="accent"
    )

    assert [n for n, _k, _p in names(board.pipeline)] == ["Lead", "Offer", "Demo", "Won", "Lost"]


def test_a_stage_is_renamed_and_a_won_stage_is_always_certain(org, board):
    stage_update(actor=org.admin, stage=board.won, name="Signed", probability=60)

    board.won.refresh_from_db()
    assert (board.won.name, board.won.probability) == ("Signed", 100)
    assert AuditEvent.objects.for_record(board.won).get().changes == {"name": ["Won", "Signed"]}


def test_stages_are_reordered(org, board):
    order = [board.offer.pk, board.lead.pk, board.lost.pk, board.won.pk]

    stages_reorder(actor=org.admin, pipeline=board.pipeline, stage_ids=order)

    assert [s.pk for s in stage_list(viewer=org.rep, pipeline=board.pipeline)] == order
    with pytest.raises(ValidationFailed):
        stages_reorder(actor=org.admin, pipeline=board.pipeline, stage_ids=order[:3])


def test_the_type_of_a_stage_with_deals_cannot_change(org, board):
    deal_create(actor=org.rep, client=ClientFactory(owner=org.rep), title="X", stage=board.offer)

    with pytest.raises(ValidationFailed) as error:
        stage_update(actor=org.admin, stage=board.offer, kind="won")

    assert list(error.value.fields) == ["kind"]
    board.offer.refresh_from_db()
    assert board.offer.kind == "open"


def test_a_stage_with_deals_is_not_deleted_without_a_place_for_them(org, board):
    deal = deal_create(
        actor=org.rep, client=ClientFactory(owner=org.rep), title="X", stage=board.offer
    )
    trashed = deal_create(
        actor=org.rep, client=ClientFactory(owner=org.rep), title="Y", stage=board.offer
    )
    deal_delete(actor=org.rep, deal=trashed)

    with pytest.raises(StageHasDeals) as error:
        stage_delete(actor=org.admin, stage=board.offer)

    assert error.value.count == 2
    assert list(error.value.fields) == ["stage"]
    assert "2" in error.value.fields["stage"][0]
    deal.refresh_from_db()
    assert deal.stage == board.offer
    assert Stage.objects.filter(pk=board.offer.pk, is_archived=False).exists()


def test_deleting_a_stage_moves_its_deals_and_keeps_their_history(org, board):
    deal = deal_create(
        actor=org.rep, client=ClientFactory(owner=org.rep), title="X", stage=board.offer
    )

    moved = stage_delete(actor=org.admin, stage=board.offer, move_to=board.lead)

    deal.refresh_from_db()
    assert (moved, deal.stage, deal.probability, deal.version) == (1, board.lead, 10, 2)
    assert list(deal.stage_changes.values_list("from_stage", "to_stage").order_by("id")) == [
        (None, board.offer.pk),
        (board.offer.pk, board.lead.pk),
    ]
    board.offer.refresh_from_db()
    assert board.offer.is_archived
    assert [n for n, _k, _p in names(board.pipeline)] == ["Lead", "Won", "Lost"]


def test_deals_move_only_to_a_stage_of_the_same_type(org, board):
    deal_create(actor=org.rep, client=ClientFactory(owner=org.rep), title="X", stage=board.offer)

    with pytest.raises(ValidationFailed) as error:
        stage_delete(actor=org.admin, stage=board.offer, move_to=board.won)

    assert list(error.value.fields) == ["move_to"]
    assert Deal.objects.get().stage == board.offer


def test_an_unused_stage_is_deleted_for_good(org, board):
    stage_delete(actor=org.admin, stage=board.offer)

    assert not Stage.objects.filter(pk=board.offer.pk).exists()
    assert not DealStageChange.objects.exists()


def test_the_last_won_stage_cannot_be_deleted(org, board):
    with pytest.raises(ValidationFailed) as error:
        stage_delete(actor=org.admin, stage=board.won)

    assert list(error.value.fields) == ["stage"]


def test_a_deal_cannot_move_into_a_deleted_stage(org, board):
    deal = deal_create(
        actor=org.rep, client=ClientFactory(owner=org.rep), title="X", stage=board.offer
    )
    deal_move(actor=org.rep, deal=deal, stage=board.lead)
    stage_delete(actor=org.admin, stage=board.offer)
    board.offer.refresh_from_db()

    with pytest.raises(ValidationFailed):
        deal_move(actor=org.rep, deal=deal, stage=board.offer)
