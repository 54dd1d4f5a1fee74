"""Who buys what and when (issue 5 §5, seed 002 "anticipate needs").

After every recompute the `buying` report (`report`) computes, for every client scored:

- per product category, the repeat cycle and the next expected purchase
  (`engine.cycles`): the median days between the client's purchase days in the
  category, added to the last one; at least two purchase days in the category, and a
  category whose date passed more than a whole cycle ago counts as lapsed. The category
  due first is kept with its date and cycle;
- the product to offer (`engine.copurchase`): item-to-item co-purchase over the whole
  base ("62% of clients who buy X also buy Y"), among products on sale that the client
  has not bought, with at least `copurchase.MIN_SUPPORT` clients who bought both;
- `due_on`, the earlier of that category's date and the model's next purchase date
  (BG/NBD, `ClientScore.next_purchase_on`): what the due-to-buy list sorts on.

One `ClientInsight` row per client scored (COPY on PostgreSQL, `bulk_create` elsewhere).
A product's category is its category in the catalogue. The report returns counts, the
typical cycle per category and the strongest co-purchase pairs (stored in
`ComputeRun.reports["buying"]`).

Reads: `client_insight` (the client card: the run's suggestion and due category, and
the per-category cycles computed live from the client's own order lines) and
`due_list` / `due_rows` (the due-to-buy list, scoped like every analytics read).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from numpy.typing import NDArray

from lavka.analytics.engine import copurchase, cycles
from lavka.analytics.loading import EPOCH_2000, Columns, copy_statement
from lavka.analytics.models import ClientInsight, ComputeRun
from lavka.analytics.permissions import can_read_analytics
from lavka.analytics.selectors import analytics_clients_visible_to, run_current, sees_whole_base
from lavka.analytics.storage import Column, binary_copy_chunks
from lavka.clients.models import Client
from lavka.identity.access import Action, Area, Scope, scope_for, team_ids_at_and_below
from lavka.identity.selectors import teams_visible_to, users_visible_to
from lavka.sales.models import OrderLine, Product, ProductCategory
from lavka.sales.models.orders import SALE_STATUSES

if TYPE_CHECKING:
    from lavka.analytics.reports import ReportContext

WINDOWS = (7, 14, 30, 60)  # days ahead the due list offers
OVERDUE_DAYS = 30  # the due list also shows clients overdue by up to this many days
PER_PAGE = 50
COUNT_CAP = 10_000  # the page counts the list up to this many rows
TOP_PAIRS = 10
TOP_CATEGORIES = 40

_SQLITE_BATCH = 2000
_FETCH_ROWS = 50_000
IntArray = NDArray[np.int64]


def _day(value: dt.date) -> int:
    return (value - dt.date(1970, 1, 1)).days


def _date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


# --- loading ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Purchases:
    """One row per order line naming a product: buying client, product, day."""

    client: IntArray
    product: IntArray
    day: IntArray
    method: str


def _lines_query(as_of: dt.date) -> QuerySet[Any]:
    return (
        OrderLine.objects.filter(
            product__isnull=False,
            order__status__in=SALE_STATUSES,
            order__ordered_on__lte=as_of,
            order__deleted_at__isnull=True,
        )
        .values_list("order__client_id", "product_id", "order__ordered_on")
        .order_by()
    )


_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("client_len", ">i4"),
        ("client", ">i8"),
        ("product_len", ">i4"),
        ("product", ">i8"),
        ("day_len", ">i4"),
        ("day", ">i4"),
    ]
)
_HEADER = 19


def _copy_lines(query: QuerySet[Any]) -> Purchases | None:
    """Binary COPY through this session (see `loading`); None on a row of another shape."""
    statement, params = copy_statement(query)
    connection.ensure_connection()
    raw = connection.connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(statement, params) as copy:
        data = b"".join(bytes(chunk) for chunk in copy)
    body = data[_HEADER:]
    if body.endswith(b"\xff\xff"):
        body = body[:-2]
    if len(body) % _ROW.itemsize:
        return None
    rows = np.frombuffer(body, dtype=_ROW)
    if rows.size and not ((rows["fields"] == 3).all() and (rows["day_len"] == 4).all()):
        return None
    return Purchases(
        rows["client"].astype(np.int64),
        rows["product"].astype(np.int64),
        rows["day"].astype(np.int64) + EPOCH_2000,
        "copy",
    )


def _fetch_lines(query: QuerySet[Any]) -> Purchases:
    sql, params = query.query.sql_with_params()
    clients: list[IntArray] = []
    products: list[IntArray] = []
    days: list[IntArray] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(_FETCH_ROWS):
            c, p, d = zip(*rows, strict=True)
            clients.append(np.array(c, dtype=np.int64))
            products.append(np.array(p, dtype=np.int64))
            days.append(np.array([str(v)[:10] for v in d], dtype="datetime64[D]").astype(np.int64))

    def join(parts: list[IntArray]) -> IntArray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    return Purchases(join(clients), join(products), join(days), "fetchmany")


def purchases_load(as_of: dt.date, lines: Columns | None = None) -> Purchases:
    """The purchases up to `as_of`: from the recompute's lines when they carry the
    buying client (no second read), else one query (COPY on PostgreSQL)."""
    if lines is not None and lines.client is not None:
        return Purchases(lines.client, lines.key, lines.day, "recompute")
    query = _lines_query(as_of)
    if connection.vendor == "postgresql":
        loaded = _copy_lines(query)
        if loaded is not None:
            return loaded
    return _fetch_lines(query)


# --- the report -------------------------------------------------------------------------


def _rows_of(ids: IntArray, wanted: IntArray) -> IntArray:
    """Row of each of `wanted` in the ascending `ids`, -1 when absent: a table indexed
    by id when the ids are compact (they usually are), else a binary search."""
    if ids.size == 0 or wanted.size == 0:
        return np.full(wanted.size, -1, dtype=np.int64)
    low, high = int(ids[0]), int(ids[-1])
    if high - low <= 8 * ids.size + 1_000_000:
        table = np.full(high - low + 1, -1, dtype=np.int64)
        table[ids - low] = np.arange(ids.size)
        inside = (wanted >= low) & (wanted <= high)
        rows = np.full(wanted.size, -1, dtype=np.int64)
        rows[inside] = table[wanted[inside] - low]
        return rows
    at = np.minimum(np.searchsorted(ids, wanted), ids.size - 1)
    return np.where(ids[at] == wanted, at, -1).astype(np.int64)


def _value_of(ids: IntArray, values: IntArray, wanted: IntArray) -> IntArray:
    """`values` of each of `wanted` in the ascending `ids`, 0 when absent. For small
    non-negative ids (products) a table indexed by the id itself: one gather."""
    if ids.size and wanted.size and int(ids[0]) >= 0 and int(ids[-1]) <= 4_000_000:
        low, high = int(wanted.min()), int(wanted.max())
        if low >= 0:
            table = np.zeros(max(high, int(ids[-1])) + 1, dtype=np.int64)
            table[ids] = values
            return table[wanted]
    rows = _rows_of(ids, wanted)
    found = values[np.maximum(rows, 0)] if values.size else np.zeros(wanted.size, np.int64)
    return np.where(rows >= 0, found, 0)


def _catalogue() -> tuple[IntArray, IntArray, NDArray[np.bool_]]:
    """Product ids ascending, their category (0 = none) and whether they may be
    offered (on sale, a product rather than a service)."""
    rows = list(
        Product.objects.order_by("pk").values_list("pk", "category_id", "is_active", "kind")
    )
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    category = np.array([r[1] or 0 for r in rows], dtype=np.int64)
    offerable = np.array([bool(r[2]) and r[3] == Product.Kind.PRODUCT for r in rows], dtype=bool)
    return ids, category, offerable


@dataclass
class InsightArrays:
    """Per client of the run (ascending ids), what `ClientInsight` stores; -1 / NaN
    where there is nothing."""

    client_id: IntArray
    due_on: IntArray
    next_purchase_on: IntArray
    due_category: IntArray
    category_due_on: IntArray
    cycle_days: NDArray[np.float64]
    category_purchases: IntArray
    category_last_on: IntArray
    product: IntArray
    because: IntArray
    offer_score: NDArray[np.float64]
    offer_share: NDArray[np.float64]
    last_on: IntArray
    clv: NDArray[np.float64]
    leave_probability: NDArray[np.float64]


def _columns(run: ComputeRun, a: InsightArrays) -> list[Column]:
    n = a.client_id.size

    def day(name: str, values: IntArray) -> Column:
        return Column(name, np.maximum(values, 0), "date", values < 0)

    def key(name: str, values: IntArray) -> Column:
        return Column(name, np.maximum(values, 0), "int8", values < 0)

    def real(name: str, values: NDArray[np.float64]) -> Column:
        return Column(name, values, "float8", np.isnan(values))

    return [
        Column("run_id", np.full(n, run.pk, dtype=np.int64), "int8"),
        Column("client_id", a.client_id, "int8"),
        day("due_on", a.due_on),
        day("next_purchase_on", a.next_purchase_on),
        key("due_category_id", a.due_category),
        day("category_due_on", a.category_due_on),
        real("cycle_days", a.cycle_days),
        Column("category_purchases", a.category_purchases, "int4"),
        day("category_last_on", a.category_last_on),
        key("product_id", a.product),
        key("because_id", a.because),
        real("offer_score", a.offer_score),
        real("offer_share", a.offer_share),
        Column("last_on", a.last_on, "date"),
        real("clv", a.clv),
        real("leave_probability", a.leave_probability),
    ]


def _python(column: Column, i: int) -> Any:
    if column.null is not None and column.null[i]:
        return None
    value = column.values[i]
    if column.kind == "date":
        return _date(int(value))
    if column.kind == "float8":
        return float(value)
    return int(value)


def insights_write(run: ComputeRun, arrays: InsightArrays) -> None:
    """Replace the run's insights, in one transaction: COPY on PostgreSQL,
    `bulk_create` elsewhere."""
    columns = _columns(run, arrays)
    n = arrays.client_id.size
    with transaction.atomic():
        ClientInsight.objects.filter(run_id=run.pk).delete()
        if n == 0:
            return
        if connection.vendor == "postgresql":
            names = ", ".join(connection.ops.quote_name(c.name) for c in columns)
            table = connection.ops.quote_name(ClientInsight._meta.db_table)
            raw = connection.connection
            assert raw is not None
            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
            ):
                for chunk in binary_copy_chunks(columns):
                    copy.write(chunk)
            return
        for start in range(0, n, _SQLITE_BATCH):
            stop = min(n, start + _SQLITE_BATCH)
            ClientInsight.objects.bulk_create(
                [
                    ClientInsight(**{c.name: _python(c, i) for c in columns})
                    for i in range(start, stop)
                ],
                batch_size=_SQLITE_BATCH,
            )


def insights_compute(
    *,
    purchases: Purchases,
    client_id: IntArray,
    last_on: IntArray,
    next_purchase_on: IntArray,
    clv: NDArray[np.float64],
    p_alive: NDArray[np.float64],
    as_of: dt.date,
    catalogue: tuple[IntArray, IntArray, NDArray[np.bool_]],
    min_support: int = copurchase.MIN_SUPPORT,
) -> tuple[InsightArrays, dict[str, Any]]:
    """The insight of every client in `client_id` (ascending) and the report's
    summary. Pure arithmetic over arrays (no database)."""
    n = client_id.size
    product_ids, product_category, offerable = catalogue
    as_of_day = _day(as_of)
    # Lines of a client left out of the run (none, normally: lines come with the run's
    # orders) count for the co-purchases and give cycles that are not stored.
    buyer, product, day = purchases.client, purchases.product, purchases.day
    started = time.perf_counter()

    # Repeat cycles per (client, category).
    category = _value_of(product_ids, product_category, product)
    with_category = category > 0
    if with_category.all():
        found = cycles.category_cycles(buyer, category, day)
    else:
        found = cycles.category_cycles(
            buyer[with_category], category[with_category], day[with_category]
        )
    del category, with_category
    due = cycles.due_categories(found, as_of_day)
    rows = _rows_of(client_id, due.client_id)
    keep = rows >= 0
    due_category = np.full(n, -1, dtype=np.int64)
    category_due_on = np.full(n, -1, dtype=np.int64)
    cycle_days = np.full(n, np.nan)
    category_purchases = np.zeros(n, dtype=np.int64)
    category_last_on = np.full(n, -1, dtype=np.int64)
    r = rows[keep]
    due_category[r] = due.category_id[keep]
    category_due_on[r] = due.next_day[keep]
    cycle_days[r] = due.cycle_days[keep]
    category_purchases[r] = due.purchases[keep]
    category_last_on[r] = due.last_day[keep]

    cycles_done = time.perf_counter()

    # Offers from co-purchases.
    basket = copurchase.baskets(buyer, product)
    assoc = copurchase.associations(basket, min_support=min_support)
    candidates = _value_of(product_ids, offerable.astype(np.int64), basket.product_id) > 0
    offers = copurchase.suggest(basket, assoc, candidates=candidates)
    rows = _rows_of(client_id, offers.client_id)
    keep = (rows >= 0) & (offers.product_id >= 0)
    offer = np.full(n, -1, dtype=np.int64)
    because = np.full(n, -1, dtype=np.int64)
    score = np.full(n, np.nan)
    share = np.full(n, np.nan)
    r = rows[keep]
    offer[r] = offers.product_id[keep]
    because[r] = offers.because_id[keep]
    score[r] = offers.score[keep]
    share[r] = offers.share[keep]

    offers_done = time.perf_counter()

    both = (category_due_on >= 0) & (next_purchase_on >= 0)
    due_on = np.where(
        both,
        np.minimum(category_due_on, next_purchase_on),
        np.maximum(category_due_on, next_purchase_on),
    )
    arrays = InsightArrays(
        client_id=client_id,
        due_on=due_on,
        next_purchase_on=next_purchase_on,
        due_category=due_category,
        category_due_on=category_due_on,
        cycle_days=cycle_days,
        category_purchases=category_purchases,
        category_last_on=category_last_on,
        product=offer,
        because=because,
        offer_score=score,
        offer_share=share,
        last_on=last_on,
        clv=clv,
        leave_probability=1.0 - p_alive,
    )

    # The typical cycle per category, over the clients with a cycle in it.
    per_category: list[dict[str, Any]] = []
    has = found.has_cycle
    if has.any():
        cats, counts = np.unique(found.category_id[has], return_counts=True)
        order = np.argsort(-counts, kind="stable")[:TOP_CATEGORIES]
        cycle_of = found.cycle_days[has]
        cat_of = found.category_id[has]
        for k in order.tolist():
            values = cycle_of[cat_of == cats[k]]
            per_category.append(
                {
                    "category": int(cats[k]),
                    "clients": int(counts[k]),
                    "median_cycle_days": float(np.median(values)),
                }
            )
    window_end = as_of_day + max(WINDOWS)
    summary: dict[str, Any] = {
        "clients": int(n),
        "lines": int(buyer.size),
        "products": int(basket.product_id.size),
        "min_support": int(min_support),
        "with_cycle": int(np.unique(found.client_id[has]).size) if has.any() else 0,
        "with_due_category": int((due_category >= 0).sum()),
        "with_offer": int((offer >= 0).sum()),
        "overdue": int(((due_on >= 0) & (due_on < as_of_day)).sum()),
        "due_within": {
            str(w): int(((due_on >= as_of_day - OVERDUE_DAYS) & (due_on <= as_of_day + w)).sum())
            for w in WINDOWS
        },
        "due_by": _date(window_end).isoformat(),
        "categories": per_category,
        "seconds": {
            "cycles": round(cycles_done - started, 3),
            "copurchase": round(offers_done - cycles_done, 3),
        },
        "pairs": [
            {
                "first": p.first,
                "second": p.second,
                "together": p.together,
                "cosine": round(p.cosine, 4),
                "lift": round(p.lift, 3),
            }
            for p in copurchase.top_pairs(assoc, limit=TOP_PAIRS)
        ],
    }
    return arrays, summary


def report(context: ReportContext) -> dict[str, Any] | None:
    """Compute and store every client's insight (see the module docstring)."""
    purchases = purchases_load(context.as_of, context.lines)
    scores = context.clients
    arrays, summary = insights_compute(
        purchases=purchases,
        client_id=scores.client_id,
        last_on=scores.last_on,
        next_purchase_on=scores.next_purchase_on,
        clv=scores.clv,
        p_alive=scores.p_alive,
        as_of=context.as_of,
        catalogue=_catalogue(),
    )
    started = time.perf_counter()
    insights_write(context.run, arrays)
    summary["seconds"]["write"] = round(time.perf_counter() - started, 3)
    names = dict(
        Product.objects.filter(
            pk__in={p["first"] for p in summary["pairs"]} | {p["second"] for p in summary["pairs"]}
        ).values_list("pk", "name")
    )
    for pair in summary["pairs"]:
        pair["first_name"] = names.get(pair["first"], "")
        pair["second_name"] = names.get(pair["second"], "")
    category_names = dict(
        ProductCategory.objects.filter(
            pk__in=[c["category"] for c in summary["categories"]]
        ).values_list("pk", "name")
    )
    for row in summary["categories"]:
        row["name"] = category_names.get(row["category"], "")
    summary["read_by"] = purchases.method
    return summary


