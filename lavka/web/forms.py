"""Input shapes for the web UI. No business rules here: services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from lavka.clients.models import Client
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
