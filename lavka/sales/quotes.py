"""The quote (commercial offer) of a deal: its positions with quantity, price,
discount, VAT and totals, our company and the client's requisites, a validity date;
as data for the printable page and as a PDF (lavka.core.pdf).

Prices on deals include VAT, as Russian price lists usually do: a position's VAT is
its amount × rate / (100 + rate), shown as "including VAT". Positions of products
without a VAT rate (and a deal without products) carry none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from lavka.core.pdf import PdfDocument
from lavka.sales.models import Deal
from lavka.sales.selectors.deals import deal_lines

QUOTE_VALID_DAYS = 14
CENT = Decimal("0.01")


@dataclass(frozen=True)
class QuoteLine:
    number: int
    name: str
    code: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal  # after the discount, VAT included
    vat_rate: Decimal | None
    vat_amount: Decimal


@dataclass
class Quote:
    deal: Deal
    number: str
    issued_on: dt.date
    valid_until: dt.date
    company: str
    currency: str
    lines: list[QuoteLine]
    # (label, value) of the client: name, INN, KPP, OGRN, bank, BIC, accounts.
    requisites: list[tuple[str, str]]
    gross: Decimal = Decimal(0)  # before discounts
    discount: Decimal = Decimal(0)
    total: Decimal = Decimal(0)
    # VAT included in the total, per rate (ascending).
    vat: dict[Decimal, Decimal] = field(default_factory=dict)

    @property
    def vat_total(self) -> Decimal:
        return sum(self.vat.values(), Decimal(0))


def company_name() -> str:
    """Our company as documents name it: the COMPANY_NAME setting (the environment
    variable LAVKA_COMPANY_NAME); without one, "Our company" in the active language, so
    that a document never names the CRM as the seller."""
    name = str(getattr(settings, "COMPANY_NAME", "") or "").strip()
    return name or _("Our company")


def _requisites(deal: Deal) -> list[tuple[str, str]]:
    client = deal.client
    pairs = [
        (_("Client"), client.name),
        (_("INN"), client.inn),
        (_("KPP"), client.kpp),
        (_("OGRN"), client.ogrn),
        (_("Bank"), client.bank_name),
        (_("BIC"), client.bank_bic),
        (_("Account number"), client.bank_account),
        (_("Correspondent account"), client.bank_correspondent_account),
    ]
    return [(label, value) for label, value in pairs if value]


def deal_quote(*, viewer: Any, deal: Deal, today: dt.date | None = None) -> Quote:
    """The quote of `deal` (which the viewer may read: NotFound otherwise), issued
    `today` (default: today) and valid QUOTE_VALID_DAYS days."""
    issued = today or timezone.localdate()
    lines = deal_lines(viewer=viewer, deal=deal)
    quote = Quote(
        deal=deal,
        number=f"Q-{deal.pk}",
        issued_on=issued,
        valid_until=issued + dt.timedelta(days=QUOTE_VALID_DAYS),
        company=company_name(),
        currency=deal.currency,
        lines=[],
        requisites=_requisites(deal),
    )
    for index, line in enumerate(lines, start=1):
        rate = line.product.vat_rate
        vat = (
            (line.amount * rate / (100 + rate)).quantize(CENT, ROUND_HALF_UP)
            if rate
            else Decimal(0)
        )
        quote.lines.append(
            QuoteLine(
                number=index,
                name=line.product.name,
                code=line.product.code,
                unit=line.product.unit,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                amount=line.amount,
                vat_rate=rate,
                vat_amount=vat,
            )
        )
        quote.gross += (line.quantity * line.unit_price).quantize(CENT, ROUND_HALF_UP)
        quote.total += line.amount
        if rate:
            quote.vat[rate] = quote.vat.get(rate, Decimal(0)) + vat
    if not lines:
        quote.lines.append(
            QuoteLine(
                number=1,
                name=deal.title,
                code="",
                unit="",
                quantity=Decimal(1),
                unit_price=deal.amount,
                discount_percent=Decimal(0),
                amount=deal.amount,
                vat_rate=None,
                vat_amount=Decimal(0),
            )
        )
        quote.gross = quote.total = deal.amount
    quote.discount = max(quote.gross - quote.total, Decimal(0))
    quote.vat = dict(sorted(quote.vat.items()))
    return quote


def quote_money(amount: Decimal, currency: str) -> str:
    """12 000,00 RUB / 12,000.00 RUB in the active language."""
    number = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    return f"{number}\u00a0{currency}"


def _number(value: Decimal, places: int) -> str:
    shown = value.normalize() if value == value.to_integral() else value
    decimals = 0 if value == value.to_integral() else places
    return formats.number_format(shown, decimals, use_l10n=True, force_grouping=True)


def quote_title(quote: Quote) -> str:
    return _("Quote %(number)s of %(date)s") % {
        "number": quote.number,
        "date": formats.date_format(quote.issued_on, "SHORT_DATE_FORMAT"),
    }


def quote_pdf(quote: Quote) -> bytes:
    """The quote as a one- or few-page A4 PDF, in the active language."""
    money = lambda amount: quote_money(amount, quote.currency)  # noqa: E731
    doc = PdfDocument(
        title=quote_title(quote),
        subtitle=f"{quote.company} → {quote.deal.client.name}",
        footer=quote.company,
    )
    doc.key_values(
        [
            (_("From"), quote.company),
            (_("Deal"), quote.deal.title),
            (
                _("Valid until"),
                formats.date_format(quote.valid_until, "SHORT_DATE_FORMAT"),
            ),
        ]
    )
    doc.heading(_("Client requisites"))
    doc.key_values(quote.requisites or [(_("Client"), quote.deal.client.name)])
    doc.heading(_("Positions"))
    doc.table(
        [
            "#",
            _("Product"),
            _("Quantity"),
            _("Price"),
            _("Discount, %"),
            _("VAT, %"),
            _("Amount"),
        ],
        [
            [
                str(line.number),
                line.name,
                f"{_number(line.quantity, 3)} {line.unit}".strip(),
                money(line.unit_price),
                _number(line.discount_percent, 2),
                _number(line.vat_rate, 2) if line.vat_rate is not None else "—",
                money(line.amount),
            ]
            for line in quote.lines
        ],
        widths=[0.5, 4, 1.3, 1.7, 1, 0.9, 1.9],
        align="LLRRRRR",
    )
    totals = [(_("Without discounts"), money(quote.gross))]
    if quote.discount:
        totals.append((_("Discount"), money(quote.discount)))
    totals.append((_("Total"), money(quote.total)))
    for rate, amount in quote.vat.items():
        totals.append((_("Including VAT %(rate)s%%") % {"rate": _number(rate, 2)}, money(amount)))
    if not quote.vat:
        totals.append((_("VAT"), _("not charged")))
    doc.heading(_("Totals"))
    doc.key_values(totals)
    doc.paragraph(
        _("The offer is valid until %(date)s.")
        % {"date": formats.date_format(quote.valid_until, "SHORT_DATE_FORMAT")},
        muted=True,
    )
    return doc.output()