# --- reads ------------------------------------------------------------------------------


def offer_reason(*, share: float | None, because: str | None, product: str | None) -> str:
    """'62% of clients who buy X also buy Y', translated."""
    if not product or not because or share is None or math.isnan(share):
        return ""
    return _("%(share)s of clients who buy %(because)s also buy %(product)s") % {
        "share": f"{round(100 * share)}%",
        "because": because,
        "product": product,
    }


@dataclass(frozen=True, slots=True)
class CategoryCycle:
    """One product category of one client: how often they buy it and when next."""

    category_id: int
    name: str
    purchases: int  # distinct days with a purchase in the category
    last_on: dt.date
    cycle_days: float | None  # median days between purchases; None below 2 purchase days
    next_on: dt.date | None  # last_on + cycle
    is_overdue: bool  # next_on before today
    is_lapsed: bool  # overdue by more than a whole cycle

    @property
    def cycle_whole_days(self) -> int | None:
        return None if self.cycle_days is None else max(1, round(self.cycle_days))


@dataclass(frozen=True, slots=True)
class ClientInsightCard:
    """What the client card shows under "who buys what and when". Fields are None where
    there is nothing to say (no repeat purchase in any category, no suggestion)."""

    as_of: dt.date
    next_purchase_on: dt.date | None  # BG/NBD, from the client's scores
    due_category_id: int | None
    due_category: str | None
    due_on: dt.date | None
    due_cycle_days: float | None
    is_overdue: bool
    offer_product_id: int | None
    offer_product: str | None
    offer_score: float | None
    offer_reason: str  # translated, e.g. "62% of clients who buy X also buy Y"
    cycles: list[CategoryCycle] = field(default_factory=list)
    offer_because_id: int | None = None
    offer_because: str | None = None
    offer_share: float | None = None  # of the buyers of `offer_because`, 0..1


