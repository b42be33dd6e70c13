"""Create the project virtualenv and check the system packages that the commands need.

Standard library only: `make run` and `make test` call this before `.venv` exists.
Run it directly (`python3.11 scripts/bootstrap.py`) to only create or refresh the venv.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VENV_DIR = REPO_ROOT / ".venv"
VENV_PYTHON = VENV_DIR / "bin" / "python"
# Holds the SHA-256 of the pyproject.toml that the last successful install used.
INSTALL_STAMP = VENV_DIR / ".lavalier-install-stamp"
REQUIRED_PYTHON = (3, 11)

POSTGRES_BIN_DIR = Path("/usr/lib/postgresql/15/bin")
CHROMIUM_PATH = Path("/usr/bin/chromium")


class SetupError(Exception):
    """A missing tool or a failed setup step, with a message for the person at the terminal."""


def say(message: str) -> None:
    """Print a progress line for the person running make."""
    try:
        print(f"==> {message}", flush=True)
    except OSError:
        # The reader is gone (`make test | tee` after Ctrl-C): keep going, so that the
        # caller's cleanup still runs.
        pass


def warn(message: str) -> None:
    """Print a warning or error line to stderr, ignoring a closed stderr like say() does."""
    try:
        print(message, file=sys.stderr, flush=True)
    except OSError:
        pass


def _find_python311() -> str:
    if sys.version_info[:2] == REQUIRED_PYTHON:
        return sys.executable
    found = shutil.which("python3.11")
    if found is None:
        raise SetupError(
            "Python 3.11 is required to create .venv, but python3.11 was not found on PATH. "
            "Install Python 3.11 (for example `apt-get install python3.11 python3.11-venv`)."
        )
    return found


def _pyproject_digest() -> str:
    return hashlib.sha256((REPO_ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> Path:
    """Create `.venv` if missing and install the project with its dev extra.

    The install is skipped while pyproject.toml has the digest recorded in the stamp
    file, so repeated runs cost nothing. Returns the venv's python path.
    """
    if not VENV_PYTHON.exists():
        python = _find_python311()
        say(f"Creating virtualenv {VENV_DIR} with {python}")
        subprocess.run([python, "-m", "venv", str(VENV_DIR)], check=True)

    digest = _pyproject_digest()
    if INSTALL_STAMP.exists() and INSTALL_STAMP.read_text().strip() == digest:
        return VENV_PYTHON

    say("Installing the project into .venv (pip install -e '.[dev]')")
    result = subprocess.run(
        [str(VENV_PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-e", ".[dev]"],
        cwd=REPO_ROOT,
    )
    if result.returncode != 0:
        raise SetupError(f"pip install -e '.[dev]' failed with exit code {result.returncode}.")
    INSTALL_STAMP.write_text(digest + "\n")
    return VENV_PYTHON


def _apt_install(packages: list[str]) -> None:
    """Install Debian packages without letting their maintainer scripts start services."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    # With policy-rc.d exiting 101, invoke-rc.d does not start redis-server or postgresql
    # after install, because the test runner starts its own throwaway servers.
    policy = Path("/usr/sbin/policy-rc.d")
    created_policy = False
    if not policy.exists():
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        created_policy = True
    try:
        say("apt-get update")
        subprocess.run(["apt-get", "update"], check=True, env=env)
        say(f"apt-get install -y {' '.join(packages)}")
        subprocess.run(["apt-get", "install", "-y", *packages], check=True, env=env)
    except subprocess.CalledProcessError as exc:
        raise SetupError(f"Installing {', '.join(packages)} with apt-get failed: {exc}.") from exc
    finally:
        if created_policy:
            policy.unlink()


def ensure_system_packages(*, need_postgres: bool, need_redis: bool, need_chromium: bool) -> None:
    """Install the missing system packages with apt-get when root, else raise SetupError."""
    missing: list[str] = []
    if need_redis and shutil.which("redis-server") is None:
        missing.append("redis-server")
    if need_chromium and not CHROMIUM_PATH.exists():
        missing.append("chromium")
    if need_postgres and not (POSTGRES_BIN_DIR / "initdb").exists():
        missing.append("postgresql-15")
    if not missing:
        return
    if os.geteuid() != 0:
        raise SetupError(
            f"Missing system packages: {', '.join(missing)}. Install them as root, for example "
            f"`sudo apt-get update && sudo apt-get install -y {' '.join(missing)}`, "
            "then run the command again."
        )
    _apt_install(missing)


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    """Return True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def read_dotenv_value(name: str) -> str | None:
    """Return name's value from the .env file beside manage.py (KEY=VALUE lines), or None."""
    dotenv = REPO_ROOT / ".env"
    if not dotenv.exists():
        return None
    for line in dotenv.read_text().splitlines():
        key, separator, value = line.strip().partition("=")
        if separator and key.strip().removeprefix("export ").strip() == name:
            return value.strip().strip("'\"")
    return None


def main() -> int:
    try:
        ensure_venv()
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
