"""What a correct sync of a sandbox must produce, computed through Harvest's public API."""

from ats_greenhouse.client import GreenhouseClient


def expected_visible_candidate_ids(server) -> set[str]:
    """Candidates with an active, non-prospect application on an open job, in a stage after
    the job's first stage."""
    with GreenhouseClient(
        "sandbox_full",
        "sandbox_secret",
        "1001",
        api_url=server.api_url,
        auth_url=server.url,
        backoff_base=0.01,
    ) as client:
        open_jobs = {
            job["id"]
            for job in client.list("jobs", status="open").records()
            if not job.get("is_template")
        }
        first_stage = {}
        for stage in client.list("job_interview_stages").records():
            current = first_stage.get(stage["job_id"])
            if current is None or (stage["sort_order"], stage["id"]) < current:
                first_stage[stage["job_id"]] = (stage["sort_order"], stage["id"])
        qualifying = set()
        for application in client.list("applications", status="active").records():
            job_id = application.get("job_id")
            if application["prospect"] or job_id not in open_jobs:
                continue
            if application["stage_id"] != first_stage[job_id][1]:
                qualifying.add(str(application["candidate_id"]))
    return qualifying
