from __future__ import annotations

import email
import re

import pytest
from django.test import Client as HttpClient

from lavka.audit.models import AuditEvent
from lavka.identity.models import User
from lavka.identity.services import user_set_password

PASSWORD = "correct-horse-battery"


@pytest.fixture
def rep(org):
    user_set_password(actor=org.rep, user=org.rep, password=PASSWORD)
    return org.rep


def test_login_with_the_right_password_opens_the_home_page(rep):
    browser = HttpClient()

    response = browser.post("/login/", {"username": "rep", "password": PASSWORD}, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/"
    assert AuditEvent.objects.filter(action="login", actor=rep).count() == 1


def test_passwords_are_hashed_with_argon2(rep):
    assert User.objects.get(pk=rep.pk).password.startswith("argon2$")


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(rep):
    browser = HttpClient()

    response = browser.post("/login/", {"username": "rep", "password": "wrong-password"})

    assert response.status_code == 401
    assert "The username or password is wrong." in response.content.decode()
    assert "_auth_user_id" not in browser.session


def test_login_is_locked_after_five_failures_even_with_the_right_password(rep):
    browser = HttpClient()
    for _ in range(5):
        browser.post("/login/", {"username": "rep", "password": "wrong-password"})

    response = browser.post("/login/", {"username": "rep", "password": PASSWORD})

    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in browser.session
    assert AuditEvent.objects.filter(action="login_failed").count() == 5


def test_lockout_message_is_in_russian_for_a_russian_browser(rep):
    browser = HttpClient(HTTP_ACCEPT_LANGUAGE="ru")
    for _ in range(5):
        browser.post("/login/", {"username": "rep", "password": "wrong-password"})

    response = browser.post("/login/", {"username": "rep", "password": PASSWORD})

    assert "Слишком много неудачных попыток" in response.content.decode()


def test_logout_needs_post_and_ends_the_session(rep):
    browser = HttpClient()
    browser.force_login(rep)

    assert browser.get("/logout/").status_code == 405
    browser.post("/logout/")

    assert browser.get("/").status_code == 302


def test_password_reset_letter_goes_over_smtp_and_its_link_sets_a_new_password(rep, smtp_server):
    browser = HttpClient()

    browser.post("/password/reset/", {"email": rep.email})

    assert len(smtp_server.messages) == 1
    letter = email.message_from_bytes(smtp_server.messages[0].content)
    body = letter.get_payload(decode=True).decode()
    link = re.search(r"https?://[^/\s]+(/password/reset/\S+/)", body).group(1)
    form_page = browser.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    browser.post(
        set_url, {"new_password1": "a-new-long-secret", "new_password2": "a-new-long-secret"}
    )

    rep.refresh_from_db()
    assert rep.check_password("a-new-long-secret")
    assert AuditEvent.objects.filter(action="password_reset", object_id=str(rep.pk)).exists()


def test_session_cookie_is_http_only(rep):
    browser = HttpClient()

    response = browser.post("/login/", {"username": "rep", "password": PASSWORD})

    assert response.cookies["sessionid"]["httponly"] is True
    assert response.cookies["sessionid"]["samesite"] == "Lax"
