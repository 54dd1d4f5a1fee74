"""Writes of deals: create, update, move on the board, products, delete.

Every write locks the deal row, checks the sales area's write scope (NotFound when
the actor cannot even read the deal, NotPermitted when they can read but not write),
validates (ValidationFailed per field), bumps the version (the API's ETag), records an
audit event and publishes an outbox event.

Events: deal.created, deal.updated, deal.stage_changed, deal.won, deal.lost,
deal.deleted. A move into a won stage also creates the order (order_from_deal) in the
same transaction, so a won deal never lacks its order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from lavka.audit import trash
from lavka.audit.services import Action, audit_record, diff, outbox_publish, snapshot
from lavka.clients.models import Client, Employment, Person
from lavka.clients.selectors import clients_visible_to
from lavka.core.errors import DomainError, NotFound, NotPermitted, StaleVersion, ValidationFailed
from lavka.sales.models import (
    POSITION_STEP,
    Competitor,
    Deal,
    DealLine,
    DealStageChange,
    Pipeline,
    Product,
    Stage,
)
from lavka.sales.permissions import (
    can_assign_sales_record,
    can_create_sales_record,
    can_edit_sales_record,
    can_read_sales_record,
)
from lavka.sales.selectors.catalogue import convert, price_for, reporting_currency
from lavka.sales.services.orders import order_from_deal
from lavka.sales.services.values import (
    QUANTITY_LIMIT,
    Errors,
    currency_clean,
    date_clean,
    decimal_clean,
    line_amount,
    percent_clean,
    text_clean,
    whole_percent_clean,
)

EDITABLE = [
    "title",
    "amount",
    "currency",
    "expected_close_on",
    "probability",
    "person",
    "source",
    "campaign",
    "lost_reason",
    "client",
    "owner",
    "competitors",
]
AUDITED = [
    "title",
    "amount",
    "currency",
    "expected_close_on",
    "probability",
    "person",
    "source",
    "campaign",
    "lost_reason",
    "client",
    "owner",
    "team",
]
MOVE_AUDITED = ["stage", "probability", "won_at", "lost_at", "lost_reason", "position"]
MOVE_EVENTS: dict[str, str] = {
    Stage.Kind.OPEN: "deal.stage_changed",
    Stage.Kind.WON: "deal.won",
    Stage.Kind.LOST: "deal.lost",
}


def _lock_deal(actor: Any, deal_id: int, action: str, *related: str) -> Deal:
    """The deal row, locked (only the deal's row, not the joined ones)."""
    deal = (
        Deal.objects.select_for_update(of=("self",))
        .select_related(*related)
        .filter(pk=deal_id)
        .first()
    )
    if deal is None or not can_read_sales_record(actor, deal):
        raise NotFound(resource="deal", id=deal_id)
    if not can_edit_sales_record(actor, deal):
        raise NotPermitted(action=action, resource="deal")
    return deal


def _check_version(deal: Deal, expected_version: int | None) -> None:
    if expected_version is not None and deal.version != expected_version:
        raise StaleVersion()


def _competitor_names(value: Any, errors: Errors) -> list[str]:
    names: dict[str, str] = {}
    for raw in value or []:
        name = str(raw).strip()
        if len(name) > 120:
            errors.setdefault("competitors", []).append(
                _("At most %(max)s characters.") % {"max": 120}
            )
        elif name:
            names.setdefault(name.casefold(), name)
    return sorted(names.values(), key=str.casefold)


def _deal_clean(fields: dict[str, Any], *, client: Client) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "title":
            cleaned[name] = text_clean(value, name, 200, errors, required=True)
        elif name in ("source", "campaign"):
            cleaned[name] = text_clean(value, name, 100, errors)
        elif name == "lost_reason":
            cleaned[name] = text_clean(value, name, 300, errors)
        elif name == "amount":
            cleaned[name] = decimal_clean(value, name, errors) or Decimal(0)
        elif name == "currency":
            cleaned[name] = currency_clean(value, name, errors)
        elif name == "expected_close_on":
            cleaned[name] = date_clean(value, name, errors)
        elif name == "probability":
            cleaned[name] = whole_percent_clean(value, name, errors)
        elif name == "competitors":
            cleaned[name] = _competitor_names(value, errors)
        elif name == "person":
            if value is not None and (
                not isinstance(value, Person)
                or not Employment.objects.filter(person=value, organisation_id=client.pk).exists()
            ):
                errors[name] = [_("This person does not work at this client.")]
            cleaned[name] = value
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _set_competitors(deal: Deal, names: list[str]) -> list[str]:
    """Link the named competitors (matched ignoring case; new names join the list)."""
    known = {c.name.casefold(): c for c in Competitor.objects.all()}
    chosen = [known.get(name.casefold()) or Competitor.objects.create(name=name) for name in names]
    deal.competitors.set(chosen)
    return sorted((c.name for c in chosen), key=str.casefold)


def _top_position(stage_id: int, *, exclude: int | None = None) -> int:
    """A position above every card of the column."""
    column = Deal.objects.filter(stage_id=stage_id)
    if exclude is not None:
        column = column.exclude(pk=exclude)
    first = column.order_by("position", "id").values_list("position", flat=True).first()
    return 0 if first is None else first - POSITION_STEP


def _position_after(*, stage_id: int, deal_id: int, after_id: int) -> int:
    """A position right below card `after_id` of the column (and above the card that
    follows it). Cards are spaced POSITION_STEP apart and a card takes the midpoint of
    its gap; when a gap is used up, the cards below shift down one step (one UPDATE
    over the rest of the column, needed only after ~10 drops into the same gap)."""
    anchor = (
        Deal.objects.filter(pk=after_id, stage_id=stage_id)
        .exclude(pk=deal_id)
        .values_list("position", flat=True)
        .first()
    )
    if anchor is None:
        raise ValidationFailed(
            fields={"after": [_("That card is no longer in this column. Reload the board.")]}
        )
    # `position >= anchor` is redundant with the OR, but lets the database read the
    # index from the anchor on instead of from the top of the column.
    below = (
        Deal.objects.filter(stage_id=stage_id, position__gte=anchor)
        .filter(Q(position__gt=anchor) | Q(pk__gt=after_id))
        .exclude(pk=deal_id)
    )
    following = below.order_by("position", "id").values_list("position", flat=True).first()
    if following is None:
        return anchor + POSITION_STEP
    if following - anchor >= 2:
        return (anchor + following) // 2
    below.update(position=F("position") + POSITION_STEP)
    return anchor + POSITION_STEP // 2


def _resolve_stage(pipeline: Pipeline | None, stage: Stage | None) -> tuple[Pipeline, Stage]:
    if stage is not None:
        if pipeline is not None and stage.pipeline_id != pipeline.pk:
            raise ValidationFailed(fields={"stage": [_("This stage is in another pipeline.")]})
        return (pipeline or stage.pipeline), stage
    if pipeline is None:
        pipeline = Pipeline.objects.order_by("-is_default", "order", "id").first()
        if pipeline is None:
            raise ValidationFailed(fields={"pipeline": [_("Create a pipeline first.")]})
    first_open = (
        Stage.objects.filter(pipeline_id=pipeline.pk, kind=Stage.Kind.OPEN, is_archived=False)
        .order_by("order", "id")
        .first()
    )
    if first_open is None:
        raise ValidationFailed(fields={"stage": [_("This pipeline has no open stage.")]})
    return pipeline, first_open


@transaction.atomic
def deal_create(
    *,
    actor: Any,
    client: Client,
    title: str,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    owner: Any = None,
    amount: Any = None,
    currency: str = "",
    expected_close_on: Any = None,
    probability: Any = None,
    person: Person | None = None,
    source: str = "",
    campaign: str = "",
    competitors: Iterable[str] | None = None,
) -> Deal:
    """A new deal for `client` (which the actor must be able to see), owned by `owner`
    (default: the actor) in the owner's team, at the top of `stage` (default: the first
    open stage of `pipeline`, default: the default pipeline). A deal starts open. Its
    probability defaults to the stage's, its currency to the client's."""
    if not can_create_sales_record(actor):
        raise NotPermitted(action="create", resource="deal")
    if not clients_visible_to(actor).filter(pk=client.pk).exists():
        raise NotFound(resource="client", id=client.pk)
    pipeline, stage = _resolve_stage(pipeline, stage)
    if stage.kind != Stage.Kind.OPEN or stage.is_archived:
        raise ValidationFailed(
            fields={"stage": [_("A new deal starts in an open stage; close it by moving it.")]}
        )
    fields: dict[str, Any] = {
        "title": title,
        "amount": amount,
        "currency": currency or client.currency or reporting_currency(),
        "expected_close_on": expected_close_on,
        "person": person,
        "source": source,
        "campaign": campaign,
        "competitors": list(competitors or []),
    }
    if probability is not None and probability != "":
        fields["probability"] = probability
    cleaned = _deal_clean(fields, client=client)
    names = cleaned.pop("competitors")
    owner = owner or actor
    deal = Deal(
        **cleaned,
        client=client,
        pipeline=pipeline,
        stage=stage,
        owner=owner,
        team_id=owner.team_id,
    )
    if "probability" not in cleaned:
        deal.probability = stage.probability
    if not can_edit_sales_record(actor, deal):
        raise NotPermitted(action="create", resource="deal")
    deal.position = _top_position(stage.pk)
    deal.save()
    if names:
        _set_competitors(deal, names)
    DealStageChange.objects.create(deal=deal, to_stage=stage, changed_by=actor)
    audit_record(
        action=Action.CREATE,
        subject=deal,
        actor=actor,
        changes={
            **diff({}, snapshot(deal, [*AUDITED, "pipeline", "stage"])),
            **({"competitors": [None, names]} if names else {}),
        },
    )
    outbox_publish(
        kind="deal.created",
        payload={"deal_id": deal.pk, "client_id": client.pk, "actor_id": actor.pk},
    )
    return deal


@transaction.atomic
def deal_update(
    *, actor: Any, deal: Deal, expected_version: int | None = None, **changes: Any
) -> Deal:
    """Change a deal's fields (see EDITABLE; the stage changes with deal_move, products
    with deal_lines_set). With `expected_version`, refuse (StaleVersion) when the deal
    changed since the caller read it. A deal with products has the sum of its lines as
    its amount; only a lost deal has a lost reason, and it cannot be emptied."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed(fields={k: [_("This field cannot be changed.")] for k in unknown})
    locked = _lock_deal(actor, deal.pk, "update", "stage", "client")
    _check_version(locked, expected_version)
    new_client = changes.pop("client", None)
    new_owner = changes.pop("owner", None)
    if (
        new_client is not None
        and new_client.pk != locked.client_id
        and not clients_visible_to(actor).filter(pk=new_client.pk).exists()
    ):
        raise ValidationFailed(fields={"client": [_("Choose a client you can see.")]})
    client = new_client or locked.client
    cleaned = _deal_clean(changes, client=client)
    errors: Errors = {}
    if "amount" in cleaned and DealLine.objects.filter(deal_id=locked.pk).exists():
        errors["amount"] = [_("This deal's amount is the sum of its products.")]
    if "lost_reason" in cleaned:
        if locked.stage.kind == Stage.Kind.LOST and not cleaned["lost_reason"]:
            errors["lost_reason"] = [_("Say why the deal was lost.")]
        elif locked.stage.kind != Stage.Kind.LOST and cleaned["lost_reason"]:
            errors["lost_reason"] = [_("Only a lost deal has a lost reason.")]
    if errors:
        raise ValidationFailed(fields=errors)
    names = cleaned.pop("competitors", None)
    before = snapshot(locked, AUDITED)
    if new_owner is not None and new_owner.pk != locked.owner_id:
        if not can_assign_sales_record(actor, locked, owner=new_owner):
            raise NotPermitted(action="assign", resource="deal")
        locked.owner = new_owner
        locked.team_id = new_owner.team_id
    if client.pk != locked.client_id:
        locked.client = client
        if (
            "person" not in cleaned
            and locked.person_id is not None
            and not Employment.objects.filter(
                person_id=locked.person_id, organisation_id=client.pk
            ).exists()
        ):
            locked.person = None
    for name, value in cleaned.items():
        setattr(locked, name, value)
    changed = diff(before, snapshot(locked, AUDITED))
    if names is not None:
        was = sorted(locked.competitors.values_list("name", flat=True), key=str.casefold)
        if [n.casefold() for n in was] != [n.casefold() for n in names]:
            changed["competitors"] = [was, _set_competitors(locked, names)]
    if changed:
        locked.version += 1
        fields = [f for f in changed if f != "competitors"]
        locked.save(update_fields=[*fields, "version", "updated_at"])
        audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changed)
        outbox_publish(
            kind="deal.updated", payload={"deal_id": locked.pk, "fields": sorted(changed)}
        )
    return locked


@transaction.atomic
def deal_move(
    *,
    actor: Any,
    deal: Deal,
    stage: Stage,
    after_id: int | None = None,
    lost_reason: str = "",
    expected_version: int | None = None,
) -> Deal:
    """Put the deal in `stage` right below card `after_id` (None: at the top of the
    column): the board's drag and drop, in one request.

    A change of stage sets the probability to the new stage's default, records a
    stage-history step and publishes deal.stage_changed, deal.won or deal.lost. Into a
    lost stage it needs `lost_reason` (ValidationFailed on "lost_reason" otherwise);
    into a won stage it sets won_at and creates the order from the deal's products.
    Back to an open stage it clears won_at, lost_at and the lost reason (an order made
    when it was won stays: cancel it by hand).

    Cost: the deal's row lock, two or three index lookups for the position, one
    UPDATE, one history INSERT, one audit INSERT, one outbox INSERT."""
    locked = _lock_deal(actor, deal.pk, "move", "stage")
    _check_version(locked, expected_version)
    if stage.is_archived:
        raise ValidationFailed(fields={"stage": [_("This stage has been deleted.")]})
    old_stage = locked.stage
    moving = stage.pk != old_stage.pk
    before_won_at, before_lost_at = locked.won_at, locked.lost_at
    reason = ""
    if stage.kind == Stage.Kind.LOST:
        errors: Errors = {}
        reason = text_clean(lost_reason, "lost_reason", 300, errors) or locked.lost_reason
        if errors:
            raise ValidationFailed(fields=errors)
        if not reason:
            raise ValidationFailed(fields={"lost_reason": [_("Say why the deal was lost.")]})
    before = snapshot(locked, MOVE_AUDITED)
    fields = ["position", "version", "updated_at"]
    if after_id == locked.pk:
        position = locked.position
    elif after_id is None:
        position = _top_position(stage.pk, exclude=locked.pk)
    else:
        position = _position_after(stage_id=stage.pk, deal_id=locked.pk, after_id=after_id)
    locked.position = position
    if moving:
        now = timezone.now()
        locked.stage = stage
        locked.probability = stage.probability
        locked.lost_reason = reason
        # From one won (lost) stage to another, the deal was won (lost) already.
        stays = old_stage.kind == stage.kind
        locked.won_at = None
        locked.lost_at = None
        if stage.kind == Stage.Kind.WON:
            locked.won_at = (before_won_at if stays else None) or now
        elif stage.kind == Stage.Kind.LOST:
            locked.lost_at = (before_lost_at if stays else None) or now
        fields += ["stage", "probability", "lost_reason", "won_at", "lost_at"]
        if stage.pipeline_id != locked.pipeline_id:
            locked.pipeline_id = stage.pipeline_id
            fields.append("pipeline")
    elif stage.kind == Stage.Kind.LOST and reason != locked.lost_reason:
        locked.lost_reason = reason
        fields.append("lost_reason")
    changes = diff(before, snapshot(locked, MOVE_AUDITED))
    if not changes:
        return locked
    locked.version += 1
    locked.save(update_fields=fields)
    if moving:
        DealStageChange.objects.create(
            deal=locked, from_stage=old_stage, to_stage=stage, changed_by=actor
        )
    audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changes)
    if moving:
        outbox_publish(
            kind=MOVE_EVENTS[stage.kind],
            payload={
                "deal_id": locked.pk,
                "from_stage_id": old_stage.pk,
                "to_stage_id": stage.pk,
                "actor_id": actor.pk,
            },
        )
        if stage.kind == Stage.Kind.WON and old_stage.kind != Stage.Kind.WON:
            order_from_deal(actor=actor, deal=locked)
    return locked


def _line_clean(index: int, line: dict[str, Any], deal: Deal, errors: Errors) -> DealLine | None:
    prefix = f"lines.{index}."
    unknown = set(line) - {"product", "quantity", "unit_price", "discount_percent"}
    for name in sorted(unknown):
        errors[prefix + name] = [_("Unknown field.")]
    product = line.get("product")
    if not isinstance(product, Product):
        errors[prefix + "product"] = [_("Choose a product.")]
        return None
    quantity = decimal_clean(
        line.get("quantity", 1),
        prefix + "quantity",
        errors,
        places=3,
        limit=QUANTITY_LIMIT,
        required=True,
        allow_zero=False,
    )
    discount = percent_clean(line.get("discount_percent"), prefix + "discount_percent", errors)
    unit_price = decimal_clean(line.get("unit_price"), prefix + "unit_price", errors)
    if unit_price is None and prefix + "unit_price" not in errors:
        unit_price = _catalogue_price(deal, product, prefix + "unit_price", errors)
    if quantity is None or unit_price is None:
        return None
    return DealLine(
        deal=deal,
        product=product,
        quantity=quantity,
        unit_price=unit_price,
        discount_percent=discount,
        amount=line_amount(quantity, unit_price, discount),
        order=index,
    )


def _catalogue_price(deal: Deal, product: Product, key: str, errors: Errors) -> Decimal | None:
    """The client's price for the product today, in the deal's currency."""
    today = timezone.localdate()
    price = price_for(deal.client, product, on=today)
    if price is None:
        errors[key] = [_("No price list has a price for this product: enter the price.")]
        return None
    try:
        return convert(price.amount, price.currency, deal.currency, on=today)
    except DomainError as exc:
        errors[key] = [exc.detail]
        return None


def _lines_summary(lines: Iterable[DealLine]) -> list[dict[str, Any]]:
    return [
        {
            "product": line.product_id,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "discount_percent": str(line.discount_percent),
            "amount": str(line.amount),
        }
        for line in lines
    ]


@transaction.atomic
def deal_lines_set(
    *,
    actor: Any,
    deal: Deal,
    lines: Sequence[dict[str, Any]],
    expected_version: int | None = None,
) -> list[DealLine]:
    """Replace the deal's products. Each line: product, quantity (default 1), unit
    price in the deal's currency (default: the client's catalogue price today, see
    price_for, converted), discount_percent (default 0). The deal's amount becomes the
    sum of the lines. A won deal's products are in its order and cannot change."""
    locked = _lock_deal(actor, deal.pk, "update", "stage", "client")
    _check_version(locked, expected_version)
    if locked.stage.kind == Stage.Kind.WON:
        raise ValidationFailed(
            fields={"lines": [_("The deal is won: its products are in its order now.")]}
        )
    errors: Errors = {}
    new_lines = [_line_clean(i, dict(line), locked, errors) for i, line in enumerate(lines)]
    if errors:
        raise ValidationFailed(fields=errors)
    old_lines = list(DealLine.objects.filter(deal_id=locked.pk).order_by("order", "id"))
    DealLine.objects.filter(deal_id=locked.pk).delete()
    created = DealLine.objects.bulk_create([line for line in new_lines if line is not None])
    old_amount = locked.amount
    if created:
        locked.amount = sum((line.amount for line in created), Decimal(0))
    locked.version += 1
    locked.save(update_fields=["amount", "version", "updated_at"])
    changes: dict[str, Any] = {"lines": [_lines_summary(old_lines), _lines_summary(created)]}
    if locked.amount != old_amount:
        changes["amount"] = [str(old_amount), str(locked.amount)]
    audit_record(action=Action.UPDATE, subject=locked, actor=actor, changes=changes)
    outbox_publish(kind="deal.updated", payload={"deal_id": locked.pk, "fields": ["lines"]})
    return created


@transaction.atomic
def deal_delete(*, actor: Any, deal: Deal, expected_version: int | None = None) -> Deal:
    """Move a deal to the trash (an administrator can restore it)."""
    locked = _lock_deal(actor, deal.pk, "delete")
    _check_version(locked, expected_version)
    trash.soft_delete(actor=actor, obj=locked)
    outbox_publish(kind="deal.deleted", payload={"deal_id": locked.pk})
    return locked