def _number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def insights_visible_to(viewer: Any, run: ComputeRun) -> QuerySet[ClientInsight]:
    """The insights of `run` whose client `viewer` may read in analytics (live clients
    only)."""
    rows = ClientInsight.objects.filter(run_id=run.pk)
    if not can_read_analytics(viewer):
        return rows.none()
    if sees_whole_base(viewer):
        return rows.filter(client__deleted_at__isnull=True)
    return rows.filter(client_id__in=analytics_clients_visible_to(viewer).values("pk"))


def client_cycles(*, client: Client, today: dt.date) -> list[CategoryCycle]:
    """The client's repeat cycle per category, live from its order lines (one query):
    categories with a cycle first, the one due first on top; then the others, the most
    recent first. Does not check access: callers do (see `client_insight`)."""
    rows = list(
        OrderLine.objects.filter(
            product__isnull=False,
            order__client_id=client.pk,
            order__status__in=SALE_STATUSES,
            order__ordered_on__lte=today,
            order__deleted_at__isnull=True,
        )
        .annotate(
            cat=Coalesce("product__category_id", "category_id"),
            cat_name=Coalesce("product__category__name", "category__name"),
        )
        .filter(cat__isnull=False)
        .values_list("cat", "cat_name", "order__ordered_on")
        .order_by()
    )
    if not rows:
        return []
    names = {cat: name for cat, name, _ in rows}
    days = np.array([_day(d) for _, _, d in rows], dtype=np.int64)
    found = cycles.category_cycles(
        np.zeros(days.size, dtype=np.int64),
        np.array([cat for cat, _, _ in rows], dtype=np.int64),
        days,
    )
    lapsed = cycles.is_lapsed(found, _day(today))
    result = []
    for k in range(len(found)):
        has = bool(found.next_day[k] >= 0)
        next_on = _date(int(found.next_day[k])) if has else None
        result.append(
            CategoryCycle(
                category_id=int(found.category_id[k]),
                name=names[int(found.category_id[k])],
                purchases=int(found.purchases[k]),
                last_on=_date(int(found.last_day[k])),
                cycle_days=float(found.cycle_days[k]) if has else None,
                next_on=next_on,
                is_overdue=next_on is not None and next_on < today,
                is_lapsed=bool(lapsed[k]),
            )
        )
    result.sort(
        key=lambda c: (
            c.next_on is None,
            c.is_lapsed,
            c.next_on or dt.date.min,
            -c.last_on.toordinal(),
            c.category_id,
        )
    )
    return result


