"""Personal details: values of administrator-defined custom fields, checked by type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from lavka.clients.models import CustomField
from lavka.core.errors import ValidationFailed

TRUE = {"1", "true", "yes", "on", "да", "y", "д"}
FALSE = {"0", "false", "no", "off", "нет", "n", "н", ""}


def custom_values_clean(*, entity: str, values: dict[str, Any]) -> dict[str, Any]:
    """Check `values` against the active custom fields of `entity`; unknown keys are
    refused, values are converted to their stored form (dates as ISO strings)."""
    fields = {f.key: f for f in CustomField.objects.filter(entity=entity, is_active=True)}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        field = fields.get(key)
        if field is None:
            errors[f"custom.{key}"] = [_("There is no such field.")]
            continue
        try:
            converted = _convert(field, value)
        except ValueError as exc:
            errors[f"custom.{key}"] = [str(exc)]
            continue
        if converted not in (None, "", []):
            cleaned[key] = converted
    for key, field in fields.items():
        if field.is_required and key not in cleaned and f"custom.{key}" not in errors:
            errors[f"custom.{key}"] = [_("This field is required.")]
    if errors:
        raise ValidationFailed(fields=errors)
    return cleaned


def _convert(field: CustomField, value: Any) -> Any:
    kind = field.type
    if value is None:
        return None
    if kind == CustomField.Type.TEXT:
        return str(value).strip()[:2000]
    if kind == CustomField.Type.NUMBER:
        if value == "":
            return None
        try:
            number = Decimal(str(value).replace(",", ".").replace(" ", ""))
        except InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
        if not number.is_finite():
            raise ValueError(_("Enter a number."))
        return str(number)
    if kind == CustomField.Type.DATE:
        if value == "":
            return None
        try:
            return dt.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None
    if kind == CustomField.Type.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError(_("Enter yes or no."))
    if kind == CustomField.Type.CHOICE:
        if value == "":
            return None
        if str(value) not in field.choices:
            raise ValueError(
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(field.choices)}
            )
        return str(value)
    if kind == CustomField.Type.MULTI_CHOICE:
        items = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        items = [str(v) for v in items if str(v)]
        bad = [v for v in items if v not in field.choices]
        if bad:
            raise ValueError(_("Choose from: %(choices)s.") % {"choices": ", ".join(field.choices)})
        return items
    if kind == CustomField.Type.LINK:
        text = str(value).strip()
        if not text:
            return None
        try:
            URLValidator()(text)
        except ValidationError:
            raise ValueError(_("Enter a valid web address.")) from None
        return text
    raise ValueError(_("Unknown field type."))
