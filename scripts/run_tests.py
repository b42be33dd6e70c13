"""Run the test suite against a throwaway PostgreSQL 15 and Redis (what `make test` and CI run).

Steps: create or refresh `.venv`, and install redis-server, chromium and PostgreSQL 15
with apt-get when they are missing and the user is root. Start PostgreSQL and Redis on
free loopback ports in a temporary folder and run pytest with the extra arguments given
on the command line. Then stop both servers and delete the folder, whatever the outcome
(Ctrl-C and SIGTERM included). The exit code is pytest's, except that "no tests
collected" (5) becomes 1.

Standard library only, because it runs before `.venv` exists.

Environment given to pytest:
  DATABASE_URL                 postgres://lavalier:...@127.0.0.1:<port>/lavalier (a CREATEDB role)
  CELERY_BROKER_URL            redis://127.0.0.1:<port>/1 (Redis db 1 is the Celery broker)
  REDIS_URL                    redis://127.0.0.1:<port>/0
  LAVALIER_TEST_REDIS_CMD      the redis-server command line as a JSON list, for restarts
  LAVALIER_TEST_REDIS_PIDFILE  the pid file that redis-server writes
  LAVALIER_TEST_RUN_ID         marks the processes of this run, so leftovers can be found and ended
  MEDIA_ROOT, STATIC_ROOT      empty folders inside the temporary folder
  ASHBY_API_URL                a closed local port, unless already set
  ASHBY_OPENAPI_SPEC           ../shared/ashby-openapi.json beside the repository, if it exists
  DEBUG=false, SECURE_COOKIES=false, and a generated SECRET_KEY and Fernet FIELD_ENCRYPTION_KEY
"""

from __future__ import annotations

import base64
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bootstrap import (  # noqa: E402
    POSTGRES_BIN_DIR,
    REPO_ROOT,
    SetupError,
    ensure_system_packages,
    ensure_venv,
    find_free_port,
    say,
    warn,
)