def client_insight(
    *, viewer: Any, client: Client, with_cycles: bool = True
) -> ClientInsightCard | None:
    """The client's "who buys what and when" for the card: the suggested offer and the
    earliest due category from the current run, and the per-category cycles computed
    live for this one client from its order lines. None when the viewer may not read the
    client's analytics or the client has no insight in the current run. Two queries;
    one with `with_cycles=False` (then `cycles` is empty)."""
    if not can_read_analytics(viewer):
        return None
    row = (
        ClientInsight.objects.filter(
            client_id=client.pk,
            run__is_current=True,
            client_id__in=analytics_clients_visible_to(viewer).filter(pk=client.pk).values("pk"),
        )
        .select_related("run", "due_category", "product", "because")
        .first()
    )
    if row is None:
        return None
    today = timezone.localdate()
    product = row.product.name if row.product_id and row.product else None
    because = row.because.name if row.because_id and row.because else None
    category = row.due_category.name if row.due_category_id and row.due_category else None
    return ClientInsightCard(
        as_of=row.run.as_of,
        next_purchase_on=row.next_purchase_on,
        due_category_id=row.due_category_id,
        due_category=category,
        due_on=row.category_due_on,
        due_cycle_days=_number(row.cycle_days),
        is_overdue=row.category_due_on is not None and row.category_due_on < today,
        offer_product_id=row.product_id,
        offer_product=product,
        offer_score=_number(row.offer_score),
        offer_reason=offer_reason(share=row.offer_share, because=because, product=product),
        cycles=client_cycles(client=client, today=today) if with_cycles else [],
        offer_because_id=row.because_id,
        offer_because=because,
        offer_share=_number(row.offer_share),
    )


