"""`lavka createuser`."""

from __future__ import annotations

import sys

import click

from lavka.cli.base import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    ROLE_CODES,
    Failure,
    command,
    database_required,
    django_setup,
    migrations_required,
)


@command(short_help="Create a user who can log in.")
@click.argument("username")
@click.option("--email", default="", help="The user's email address.")
@click.option(
    "--role",
    type=click.Choice(ROLE_CODES),
    help="The user's role [default: administrator for the first user].",
)
@click.option("--team", "team_name", metavar="NAME", help="The user's team (it must exist).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input.",
)
def createuser(
    username: str, email: str, role: str | None, team_name: str | None, password_stdin: bool
) -> int:
    """Create a user who can log in (recorded in the audit log as done by the system)."""
    django_setup()
    database_required()
    migrations_required()
    from lavka.audit.context import audit_context
    from lavka.core.errors import ValidationFailed
    from lavka.identity.models import Role, Team, User
    from lavka.identity.services import user_create

    if role is None:
        if User.objects.exists():
            raise Failure(
                "choose the new user's role with --role",
                f"one of: {', '.join(ROLE_CODES)}",
                EXIT_USAGE,
            )
        role = "administrator"
    role_obj = Role.objects.filter(code=role).first()
    if role_obj is None:
        raise Failure(
            f"the role {role!r} is not in the database",
            "run: lavka migrate (it creates the built-in roles)",
            EXIT_FAILED,
        )
    team = None
    if team_name:
        # Compared in Python: SQLite ignores the case of ASCII letters only.
        wanted = team_name.strip().casefold()
        team = next((t for t in Team.objects.all() if t.name.casefold() == wanted), None)
        if team is None:
            known = ", ".join(Team.objects.values_list("name", flat=True)) or "none yet"
            raise Failure(
                f"there is no team named {team_name!r}",
                f"existing teams: {known}; create teams under Settings > Teams",
                EXIT_USAGE,
            )
    password = _read_password(from_stdin=password_stdin)
    with audit_context(via="cli", command="createuser"):
        try:
            user = user_create(
                actor=None,
                username=username,
                email=email,
                team=team,
                role=role_obj,
                password=password,
            )
        except ValidationFailed as exc:
            problems = "; ".join(
                f"{field}: {' '.join(str(m) for m in messages)}"
                for field, messages in exc.fields.items()
            )
            raise Failure(
                problems or str(exc.message), "correct it and run the command again", EXIT_USAGE
            ) from None
    click.echo(f"Created user {user.username} ({role_obj}{', ' + team.name if team else ''}).")
    return EXIT_OK


def _read_password(*, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise Failure(
                "no password on standard input",
                "pipe it in: printf '%s\\n' \"$PASSWORD\" | lavka createuser ...",
                EXIT_USAGE,
            )
        return password
    if not sys.stdin.isatty():
        raise Failure(
            "there is no terminal to ask for the password on",
            "pass it on standard input with --password-stdin",
            EXIT_USAGE,
        )
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