PYTEST_NO_TESTS_COLLECTED = 5
SERVER_START_TIMEOUT_SECONDS = 60
# Time that pytest gets to run its fixture teardowns after SIGINT before it is killed.
PYTEST_INTERRUPT_GRACE_SECONDS = 60
DB_NAME = "lavalier"
DB_USER = "lavalier"
DB_PASSWORD = "lavalier"
# A closed port, so that a test that does not point Ashby at a sandbox fails fast instead
# of reaching the internet.
UNREACHABLE_ASHBY_URL = "http://127.0.0.1:9"


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, on 127.0.0.1 and a unix socket in that folder."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.data_dir = base_dir / "pgdata"
        self.log_file = base_dir / "postgres.log"
        self.port = find_free_port()
        self.started = False
        # PostgreSQL refuses to run as root, so root runs its tools as the postgres user.
        self.run_as_prefix: list[str] = []
        if os.geteuid() == 0:
            try:
                pg_user = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise SetupError(
                    "Running as root needs the `postgres` system user to start PostgreSQL; "
                    "install the postgresql-15 package or run as a normal user."
                ) from exc
            os.chown(base_dir, pg_user.pw_uid, pg_user.pw_gid)
            self.run_as_prefix = ["runuser", "-u", "postgres", "--"]

    def _tool(self, name: str) -> list[str]:
        return [*self.run_as_prefix, str(POSTGRES_BIN_DIR / name)]

    def start(self) -> None:
        say(f"Starting PostgreSQL 15 on 127.0.0.1:{self.port} (data in {self.data_dir})")
        subprocess.run(
            [
                *self._tool("initdb"),
                "--pgdata", str(self.data_dir),
                "--username", "postgres",
                "--auth", "trust",
                "--encoding", "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # Durability settings are off: the cluster is deleted after the run.
        server_options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.base_dir}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        self.started = True
        subprocess.run(
            [
                *self._tool("pg_ctl"),
                "--pgdata", str(self.data_dir),
                "--log", str(self.log_file),
                "--options", server_options,
                "--wait",
                "--timeout", str(SERVER_START_TIMEOUT_SECONDS),
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self._wait_ready()
        psql = [
            str(POSTGRES_BIN_DIR / "psql"),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--username", "postgres",
            "--dbname", "postgres",
            "--quiet",
            "--set", "ON_ERROR_STOP=1",
        ]
        subprocess.run(
            [
                *psql,
                "--command", f"CREATE ROLE {DB_USER} LOGIN CREATEDB PASSWORD '{DB_PASSWORD}'",
                "--command", f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}",
            ],
            check=True,
        )

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while True:
            ready = subprocess.run(
                [str(POSTGRES_BIN_DIR / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                stdout=subprocess.DEVNULL,
            )
            if ready.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise SetupError(f"PostgreSQL did not accept connections; see {self.log_file}.")
            time.sleep(0.2)

    @property
    def url(self) -> str:
        return f"postgres://{DB_USER}:{DB_PASSWORD}@127.0.0.1:{self.port}/{DB_NAME}"

    def stop(self) -> None:
        if not self.started:
            return
        self.started = False
        say("Stopping PostgreSQL")
        result = subprocess.run(
            [*self._tool("pg_ctl"), "--pgdata", str(self.data_dir), "--mode", "immediate",
             "--wait", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            self._kill_postmaster()

    def _kill_postmaster(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return
        _kill_and_wait(pid, "PostgreSQL postmaster")


class RedisServer:
    """A redis-server without persistence, listening on 127.0.0.1 only."""

    def __init__(self, base_dir: Path) -> None:
        self.data_dir = base_dir / "redis"
        self.data_dir.mkdir()
        self.port = find_free_port()
        self.pid_file = self.data_dir / "redis.pid"
        self.log_file = self.data_dir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.command = [
            shutil.which("redis-server") or "redis-server",
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.data_dir),
            "--pidfile", str(self.pid_file),
            "--logfile", str(self.log_file),
        ]

    def start(self) -> None:
        say(f"Starting Redis on 127.0.0.1:{self.port}")
        # A session of its own keeps a terminal's Ctrl-C away from it; stop() ends it.
        self.process = subprocess.Popen(self.command, start_new_session=True)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
        while not redis_ping(self.port):
            if self.process.poll() is not None:
                raise SetupError(
                    f"redis-server exited with code {self.process.returncode}; see {self.log_file}."
                )
            if time.monotonic() > deadline:
                raise SetupError(f"Redis did not answer PING; see {self.log_file}.")
            time.sleep(0.1)

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        if self.process is None:
            return
        say("Stopping Redis")
        # A fault test may have restarted Redis, so the live pid is in the pid file.
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            pid = None
        if pid is not None and pid != self.process.pid:
            _kill_and_wait(pid, "redis-server")
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def redis_ping(port: int) -> bool:
    """Return True when a Redis server on 127.0.0.1:port replies +PONG to PING."""
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Signal 0 succeeds on a zombie too, so read its state from /proc.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _kill_and_wait(pid: int, label: str) -> None:
    """Send SIGTERM to pid, then SIGKILL if it is still running after 10 seconds."""
    for sig, wait_seconds in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            if not _process_exists(pid):
                return
            time.sleep(0.1)
    warn(f"warning: {label} (pid {pid}) did not exit after SIGKILL")


def kill_leftover_processes(run_id: str) -> None:
    """End processes that carry this run's LAVALIER_TEST_RUN_ID in their environment.

    Test fixtures start workers and sandboxes in sessions of their own. When pytest dies
    before its teardowns run, they keep running, and the marker is how they are found.
    """
    marker = f"LAVALIER_TEST_RUN_ID={run_id}".encode()
    own_pid = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == own_pid:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            pid = int(entry.name)
            warn(f"warning: ending leftover test process {pid}")
            _kill_and_wait(pid, f"leftover test process {pid}")


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def build_test_environment(
    base_dir: Path, postgres: PostgresServer, redis: RedisServer, run_id: str
) -> dict[str, str]:
    media_root = base_dir / "media"
    static_root = base_dir / "staticfiles"
    media_root.mkdir()
    static_root.mkdir()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": postgres.url,
            "CELERY_BROKER_URL": redis.url(1),
            "REDIS_URL": redis.url(0),
            "LAVALIER_TEST_REDIS_CMD": json.dumps(redis.command),
            "LAVALIER_TEST_REDIS_PIDFILE": str(redis.pid_file),
            "LAVALIER_TEST_RUN_ID": run_id,
            "DEBUG": "false",
            # live_server speaks plain HTTP, where browsers drop cookies marked Secure.
            "SECURE_COOKIES": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEY": _fernet_key(),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            # Uploads and collectstatic output stay out of var/ and go with the folder.
            "MEDIA_ROOT": str(media_root),
            "STATIC_ROOT": str(static_root),
        }
    )
    env.setdefault("ASHBY_API_URL", UNREACHABLE_ASHBY_URL)
    spec = REPO_ROOT.parent / "shared" / "ashby-openapi.json"
    if spec.exists():
        env.setdefault("ASHBY_OPENAPI_SPEC", str(spec))
    return env


def _print_log_tail(path: Path, lines: int = 30) -> None:
    """Print the end of a server log before the temporary folder is deleted."""
    try:
        tail = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return
    warn(f"--- last lines of {path.name} ---")
    warn("\n".join(tail))


def _in_terminal_foreground() -> bool:
    """Return True when a terminal's Ctrl-C reaches pytest too (same foreground group)."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except OSError:
        return False


def run_pytest(venv_python: Path, env: dict[str, str], pytest_args: list[str]) -> int:
    command = [str(venv_python), "-m", "pytest", *pytest_args]
    say(" ".join(["Running pytest", *pytest_args]))
    # A shell starts background jobs with SIGINT ignored, and Python then installs no
    # KeyboardInterrupt handler; restoring the default lets SIGINT stop pytest cleanly.
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    interrupted_at: float | None = None

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal interrupted_at
        if interrupted_at is None:
            interrupted_at = time.monotonic()
            # SIGINT makes pytest stop and still run fixture teardowns; SIGTERM would not.
            if signum == signal.SIGTERM or not _in_terminal_foreground():
                process.send_signal(signal.SIGINT)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                return process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                if interrupted_at is not None and (
                    time.monotonic() - interrupted_at > PYTEST_INTERRUPT_GRACE_SECONDS
                ):
                    warn("warning: pytest did not stop after SIGINT; killing it")
                    process.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(pytest_args: list[str]) -> int:
    try:
        venv_python = ensure_venv()
        ensure_system_packages(need_postgres=True, need_redis=True, need_chromium=True)
    except (SetupError, subprocess.CalledProcessError) as exc:
        warn(f"error: {exc}")
        return 1

    base_dir = Path(tempfile.mkdtemp(prefix="lavalier-test-"))
    run_id = secrets.token_hex(8)
    postgres = PostgresServer(base_dir)
    redis = RedisServer(base_dir)

    def stop_on_sigterm(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Until pytest starts, SIGTERM unwinds like Ctrl-C so that the finally block runs.
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        postgres.start()
        redis.start()
        env = build_test_environment(base_dir, postgres, redis, run_id)
        exit_code = run_pytest(venv_python, env, pytest_args)
    except (SetupError, subprocess.CalledProcessError) as exc:
        warn(f"error: {exc}")
        _print_log_tail(postgres.log_file)
        _print_log_tail(redis.log_file)
        exit_code = 1
    except KeyboardInterrupt:
        warn("Interrupted; stopping the servers.")
        exit_code = 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # Each step runs even if an earlier one fails, so that no server is left running.
        for cleanup_step in (
            lambda: kill_leftover_processes(run_id),
            redis.stop,
            postgres.stop,
            lambda: shutil.rmtree(base_dir, ignore_errors=True),
        ):
            try:
                cleanup_step()
            except Exception as exc:  # report it and go on to the next step
                warn(f"warning: cleanup step failed: {exc!r}")

    if exit_code == PYTEST_NO_TESTS_COLLECTED:
        warn("error: pytest collected no tests; treating that as a failure.")
        return 1
    return exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
