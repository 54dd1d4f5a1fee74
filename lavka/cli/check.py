"""`lavka check`: the configuration and the services, as text or JSON."""

from __future__ import annotations

import json
import os
import socket
import stat
from dataclasses import asdict, dataclass
from typing import Any

import click

from lavka.cli.base import (
    EXIT_FAILED,
    EXIT_OK,
    REDIS_HINT,
    command,
    database_hint,
    database_label,
    database_problem,
    django_setup,
    first_line,
    migrations_state,
    redis_problem,
)
from lavka.config.env import redact_url


@dataclass
class CheckItem:
    name: str
    status: str  # OK, WARN or FAIL
    detail: str
    hint: str = ""


@command(short_help="Check the configuration and the services.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def check(as_json: bool) -> int:
    """Report on the configuration and the services Lavka needs, one line each.

    Exits 0 when everything is OK (or only warned about), 1 when something failed.
    """
    django_setup()
    items = _check_items()
    failed = any(item.status == "FAIL" for item in items)
    if as_json:
        click.echo(
            json.dumps(
                {"ok": not failed, "items": [asdict(i) for i in items]},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for item in items:
            click.echo(f"{item.status:<4}  {item.name:<16} {item.detail}")
            if item.hint and item.status != "OK":
                click.echo(f"{'':<6}{'':<16} hint: {item.hint}")
    return EXIT_FAILED if failed else EXIT_OK


def _check_items() -> list[CheckItem]:
    from django.conf import settings

    items = [
        CheckItem("data directory", "OK", f"{settings.DATA_DIR} (writable)"),
        _check_secret_key(settings.DATA_DIR),
    ]
    problem = database_problem()
    if problem:
        items.append(
            CheckItem("database", "FAIL", f"{database_label()}: {problem}", database_hint())
        )
        items.append(CheckItem("migrations", "WARN", "not checked: no database"))
    else:
        items.append(CheckItem("database", "OK", f"{database_label()} (reachable)"))
        pending, unmigrated, applied = migrations_state()
        if unmigrated:
            items.append(
                CheckItem(
                    "migrations",
                    "FAIL",
                    f"apps without migrations: {', '.join(unmigrated)}",
                    "reinstall Lavka",
                )
            )
        elif pending:
            items.append(
                CheckItem("migrations", "FAIL", f"{len(pending)} to apply", "run: lavka migrate")
            )
        else:
            items.append(CheckItem("migrations", "OK", f"all {applied} applied"))
    items.extend(_check_queue())
    items.append(_check_email())
    items.append(
        CheckItem(
            "debug",
            "WARN",
            "on: error pages show the code and settings",
            "unset LAVKA_DEBUG outside development",
        )
        if settings.DEBUG
        else CheckItem("debug", "OK", "off")
    )
    hosts = ", ".join(settings.ALLOWED_HOSTS) or "(none)"
    items.append(
        CheckItem(
            "allowed hosts",
            "WARN",
            f"{hosts}: any Host header is accepted",
            "list the server's names in LAVKA_ALLOWED_HOSTS",
        )
        if "*" in settings.ALLOWED_HOSTS
        else CheckItem("allowed hosts", "OK", hosts)
    )
    return items


def _check_secret_key(data_dir: Any) -> CheckItem:
    if os.environ.get("LAVKA_SECRET_KEY", "").strip():
        return CheckItem("secret key", "OK", "from LAVKA_SECRET_KEY")
    key_file = data_dir / "secret_key"
    mode = stat.S_IMODE(key_file.stat().st_mode)
    if mode & 0o077:
        return CheckItem(
            "secret key",
            "FAIL",
            f"{key_file} is readable by others ({mode:04o})",
            f"chmod 600 {key_file}",
        )
    return CheckItem("secret key", "OK", f"{key_file} (mode {mode:04o})")


def _check_queue() -> list[CheckItem]:
    from django.conf import settings
    from huey.contrib.djhuey import HUEY

    items = []
    if settings.REDIS_URL:
        problem = redis_problem(settings.REDIS_URL)
        items.append(
            CheckItem("redis", "FAIL", f"{redact_url(settings.REDIS_URL)}: {problem}", REDIS_HINT)
            if problem
            else CheckItem("redis", "OK", f"{redact_url(settings.REDIS_URL)} (reachable)")
        )
        if problem:
            items.append(CheckItem("job queue", "FAIL", "Redis: not reachable", REDIS_HINT))
            return items
        where = f"Redis {redact_url(settings.REDIS_URL)}"
    else:
        items.append(CheckItem("redis", "OK", "not configured: jobs use SQLite in the data dir"))
        where = f"SQLite {settings.HUEY['filename']}"
    try:
        waiting = HUEY.pending_count()
    except Exception as exc:  # any storage error is the answer to report
        items.append(
            CheckItem(
                "job queue",
                "FAIL",
                f"{where}: {first_line(exc)}",
                "check that the data directory (or Redis) is writable",
            )
        )
    else:
        items.append(CheckItem("job queue", "OK", f"{where}, {waiting} waiting"))
    return items


def _check_email() -> CheckItem:
    from django.conf import settings

    if not settings.EMAIL_HOST:
        return CheckItem(
            "email",
            "WARN",
            f"not configured: letters are saved as files in {settings.EMAIL_FILE_PATH}",
            "set LAVKA_EMAIL_HOST (and LAVKA_EMAIL_PORT) to send them",
        )
    address = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    try:
        with socket.create_connection((settings.EMAIL_HOST, settings.EMAIL_PORT), timeout=3):
            pass
    except OSError as exc:
        return CheckItem(
            "email",
            "FAIL",
            f"SMTP {address}: {exc.strerror or exc}",
            "check LAVKA_EMAIL_HOST and LAVKA_EMAIL_PORT, and the firewall",
        )
    return CheckItem("email", "OK", f"SMTP {address} (reachable)")
