"""The `lavka` command: try, run, set up and check a Lavka installation.

Each group of commands lives in its own module and registers itself on `cli` (in
`base`); importing this package imports them all.
"""

from __future__ import annotations

import sys

import click

from lavka.cli import analytics, check, leads, orders, servers, transfer, users
from lavka.cli.base import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ROLE_CODES,
    Failure,
    cli,
    database_hint,
    django_setup,
    first_line,
)
from lavka.config.env import ConfigError

__all__ = [
    "ROLE_CODES",
    "analytics",
    "check",
    "cli",
    "leads",
    "main",
    "orders",
    "servers",
    "transfer",
    "users",
]


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
    short_help="Run a Django management command.",
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command, e.g. `lavka manage shell`."""
    django_setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["lavka manage", *args])


def main(argv: list[str] | None = None) -> None:
    """The console entry point: runs a command and turns its outcome into an exit code."""
    try:
        code = cli.main(args=argv, prog_name="lavka", standalone_mode=False)
    except Failure as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except ConfigError as exc:
        Failure(exc.message, exc.hint, EXIT_USAGE).show()
        sys.exit(EXIT_USAGE)
    except Exception as exc:
        db = sys.modules.get("django.db")
        if db is None or not isinstance(exc, db.OperationalError):
            raise
        # The database went away after the command had connected to it.
        Failure(f"database error: {first_line(exc)}", database_hint(), EXIT_UNREACHABLE).show()
        sys.exit(EXIT_UNREACHABLE)
    sys.exit(code if isinstance(code, int) else EXIT_OK)
