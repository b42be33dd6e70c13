"""Server time and query count of the candidates list and a role page, in this process."""

from __future__ import annotations

import statistics
import time

from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from roles.models import Role


def _measure(client: Client, url: str, repetitions: int) -> dict:
    client.get(url)  # warms caches and the session, as a recruiter's second visit would
    timings = []
    queries = []
    for _ in range(repetitions):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} returned HTTP {response.status_code}, expected 200")
        queries.append(len(captured.captured_queries))
    return {
        "url": url,
        "queries": max(queries),
        "median_ms": round(statistics.median(timings) * 1000, 1),
        "repetitions": repetitions,
    }


def measure_list_pages(*, organization, user, repetitions: int = 5) -> dict:
    """Measure the candidates list and the page of the role with the most visible applicants.

    Times are Django's test client in this process: URL routing, middleware, queries and
    template rendering, without a network hop.
    """
    client = Client()
    client.force_login(user)
    role = (
        Role.objects.filter(organization=organization, is_visible=True)
        .annotate(
            visible_applicants=Count(
                "applications", filter=Q(applications__candidate__is_visible=True)
            )
        )
        .order_by("-visible_applicants", "id")
        .first()
    )
    result = {"candidates_list": _measure(client, reverse("candidates:list"), repetitions)}
    if role is not None:
        result["role_page"] = {
            **_measure(client, reverse("roles:detail", args=[role.pk]), repetitions),
            "visible_applicants": role.visible_applicants,
        }
    return result
