"""`manage.py check --deploy` passes with production-like settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_passes_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAVKA_", "DJANGO_"))}
    env.update(
        LAVKA_DATA_DIR=str(tmp_path),
        LAVKA_HTTPS="1",
        LAVKA_ALLOWED_HOSTS="crm.example.com",
        DJANGO_SETTINGS_MODULE="lavka.config.settings",
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_is_off_by_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAVKA_", "DJANGO_"))}
    env.update(LAVKA_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="lavka.config.settings")

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.stdout.strip() == "False"


def test_the_company_name_on_quotes_comes_from_the_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAVKA_", "DJANGO_"))}
    env.update(
        LAVKA_DATA_DIR=str(tmp_path),
        LAVKA_COMPANY_NAME="  ООО «Лавка Трейд» ",
        DJANGO_SETTINGS_MODULE="lavka.config.settings",
    )

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.COMPANY_NAME)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ООО «Лавка Трейд»"
