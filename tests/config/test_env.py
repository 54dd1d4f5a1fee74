from __future__ import annotations

import os
import stat

import pytest

from lavka.config.env import ConfigError, parse_database_url, parse_redis_url, secret_key


def test_sqlite_urls_in_both_spellings():
    assert (
        parse_database_url("sqlite:////var/lib/lavka/db.sqlite3").name
        == "/var/lib/lavka/db.sqlite3"
    )
    assert parse_database_url("sqlite:///var/db.sqlite3").name == "var/db.sqlite3"


def test_postgresql_url_is_split_into_parts():
    db = parse_database_url("postgresql://lavka:s%40cret@db.local:5433/crm?sslmode=require")

    assert (db.engine, db.user, db.password, db.host, db.port, db.name) == (
        "postgresql",
        "lavka",
        "s@cret",
        "db.local",
        "5433",
        "crm",
    )
    assert db.options == {"sslmode": "require"}


@pytest.mark.parametrize("url", ["mysql://x/y", "postgresql://host:5432/", "nonsense", "sqlite://"])
def test_bad_database_urls_are_refused_with_a_hint(url):
    with pytest.raises(ConfigError) as err:
        parse_database_url(url)

    assert err.value.hint


@pytest.mark.parametrize("url", ["not-a-url", "http://127.0.0.1:6379", "redis://:notaport"])
def test_bad_redis_urls_are_refused(url):
    with pytest.raises(ConfigError):
        parse_redis_url(url)


def test_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("LAVKA_SECRET_KEY", raising=False)

    first = secret_key(tmp_path)
    second = secret_key(tmp_path)

    assert first == second
    assert len(first) >= 50
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_a_short_secret_key_from_the_environment_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("LAVKA_SECRET_KEY", "short")

    with pytest.raises(ConfigError):
        secret_key(tmp_path)
