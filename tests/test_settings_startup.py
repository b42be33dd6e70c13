"""Which environments the settings refuse to start in."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
REAL_KEY = "0123456789abcdef0123456789abcdef0123456789abcdef"
REAL_FERNET = "ZmVybmV0LWtleS1mb3ItdGVzdHMtb25seS0zMi1ieXQ="


def start(**variables) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEY",
            "DEBUG",
            "LAVALIER_ENV",
            "LAVALIER_ALLOW_DEVELOPMENT_SECRETS",
        }
    }
    env.update(variables, DJANGO_SETTINGS_MODULE="lavalier.settings")
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variables", "error"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY is the development default"),
        (
            {"DEBUG": "false", "SECRET_KEY": REAL_KEY},
            "FIELD_ENCRYPTION_KEY is the development default",
        ),
        (
            {
                "LAVALIER_ENV": "production",
                "DEBUG": "true",
                "SECRET_KEY": REAL_KEY,
                "FIELD_ENCRYPTION_KEY": REAL_FERNET,
            },
            "DEBUG is on while LAVALIER_ENV is production",
        ),
    ],
    ids=["default-secret", "default-fernet-key", "production-debug"],
)
def test_settings_refuse_unsafe_start(variables, error):
    result = start(**variables)

    assert result.returncode != 0
    assert error in result.stderr


def test_settings_accept_production_values():
    result = start(
        LAVALIER_ENV="production",
        DEBUG="false",
        SECRET_KEY=REAL_KEY,
        FIELD_ENCRYPTION_KEY=REAL_FERNET,
    )

    assert result.returncode == 0, result.stderr


def test_settings_accept_development():
    assert start(DEBUG="true").returncode == 0
