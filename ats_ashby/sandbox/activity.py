"""Deterministic changes that imitate recruiters working in Ashby between two syncs."""

import random
import time

from .api_applications import move_application, status_for_stage
from .records import Application, Candidate

ACTIVITY_KINDS = ("moves", "archives", "unarchives", "close_jobs", "open_jobs", "new_candidates")


def run_activity(state, counts):
    """Apply the requested numbers of changes and return the ids that changed.

    Only records on non-confidential jobs are touched, so every change is visible to the
    default keys. Choices depend on the seed and on how many activity calls came before.
    """
    for name, value in counts.items():
        if name not in ACTIVITY_KINDS:
            raise ValueError(f"Unknown activity {name!r}; use {', '.join(ACTIVITY_KINDS)}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    state.activity_calls += 1
    rng = random.Random(f"activity:{state.seed}:{state.activity_calls}")
    org = state.org
    changed = {name: [] for name in ("moved", "archived", "unarchived", "closed_jobs",
                                     "opened_jobs", "new_candidates", "new_applications")}

    def public(app):
        return not org.job_by_id[app.job_id]["confidential"]

    def stages(app):
        return sorted(org.stages_by_plan[app.plan_id], key=lambda s: s["orderInInterviewPlan"])

    busy = set()
    movable = [a for a in org.applications
               if a.status in ("Active", "Lead") and public(a)
               and org.job_by_id[a.job_id]["status"] == "Open"]
    for app in _sample(rng, movable, counts.get("moves", 0)):
        ordered = [s for s in stages(app) if s["type"] != "Archived"]
        position = next(i for i, s in enumerate(ordered) if s["id"] == app.stage_id)
        if position + 1 < len(ordered):
            move_application(state, app, ordered[position + 1])
            changed["moved"].append(app.id)
            busy.add(app.id)

    archivable = [a for a in org.applications
                  if a.status in ("Active", "Lead") and public(a) and a.id not in busy]
    reasons = [r for r in org.archive_reasons if not r["isArchived"]]
    for app in _sample(rng, archivable, counts.get("archives", 0)):
        archived_stage = next(s for s in stages(app) if s["type"] == "Archived")
        move_application(state, app, archived_stage, rng.choice(reasons)["id"])
        changed["archived"].append(app.id)
        busy.add(app.id)

    archived = [a for a in org.applications
                if a.status == "Archived" and public(a) and a.id not in busy]
    for app in _sample(rng, archived, counts.get("unarchives", 0)):
        target_id = app.prev_stage_id
        if target_id is None:
            target_id = next(s["id"] for s in stages(app) if s["type"] == "Active")
        move_application(state, app, org.stage_by_id[target_id])
        changed["unarchived"].append(app.id)

    now_ms = int(time.time() * 1000)
    open_jobs = [j for j in org.jobs if j["status"] == "Open" and not j["confidential"]]
    for job in _sample(rng, open_jobs, counts.get("close_jobs", 0)):
        job["status"] = "Closed"
        job["closed_ms"] = now_ms
        state.touch(job)
        changed["closed_jobs"].append(job["id"])

    closed_jobs = [j for j in org.jobs if j["status"] == "Closed" and not j["confidential"]
                   and j["id"] not in changed["closed_jobs"]]
    for job in _sample(rng, closed_jobs, counts.get("open_jobs", 0)):
        job["status"] = "Open"
        job["opened_ms"] = now_ms
        job["closed_ms"] = None
        state.touch(job)
        changed["opened_jobs"].append(job["id"])

    _add_candidates(state, rng, counts.get("new_candidates", 0), changed)
    return changed


def _sample(rng, population, count):
    return rng.sample(population, min(count, len(population)))


def _add_candidates(state, rng, count, changed):
    org = state.org
    open_jobs = [j for j in org.jobs if j["status"] == "Open" and not j["confidential"]]
    sources = [s for s in org.sources if not s["isArchived"]]
    now_ms = int(time.time() * 1000)
    for _ in range(count):
        ordinal = len(org.candidates)
        name = f"{rng.choice(('Noor', 'Emil', 'Zara', 'Theo', 'Ines'))} Newcomer {ordinal}"
        email = f"newcomer.{ordinal}@example.com"
        candidate = Candidate(
            id=state.new_id(), ord=ordinal, name=name, emails=[(email, "Personal")],
            phones=[], social_links=[], source_id=rng.choice(sources)["id"],
            application_ids=[], file_ids=[], created_ms=now_ms, updated_ms=now_ms, seq=0,
            public_apps=0, total_apps=0,
        )
        org.candidates.append(candidate)
        org.candidate_by_id[candidate.id] = candidate
        org.index_email(email, candidate.id)
        changed["new_candidates"].append(candidate.id)
        if open_jobs:
            job = rng.choice(open_jobs)
            plan_stages = sorted(org.stages_by_plan[job["defaultInterviewPlanId"]],
                                 key=lambda s: s["orderInInterviewPlan"])
            stage = next(s for s in plan_stages if s["type"] == "Active")
            app = Application(
                id=state.new_id(), ord=len(org.applications), candidate_id=candidate.id,
                job_id=job["id"], plan_id=job["defaultInterviewPlanId"], stage_id=stage["id"],
                status=status_for_stage(stage), source_id=candidate.source_id,
                created_ms=now_ms, updated_ms=now_ms, seq=0, history=[(stage["id"], now_ms)],
            )
            org.applications.append(app)
            org.application_by_id[app.id] = app
            candidate.application_ids.append(app.id)
            candidate.total_apps += 1
            candidate.public_apps += 1
            state.touch(app)
            changed["new_applications"].append(app.id)
        state.touch(candidate)
