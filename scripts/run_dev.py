"""Run Lavalier for development (what `make run` runs).

Creates or refreshes `.venv`, applies migrations, creates the demo organization, then
starts the Ashby sandbox (127.0.0.1:8765), the Django dev server (127.0.0.1:8000), a
Celery worker and Celery beat, each in a process group of its own. Ctrl-C or SIGTERM
stops all of them; if one exits on its own, the others are stopped too and the exit
code is 1.

The defaults need no server: SQLite under var/ and Celery's filesystem broker. Set
DATABASE_URL and CELERY_BROKER_URL (in the environment or .env) to use PostgreSQL and
Redis instead. ASHBY_API_URL defaults to the local sandbox.

Standard library only, because it runs before `.venv` exists.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bootstrap import (  # noqa: E402
    REPO_ROOT,
    SetupError,
    ensure_venv,
    port_is_open,
    read_dotenv_value,
    say,
)

WEB_PORT = 8000
SANDBOX_PORT = 8765
SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_PORT}"
STARTUP_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 15


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, env: dict[str, str]) -> None:
        # A session of its own gives each child a process group that stop() can signal
        # as a whole (runserver's reloader child, the worker's pool processes).
        self.process = subprocess.Popen(
            self.command, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, start_new_session=True
        )
        say(f"Started {self.name} (pid {self.process.pid})")

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass


def stop_all(children: list[Child]) -> None:
    """Send SIGINT to every child's group, wait, then SIGKILL the groups that remain.

    SIGINT to the group is what Ctrl-C in a terminal sends: the worker then finishes its
    running tasks (warm shutdown) and its pool processes exit with it.
    """
    for child in children:
        child.signal_group(signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{child.name} did not stop after SIGINT; killing it", file=sys.stderr)
        # SIGKILL the group even after a clean exit, so that no grandchild is left behind.
        child.signal_group(signal.SIGKILL)
        child.process.wait()


def run_checked(command: list[str], env: dict[str, str], description: str) -> str:
    """Run a setup command, echo its output, and return it; raise SetupError on failure."""
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        raise SetupError(f"{description} failed with exit code {result.returncode} (output above).")
    return result.stdout


def module_available(python: Path, module: str, env: dict[str, str]) -> bool:
    check = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([str(python), "-c", check], cwd=REPO_ROOT, env=env).returncode == 0


def sandbox_key_titles(python: Path, env: dict[str, str]) -> dict[str, str]:
    """Return the sandbox's API keys and their titles, or {} if the sandbox does not list them."""
    script = (
        "import json\n"
        "from ats_ashby.sandbox.keys import DEFAULT_KEYS\n"
        "print(json.dumps({key: spec.get('title', '') for key, spec in DEFAULT_KEYS.items()}))\n"
    )
    result = subprocess.run(
        [str(python), "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        return {}
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        return {}


def build_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["DEBUG"] = "true"
    # An ASHBY_API_URL from the environment or .env wins over the local sandbox.
    env.setdefault("ASHBY_API_URL", read_dotenv_value("ASHBY_API_URL") or SANDBOX_URL)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def wait_for_web(children: list[Child], stop_requested: Callable[[], bool]) -> bool:
    """Wait until the dev server accepts connections; False if a child exits or a stop comes in."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline and not stop_requested():
        if port_is_open(WEB_PORT):
            return True
        if any(child.exit_code() is not None for child in children):
            return False
        time.sleep(0.2)
    return False


def print_banner(
    demo_output: str, sandbox_started: bool, key_titles: dict[str, str], env: dict[str, str]
) -> None:
    lines = [
        "",
        "=" * 72,
        f"Lavalier is running at http://127.0.0.1:{WEB_PORT}/",
        "",
    ]
    lines += [line for line in demo_output.splitlines() if line.strip()]
    lines.append("")
    if sandbox_started:
        lines.append(f"Ashby sandbox: {SANDBOX_URL}")
        lines.append("Ashby sandbox API key to paste: sandbox_full")
        other_keys = {key: title for key, title in key_titles.items() if key != "sandbox_full"}
        if other_keys:
            lines.append("Other sandbox keys (for trying error paths):")
            lines += [f"  {key:<32} {title}" for key, title in other_keys.items()]
    else:
        lines.append("Ashby sandbox: not started (python -m ats_ashby.sandbox is not available).")
    lines.append(f"ASHBY_API_URL={env['ASHBY_API_URL']}")
    lines += ["", "Press Ctrl-C to stop every process.", "=" * 72, ""]
    print("\n".join(lines), flush=True)


def main() -> int:
    try:
        python = ensure_venv()
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    env = build_environment()
    manage = [str(python), "manage.py"]
    try:
        for port in (WEB_PORT, SANDBOX_PORT):
            if port_is_open(port):
                raise SetupError(
                    f"Port {port} on 127.0.0.1 is already in use; stop whatever listens there "
                    "(an earlier `make run`?) and try again."
                )
        say("Applying migrations")
        run_checked([*manage, "migrate", "--no-input"], env, "manage.py migrate")
        say("Creating the demo organization")
        demo_output = run_checked([*manage, "create_demo"], env, "manage.py create_demo")
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    sandbox_available = module_available(python, "ats_ashby.sandbox.__main__", env)
    celery = [str(python), "-m", "celery", "-A", "lavalier"]
    children: list[Child] = []
    if sandbox_available:
        children.append(
            Child(
                "Ashby sandbox",
                [str(python), "-m", "ats_ashby.sandbox", "--host", "127.0.0.1",
                 "--port", str(SANDBOX_PORT), "--seed", "1", "--jobs", "40",
                 "--candidates", "2000"],
            )
        )
    else:
        print(
            "warning: `python -m ats_ashby.sandbox` is not available (no __main__ module); "
            "starting without the Ashby sandbox.",
            file=sys.stderr,
        )
    children += [
        Child("Django dev server", [*manage, "runserver", f"127.0.0.1:{WEB_PORT}"]),
        Child("Celery worker", [*celery, "worker", "-l", "info", "--concurrency", "2"]),
        Child("Celery beat", [*celery, "beat", "-l", "info"]),
    ]

    stop_requested = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    exit_code = 0
    try:
        for child in children:
            child.start(env)
        if wait_for_web(children, lambda: stop_requested):
            print_banner(demo_output, sandbox_available, sandbox_key_titles(python, env), env)
        while not stop_requested:
            exited = [child for child in children if child.exit_code() is not None]
            if exited:
                for child in exited:
                    print(f"error: {child.name} exited with code {child.exit_code()}; "
                          "stopping the other processes.", file=sys.stderr)
                exit_code = 1
                break
            time.sleep(0.5)
    finally:
        say("Stopping all processes")
        stop_all(children)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
