"""Configuration read from the environment, checked before Django starts.

Everything here is plain Python so that the `lavka` command can report a bad
setting as one clear line instead of a traceback from deep inside Django.
"""

from __future__ import annotations

import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


class ConfigError(Exception):
    """A setting is wrong. `hint` says how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ConfigError(
        f"{name}={raw!r} is not a yes/no value", "use 1/0, true/false, yes/no or on/off"
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} is not a whole number", f"set {name} to e.g. {default}"
        ) from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir() -> Path:
    """The data directory (database, secret key, job queue, files); created if missing."""
    path = Path(os.environ.get("LAVKA_DATA_DIR", "var")).expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        # A name of its own per process: several workers start at once.
        probe = path / f".write-probe-{os.getpid()}-{secrets.token_hex(4)}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"data directory {path} is not writable ({exc.strerror or exc})",
            "set LAVKA_DATA_DIR to a directory this user can write, or fix its permissions",
        ) from None
    return path


def secret_key(directory: Path) -> str:
    """LAVKA_SECRET_KEY, or a key generated once and kept in the data directory (mode 0600)."""
    configured = os.environ.get("LAVKA_SECRET_KEY", "").strip()
    if configured:
        if len(configured) < 50:
            raise ConfigError(
                "LAVKA_SECRET_KEY is shorter than 50 characters",
                "leave it unset to have one generated, or use a long random string",
            )
        return configured
    key_file = directory / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    key = secrets.token_urlsafe(64)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


@dataclass(frozen=True)
class DatabaseUrl:
    engine: str  # "sqlite" or "postgresql"
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""
    options: dict[str, str] | None = None


def parse_database_url(url: str) -> DatabaseUrl:
    """Parse `sqlite:///path` or `postgresql://user:pass@host:port/name?opt=v`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in {"sqlite", "sqlite3"}:
        # sqlite:///relative/file and sqlite:////absolute/file, as SQLAlchemy writes them
        path = unquote(parts.netloc + parts.path)
        if not parts.netloc:
            path = path[1:]
        if not path:
            raise ConfigError(
                f"LAVKA_DATABASE_URL {url!r} names no file",
                "write it as sqlite:////absolute/path/lavka.sqlite3",
            )
        return DatabaseUrl(engine="sqlite", name=path)
    if scheme in {"postgres", "postgresql", "pgsql", "postgresql+psycopg"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ConfigError(
                f"LAVKA_DATABASE_URL {_redact(url)!r} names no database",
                "write it as postgresql://user:password@host:5432/dbname",
            )
        try:
            port = str(parts.port or "")
        except ValueError:
            raise ConfigError(
                f"LAVKA_DATABASE_URL {_redact(url)!r} has a bad port",
                "the port is a number, e.g. :5432",
            ) from None
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return DatabaseUrl(
            engine="postgresql",
            name=name,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            host=parts.hostname or "",
            port=port,
            options=options,
        )
    raise ConfigError(
        f"LAVKA_DATABASE_URL scheme {scheme or '(none)'!r} is not supported",
        "use sqlite:///path/to/file.sqlite3 or postgresql://user:password@host:5432/dbname",
    )


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def redact_url(url: str) -> str:
    """The URL with its password replaced by ***, for reports and logs."""
    return _redact(url)


def parse_redis_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(
            f"LAVKA_REDIS_URL {_redact(url)!r} is not a Redis URL",
            "write it as redis://host:6379/0 (or leave it unset to use the data directory)",
        )
    try:
        _ = parts.port
    except ValueError:
        raise ConfigError(
            f"LAVKA_REDIS_URL {_redact(url)!r} has a bad port", "the port is a number, e.g. :6379"
        ) from None
    if parts.scheme != "unix" and not parts.hostname:
        raise ConfigError(
            f"LAVKA_REDIS_URL {_redact(url)!r} names no host", "write it as redis://host:6379/0"
        )
    return url
