from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings

from lavka.demo.data import load_demo

FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Demo users get real passwords; MD5 keeps these tests from paying for argon2."""
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(scope="package")
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo company, loaded once for the tests of this package (loading it takes
    about fifteen seconds) and rolled back after them. Each test runs in a savepoint
    inside, so what one test changes the next does not see."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=FAST_HASHERS, MEDIA_ROOT=tmp_path_factory.mktemp("demo-files")
        ),
        transaction.atomic(),
    ):
        yield load_demo()
        transaction.set_rollback(True)
