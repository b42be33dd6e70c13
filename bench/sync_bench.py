"""Benchmark the Ashby sync at several account sizes and print the figures as JSON.

    .venv/bin/python bench/sync_bench.py --candidates 1000 10000 100000

For each size it starts the Ashby sandbox as a subprocess (about three applications per
candidate) and connects a new organization to it. A real Celery worker runs the first
full sync, then an incremental sync with no changes and one after 1% of applications
changed. It then measures the floor (a bare fetch of every page plus COPY of the same rows)
and the candidates list and a role page. PostgreSQL 15 and Redis are throwaway servers
started the way `make test` starts them (scripts/run_tests.py), and are deleted at the end.

Progress goes to stderr; stdout carries only the final JSON object. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "scripts")]

import run_tests  # noqa: E402
from bootstrap import SetupError, ensure_system_packages  # noqa: E402

from tests.fixtures.processes import CeleryWorkerProcess, SandboxProcess  # noqa: E402

logger = logging.getLogger("bench.sync_bench")

SANDBOX_KEY = "sandbox_full"
SYNC_TASK_NAME = "integrations.sync_integration"
RUN_TIMEOUT_SECONDS = 3600
# Lists that the sync reads with a sync token; every other list is read whole each run.
INCREMENTAL_ENDPOINTS = ("job.list", "candidate.list", "application.list")
# Run-count entities that are records of a list, as opposed to visibility and resumes.
RECORD_ENTITIES = (
    "interview_plans",
    "pipeline_stages",
    "roles",
    "job_posts",
    "candidates",
    "applications",
)


def default_jobs(candidates: int) -> int:
    """Jobs for an account of `candidates` candidates: 2·√candidates, at least 10."""
    return max(10, round(2 * math.sqrt(candidates)))


def sandbox_call(url: str, method: str, path: str, body: dict | None = None) -> dict:
    """Call the sandbox's /_sandbox control API and return its JSON."""
    request = urllib.request.Request(
        url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"{}")


