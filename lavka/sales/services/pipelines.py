"""Writes of pipelines and stages (administrators: the "manage settings" capability).

A pipeline always keeps at least one open, one won and one lost stage in use, so a
deal can always be moved on and closed. A stage that deals are in cannot just be
deleted: the caller names a stage of the same type to move them to. A deleted stage
that deals have passed through is archived (hidden) rather than removed, so their
stage history keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot
from lavka.core.errors import NotPermitted, ValidationFailed
from lavka.sales.errors import StageHasDeals
from lavka.sales.models import STAGE_COLOURS, Deal, DealStageChange, Pipeline, Stage
from lavka.sales.permissions import can_manage_sales_settings
from lavka.sales.services.values import Errors, text_clean, whole_percent_clean

STAGE_FIELDS = ["name", "order", "probability", "kind", "colour"]
PIPELINE_FIELDS = ["name", "is_default", "order"]
ORDER_STEP = 10

# The stages a new pipeline starts with: (English, Russian, type, probability, colour).
# Stage names are data; they are written in the language of whoever creates the pipeline
# (the server's LAVKA_LANGUAGE for the one the first migration creates).
STAGE_TEMPLATE: list[tuple[str, str, str, int, str]] = [
    ("Qualification", "Квалификация", Stage.Kind.OPEN, 10, "neutral"),
    ("Needs analysis", "Выявление потребностей", Stage.Kind.OPEN, 20, "neutral"),
    ("Proposal", "Коммерческое предложение", Stage.Kind.OPEN, 40, "accent"),
    ("Negotiation", "Переговоры", Stage.Kind.OPEN, 60, "accent"),
    ("Contract", "Договор", Stage.Kind.OPEN, 80, "warn"),
    ("Won", "Успешно", Stage.Kind.WON, 100, "good"),
    ("Lost", "Проиграна", Stage.Kind.LOST, 0, "risk"),
]
CLOSED_PROBABILITY = {Stage.Kind.WON: 100, Stage.Kind.LOST: 0}


def stage_template(language: str) -> list[dict[str, Any]]:
    """The default stages with names in `language` (Russian for "ru*", else English)."""
    russian = language.lower().startswith("ru")
    return [
        {"name": ru if russian else en, "kind": kind, "probability": p, "colour": colour}
        for en, ru, kind, p, colour in STAGE_TEMPLATE
    ]


def _require_settings(actor: Any) -> None:
    if not can_manage_sales_settings(actor):
        raise NotPermitted(action="manage", resource="pipeline")


def _stage_clean(fields: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    for name in sorted(set(fields) - set(STAGE_FIELDS)):
        errors[prefix + name] = [_("Unknown field.")]
    for name, value in fields.items():
        key = prefix + name
        if name == "name":
            cleaned[name] = text_clean(value, key, 100, errors, required=True)
        elif name == "probability":
            cleaned[name] = whole_percent_clean(value, key, errors)
        elif name == "kind":
            if value not in Stage.Kind.values:
                errors[key] = [_("Choose open, won or lost.")]
            cleaned[name] = value
        elif name == "colour":
            if value not in STAGE_COLOURS:
                errors[key] = [_("Choose one of the colours.")]
            cleaned[name] = value
        elif name == "order":
            try:
                cleaned[name] = max(0, min(int(value), 32767))
            except (TypeError, ValueError):
                errors[key] = [_("Enter a whole number.")]
    if cleaned.get("kind") in CLOSED_PROBABILITY:
        cleaned["probability"] = CLOSED_PROBABILITY[cleaned["kind"]]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _kinds_in_use(pipeline_id: int, *, without: int | None = None) -> set[str]:
    stages = Stage.objects.filter(pipeline_id=pipeline_id, is_archived=False)
    if without is not None:
        stages = stages.exclude(pk=without)
    return set(stages.values_list("kind", flat=True))


def _require_every_kind(kinds: set[str], field: str) -> None:
    if not set(Stage.Kind.values) <= kinds:
        raise ValidationFailed(
            fields={field: [_("A pipeline needs at least one open, one won and one lost stage.")]}
        )


@transaction.atomic
def pipeline_create(
    *,
    actor: Any,
    name: str,
    is_default: bool = False,
    stages: Sequence[dict[str, Any]] | None = None,
) -> Pipeline:
    """A pipeline with `stages` (dicts of name, kind, probability, colour, in board
    order), or with the default stages named in the actor's language."""
    _require_settings(actor)
    errors: Errors = {}
    cleaned_name = text_clean(name, "name", 120, errors, required=True)
    if errors:
        raise ValidationFailed(fields=errors)
    specs = (
        list(stages) if stages is not None else stage_template(translation.get_language() or "en")
    )
    cleaned_stages = [
        _stage_clean(dict(spec), prefix=f"stages.{i}.") for i, spec in enumerate(specs)
    ]
    _require_every_kind({s["kind"] for s in cleaned_stages if "kind" in s}, "stages")
    if is_default:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    order = (Pipeline.objects.order_by("-order").values_list("order", flat=True).first() or 0) + 1
    pipeline = Pipeline.objects.create(name=cleaned_name, is_default=is_default, order=order)
    Stage.objects.bulk_create(
        [
            Stage(pipeline=pipeline, order=(i + 1) * ORDER_STEP, **spec)
            for i, spec in enumerate(cleaned_stages)
        ]
    )
    audit_record(
        action=Action.CREATE,
        subject=pipeline,
        actor=actor,
        changes={
            **diff({}, snapshot(pipeline, PIPELINE_FIELDS)),
            "stages": [None, [s["name"] for s in cleaned_stages]],
        },
    )
    return pipeline


