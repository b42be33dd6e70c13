"""Per-task figures from inside a Celery worker, for the sync benchmark.

The benchmark starts the worker with `--include bench.worker_stats`. Prefork pool children
inherit these signal handlers. After each task a child appends one JSON line to the file
named by LAVALIER_BENCH_STATS_FILE: the number of SQL statements its database connection
executed during the task, the task's duration, and the child's peak resident memory.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import time

from celery.signals import task_postrun, task_prerun

logger = logging.getLogger(__name__)

STATS_FILE_VARIABLE = "LAVALIER_BENCH_STATS_FILE"

_task_state = {"queries": 0, "started": 0.0}


def _count_query(execute, sql, params, many, context):
    _task_state["queries"] += 1
    return execute(sql, params, many, context)


def _memory_kib(field: str) -> int | None:
    """Return a field of /proc/self/status (VmHWM, VmRSS) in KiB, or None off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


@task_prerun.connect
def start_counting(task_id=None, task=None, **_kwargs) -> None:
    from django.db import connection

    # The wrapper list belongs to the connection object, which outlives reconnects.
    if _count_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_query)
    _task_state["queries"] = 0
    _task_state["started"] = time.monotonic()


@task_postrun.connect
def write_task_stats(task_id=None, task=None, args=None, kwargs=None, **_kwargs) -> None:
    path = os.environ.get(STATS_FILE_VARIABLE)
    if not path:
        return
    record = {
        "task": getattr(task, "name", ""),
        "task_id": task_id,
        "args": list(args or []),
        "kwargs": dict(kwargs or {}),
        "pid": os.getpid(),
        "queries": _task_state["queries"],
        "duration_s": round(time.monotonic() - _task_state["started"], 3),
        # ru_maxrss is in KiB on Linux.
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "vm_hwm_kib": _memory_kib("VmHWM"),
        "vm_rss_kib": _memory_kib("VmRSS"),
    }
    with open(path, "a", encoding="utf-8") as stats_file:
        stats_file.write(json.dumps(record) + "\n")
    logger.info(
        "bench task stats written", extra={"task_id": task_id, "queries": record["queries"]}
    )