@dataclass(frozen=True, slots=True)
class DueRow:
    """One client of the due-to-buy list."""

    client_id: int
    client: str
    owner: str
    due_on: dt.date | None  # the earlier of the category's date and the model's
    days: int | None  # from today to due_on; negative = overdue
    is_overdue: bool
    by_model: bool  # due_on comes from the purchase model, not a category's cycle
    due_category_id: int | None
    due_category: str | None
    category_due_on: dt.date | None
    cycle_days: float | None
    next_purchase_on: dt.date | None
    offer_product_id: int | None
    offer_product: str | None
    offer_because: str | None
    offer_share: float | None
    offer_reason: str
    last_on: dt.date
    clv: float | None
    leave_probability: float | None

    @property
    def days_late(self) -> int:
        return -self.days if self.days is not None and self.days < 0 else 0

    @property
    def cycle_whole_days(self) -> int | None:
        return None if self.cycle_days is None else max(1, round(self.cycle_days))


@dataclass(frozen=True, slots=True)
class DuePage:
    as_of: dt.date | None  # of the run read; None when nothing was ever computed
    currency: str
    today: dt.date
    within_days: int
    rows: list[DueRow]
    total: int
    page: int
    pages: int
    per_page: int
    report: dict[str, Any] | None = None  # the run's `buying` report (typical cycles)
    total_is_exact: bool = True  # False: at least `total` (counting stopped there)


