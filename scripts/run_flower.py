"""Run Flower, Celery's monitoring UI, on 127.0.0.1:5555 (what `make flower` runs).

Flower reads FLOWER_BASIC_AUTH (user:password, comma-separated for several users)
from the environment itself. This script does not start Flower without it, because
Flower's UI can revoke and terminate tasks.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bootstrap import REPO_ROOT, SetupError, ensure_venv, read_dotenv_value  # noqa: E402

FLOWER_ADDRESS = "127.0.0.1"
FLOWER_PORT = 5555


def basic_auth_is_valid(value: str) -> bool:
    """Return True when every comma-separated entry is user:password with both parts set."""
    entries = [entry for entry in value.split(",") if entry]
    return bool(entries) and all(
        user and password for user, _, password in (entry.partition(":") for entry in entries)
    )


def main() -> int:
    basic_auth = os.environ.get("FLOWER_BASIC_AUTH") or read_dotenv_value("FLOWER_BASIC_AUTH")
    if not basic_auth or not basic_auth_is_valid(basic_auth):
        print(
            "error: FLOWER_BASIC_AUTH is missing or invalid. Set it to user:password, for "
            "example `FLOWER_BASIC_AUTH=admin:$(openssl rand -hex 16) make flower`.",
            file=sys.stderr,
        )
        return 1
    try:
        python = ensure_venv()
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    env = dict(os.environ, FLOWER_BASIC_AUTH=basic_auth)
    # Like `make run`, development mode unless DEBUG is set in the environment or .env.
    env.setdefault("DEBUG", read_dotenv_value("DEBUG") or "true")
    command = [
        str(python), "-m", "celery", "-A", "lavalier", "flower",
        f"--address={FLOWER_ADDRESS}", f"--port={FLOWER_PORT}",
    ]
    print(f"Flower: http://{FLOWER_ADDRESS}:{FLOWER_PORT}/ (basic auth from FLOWER_BASIC_AUTH)",
          flush=True)
    os.chdir(REPO_ROOT)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    sys.exit(main())
