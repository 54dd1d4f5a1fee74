"""The form renderer: Django's own, remembering the HTML of each widget.

A page such as the client card renders some fifty form fields; rendering a widget
(`<input>`, `<select>` with its options, each through the template engine) was most
of the card's time. A widget's HTML is a function of its template, its context and
the active language, so it is rendered once per process for each distinct context
and then reused. Contexts holding anything but plain values (model choices, forms)
are rendered every time, as before.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from typing import Any

from django.forms.models import ModelChoiceIteratorValue
from django.forms.renderers import DjangoTemplates
from django.utils import translation
from django.utils.functional import Promise

MEMO_MAX = 5000  # widget contexts remembered per process; the memo is emptied when full
_PLAIN = (int, float, Decimal, dt.date, dt.time, dt.timedelta, type(None))


class NotPlain(Exception):
    """The value holds something a memo key cannot stand for (a model, a form...)."""


def frozen(value: Any) -> Any:
    """A hashable key standing for `value`, keeping apart what renders differently
    (`"1"` and `1`, a safe string and a plain one); NotPlain for anything else."""
    if isinstance(value, str):
        return (value.__class__, str(value))
    if isinstance(value, Promise):
        return ("lazy", hasattr(value, "__html__"), str(value))
    if isinstance(value, ModelChoiceIteratorValue):
        # A model choice's value: widget templates write it as str(value).
        return (ModelChoiceIteratorValue, str(value))
    if isinstance(value, bool):
        return (bool, value)
    if isinstance(value, _PLAIN):
        return (value.__class__, value)
    if isinstance(value, dict):
        return ("dict", tuple((k, frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (value.__class__, tuple(frozen(v) for v in value))
    raise NotPlain


class MemoTemplates(DjangoTemplates):
    def __init__(self) -> None:
        super().__init__()
        self._memo: dict[Any, str] = {}
        self._lock = threading.Lock()

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if request is not None or not template_name.startswith("django/forms/widgets/"):
            return super().render(template_name, context, request)
        try:
            key = (translation.get_language(), template_name, frozen(context))
        except NotPlain:
            return super().render(template_name, context, request)
        html = self._memo.get(key)
        if html is None:
            html = super().render(template_name, context, request)
            with self._lock:
                if len(self._memo) >= MEMO_MAX:
                    self._memo.clear()
                self._memo[key] = html
        return html
