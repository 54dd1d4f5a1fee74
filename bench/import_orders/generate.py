"""A realistic accounting-system export of order lines, for `lavka import orders`.

    .venv/bin/python bench/import_orders/generate.py OUT.csv --lines 10000000

Semicolon CSV in UTF-8 as 1C-like systems write it: document number, date (dd.mm.yyyy),
client name, client code (external id), INN (organisations), product code, product
name, category, quantity, unit price and amount with a decimal comma, currency, status.
Rows come in date order over two years; an order has 1-5 lines (about 3), clients buy
again and again (about 10 lines per client overall, a few clients much more), a few
thousand products with a long tail. About 1 row in 2,000 is broken (bad date, negative
quantity, no client) and must be rejected with its reason.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

WORDS = ["Ромашка", "Лютик", "Василёк", "Кактус", "Берёза", "Acme", "Globex", "Initech"]
CATEGORIES = ["Канцтовары", "Бумага", "Хозтовары", "Электроника", "Мебель", "Услуги"]
HEADER = [
    "Номер документа",
    "Дата",
    "Клиент",
    "Код клиента",
    "ИНН",
    "Артикул",
    "Товар",
    "Категория",
    "Количество",
    "Цена",
    "Сумма",
    "Валюта",
    "Статус",
]


def inn10(n: int) -> str:
    digits = [int(c) for c in f"{7700000000 + n * 7 % 99_999_999:010d}"[:9]]
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11 % 10
    return "".join(map(str, digits)) + str(check)


def money(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def generate(path: Path, lines: int, *, seed: int = 20261124) -> dict[str, int]:
    rng = random.Random(seed)
    clients = max(1, lines // 10)
    products = max(10, min(3000, lines // 100))
    prices = [round(rng.lognormvariate(6, 1.2), 2) for _ in range(products)]
    start = dt.date(2024, 11, 1)
    days = 730
    per_day = lines / days
    inns: dict[int, str] = {}
    written = orders = bad = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(";".join(HEADER) + "\r\n")
        day = 0
        while written < lines:
            date = (start + dt.timedelta(days=min(day, days - 1))).strftime("%d.%m.%Y")
            target = min(lines, int(per_day * (day + 1)))
            day += 1
            out: list[str] = []
            while written < target:
                orders += 1
                # Repeat buyers: a fifth of the clients make most of the purchases.
                if rng.random() < 0.6:
                    c = int(rng.random() ** 2 * clients * 0.2)
                else:
                    c = rng.randrange(clients)
                if c % 3 == 0:
                    inn = inns.get(c) or inns.setdefault(c, inn10(c))
                    name = f"ООО «{WORDS[c % 8]} {c}»"
                else:
                    inn = ""
                    name = f"ИП {WORDS[c % 8]}ов {c}"
                number = f"РН-{orders:08d}"
                for _ in range(min(rng.randint(1, 5), target - written)):
                    p = min(products - 1, int(rng.paretovariate(1.2)) - 1 + rng.randrange(5))
                    qty = rng.choice((1, 1, 1, 2, 2, 3, 5, 10, 12, 20))
                    price = prices[p]
                    row = [
                        number,
                        date,
                        name,
                        f"К-{c:07d}",
                        inn,
                        f"АРТ-{p:05d}",
                        f"Товар {p} {WORDS[p % 8]}",
                        CATEGORIES[p % len(CATEGORIES)],
                        str(qty),
                        money(price),
                        money(price * qty),
                        "RUB",
                        "Оплачен",
                    ]
                    written += 1
                    if written % 2000 == 0:
                        bad += 1
                        kind = written // 2000 % 3
                        if kind == 0:
                            row[1] = "31.02.2025"
                        elif kind == 1:
                            row[8] = "-" + row[8]
                        else:
                            row[2] = row[3] = row[4] = ""
                    out.append(";".join(row))
            if out:
                fh.write("\r\n".join(out) + "\r\n")
    return {
        "lines": written,
        "orders": orders,
        "clients": clients,
        "products": products,
        "bad": bad,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=10_000_000)
    args = parser.parse_args()
    print(generate(args.out, args.lines))


if __name__ == "__main__":
    main()
