"""Endpoints for jobs, job postings, interview plans and stages."""

from .errors import AshbyError
from .paging import paginate
from .validation import field, record_ignored_fields

JOB_STATUSES = ("Draft", "Open", "Closed", "Archived")
DEFAULT_JOB_STATUSES = ("Open", "Closed", "Archived")


def job_list(state, body, ctx):
    statuses = field(body, "status", "array", enum=JOB_STATUSES) or list(DEFAULT_JOB_STATUSES)
    filters = {"status": statuses}
    for name in ("createdAfter", "openedAfter", "openedBefore", "closedAfter", "closedBefore"):
        filters[name] = field(body, name, "integer")
    include_unpublished = bool(field(body, "includeUnpublishedJobPostingsIds", "boolean"))
    expand = field(body, "expand", "array", enum=("location", "openings")) or []

    def matches(job, f):
        if not state.job_visible(job, ctx) or job["status"] not in f["status"]:
            return False
        checks = (("createdAfter", job["created_ms"], True),
                  ("openedAfter", job["opened_ms"], True),
                  ("openedBefore", job["opened_ms"], False),
                  ("closedAfter", job["closed_ms"], True),
                  ("closedBefore", job["closed_ms"], False))
        for name, value, after in checks:
            bound = f.get(name)
            if bound is None:
                continue
            if value is None or (value <= bound if after else value >= bound):
                return False
        return True

    envelope = paginate(state.codec, body, "job", state.org.jobs, state.seq, matches, filters,
                        incremental=True)
    envelope["results"] = [state.serializer.job(j, include_unpublished, expand)
                           for j in envelope["results"]]
    return envelope


def job_info(state, body, ctx):
    job = state.get_job(field(body, "id", "uuid", required=True), ctx)
    include_unpublished = bool(field(body, "includeUnpublishedJobPostingsIds", "boolean"))
    expand = field(body, "expand", "array", enum=("location", "openings")) or []
    return {"success": True, "results": state.serializer.job(job, include_unpublished, expand)}


JOB_UPDATE_FIELDS = ("jobId", "title", "teamId", "locationId", "defaultInterviewPlanId",
                     "customRequisitionId")


def job_update(state, body, ctx):
    """Apply the fields Ashby's `job.update` accepts; status, employment type and the like are
    not in its schema and are ignored."""
    job = state.get_job(field(body, "jobId", "uuid", required=True), ctx)
    title = field(body, "title", "string")
    team_id = field(body, "teamId", "uuid")
    location_id = field(body, "locationId", "uuid")
    plan_id = field(body, "defaultInterviewPlanId", "uuid")
    requisition = field(body, "customRequisitionId", "string")
    if title is not None and not title.strip():
        raise AshbyError("invalid_input", "title must not be empty")
    if team_id:
        state.check_reference("department", team_id)
    if location_id:
        state.check_reference("location", location_id)
    if plan_id:
        state.check_reference("interview_plan", plan_id)
    record_ignored_fields(state, "job.update", body, JOB_UPDATE_FIELDS)

    if title is not None:
        job["title"] = title
        for posting_id in job["jobPostingIds"]:
            state.org.posting_by_id[posting_id]["title"] = title
    if team_id:
        job["departmentId"] = team_id
    if location_id:
        job["locationId"] = location_id
    if plan_id:
        job["defaultInterviewPlanId"] = plan_id
        if plan_id not in job["interviewPlanIds"]:
            job["interviewPlanIds"].append(plan_id)
    if requisition is not None:
        job["customRequisitionId"] = requisition
    state.touch(job)
    return {"success": True, "results": state.serializer.job(job)}


def job_posting_list(state, body, ctx):
    location = field(body, "location", "string")
    department = field(body, "department", "string")
    listed_only = bool(field(body, "listedOnly", "boolean"))
    field(body, "jobBoardId", "uuid")
    results = []
    for posting in state.org.postings:
        job = state.org.job_by_id[posting["jobId"]]
        # Only postings of open jobs are published.
        if job["status"] != "Open" or not state.job_visible(job, ctx):
            continue
        if listed_only and not posting["isListed"]:
            continue
        summary = state.serializer.posting_summary(posting)
        if location is not None and summary["locationName"] != location:
            continue
        if department is not None and summary["departmentName"] != department:
            continue
        results.append(summary)
    return {"success": True, "results": results}


def job_posting_info(state, body, ctx):
    posting_id = field(body, "jobPostingId", "uuid", required=True)
    field(body, "jobBoardId", "uuid")
    expand = field(body, "expand", "array", enum=("job",)) or []
    posting = state.org.posting_by_id.get(posting_id)
    if not posting or not state.job_visible(state.org.job_by_id[posting["jobId"]], ctx):
        raise AshbyError("job_posting_not_found", f"No job posting found with id {posting_id!r}")
    return {"success": True, "results": state.serializer.posting_detail(posting, expand)}


def interview_plan_list(state, body, ctx):
    include_archived = bool(field(body, "includeArchived", "boolean"))

    def matches(plan, _filters):
        return include_archived or not plan["isArchived"]

    envelope = paginate(state.codec, body, "interviewPlan", state.org.plans, state.seq, matches,
                        {}, incremental=False)
    envelope["results"] = [{k: v for k, v in plan.items()} for plan in envelope["results"]]
    return envelope


def interview_stage_list(state, body, ctx):
    plan_id = field(body, "interviewPlanId", "uuid", required=True)
    stages = state.org.stages_by_plan.get(plan_id)
    if stages is None:
        raise AshbyError("interview_plan_not_found", f"No interview plan found with id {plan_id!r}")
    ordered = sorted(stages, key=lambda stage: stage["orderInInterviewPlan"])
    return {"success": True, "results": [dict(s) for s in ordered], "moreDataAvailable": False}


HANDLERS = {
    "job.list": job_list,
    "job.info": job_info,
    "job.update": job_update,
    "jobPosting.list": job_posting_list,
    "jobPosting.info": job_posting_info,
    "interviewPlan.list": interview_plan_list,
    "interviewStage.list": interview_stage_list,
}
