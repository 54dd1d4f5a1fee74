"""web/_time.html's markup (a <time> with the date as its title and "3 days ago" as
its text) for many values at once, from Python: the client list's rows and the
`{% time_of %}` tag (lavka.web.templatetags.lavka) use it. The same text as the
template, checked by tests/web/test_render_speedups.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.humanize.templatetags.humanize import NaturalTimeFormatter, naturaltime
from django.utils import dateformat, timezone, translation
from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import TIME_STRINGS_KEYS, timesince

# Format characters (django.utils.dateformat) whose output depends on the date alone,
# and on the hour and minute alone. A format made of these (and literal text) is
# formatted piece by piece from a memo: a page of the list shows a hundred times.
_DATE_CHARS = frozenset("bdDEFjlLmMnNoStwWyYz")
_TIME_CHARS = frozenset("aAfgGhHiP")
_PIECES: dict[tuple[str, str, Any], str] = {}
_PIECES_MAX = 20_000


def _format_pieces(fmt: str) -> list[tuple[str, str]] | None:
    """("date" | "time" | "text", piece) for each part of `fmt`; None if some part
    depends on more than the date or the hour and minute (seconds, the zone...)."""
    parts: list[tuple[str, str]] = []
    for i, piece in enumerate(dateformat.re_formatchars.split(fmt)):
        if i % 2:
            if piece in _DATE_CHARS:
                parts.append(("date", piece))
            elif piece in _TIME_CHARS:
                parts.append(("time", piece))
            else:
                return None
        elif piece:
            parts.append(("text", dateformat.re_escaped.sub(r"\1", piece)))
    return parts


class Times:
    """The markup of `web/_time.html` for many values at once: the time zone and the
    date format are looked up once, not once per value as the template does, and the
    formatted date and time pieces are remembered (the same output as the `date`
    filter: each piece is formatted by Django's DateFormat the first time)."""

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()
        self.language = translation.get_language() or ""
        fmt = str(get_format("DATETIME_FORMAT"))
        self.title_format = fmt
        self.pieces = _format_pieces(fmt)

    def title(self, local: dt.datetime) -> str:
        if self.pieces is None:
            return dateformat.format(local, self.title_format)
        out = []
        for kind, piece in self.pieces:
            if kind == "text":
                out.append(piece)
                continue
            part = local.date() if kind == "date" else (local.hour, local.minute)
            key = (self.language, piece, part)
            text = _PIECES.get(key)
            if text is None:
                if len(_PIECES) >= _PIECES_MAX:
                    _PIECES.clear()
                text = _PIECES[key] = dateformat.format(local, piece)
            out.append(text)
        return "".join(out)

    def html(self, value: dt.datetime | None) -> SafeString:
        if not value:
            return NO_TIME
        local = value.astimezone(self.zone)
        return format_html(
            '<time datetime="{}" title="{}">{}</time>',
            local.isoformat(),
            self.title(local),
            self.ago(value),
        )

    def ago(self, value: dt.datetime) -> str:
        """`naturaltime(value)`, remembered by what it says: "3 days ago" is the same
        text for every value three days old, and is worded (translated, made plural)
        once. The key is naturaltime's own reckoning (timesince's units, or the seconds,
        minutes or hours of the last day)."""
        now = dt.datetime.now(dt.UTC)
        if value >= now:
            return str(naturaltime(value))
        delta = now - value
        key: tuple[Any, ...]
        if delta.days != 0:
            key = ("day", timesince(value, now, time_strings=_UNIT_MARKS))
        elif delta.seconds == 0:
            key = ("now",)
        elif delta.seconds < 60:
            key = ("second", delta.seconds)
        elif delta.seconds // 60 < 60:
            key = ("minute", delta.seconds // 60)
        else:
            key = ("hour", delta.seconds // 3600)
        memo_key = (self.language, key)
        text = _AGO.get(memo_key)
        if text is None:
            if len(_AGO) >= _PIECES_MAX:
                _AGO.clear()
            text = _AGO[memo_key] = _naturaltime_at(value, now, key)
        return text


class _UnitMark(str):
    """Stands for one of timesince's unit strings: `mark % {"num": 3}` is "year=3"."""

    def __mod__(self, values: Any) -> str:  # type: ignore[override]
        return f"{self}={values['num']}"


_UNIT_MARKS: dict[str, str] = {name: _UnitMark(name) for name in TIME_STRINGS_KEYS}
_AGO: dict[tuple[str, tuple[Any, ...]], str] = {}


def _naturaltime_at(value: dt.datetime, now: dt.datetime, key: tuple[Any, ...]) -> str:
    """What naturaltime(value) says when it is `now` (its branches for the past)."""
    strings = NaturalTimeFormatter.time_strings
    if key[0] == "day":
        delta = timesince(value, now, time_strings=NaturalTimeFormatter.past_substrings)
        return str(strings["past-day"] % {"delta": delta})
    if key[0] == "now":
        return str(strings["now"])
    return str(strings[f"past-{key[0]}"] % {"count": key[1]})


NO_TIME = mark_safe('<span class="muted">—</span>')


_FORMATTERS: dict[tuple[str, str, str], Times] = {}


def time_html(value: dt.datetime | None) -> SafeString:
    """What `{% include "web/_time.html" with value=value %}` writes, in the active
    language and time zone (one formatter per language, zone and format)."""
    key = (
        translation.get_language() or "",
        str(timezone.get_current_timezone()),
        str(get_format("DATETIME_FORMAT")),
    )
    times = _FORMATTERS.get(key)
    if times is None:
        if len(_FORMATTERS) > 100:
            _FORMATTERS.clear()
        times = _FORMATTERS[key] = Times()
    return times.html(value)
