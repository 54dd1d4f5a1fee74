"""Login, logout and passwords."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from lavka.identity.errors import LoginLocked
from lavka.identity.services import login_check_allowed, login_record, logout_record
from lavka.web.forms import AuditedPasswordChangeForm, AuditedSetPasswordForm, LoginForm


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    if request.user.is_authenticated:
        return redirect(next_url or "home")
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        ip = client_ip(request)
        try:
            login_check_allowed(username=username, ip=ip)
        except LoginLocked as exc:
            form.add_error(None, exc.detail)
            status = 429
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            login_record(username=username, ip=ip, user=user)
            if user is None:
                form.add_error(None, _("The username or password is wrong."))
                status = 401
            else:
                login(request, user)
                return redirect(next_url or "home")
    return render(
        request, "registration/login.html", {"form": form, "next": next_url}, status=status
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        logout_record(user=request.user, ip=client_ip(request))  # type: ignore[arg-type]
    logout(request)
    messages.info(request, _("You have logged out."))
    return redirect("login")


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = AuditedPasswordChangeForm
    template_name = "registration/password_change.html"
    success_url = reverse_lazy("profile")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = AuditedSetPasswordForm
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("login")

    def form_valid(self, form):  # type: ignore[no-untyped-def]
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been set. You can log in now."))
        return response