def machine_description() -> dict:
    cpu_model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    return {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


class Bench:
    """One benchmark session: the servers, and the measurements of each size."""

    def __init__(self, base_dir: Path, env: dict[str, str], seed: int, repetitions: int) -> None:
        self.base_dir = base_dir
        self.env = env
        self.seed = seed
        self.repetitions = repetitions
        self.stats_file = base_dir / "worker-stats.jsonl"

    # Helpers ---------------------------------------------------------------------------

    def _worker_stats(self) -> list[dict]:
        if not self.stats_file.exists():
            return []
        return [json.loads(line) for line in self.stats_file.read_text().splitlines() if line]

    def _wait_for_run(self, integration_id: int, after_run_id: int, worker: CeleryWorkerProcess):
        from integrations.models import SyncRun

        deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            run = (
                SyncRun.objects.filter(integration_id=integration_id, pk__gt=after_run_id)
                .exclude(outcome=SyncRun.Outcome.RUNNING)
                .order_by("pk")
                .first()
            )
            # The task's stats line is written after the run record is saved.
            sync_tasks = [
                line
                for line in self._worker_stats()[self._stats_seen :]
                if line["task"] == SYNC_TASK_NAME
            ]
            if run is not None and sync_tasks:
                self._stats_seen = len(self._worker_stats())
                if run.outcome != SyncRun.Outcome.SUCCESS:
                    raise RuntimeError(
                        f"sync run {run.pk} ended {run.outcome}: {run.error_message}"
                    )
                return run, sync_tasks[-1]
            if not worker.running:
                raise RuntimeError(f"the Celery worker exited; see {worker.log_path}")
            time.sleep(0.2)
        raise TimeoutError(f"no sync run finished within {RUN_TIMEOUT_SECONDS} s")

    def _requests_since(self, before: dict, sandbox_url: str) -> dict[str, int]:
        after = sandbox_call(sandbox_url, "GET", "/_sandbox/stats")["endpoints"]
        return {
            endpoint: count - before.get(endpoint, 0)
            for endpoint, count in sorted(after.items())
            if count - before.get(endpoint, 0)
        }

    def _run_sync(self, *, sandbox_url: str, worker: CeleryWorkerProcess, start) -> dict:
        """Call `start()`, which queues a sync and returns the integration id, and wait for it.

        Returns the run's figures: wall time from the run record, requests per endpoint
        from the sandbox, and queries and peak memory from the worker's stats line.
        """
        from integrations.models import SyncRun

        # Run ids grow across organizations, so the first finished run after the newest
        # one is the run that start() queued.
        newest_run_id = SyncRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        before = sandbox_call(sandbox_url, "GET", "/_sandbox/stats")["endpoints"]
        started = time.perf_counter()
        integration_id = start()
        run, task = self._wait_for_run(integration_id, newest_run_id, worker)
        observed = time.perf_counter() - started
        requests = self._requests_since(before, sandbox_url)
        records = sum(
            sum(
                run.counts.get(entity, {}).get(kind, 0)
                for kind in ("created", "updated", "unchanged")
            )
            for entity in RECORD_ENTITIES
        )
        return {
            "run_id": run.pk,
            "wall_s": round((run.finished_at - run.started_at).total_seconds(), 3),
            "queued_to_finished_s": round(observed, 3),
            "records": records,
            "requests": requests,
            "requests_total": sum(requests.values()),
            "queries": task["queries"],
            "worker_peak_rss_mib": round(task["peak_rss_kib"] / 1024, 1),
            "worker_rss_after_mib": round((task["vm_rss_kib"] or 0) / 1024, 1),
            "counts": run.counts,
        }

    # One size -------------------------------------------------------------------------

    def measure(self, candidates: int, jobs: int) -> dict:
        from django.conf import settings

        from accounts.models import Membership, Organization
        from ats_ashby.client import AshbyClient
        from bench.floor import PAGINATED_ENDPOINTS, copy_floor, fetch_floor, minimum_pages
        from bench.pages import measure_list_pages
        from candidates.models import Candidate
        from integrations.services import integration_connect
        from integrations.tasks import sync_integration

        result: dict = {
            "candidates": candidates,
            "jobs": jobs,
            "load_average_start": load_average(),
        }
        logger.warning("size %d: starting the sandbox (%d jobs)", candidates, jobs)
        sandbox = SandboxProcess(
            env=self.env,
            log_path=self.base_dir / f"sandbox-{candidates}.log",
            seed=self.seed,
            jobs=jobs,
            candidates=candidates,
        )
        sandbox.start()
        worker = None
        try:
            settings.ASHBY_API_URL = sandbox.url
            worker = CeleryWorkerProcess(
                env={
                    **self.env,
                    "ASHBY_API_URL": sandbox.url,
                    "PYTHONUNBUFFERED": "1",
                    "LAVALIER_BENCH_STATS_FILE": str(self.stats_file),
                },
                log_path=self.base_dir / f"worker-{candidates}.log",
                include=["bench.worker_stats"],
            )
            worker.start()
            self._stats_seen = len(self._worker_stats())

            from django.contrib.auth import get_user_model

            organization = Organization.objects.create(
                slug=f"bench-{candidates}-{secrets.token_hex(3)}", name=f"Bench {candidates}"
            )
            users = {}
            for role in (Membership.Role.OWNER, Membership.Role.RECRUITER):
                user = get_user_model().objects.create_user(
                    username=f"{role}-{organization.slug}@bench.test",
                    password=secrets.token_urlsafe(16),
                )
                Membership.objects.create(user=user, organization=organization, role=role)
                users[role] = user

            integration_box = {}

            def connect() -> int:
                integration = integration_connect(
                    organization=organization,
                    actor=users[Membership.Role.OWNER],
                    provider_slug="ashby",
                    credential=SANDBOX_KEY,
                )
                integration_box["integration"] = integration
                return integration.pk

            logger.warning("size %d: full sync", candidates)
            full = self._run_sync(sandbox_url=sandbox.url, worker=worker, start=connect)
            # integration_connect itself calls apiKey.info once to check the key.
            full["requests"]["apiKey.info"] = full["requests"].get("apiKey.info", 1) - 1
            if not full["requests"]["apiKey.info"]:
                del full["requests"]["apiKey.info"]
            full["requests_total"] = sum(full["requests"].values())
            integration = integration_box["integration"]
            full["records_per_s"] = round(full["records"] / full["wall_s"], 1)
            result["full_sync"] = full
            result["load_average_after_full"] = load_average()

            def queue_incremental() -> int:
                sync_integration.delay(integration.pk, trigger="manual", full=False)
                return integration.pk

            logger.warning("size %d: incremental sync, no changes", candidates)
            result["incremental_no_changes"] = self._run_sync(
                sandbox_url=sandbox.url, worker=worker, start=queue_incremental
            )

            application_total = full["counts"].get("applications", {})
            application_total = sum(
                application_total.get(k, 0) for k in ("created", "updated", "unchanged")
            )
            changes = max(1, round(application_total / 100))
            activity = sandbox_call(
                sandbox.url,
                "POST",
                "/_sandbox/activity",
                {"moves": changes // 2, "archives": changes - changes // 2},
            )
            logger.warning(
                "size %d: incremental sync, %d applications changed", candidates, changes
            )
            changed = self._run_sync(
                sandbox_url=sandbox.url, worker=worker, start=queue_incremental
            )
            changed["applications_changed"] = len(activity["moved"]) + len(activity["archived"])
            result["incremental_1_percent"] = changed

            worker.stop()
            worker = None

            logger.warning("size %d: floor", candidates)
            resume_handles = [
                remote["handle"]
                for remote in Candidate.objects.filter(organization=organization, is_visible=True)
                .exclude(resume_remote_id="")
                .values_list("remote_resume", flat=True)
                if remote.get("handle")
            ]
            resumes_stored = full["counts"].get("resumes", {}).get("created", 0)
            with AshbyClient(SANDBOX_KEY, base_url=sandbox.url) as client:
                fetched = fetch_floor(client, resume_handles[:resumes_stored])
            scratch = Organization.objects.create(
                slug=f"bench-copy-{organization.slug}", name="Bench COPY scratch"
            )
            tables = [
                "roles_interviewplan",
                "roles_pipelinestage",
                "roles_role",
                "roles_jobpost",
                "candidates_candidate",
                "candidates_application",
            ]
            copied = copy_floor(self.env["DATABASE_URL"], tables, organization.pk, scratch.pk)
            scratch.delete()
            floor_seconds = fetched.seconds + fetched.resume_seconds + copied["seconds"]
            # Ashby API requests: one per page at 100 records per page for paginated lists,
            # one per call for the others (one interviewStage.list per plan), and one
            # file.info per resume. The resume downloads go to the file URL, which the
            # sandbox's request stats do not count, so they are reported apart.
            minimum_requests = (
                sum(
                    minimum_pages(fetched.records.get(endpoint, 0))
                    if endpoint in PAGINATED_ENDPOINTS
                    else count
                    for endpoint, count in fetched.pages.items()
                )
                + resumes_stored
            )
            result["floor"] = {
                "fetch_pages_s": round(fetched.seconds, 3),
                "fetch_resumes_s": round(fetched.resume_seconds, 3),
                "copy_s": round(copied["seconds"], 3),
                "total_s": round(floor_seconds, 3),
                "pages": fetched.pages,
                "records": fetched.records,
                "resumes": resumes_stored,
                "copied_rows": copied["rows"],
            }
            result["sync_to_floor_ratio"] = round(full["wall_s"] / floor_seconds, 2)
            result["requests_minimum"] = minimum_requests
            result["resume_downloads"] = resumes_stored
            result["requests_over_minimum"] = full["requests_total"] - minimum_requests
            result["queries_per_1000_records"] = round(
                full["queries"] * 1000 / max(1, full["records"]), 1
            )
            incremental_lists = len(INCREMENTAL_ENDPOINTS)
            result["incremental_requests_minimum"] = {
                "incremental_lists": incremental_lists,
                "whole_lists": sum(
                    count
                    for endpoint, count in fetched.pages.items()
                    if endpoint not in INCREMENTAL_ENDPOINTS
                ),
            }

            logger.warning("size %d: list pages", candidates)
            result["list_pages"] = measure_list_pages(
                organization=organization,
                user=users[Membership.Role.RECRUITER],
                repetitions=self.repetitions,
            )
            result["visible_candidates"] = Candidate.objects.filter(
                organization=organization, is_visible=True
            ).count()
            result["load_average_end"] = load_average()
            return result
        finally:
            if worker is not None:
                worker.stop()
            sandbox.stop(timeout=10)


def postgres_version(database_url: str) -> str:
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--candidates",
        type=int,
        nargs="+",
        default=[1000, 10000, 100000],
        help="account sizes to run, in candidates (default: 1000 10000 100000)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        nargs="+",
        help="jobs per size, in the same order (default: 2·√candidates, at least 10)",
    )
    parser.add_argument("--seed", type=int, default=1, help="sandbox data seed (default: 1)")
    parser.add_argument(
        "--repetitions",
        type=int,
        default=5,
        help="requests per list page; the median time is reported (default: 5)",
    )
    parser.add_argument("--output", type=Path, help="also write the JSON to this file")
    args = parser.parse_args(argv)
    if args.jobs and len(args.jobs) != len(args.candidates):
        parser.error("--jobs needs one value per --candidates value")
    return args


def main(argv: list[str]) -> int:
    args = parse_arguments(argv)
    # Everything but the final JSON goes to stderr, including the helpers' progress lines.
    json_out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)

    try:
        ensure_system_packages(need_postgres=True, need_redis=True, need_chromium=False)
    except (SetupError, subprocess.CalledProcessError) as exc:
        logger.error("setup failed: %s", exc)
        return 1

    base_dir = Path(tempfile.mkdtemp(prefix="lavalier-bench-"))
    run_id = secrets.token_hex(8)
    postgres = run_tests.PostgresServer(base_dir)
    redis = run_tests.RedisServer(base_dir)
    try:
        postgres.start()
        redis.start()
        env = run_tests.build_test_environment(base_dir, postgres, redis, run_id)
        env.update(
            {
                "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
                "DJANGO_SETTINGS_MODULE": "lavalier.settings",
                "LOG_LEVEL": "WARNING",
            }
        )
        os.environ.update(env)

        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)

        bench = Bench(base_dir, env, args.seed, args.repetitions)
        jobs = args.jobs or [default_jobs(n) for n in args.candidates]
        report = {
            "command": "bench/sync_bench.py " + " ".join(argv),
            "machine": {
                **machine_description(),
                "postgresql": postgres_version(env["DATABASE_URL"]),
            },
            "sizes": [bench.measure(n, j) for n, j in zip(args.candidates, jobs, strict=True)],
        }
    except (SetupError, subprocess.CalledProcessError) as exc:
        logger.error("benchmark failed: %s", exc)
        run_tests._print_log_tail(postgres.log_file)
        return 1
    finally:
        for cleanup_step in (
            lambda: run_tests.kill_leftover_processes(run_id),
            redis.stop,
            postgres.stop,
            lambda: shutil.rmtree(base_dir, ignore_errors=True),
        ):
            try:
                cleanup_step()
            except Exception as exc:  # report it and go on to the next step
                logger.error("cleanup step failed: %r", exc)

    text = json.dumps(report, indent=2)
    if args.output:
        args.output.write_text(text + "\n")
    json_out.write(text + "\n")
    json_out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
