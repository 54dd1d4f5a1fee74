"""The `lavka` command, run as an operator runs it: in a subprocess, configured only by
environment variables, with a throw-away data directory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAVKA = [sys.executable, "-m", "lavka.cli"]
DEMO_PASSWORD = "lavka-demo-2026"


def lavka_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a fresh shell: no LAVKA_* settings but the given ones, and
    no test settings module inherited from pytest."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LAVKA_") and k != "DJANGO_SETTINGS_MODULE"
    }
    return {**env, "LAVKA_DATA_DIR": str(data_dir), **settings}


def lavka(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LAVKA, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def table_counts(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "lavka.sqlite3") as db:
        return {
            table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("identity_user", "identity_team", "clients_client")
        }


@pytest.fixture(scope="module")
def first_migrate(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`lavka migrate` on an empty data directory, run once for the module (it takes
    seconds): the directory and what the command did."""
    data_dir = tmp_path_factory.mktemp("migrated")
    return data_dir, lavka("migrate", env=lavka_env(data_dir))


@pytest.fixture
def migrated_dir(first_migrate: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    """The data directory after `lavka migrate`; tests only read it."""
    data_dir, result = first_migrate
    assert result.returncode == 0, result.stderr
    return data_dir


@pytest.fixture
def fresh_migrated_dir(migrated_dir: Path, tmp_path: Path) -> Path:
    """A copy of the migrated data directory of this test's own (migrating takes seconds)."""
    return Path(shutil.copytree(migrated_dir, tmp_path / "data"))


def test_help_documents_the_exit_codes() -> None:
    result = lavka("--help", env=lavka_env(Path("/nonexistent/never/created")))

    assert result.returncode == 0
    for line in [
        "0    success",
        "2    wrong usage or configuration",
        "3    cannot connect to a service",
        "130  interrupted",
    ]:
        assert line in result.stdout


def test_createuser_offers_every_builtin_role() -> None:
    from lavka.cli import ROLE_CODES
    from lavka.identity.roles import DEFAULT_ROLES

    assert list(DEFAULT_ROLES) == ROLE_CODES


def test_migrate_counts_the_migrations_it_applies(
    first_migrate: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    data_dir, result = first_migrate

    again = lavka("migrate", env=lavka_env(data_dir))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Applying migrations: ")
    assert result.stdout.endswith(" done\n")
    assert again.stdout == "Migrations: the database is up to date.\n"


def test_check_passes_on_a_fresh_sqlite_data_dir_after_migrate(migrated_dir: Path) -> None:
    result = lavka("check", env=lavka_env(migrated_dir))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert "not configured: jobs use SQLite in the data dir" in result.stdout


def test_check_json_lists_every_item(migrated_dir: Path) -> None:
    result = lavka("check", "--json", env=lavka_env(migrated_dir))

    report = json.loads(result.stdout)
    assert result.returncode == 0
    assert report["ok"] is True
    assert [item["name"] for item in report["items"]] == [
        "data directory",
        "secret key",
        "database",
        "migrations",
        "redis",
        "job queue",
        "email",
        "debug",
        "allowed hosts",
    ]


def test_check_fails_while_migrations_are_pending(tmp_path: Path) -> None:
    result = lavka("check", env=lavka_env(tmp_path))

    assert result.returncode == 1
    assert "hint: run: lavka migrate" in result.stdout


def test_check_fails_when_the_secret_key_file_is_readable_by_others(
    fresh_migrated_dir: Path,
) -> None:
    (fresh_migrated_dir / "secret_key").chmod(0o644)

    result = lavka("check", env=lavka_env(fresh_migrated_dir))

    assert result.returncode == 1
    assert f"hint: chmod 600 {fresh_migrated_dir / 'secret_key'}" in result.stdout


def test_check_reports_an_unreachable_database_and_redacts_its_password(tmp_path: Path) -> None:
    env = lavka_env(tmp_path, LAVKA_DATABASE_URL="postgresql://lavka:s3cret@127.0.0.1:1/nope")

    result = lavka("check", env=env)

    assert result.returncode == 1
    assert "FAIL  database" in result.stdout
    assert "postgresql://lavka:***@127.0.0.1:1/nope" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr


def test_serve_refuses_to_start_while_migrations_are_pending(tmp_path: Path) -> None:
    result = lavka("serve", "--port", str(free_port()), env=lavka_env(tmp_path))

    lines = result.stderr.splitlines()
    assert result.returncode == 1
    assert len(lines) == 2
    assert lines[0].startswith("error: the database is not up to date: ")
    assert lines[1] == "hint: run: lavka migrate"


BAD_CONFIGURATIONS = {
    "data directory under a file": ({"LAVKA_DATA_DIR": "{file}/sub"}, ["migrate"], 2),
    "unreachable database": (
        {"LAVKA_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nope"},
        ["migrate"],
        3,
    ),
    "unreachable database, demo": (
        {"LAVKA_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nope"},
        ["demo", "--no-serve"],
        3,
    ),
    "unsupported database scheme": ({"LAVKA_DATABASE_URL": "mysql://x"}, ["check"], 2),
    "redis url that is not a url": ({"LAVKA_REDIS_URL": "not-a-url"}, ["serve"], 2),
    "unreachable redis, worker": ({"LAVKA_REDIS_URL": "redis://127.0.0.1:1/0"}, ["worker"], 3),
    "unreachable redis, demo": (
        {"LAVKA_REDIS_URL": "redis://127.0.0.1:1/0"},
        ["demo", "--no-serve"],
        3,
    ),
}


@pytest.mark.parametrize(
    "settings,args,exit_code", BAD_CONFIGURATIONS.values(), ids=BAD_CONFIGURATIONS.keys()
)
def test_bad_configuration_gives_one_error_and_one_hint(
    tmp_path: Path, settings: dict[str, str], args: list[str], exit_code: int
) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    env = lavka_env(tmp_path / "data", **{k: v.format(file=a_file) for k, v in settings.items()})

    result = lavka(*args, env=env, timeout=30)

    lines = result.stderr.splitlines()
    assert result.returncode == exit_code
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("error: ")
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in result.stderr


def test_createuser_with_password_on_stdin_creates_a_user_who_can_log_in(
    fresh_migrated_dir: Path,
) -> None:
    env = lavka_env(fresh_migrated_dir)

    created = lavka(
        "createuser",
        "boris",
        "--email",
        "Boris@Example.com",
        "--role",
        "sales_rep",
        "--password-stdin",
        env=env,
        stdin="correct-horse-battery\n",
    )
    probe = lavka(
        "manage",
        "shell",
        "-v",
        "0",
        "-c",
        (
            "from django.contrib.auth import authenticate\n"
            "from lavka.audit.models import AuditEvent\n"
            "user = authenticate(username='boris', password='correct-horse-battery')\n"
            "event = AuditEvent.objects.get(action='create', object_id=str(user.pk),"
            " content_type__model='user')\n"
            "print(user.email, user.role.code, event.actor_id, event.actor_repr)"
        ),
        env=env,
    )

    assert created.returncode == 0, created.stderr
    assert probe.stdout.split() == ["boris@example.com", "sales_rep", "None", "cli"]


def test_createuser_refuses_a_weak_password_and_creates_nobody(
    fresh_migrated_dir: Path,
) -> None:
    env = lavka_env(fresh_migrated_dir)

    result = lavka(
        "createuser", "weakling", "--role", "analyst", "--password-stdin", env=env, stdin="short\n"
    )

    assert result.returncode == 2
    assert result.stderr.startswith("error: password: ")
    with sqlite3.connect(fresh_migrated_dir / "lavka.sqlite3") as db:
        assert db.execute(
            "SELECT COUNT(*) FROM identity_user WHERE username = 'weakling'"
        ).fetchone() == (0,)


def test_createuser_refuses_an_unknown_team(migrated_dir: Path) -> None:
    result = lavka(
        "createuser",
        "nadia",
        "--role",
        "marketer",
        "--team",
        "Nowhere",
        "--password-stdin",
        env=lavka_env(migrated_dir),
        stdin="correct-horse-battery\n",
    )

    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "error: there is no team named 'Nowhere'"


def test_demo_no_serve_twice_creates_the_company_once(fresh_migrated_dir: Path) -> None:
    env = lavka_env(fresh_migrated_dir)

    # 300 clients with full cards: about 20 s on a quiet machine, more on a busy one.
    first = lavka("demo", "--no-serve", env=env, timeout=240)
    counts_after_first = table_counts(fresh_migrated_dir)
    second = lavka("demo", "--no-serve", env=env, timeout=120)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert counts_after_first == {"identity_user": 8, "identity_team": 6, "clients_client": 301}
    assert table_counts(fresh_migrated_dir) == counts_after_first
    assert "Demo data: already loaded" in second.stdout
    assert f"password for all: {DEMO_PASSWORD}" in second.stdout
    # The analytics are computed once, with the data, so the dashboard has figures.
    assert "clients scored as of" in first.stdout
    assert "clients scored as of" not in second.stdout
    with sqlite3.connect(fresh_migrated_dir / "lavka.sqlite3") as db:
        runs = db.execute(
            "SELECT COUNT(*), SUM(is_current), MAX(clients) FROM analytics_computerun"
        ).fetchone()
    assert runs[0] == 1 and runs[1] == 1 and runs[2] > 90


def _descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (Linux)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_demo_serves_the_login_page_and_stops_both_children_on_sigint(
    fresh_migrated_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [*LAVKA, "demo", "--port", str(port), "--workers", "1"],
            env=lavka_env(fresh_migrated_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 45
        status = 0
        while time.monotonic() < deadline and demo.poll() is None:
            status, _ = _get(f"http://127.0.0.1:{port}/login/")
            if status == 200:
                break
            time.sleep(0.3)
        children = _descendants(demo.pid)

        demo.send_signal(signal.SIGINT)
        exit_code = demo.wait(timeout=30)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()

    output = log.read_text()
    assert status == 200, output
    assert len(children) >= 3  # gunicorn master and worker, the huey consumer
    assert exit_code in (0, 130), output
    assert [pid for pid in children if _running(pid)] == []
    assert f"Lavka is running at http://127.0.0.1:{port}/" in output
    assert f"password for all: {DEMO_PASSWORD}" in output
