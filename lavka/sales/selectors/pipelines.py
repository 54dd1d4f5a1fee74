"""Reads of pipelines and stages (settings: everyone with sales access reads them)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from lavka.core.errors import NotFound
from lavka.sales.models import Pipeline, Stage
from lavka.sales.permissions import can_read_sales


def pipelines_visible_to(viewer: Any) -> QuerySet[Pipeline]:
    pipelines = Pipeline.objects.order_by("order", "name", "id")
    return pipelines if can_read_sales(viewer) else pipelines.none()


def pipeline_get(*, viewer: Any, pipeline_id: int) -> Pipeline:
    try:
        return pipelines_visible_to(viewer).get(pk=pipeline_id)
    except (Pipeline.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="pipeline", id=pipeline_id) from None


def pipeline_default(*, viewer: Any) -> Pipeline:
    """The default pipeline, or the first one; NotFound when there is none."""
    pipeline = pipelines_visible_to(viewer).order_by("-is_default", "order", "id").first()
    if pipeline is None:
        raise NotFound(resource="pipeline")
    return pipeline


def stages_visible_to(viewer: Any) -> QuerySet[Stage]:
    """Stages in use (archived ones are left out), in board order."""
    stages = Stage.objects.filter(is_archived=False).order_by("pipeline_id", "order", "id")
    return stages if can_read_sales(viewer) else stages.none()


def stage_list(*, viewer: Any, pipeline: Pipeline) -> list[Stage]:
    return list(stages_visible_to(viewer).filter(pipeline_id=pipeline.pk))


def stage_get(*, viewer: Any, stage_id: int) -> Stage:
    try:
        return stages_visible_to(viewer).select_related("pipeline").get(pk=stage_id)
    except (Stage.DoesNotExist, ValueError, TypeError):
        raise NotFound(resource="stage", id=stage_id) from None