def _due_queryset(
    *,
    viewer: Any,
    run: ComputeRun,
    within_days: int,
    owner: int | None,
    team: int | None,
    category: int | None,
    today: dt.date,
) -> QuerySet[ClientInsight]:
    rows = insights_visible_to(viewer, run).filter(
        due_on__gte=today - dt.timedelta(days=OVERDUE_DAYS),
        due_on__lte=today + dt.timedelta(days=within_days),
    )
    if owner is not None:
        rows = rows.filter(client__owner_id=owner)
    if team is not None:
        rows = rows.filter(client__team_id=team)
    if category is not None:
        rows = rows.filter(due_category_id=category)
    return rows.select_related(
        "client", "client__owner", "due_category", "product", "because"
    ).order_by("due_on", "client_id")


def _row(item: ClientInsight, today: dt.date) -> DueRow:
    product = item.product.name if item.product_id and item.product else None
    because = item.because.name if item.because_id and item.because else None
    due_on = item.due_on
    owner = item.client.owner
    return DueRow(
        client_id=item.client_id,
        client=item.client.name,
        owner=(owner.get_full_name() or owner.username) if owner else "",
        due_on=due_on,
        days=None if due_on is None else (due_on - today).days,
        is_overdue=due_on is not None and due_on < today,
        by_model=item.category_due_on is None or item.due_on != item.category_due_on,
        due_category_id=item.due_category_id,
        due_category=item.due_category.name if item.due_category_id and item.due_category else None,
        category_due_on=item.category_due_on,
        cycle_days=_number(item.cycle_days),
        next_purchase_on=item.next_purchase_on,
        offer_product_id=item.product_id,
        offer_product=product,
        offer_because=because,
        offer_share=_number(item.offer_share),
        offer_reason=offer_reason(share=item.offer_share, because=because, product=product),
        last_on=item.last_on,
        clv=_number(item.clv),
        leave_probability=_number(item.leave_probability),
    )