@transaction.atomic
def pipeline_update(*, actor: Any, pipeline: Pipeline, **changes: Any) -> Pipeline:
    """Rename a pipeline, make it the default, or change its place in the list."""
    _require_settings(actor)
    locked = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    errors: Errors = {}
    for name in sorted(set(changes) - set(PIPELINE_FIELDS)):
        errors[name] = [_("Unknown field.")]
    if "name" in changes:
        locked.name = text_clean(changes["name"], "name", 120, errors, required=True)
    if "order" in changes:
        try:
            locked.order = max(0, min(int(changes["order"]), 32767))
        except (TypeError, ValueError):
            errors["order"] = [_("Enter a whole number.")]
    if errors:
        raise ValidationFailed(fields=errors)
    before = snapshot(Pipeline.objects.get(pk=locked.pk), PIPELINE_FIELDS)
    if "is_default" in changes:
        if changes["is_default"]:
            Pipeline.objects.exclude(pk=locked.pk).filter(is_default=True).update(is_default=False)
        locked.is_default = bool(changes["is_default"])
    changed = diff(before, snapshot(locked, PIPELINE_FIELDS))
    if changed:
        locked.save(update_fields=list(changed))
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
    return locked


@transaction.atomic
def stage_create(
    *,
    actor: Any,
    pipeline: Pipeline,
    name: str,
    kind: str = Stage.Kind.OPEN,
    probability: int = 10,
    colour: str = "neutral",
) -> Stage:
    """A new stage. An open stage goes right after the last open one; a won or lost
    stage goes at the end."""
    _require_settings(actor)
    Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    cleaned = _stage_clean(
        {"name": name, "kind": kind, "probability": probability, "colour": colour}
    )
    stages = list(Stage.objects.filter(pipeline_id=pipeline.pk, is_archived=False))
    if cleaned["kind"] == Stage.Kind.OPEN:
        open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
        after = max((s.order for s in open_stages), default=0)
    else:
        after = max((s.order for s in stages), default=0)
    # Make room: every stage after the new one moves down a step.
    Stage.objects.filter(pipeline_id=pipeline.pk, order__gt=after).update(
        order=F("order") + ORDER_STEP
    )
    stage = Stage.objects.create(pipeline=pipeline, order=after + ORDER_STEP // 2, **cleaned)
    _renumber(pipeline.pk)
    stage.refresh_from_db(fields=["order"])
    audit_record(
        action=Action.CREATE,
        subject=stage,
        actor=actor,
        changes=diff({}, snapshot(stage, STAGE_FIELDS)),
        meta={"pipeline_id": pipeline.pk},
    )
    return stage


def _renumber(pipeline_id: int) -> None:
    """Stages numbered 10, 20, 30... in their current order (archived ones last)."""
    stages = list(
        Stage.objects.filter(pipeline_id=pipeline_id).order_by("is_archived", "order", "id")
    )
    for index, stage in enumerate(stages):
        stage.order = (index + 1) * ORDER_STEP
    Stage.objects.bulk_update(stages, ["order"])


@transaction.atomic
def stage_update(*, actor: Any, stage: Stage, **changes: Any) -> Stage:
    """Rename a stage, change its default probability, colour, or type. The type of a
    stage that has deals cannot change (they would be won or lost without being
    moved); a won stage's probability is always 100 and a lost one's 0."""
    _require_settings(actor)
    locked = Stage.objects.select_for_update().get(pk=stage.pk)
    if "order" in changes:
        raise ValidationFailed(fields={"order": [_("Reorder the stages of the pipeline instead.")]})
    cleaned = _stage_clean(changes)
    kind = cleaned.get("kind", locked.kind)
    if kind != locked.kind:
        if Deal.all_objects.filter(stage_id=locked.pk).exists():
            raise ValidationFailed(
                fields={"kind": [_("Deals are in this stage: its type cannot change.")]}
            )
        _require_every_kind(_kinds_in_use(locked.pipeline_id, without=locked.pk) | {kind}, "kind")
    if kind in CLOSED_PROBABILITY:
        cleaned["probability"] = CLOSED_PROBABILITY[kind]
    before = snapshot(locked, STAGE_FIELDS)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    changed = diff(before, snapshot(locked, STAGE_FIELDS))
    if changed:
        locked.save(update_fields=list(changed))
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
    return locked


@transaction.atomic
def stages_reorder(*, actor: Any, pipeline: Pipeline, stage_ids: Sequence[int]) -> list[Stage]:
    """Put the pipeline's stages in the order of `stage_ids` (every stage in use, once)."""
    _require_settings(actor)
    Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    stages = {s.pk: s for s in Stage.objects.filter(pipeline_id=pipeline.pk, is_archived=False)}
    ids = [int(i) for i in stage_ids]
    if sorted(ids) != sorted(stages):
        raise ValidationFailed(
            fields={"stages": [_("List every stage of the pipeline once. Reload and try again.")]}
        )
    before = [s.pk for s in sorted(stages.values(), key=lambda s: (s.order, s.pk))]
    for index, pk in enumerate(ids):
        stages[pk].order = (index + 1) * ORDER_STEP
    Stage.objects.bulk_update(list(stages.values()), ["order"])
    if before != ids:
        audit_record(
            action=Action.UPDATE,
            subject=pipeline,
            actor=actor,
            changes={
                "stages": [
                    [stages[pk].name for pk in before],
                    [stages[pk].name for pk in ids],
                ]
            },
        )
    return [stages[pk] for pk in ids]


@transaction.atomic
def stage_delete(*, actor: Any, stage: Stage, move_to: Stage | None = None) -> int:
    """Delete a stage. If deals are in it (the trash included), they move to `move_to`
    (a stage of the same pipeline and type; each live deal gets a stage-history step)
    or, without it, StageHasDeals is raised and nothing changes. Returns the number of
    deals moved."""
    _require_settings(actor)
    locked = Stage.objects.select_for_update().filter(pk=stage.pk, is_archived=False).first()
    if locked is None:
        raise ValidationFailed(fields={"stage": [_("This stage has already been deleted.")]})
    _require_every_kind(_kinds_in_use(locked.pipeline_id, without=locked.pk), "stage")
    deals = Deal.all_objects.filter(stage_id=locked.pk)
    count = deals.count()
    if count and move_to is None:
        raise StageHasDeals(count=count)
    if count and move_to is not None:
        if (
            move_to.pk == locked.pk
            or move_to.pipeline_id != locked.pipeline_id
            or move_to.kind != locked.kind
            or move_to.is_archived
        ):
            raise ValidationFailed(
                fields={
                    "move_to": [_("Choose another stage of the same pipeline and the same type.")]
                }
            )
        now = timezone.now()
        live = list(Deal.objects.filter(stage_id=locked.pk).values_list("pk", flat=True))
        DealStageChange.objects.bulk_create(
            [
                DealStageChange(
                    deal_id=pk,
                    from_stage_id=locked.pk,
                    to_stage_id=move_to.pk,
                    changed_by=actor,
                    changed_at=now,
                )
                for pk in live
            ]
        )
        deals.update(stage_id=move_to.pk, probability=move_to.probability, version=F("version") + 1)
    moved_meta = {"moved_to": move_to.pk, "deals_moved": count} if count and move_to else {}
    if DealStageChange.objects.filter(to_stage_id=locked.pk).exists():
        locked.is_archived = True
        locked.save(update_fields=["is_archived"])
    else:
        locked.delete()
        locked.pk = stage.pk  # for the audit record
    audit_record(
        action=Action.DELETE,
        subject=locked,
        actor=actor,
        changes={"stage": [locked.name, None]},
        meta={"pipeline_id": locked.pipeline_id, **moved_meta},
    )
    if count:
        outbox_publish(
            kind="stage.deleted",
            payload={
                "stage_id": stage.pk,
                "moved_to": move_to.pk if move_to else None,
                "deals": count,
            },
        )
    _renumber(locked.pipeline_id)
    return count
