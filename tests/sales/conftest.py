"""Fixtures of the sales tests: a pipeline of four stages, a small catalogue."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from lavka.sales.models import Pipeline, Product, Stage
from tests.factories import ClientFactory


@pytest.fixture
def board(db):
    """A pipeline Lead (open, 10%) > Offer (open, 50%) > Won > Lost, the default one."""
    Pipeline.objects.update(is_default=False)
    pipeline = Pipeline.objects.create(name="Test pipeline", is_default=True, order=0)

    def stage(name, kind, probability, order):
        return Stage.objects.create(
            pipeline=pipeline, name=name, kind=kind, probability=probability, order=order
        )

    return SimpleNamespace(
        pipeline=pipeline,
        lead=stage("Lead", "open", 10, 10),
        offer=stage("Offer", "open", 50, 20),
        won=stage("Won", "won", 100, 30),
        lost=stage("Lost", "lost", 0, 40),
    )


@pytest.fixture
def client_of_rep(org):
    return ClientFactory(owner=org.rep, name="Ромашка", currency="RUB")


@pytest.fixture
def products(db):
    return SimpleNamespace(
        tea=Product.objects.create(code="TEA-1", name="Green tea", unit="kg"),
        cup=Product.objects.create(code="CUP-1", name="Cup", unit="pcs"),
        setup=Product.objects.create(code="SRV-1", name="Setup", kind="service", unit="h"),
    )
