from __future__ import annotations

import random

import pytest

from lavka.clients import identifiers
from lavka.clients.identifiers import BadValue, email_normalised, phone_normalised


def full_parse(value):
    return identifiers._phone_parsed(value, "RU")


def outcome(function, value):
    try:
        return function(value)
    except BadValue as exc:
        return f"error: {exc}"


def written_forms(rng: random.Random, prefix: str, digits: str) -> list[str]:
    a, b, c, d = digits[:3], digits[3:6], digits[6:8], digits[8:]
    return [
        f"{prefix}{digits}",
        f"{prefix} {a} {b} {c} {d}",
        f"{prefix} ({a}) {b}-{c}-{d}",
        f"{prefix}({a}){b}{c}{d}",
        f"{prefix}-{a}-{b}-{c}-{d}",
        f"{prefix}.{a}.{b}.{c}.{d}",
        f"{prefix} {a} {b}{c}{d})",
        f"{prefix}{' ' * rng.randrange(3)}{a}  {b} {c}{d} ",
    ]


def test_the_quick_russian_phone_path_agrees_with_the_full_parse():
    rng = random.Random(20261124)
    values = []
    for _ in range(1500):
        first = rng.choice("0123456789")
        digits = first + "".join(rng.choice("0123456789") for _ in range(9))
        prefix = rng.choice(["+7", "7", "8", "+8", "810", "+7 8", "+ 7", "++7", "", "9"])
        values.extend(written_forms(rng, prefix, digits))
    values += [
        "8 800 555-35-35",
        "+7 800 555 35 35",
        "7 800 555 35 35",
        "8 8 800 555 35 35",
        "+7 (3452) 12-34-56",
        "+7 727 123 45 67",
        "8 (495) 123-45-67 доб. 12",
        "8 (495) 123-45-67 x12",
        "8\t495 123 45 67",
        "+7 495 123 45 67 #",
    ]
    differing = [
        (value, outcome(phone_normalised, value), outcome(full_parse, value))
        for value in values
        if outcome(phone_normalised, value.strip()) != outcome(full_parse, value.strip())
    ]

    assert differing == []
    assert phone_normalised("8 (495) 123-45-67") == "+74951234567"
    assert phone_normalised("+7 916 123-45-67") == "+79161234567"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Info@Romashka.RU", "info@romashka.ru"),
        ("a.b+c@sub.example.org", "a.b+c@sub.example.org"),
        ("user@localhost", "user@localhost"),
        ("user@[127.0.0.1]", "user@[127.0.0.1]"),
        ("info@пример.рф", "info@пример.рф"),
        ("почта@пример.рф", "error: “почта@пример.рф” is not a valid email address."),
        ("lutik@example", "error: “lutik@example” is not a valid email address."),
        ("a..b@example.org", "error: “a..b@example.org” is not a valid email address."),
        ("@example.org", "error: “@example.org” is not a valid email address."),
    ],
)
def test_emails_are_checked_as_django_checks_them(value, expected):
    assert outcome(email_normalised, value) == expected


def test_the_quick_inn_check_agrees_with_python_stdnum():
    from stdnum.ru import inn as ru_inn

    rng = random.Random(7)
    numbers = [
        "".join(rng.choice("0123456789") for _ in range(rng.choice([10, 12]))) for _ in range(3000)
    ]
    numbers += ["7707083893", "7736207543", "500100732259", "1234567890", "77070838931"]

    def stdnum(value):
        try:
            return ru_inn.validate(value)
        except Exception:
            return "invalid"

    def ours(value):
        try:
            return identifiers.inn_normalised(value)
        except BadValue:
            return "invalid"

    assert [ours(n) for n in numbers] == [stdnum(n) for n in numbers]
    assert sum(ours(n) != "invalid" for n in numbers) > 100  # both outcomes are covered


def test_folded_text_has_single_spaces_and_no_case_or_yo():
    import re

    rng = random.Random(3)
    alphabet = "aБёЁ z\t\n\u00a0\u2003\x1c\u3000ß-"
    samples = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(12))) for _ in range(2000)]

    def by_regex(*parts):
        text = " ".join(p for p in parts if p)
        return re.sub(r"\s+", " ", text.casefold().replace("ё", "е")).strip()

    pairs = list(zip(samples[::2], samples[1::2], strict=True))
    assert [identifiers.folded(a, "", b) for a, b in pairs] == [
        by_regex(a, "", b) for a, b in pairs
    ]
    assert identifiers.folded("  ООО  «Ёлка» ", "", "Тверь") == "ооо «елка» тверь"
