"""Fixtures of the leads tests: the default pipeline, a web form, an empty cache (the
rate limits count in it)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.cache import cache

from lavka.leads.services import web_form_create
from lavka.sales.models import Pipeline, Stage


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def board(db):
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Test pipeline", is_default=True, order=0)

    def stage(name, kind, probability, order):
        return Stage.objects.create(
            pipeline=pipeline, name=name, kind=kind, probability=probability, order=order
        )

    return SimpleNamespace(
        pipeline=pipeline,
        first=stage("Lead", "open", 10, 10),
        offer=stage("Offer", "open", 50, 20),
        won=stage("Won", "won", 100, 30),
        lost=stage("Lost", "lost", 0, 40),
    )


@pytest.fixture
def web_form(org):
    return web_form_create(
        actor=org.admin,
        name="Заявка с сайта",
        owner=org.rep,
        allowed_origins="https://shop.example\nhttps://www.shop.example",
        language="ru",
        success_message="Спасибо! Мы перезвоним.",
    )
