"""Input shapes for the web UI. No business rules here: services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils import formats
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from lavka.clients.models import (
    Address,
    Client,
    Consent,
    ContactPoint,
    Contract,
    CustomField,
    ImportantDate,
    Tier,
)
from lavka.identity.access import SCOPE_ORDER, Area, Capability, Scope
from lavka.identity.models import ApiToken, Role, Team
from lavka.identity.services import user_set_password


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AuditedPasswordChangeForm(PasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        return user_set_password(
            actor=self.user, user=self.user, password=self.cleaned_data["new_password1"]
        )


class AuditedSetPasswordForm(SetPasswordForm):
    def save(self, commit: bool = True) -> Any:
        return user_set_password(
            actor=None, user=self.user, password=self.cleaned_data["new_password1"], via_reset=True
        )


class ClientForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Client.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=300)
    email = forms.CharField(label=_("Email"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    city = forms.CharField(label=_("City"), required=False, max_length=120)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    # The contact and commercial blocks' own fields; the service checks them (tax ids by
    # checksum, amounts, currency), so they are plain text here.
    legal_name = forms.CharField(label=_("Legal name"), required=False, max_length=500)
    website = forms.CharField(label=_("Website"), required=False, max_length=300)
    preferred_channel = forms.ChoiceField(
        label=_("Preferred channel"),
        required=False,
        choices=[("", "—"), *Client.Channel.choices],
    )
    preferred_time = forms.CharField(label=_("Preferred time"), required=False, max_length=100)
    industry = forms.CharField(label=_("Industry"), required=False, max_length=120)
    size = forms.ChoiceField(
        label=_("Company size"), required=False, choices=[("", "—"), *Client.Size.choices]
    )
    annual_revenue = forms.CharField(label=_("Annual revenue"), required=False, max_length=30)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)
    payment_terms_days = forms.CharField(
        label=_("Payment terms (days)"), required=False, max_length=5
    )
    price_list = forms.CharField(label=_("Price list"), required=False, max_length=100)
    discount_percent = forms.CharField(label=_("Discount, %"), required=False, max_length=10)
    credit_limit = forms.CharField(label=_("Credit limit"), required=False, max_length=30)
    inn = forms.CharField(label=_("INN"), required=False, max_length=20)
    kpp = forms.CharField(label=_("KPP"), required=False, max_length=20)
    ogrn = forms.CharField(label=_("OGRN"), required=False, max_length=20)
    vat = forms.CharField(label=_("VAT number"), required=False, max_length=20)
    bank_name = forms.CharField(label=_("Bank"), required=False, max_length=200)
    bank_bic = forms.CharField(label=_("BIC"), required=False, max_length=11)
    bank_account = forms.CharField(label=_("Account number"), required=False, max_length=34)
    bank_correspondent_account = forms.CharField(
        label=_("Correspondent account"), required=False, max_length=20
    )

    BLOCK_FIELDS = [
        "legal_name",
        "website",
        "preferred_channel",
        "preferred_time",
        "industry",
        "size",
        "annual_revenue",
        "currency",
        "payment_terms_days",
        "price_list",
        "discount_percent",
        "credit_limit",
        "inn",
        "kpp",
        "ogrn",
        "vat",
        "bank_name",
        "bank_bic",
        "bank_account",
        "bank_correspondent_account",
    ]


class UserForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.all(), required=False)
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.all())
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Browser setting")), ("en", "English"), ("ru", "Русский")],
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    parent = forms.ModelChoiceField(
        label=_("Parent team"), queryset=Team.objects.all(), required=False
    )


class RoleForm(forms.Form):
    """One read and one write level per area, and the capabilities."""

    name = forms.CharField(label=_("Name"), max_length=100)
    capabilities = forms.MultipleChoiceField(
        label=_("Capabilities"),
        choices=Capability.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(str(s), Scope(s).label) for s in SCOPE_ORDER]
        for area in Area:
            for action, label in (("read", _("read")), ("write", _("write"))):
                self.fields[f"{area}__{action}"] = forms.ChoiceField(
                    label=f"{area.label}: {label}", choices=choices
                )

    def grants(self) -> dict[str, dict[str, str]]:
        return {
            str(area): {
                "read": self.cleaned_data[f"{area}__read"],
                "write": self.cleaned_data[f"{area}__write"],
            }
            for area in Area
        }

    @staticmethod
    def initial_for(role: Role) -> dict[str, Any]:
        initial: dict[str, Any] = {"name": role.name, "capabilities": role.capabilities}
        for area in Area:
            grant = (role.grants or {}).get(str(area), {})
            initial[f"{area}__read"] = grant.get("read", Scope.NONE)
            initial[f"{area}__write"] = grant.get("write", Scope.NONE)
        return initial


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    scope = forms.ChoiceField(label=_("Access"), choices=ApiToken.Scope.choices)


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Browser setting")), ("en", "English"), ("ru", "Русский")],
    )
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        required=False,
        help_text=_("For example Europe/Moscow"),
    )


# --- the client card's blocks (services validate; these only shape the input) ---------

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ContactPointForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ContactPoint.Kind.choices)
    value = forms.CharField(
        label=_("Email, phone or handle"),
        max_length=254,
        help_text=_("Phones in any format, e.g. 8 (495) 123-45-67 or +7 495 123 45 67."),
    )
    label = forms.CharField(
        label=_("Label"), max_length=40, required=False, help_text=_("work, mobile, Telegram…")
    )
    is_primary = forms.BooleanField(label=_("Primary"), required=False)


class AddressForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=Address.Kind.choices)
    country = forms.CharField(
        label=_("Country code"), max_length=2, required=False, help_text=_("Two letters, e.g. RU")
    )
    region = forms.CharField(label=_("Region"), max_length=120, required=False)
    city = forms.CharField(label=_("City"), max_length=120, required=False)
    postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False)
    street = forms.CharField(label=_("Street address"), max_length=300, required=False)
    is_primary = forms.BooleanField(label=_("Primary address"), required=False)


class ConsentForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=Consent.Channel.choices)
    granted = forms.TypedChoiceField(
        label=_("Consent"),
        coerce=lambda v: v == "yes",
        choices=[("yes", _("Given")), ("no", _("Withdrawn"))],
    )
    source = forms.CharField(
        label=_("Source"),
        max_length=200,
        required=False,
        help_text=_("Where it was given: web form, signed paper, call…"),
    )


class ContractForm(forms.Form):
    number = forms.CharField(label=pgettext_lazy("contract", "Number"), max_length=100)
    subject = forms.CharField(label=_("Subject"), max_length=500, required=False)
    start_on = forms.DateField(label=_("Start date"), required=False, widget=DATE_WIDGET)
    end_on = forms.DateField(label=_("End date"), required=False, widget=DATE_WIDGET)
    amount = forms.CharField(
        label=pgettext_lazy("contract", "Value"), max_length=30, required=False
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, required=False)
    status = forms.ChoiceField(label=_("Status"), choices=Contract.Status.choices)
    renewal = forms.ChoiceField(label=_("Renewal"), choices=Contract.Renewal.choices)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))
    contract = forms.TypedChoiceField(
        label=_("Contract"), coerce=int, required=False, empty_value=None, choices=[]
    )
    is_signed_copy = forms.BooleanField(label=_("Signed copy of the contract"), required=False)

    def __init__(self, *args: Any, contracts: list[Any] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["contract"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("— the client itself —"))] + [
            (c.pk, c.number) for c in (contracts or [])
        ]


class PersonForm(forms.Form):
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    job_title = forms.CharField(label=_("Job title"), max_length=150, required=False)
    role = forms.CharField(
        label=_("Role"), max_length=150, required=False, help_text=_("e.g. decides, approves, uses")
    )
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)


class ImportantDateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ImportantDate.Kind.choices)
    label = forms.CharField(
        label=_("What"),
        max_length=150,
        required=False,
        help_text=_("e.g. the cat Murka's birthday"),
    )
    day = forms.IntegerField(label=_("Day"), min_value=1, max_value=31)
    month = forms.TypedChoiceField(
        label=_("Month"),
        coerce=int,
        choices=[(i, str(i)) for i in range(1, 13)],
    )
    year = forms.IntegerField(
        label=_("Year (if known)"), required=False, min_value=1900, max_value=2100
    )
    remind_days_before = forms.IntegerField(
        label=_("Remind days before"), min_value=0, max_value=365, initial=7
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        month = self.fields["month"]
        assert isinstance(month, forms.TypedChoiceField)
        month.choices = [(i, formats.date_format(dt.date(2000, i, 1), "F")) for i in range(1, 13)]


class TierChangeForm(forms.Form):
    tier = forms.ModelChoiceField(
        label=_("Tier"), queryset=Tier.objects.all(), required=False, empty_label=_("— no tier —")
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class CustomValuesForm(forms.Form):
    """One input per active custom field; the service checks the values by type."""

    def __init__(self, *args: Any, fields: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in fields:
            name = field.key
            if field.type == CustomField.Type.BOOLEAN:
                self.fields[name] = forms.BooleanField(label=field.label, required=False)
            elif field.type == CustomField.Type.CHOICE:
                self.fields[name] = forms.ChoiceField(
                    label=field.label,
                    required=False,
                    choices=[("", "—")] + [(c, c) for c in field.choices],
                )
            elif field.type == CustomField.Type.MULTI_CHOICE:
                self.fields[name] = forms.MultipleChoiceField(
                    label=field.label,
                    required=False,
                    widget=forms.CheckboxSelectMultiple,
                    choices=[(c, c) for c in field.choices],
                )
            elif field.type == CustomField.Type.DATE:
                self.fields[name] = forms.CharField(
                    label=field.label,
                    required=False,
                    widget=forms.DateInput(attrs={"type": "date"}),
                )
            else:
                self.fields[name] = forms.CharField(
                    label=field.label, required=False, max_length=2000
                )


class CustomFieldForm(forms.Form):
    entity = forms.ChoiceField(label=_("For"), choices=CustomField.Entity.choices)
    label = forms.CharField(label=_("Label"), max_length=100)
    key = forms.CharField(
        label=_("Key"),
        max_length=50,
        required=False,
        help_text=_(
            "Latin letters, digits, underscores; made from the label "
            "when empty. Used in import and the API."
        ),
    )
    type = forms.ChoiceField(label=_("Type"), choices=CustomField.Type.choices)
    choices = forms.CharField(
        label=_("Choices"), required=False, help_text=_("For choice fields: separated by commas.")
    )
    order = forms.IntegerField(label=_("Order"), required=False, initial=0)
    is_required = forms.BooleanField(label=_("Required"), required=False)


class TierForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    order = forms.IntegerField(label=_("Order"), required=False, initial=0)
    contact_norm_days = forms.IntegerField(
        label=_("Contact at least every (days)"),
        required=False,
        min_value=0,
        max_value=3650,
        help_text=_("Clients of this tier are flagged when nobody has been in touch for longer."),
    )
    colour = forms.ChoiceField(
        label=_("Colour"),
        choices=[
            ("neutral", _("Grey")),
            ("accent", _("Accent")),
            ("good", _("Green")),
            ("warn", _("Amber")),
            ("risk", _("Red")),
        ],
    )