def due_list(
    *,
    viewer: Any,
    within_days: int,
    owner: int | None = None,
    category: int | None = None,
    team: int | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
    offset: int | None = None,
    today: dt.date | None = None,
    count_cap: int | None = COUNT_CAP,
) -> DuePage:
    """The due-to-buy list: clients the viewer may read in analytics (a rep: their own;
    a manager: their team's, as the role's analytics scope says) whose next purchase is
    expected between `OVERDUE_DAYS` days ago and `within_days` days from today, by a
    category's cycle or by the purchase model, whichever comes first; optionally only
    one owner's, one team's, or those whose due category is `category`. Sorted by the
    due date; one page (`page` of `per_page` rows, or `per_page` rows from `offset`).
    Three queries (the run, the count, the page). The count stops at `count_cap` rows
    (None: exact), so that a manager of a large base does not wait for it."""
    today = today or timezone.localdate()
    run = run_current(viewer=viewer)
    if run is None:
        return DuePage(None, "", today, within_days, [], 0, 1, 1, per_page)
    rows = _due_queryset(
        viewer=viewer,
        run=run,
        within_days=within_days,
        owner=owner,
        team=team,
        category=category,
        today=today,
    )
    if count_cap is None:
        total, exact = rows.count(), True
    else:
        total = rows.select_related(None).order_by()[: count_cap + 1].count()
        exact = total <= count_cap
        total = min(total, count_cap)
    pages = max(1, -(-total // per_page))
    if offset is not None:
        start = max(0, offset)
        page = start // per_page + 1
    else:
        page = min(max(1, page), pages)
        start = (page - 1) * per_page
    items = [_row(item, today) for item in rows[start : start + per_page]]
    report = (run.reports or {}).get("buying")
    return DuePage(
        run.as_of,
        run.currency,
        today,
        within_days,
        items,
        total,
        page,
        pages,
        per_page,
        report if isinstance(report, dict) and "error" not in report else None,
        exact,
    )


def due_rows(
    *,
    viewer: Any,
    within_days: int,
    owner: int | None = None,
    category: int | None = None,
    team: int | None = None,
    today: dt.date | None = None,
) -> Iterator[DueRow]:
    """Every row of the due-to-buy list (see `due_list`), streamed (CSV export)."""
    today = today or timezone.localdate()
    run = run_current(viewer=viewer)
    if run is None:
        return
    rows = _due_queryset(
        viewer=viewer,
        run=run,
        within_days=within_days,
        owner=owner,
        team=team,
        category=category,
        today=today,
    )
    for item in rows.iterator(chunk_size=2000):
        yield _row(item, today)


def due_categories_of(*, viewer: Any) -> list[tuple[int, str]]:
    """The categories the category filter offers: those of the catalogue (one query)."""
    if not can_read_analytics(viewer):
        return []
    return list(ProductCategory.objects.order_by("name", "pk").values_list("pk", "name"))


def due_owner_choices(*, viewer: Any) -> list[Any]:
    """The reps whose list `viewer` may pick: everyone active for a viewer who sees the
    whole base, the people of their team (and the teams below, as their scope says)
    for a manager, only themselves for a rep. One query."""
    scope = scope_for(viewer, Area.ANALYTICS, Action.READ)
    if scope == Scope.NONE:
        return []
    users = (
        users_visible_to(viewer)
        .filter(is_active=True)
        .order_by("first_name", "last_name", "username")
    )
    if sees_whole_base(viewer):
        return list(users)
    if scope == Scope.TEAM and viewer.team_id:
        return list(users.filter(Q(team_id=viewer.team_id) | Q(pk=viewer.pk)))
    if scope == Scope.TEAM_AND_BELOW and viewer.team_id:
        return list(users.filter(Q(team_id__in=team_ids_at_and_below(viewer)) | Q(pk=viewer.pk)))
    return [viewer]


def due_team_choices(*, viewer: Any) -> list[Any]:
    """The teams whose list `viewer` may pick (see `due_owner_choices`). One query."""
    scope = scope_for(viewer, Area.ANALYTICS, Action.READ)
    teams = teams_visible_to(viewer).order_by("name")
    if sees_whole_base(viewer):
        return list(teams)
    if scope == Scope.TEAM_AND_BELOW and viewer.team_id:
        return list(teams.filter(pk__in=team_ids_at_and_below(viewer)))
    if scope == Scope.TEAM and viewer.team_id:
        return list(teams.filter(pk=viewer.team_id))
    return []
