"""The staff-only ops page and the health endpoints for load balancers and alerting.

Health responses carry only check names and "ok"/"failed", never hosts, URLs or error
text, because they need no login.
"""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import selectors
from .broker import BrokerUnavailable, broker_kind, broker_ping

logger = logging.getLogger(__name__)

BROKER_PING_TIMEOUT_SECONDS = 1.0


def staff_required(view):
    """Send anonymous users to the login page and return 404 to signed-in non-staff users."""

    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.is_staff:
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@require_GET
@staff_required
def dashboard(request):
    """Render every organization's integration, with what runs, fails and lags, most urgent first."""
    now = timezone.now()
    rows = selectors.ops_integration_rows(now=now)
    heartbeat_age = selectors.heartbeat_age(now=now)
    context = {
        "rows": rows,
        "queue_depth": selectors.ops_queue_depth(),
        "broker_kind": broker_kind(),
        "heartbeat_text": selectors.duration_text(heartbeat_age),
        "heartbeat_stale": heartbeat_age is None
        or heartbeat_age.total_seconds() > settings.WORKER_HEARTBEAT_MAX_AGE_MINUTES * 60,
        "unconnected_organizations": selectors.organizations_without_integration_count(),
        "now": now,
    }
    return render(request, "ops/dashboard.html", context)


@require_GET
@never_cache
def healthz(request):
    """Return 200 while the web process serves requests, without touching the database."""
    return HttpResponse("ok", content_type="text/plain")


@require_GET
@never_cache
def readyz(request):
    """Check the database and the broker; 200 when both respond, else 503 naming the failure."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError as exc:
        logger.warning("readiness check failed: database", extra={"error": type(exc).__name__})
        checks["database"] = "failed"
    try:
        broker_ping(timeout=BROKER_PING_TIMEOUT_SECONDS)
        checks["broker"] = "ok"
    except BrokerUnavailable as exc:
        logger.warning(
            "readiness check failed: broker", extra={"broker": broker_kind(), "error": str(exc)}
        )
        checks["broker"] = "failed"
    failed = sorted(name for name, result in checks.items() if result != "ok")
    return JsonResponse(
        {"status": "failed" if failed else "ok", "checks": checks, "failed": failed},
        status=503 if failed else 200,
    )


@require_GET
@never_cache
def healthz_worker(request):
    """Answer 503 when no worker ran the heartbeat task within WORKER_HEARTBEAT_MAX_AGE_MINUTES."""
    max_age_seconds = settings.WORKER_HEARTBEAT_MAX_AGE_MINUTES * 60
    try:
        age = selectors.heartbeat_age()
    except DatabaseError as exc:
        logger.warning("worker heartbeat unreadable", extra={"error": type(exc).__name__})
        return JsonResponse({"status": "unknown", "age_seconds": None}, status=503)
    if age is None:
        return JsonResponse({"status": "missing", "age_seconds": None}, status=503)
    age_seconds = round(age.total_seconds())
    if age_seconds > max_age_seconds:
        return JsonResponse({"status": "stale", "age_seconds": age_seconds}, status=503)
    return JsonResponse({"status": "ok", "age_seconds": age_seconds})
