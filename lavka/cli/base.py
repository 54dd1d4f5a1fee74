"""What every `lavka` command shares: exit codes, failures, setting Django up, checking
the database, Redis and migrations, progress counters, and the command group itself.

Django is set up inside each command, never at import, so that `lavka --help` works
without any configuration, and a bad setting comes out as two lines on stderr
(`error: ...`, `hint: ...`) and an exit code, not as a traceback from deep inside Django.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from lavka.config.env import ConfigError, redact_url

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_INTERRUPTED = 130

EPILOG = """\b
Exit codes:
  0    success
  1    a check failed, or the command failed while running
  2    wrong usage or configuration (the LAVKA_* environment variables)
  3    cannot connect to a service: the database or Redis
  130  interrupted (Ctrl-C)
"""

ROLE_CODES = ["administrator", "sales_manager", "sales_rep", "marketer", "service_agent", "analyst"]
STOP_TIMEOUT = 20  # seconds the web server and the worker get to finish what they are doing


class Failure(Exception):
    """Ends the command: `error: <message>` and `hint: <hint>` on stderr, then `code`."""

    def __init__(self, message: str, hint: str = "", code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = code

    def show(self) -> None:
        click.echo(f"error: {self.message}", err=True)
        if self.hint:
            click.echo(f"hint: {self.hint}", err=True)


# --- setting up --------------------------------------------------------------------------


def django_setup() -> None:
    """Import the settings (which check the LAVKA_* variables) and set Django up."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lavka.config.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ConfigError as exc:
        raise Failure(exc.message, exc.hint, EXIT_USAGE) from None
    except ImproperlyConfigured as exc:
        raise Failure(str(exc), "check the LAVKA_* environment variables", EXIT_USAGE) from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


def database_label() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite {db['NAME']}"
    return f"PostgreSQL {redact_url(settings.DATABASE_URL)}"


def database_problem() -> str | None:
    """None when the database answers, otherwise why it does not."""
    from django.db import Error, connection

    try:
        connection.ensure_connection()
    except Error as exc:
        return first_line(exc)
    return None


def database_hint() -> str:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return "check that the database file's directory exists and this user can write it"
    return (
        "check LAVKA_DATABASE_URL (host, port, user, password, database name) "
        "and that the PostgreSQL server is running"
    )


def database_required() -> None:
    problem = database_problem()
    if problem:
        raise Failure(
            f"cannot connect to the database ({database_label()}): {problem}",
            database_hint(),
            EXIT_UNREACHABLE,
        )


def redis_problem(url: str) -> str | None:
    """None when Redis answers PING within two seconds, otherwise why it does not."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        try:
            client.ping()
        finally:
            client.close()
    except (redis.RedisError, OSError, ValueError) as exc:
        return first_line(exc)
    return None


REDIS_HINT = (
    "check LAVKA_REDIS_URL and that Redis is running, "
    "or unset it to keep jobs in the data directory"
)


def _redis_required() -> None:
    from django.conf import settings

    if settings.REDIS_URL:
        problem = redis_problem(settings.REDIS_URL)
        if problem:
            raise Failure(
                f"cannot connect to Redis at {redact_url(settings.REDIS_URL)}: {problem}",
                REDIS_HINT,
                EXIT_UNREACHABLE,
            )


def migrations_state() -> tuple[list[str], list[str], int]:
    """(migrations not yet applied, Lavka apps whose models have no migrations,
    number of migrations applied)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    pending = [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    from django.apps import apps

    unmigrated = sorted(
        label
        for label in executor.loader.unmigrated_apps
        if apps.get_app_config(label).name.startswith("lavka.")
        and list(apps.get_app_config(label).get_models())
    )
    return pending, unmigrated, len(executor.loader.applied_migrations)


def migrations_required() -> None:
    pending, unmigrated, _ = migrations_state()
    if unmigrated:
        raise Failure(
            f"apps without migrations: {', '.join(unmigrated)}",
            "this copy of Lavka is incomplete; reinstall it",
            EXIT_FAILED,
        )
    if pending:
        raise Failure(
            f"the database is not up to date: {len(pending)} migrations to apply",
            "run: lavka migrate",
            EXIT_FAILED,
        )


def prepare() -> None:
    """What every long-running command needs before it starts."""
    django_setup()
    database_required()
    _redis_required()


class Counter:
    """`label: done/total`, rewritten in place on a terminal, printed once elsewhere."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.live = sys.stdout.isatty()
        self.last = 0.0
        self.text = ""

    def __call__(self, done: int, total: int) -> None:
        self.text = f"{self.label}: {done}/{total}"
        now = time.monotonic()
        if self.live and (now - self.last > 0.1 or done == total):
            self.last = now
            click.echo(f"\r{self.text}", nl=False)

    def finish(self, suffix: str = "") -> None:
        if self.text:
            click.echo(f"\r{self.text}{suffix}" if self.live else f"{self.text}{suffix}")


def run_migrations() -> int:
    """Apply pending migrations, counting them; returns how many were applied."""
    from django.core.management import call_command
    from django.core.management.commands.migrate import Command as MigrateCommand
    from django.db import Error

    pending, unmigrated, _ = migrations_state()
    if unmigrated:
        raise Failure(
            f"apps without migrations: {', '.join(unmigrated)}",
            "this copy of Lavka is incomplete; reinstall it",
            EXIT_FAILED,
        )
    if not pending:
        click.echo("Migrations: the database is up to date.")
        return 0
    counter = Counter("Applying migrations")
    applied = 0

    class Migrate(MigrateCommand):
        def migration_progress_callback(
            self, action: str, migration: Any = None, fake: bool = False
        ) -> None:
            nonlocal applied
            if action == "apply_success":
                applied += 1
                counter(applied, len(pending))

    counter(0, len(pending))
    try:
        call_command(Migrate(), interactive=False, verbosity=0)
    except Error as exc:
        counter.finish()
        raise Failure(
            f"migration failed: {first_line(exc)}",
            "the database is left at the last migration that succeeded; "
            "fix the cause and run: lavka migrate",
            EXIT_FAILED,
        ) from None
    counter.finish(" done")
    return applied


def system_checks() -> None:
    from django.core import checks

    errors = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    if errors:
        first = errors[0]
        raise Failure(f"{first.id}: {first.msg}", first.hint or "fix the configuration", EXIT_USAGE)


def collect_static() -> None:
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


# --- the commands ------------------------------------------------------------------------


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lavka", prog_name="lavka")
def cli() -> None:
    """Lavka, an open-source CRM.

    Settings come from LAVKA_* environment variables; data (the SQLite database,
    the secret key, the job queue, uploaded files) lives in LAVKA_DATA_DIR (./var).
    """


def command(**kwargs: Any) -> Callable[[Callable[..., Any]], click.Command]:
    return cli.command(epilog=EPILOG, **kwargs)


def acting_user(username: str | None) -> Any:
    """The user an import or export acts as: --as, else the only administrator."""
    from lavka.identity.models import User

    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise Failure(
                f"there is no active user named {username!r}",
                "give an existing user with --as",
                EXIT_USAGE,
            )
        return user
    admins = list(User.objects.filter(is_active=True, role__code="administrator")[:2])
    if len(admins) != 1:
        raise Failure("say whom the command acts as", "add --as USERNAME", EXIT_USAGE)
    return admins[0]
