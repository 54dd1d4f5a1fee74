"""Tax and bank identifiers for the demo clients, with real check digits: Russian INN
(10 digits for organisations, 12 for people), KPP, OGRN, bank accounts keyed to their
BIC; EU VAT numbers and IBANs for foreign clients. Every number is drawn from the
caller's `random.Random` and checked with python-stdnum (or, for Russian accounts, the
Bank of Russia's key rule) before it is returned, so the card and the import accept it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from stdnum import bic as swift_bic
from stdnum import iban
from stdnum.eu import vat as eu_vat
from stdnum.ru import inn as ru_inn
from stdnum.ru import ogrn as ru_ogrn

# Weights of the Russian account key (Bank of Russia rule 385-P): the last three digits
# of the BIC (or "0" and digits 5-6 for a correspondent account) and the account.
ACCOUNT_WEIGHTS = ([7, 1, 3] * 8)[:23]


@dataclass(frozen=True)
class RussianBank:
    name: str
    bic: str
    correspondent_account: str


# Real banks' public BIC and correspondent account (printed on every invoice they issue);
# the clients' own accounts at them are made up, with a valid key.
RUSSIAN_BANKS = [
    RussianBank("ПАО Сбербанк", "044525225", "30101810400000000225"),
    RussianBank("АО «Альфа-Банк»", "044525593", "30101810200000000593"),
    RussianBank("Банк ВТБ (ПАО)", "044525187", "30101810700000000187"),
    RussianBank("АО «ТБанк»", "044525974", "30101810145250000974"),
    RussianBank("Северо-Западный банк ПАО Сбербанк", "044030653", "30101810500000000653"),
    RussianBank(
        "Отделение «Банк Татарстан» № 8610 ПАО Сбербанк", "049205805", "30101810000000000805"
    ),
]

# Foreign banks by country: (name, SWIFT BIC, how to draw the BBAN of an IBAN).
FOREIGN_BANKS: dict[str, tuple[str, str, Callable[[random.Random], str]]] = {
    "DE": ("Deutsche Bank AG", "DEUTDEBBXXX", lambda r: f"10070000{r.randint(0, 10**10 - 1):010d}"),
    "FI": ("Nordea Bank Abp", "NDEAFIHH", lambda r: f"1{r.randint(0, 10**13 - 1):013d}"),
    "EE": ("Swedbank AS", "HABAEE2X", lambda r: f"22{r.randint(0, 10**14 - 1):014d}"),
    "GB": (
        "Barclays Bank UK PLC",
        "BARCGB22",
        lambda r: f"BARC20{r.randint(0, 9999):04d}{r.randint(0, 10**8 - 1):08d}",
    ),
}


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(count))


def inn_organisation(rng: random.Random, *, office: str) -> str:
    """A 10-digit INN of an organisation registered at tax office `office` (4 digits)."""
    return inn_complete(office + _digits(rng, 5))


def inn_person(rng: random.Random, *, office: str) -> str:
    """A 12-digit INN of a person (or sole trader) registered at `office`."""
    return inn_complete(office + _digits(rng, 6))


def inn_complete(body: str) -> str:
    """The INN whose digits before the check digits are `body`: 9 digits make an
    organisation's INN, 10 a person's."""
    if len(body) == 9:
        return ru_inn.validate(body + ru_inn.calc_company_check_digit(body + "0"))
    return ru_inn.validate(body + ru_inn.calc_personal_check_digits(body + "00"))


def kpp(office: str, *, reason: str = "01") -> str:
    """The KPP of an organisation at its head office: tax office, reason 01, number 001."""
    return f"{office}{reason}001"


def ogrn(rng: random.Random, *, region: str, year: int) -> str:
    """A 13-digit OGRN: 1, the year of registration, the region and a record number."""
    body = f"1{year % 100:02d}{region}{_digits(rng, 7)}"
    return ru_ogrn.validate(body + ru_ogrn.calc_check_digit(body + "0"))


def _account_key_ok(prefix: str, account: str) -> bool:
    digits = prefix + account
    return sum(int(d) * w for d, w in zip(digits, ACCOUNT_WEIGHTS, strict=True)) % 10 == 0


def russian_account(rng: random.Random, *, bic: str, balance: str = "40702") -> str:
    """A 20-digit rouble account at the bank `bic`: balance account (40702 for a
    commercial organisation), currency 810, the key digit, branch and number."""
    rest = _digits(rng, 11)
    for key in "0123456789":
        account = f"{balance}810{key}{rest}"
        if _account_key_ok(bic[-3:], account):
            return account
    raise AssertionError("the key digit always exists: its weight 3 is prime to 10")


def russian_bank_details(rng: random.Random, *, city: str) -> dict[str, str]:
    """Bank name, BIC, account and correspondent account for a Russian organisation in
    `city` (St Petersburg's and Kazan's clients mostly bank locally)."""
    local = {"Санкт-Петербург": 4, "Казань": 5}.get(city)
    bank = RUSSIAN_BANKS[local] if local is not None and rng.random() < 0.6 else None
    bank = bank or rng.choice(RUSSIAN_BANKS[:4])
    account = russian_account(rng, bic=bank.bic)
    assert _account_key_ok("0" + bank.bic[4:6], bank.correspondent_account)
    return {
        "bank_name": bank.name,
        "bank_bic": bank.bic,
        "bank_account": account,
        "bank_correspondent_account": bank.correspondent_account,
    }


def foreign_bank_details(rng: random.Random, *, country: str) -> dict[str, str]:
    """Bank name, SWIFT BIC and IBAN for an organisation in `country` (DE, FI, EE, GB)."""
    name, code, bban = FOREIGN_BANKS[country]
    for _attempt in range(100):
        body = bban(rng)
        number = f"{country}{iban.calc_check_digits(f'{country}00{body}')}{body}"
        if iban.is_valid(number):
            return {
                "bank_name": name,
                "bank_bic": swift_bic.validate(code),
                "bank_account": number,
                "bank_correspondent_account": "",
            }
    raise AssertionError(f"no valid IBAN drawn for {country}")


def eu_vat_number(rng: random.Random, *, country: str) -> str:
    """A VAT number of `country` (DE: 9 digits, FI: 8, EE: 9 starting 10) whose check
    digit is right; "" for a country outside the EU VAT system (e.g. GB)."""
    shapes = {
        "DE": (lambda: str(rng.randint(1, 9)) + _digits(rng, 7)),
        "FI": (lambda: _digits(rng, 7)),
    }
    shapes["EE"] = lambda: "10" + _digits(rng, 6)
    draw = shapes.get(country)
    if draw is None:
        return ""
    for _attempt in range(100):
        body = draw()
        for check in "0123456789":
            number = f"{country}{body}{check}"
            if eu_vat.is_valid(number):
                return str(eu_vat.validate(number))
    raise AssertionError(f"no valid VAT number drawn for {country}")
