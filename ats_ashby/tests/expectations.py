"""What a correct sync of a sandbox must produce, computed from the sandbox's own API."""

from ats_ashby.client import AshbyClient

PRE_INTERVIEW_TYPES = {"Lead", "PreInterviewScreen"}


def expected_visible_candidate_ids(base_url: str, api_key: str = "sandbox_full") -> set[str]:
    """Remote ids of candidates with an active application past the pre-interview stages
    on an open job, read through Ashby's public endpoints only."""
    with AshbyClient(api_key, base_url=base_url, backoff_base=0.01) as client:
        open_jobs = {
            job["id"] for page in client.job_list() for job in page if job.get("status") == "Open"
        }
        stage_types = {}
        for page in client.interview_plan_list():
            for plan in page:
                for stages in client.interview_stage_list(plan["id"]):
                    stage_types.update((stage["id"], stage["type"]) for stage in stages)
        qualifying = set()
        for page in client.application_list():
            for application in page:
                stage = application.get("currentInterviewStage") or {}
                stage_type = stage_types.get(stage.get("id"), stage.get("type"))
                if (
                    application["status"] == "Active"
                    and application["job"]["id"] in open_jobs
                    and stage_type not in PRE_INTERVIEW_TYPES
                ):
                    qualifying.add(application["candidate"]["id"])
    return qualifying
