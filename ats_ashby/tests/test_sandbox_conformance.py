"""The sandbox's requests and responses validate against Ashby's OpenAPI document."""

import re
from pathlib import Path

import httpx
import pytest
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from ats_ashby.sandbox import ENDPOINT_PERMISSIONS, start_sandbox
from ats_ashby.tests.test_client_spec import load_spec

SPEC_URI = "urn:ashby-openapi"
REPO_ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture(scope="module")
def spec():
    return load_spec()


@pytest.fixture(scope="module")
def registry(spec):
    return Registry().with_resource(SPEC_URI, Resource(contents=spec, specification=DRAFT202012))


def _pointer(*parts):
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def validate(registry, endpoint, location, instance):
    """Validate `instance` against the request or 200-response schema of `endpoint`."""
    if location == "request":
        path = _pointer("paths", f"/{endpoint}", "post", "requestBody", "content",
                        "application/json", "schema")
    else:
        path = _pointer("paths", f"/{endpoint}", "post", "responses", "200", "content",
                        "application/json", "schema")
    validator = OAS31Validator({"$ref": f"{SPEC_URI}#/{path}"}, registry=registry,
                               format_checker=OAS31Validator.FORMAT_CHECKER)
    errors = list(validator.iter_errors(instance))
    # oneOf failures hide the useful message in their context; report the deepest ones.
    details = [leaf for error in errors for leaf in (error.context or [error])]
    details.sort(key=lambda e: -len(list(e.absolute_path)))
    assert not errors, f"{endpoint} {location} does not match the spec: " + "; ".join(
        f"{list(e.absolute_path)}: {e.message[:200]}" for e in details[:5])


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(seed=3, jobs=20, candidates=150) as running:
        yield running


@pytest.fixture(scope="module")
def call(sandbox, registry):
    client = httpx.Client(base_url=sandbox.url, auth=("sandbox_full", ""), timeout=10)

    def post(endpoint, body, expect_success=True):
        validate(registry, endpoint, "request", body)
        response = client.post(f"/{endpoint}", json=body)
        assert response.status_code == 200, response.text
        payload = response.json()
        validate(registry, endpoint, "response", payload)
        assert payload["success"] is expect_success, payload
        return payload

    yield post
    client.close()


def test_permission_table_matches_spec(spec):
    for endpoint, permission in ENDPOINT_PERMISSIONS.items():
        description = spec["paths"][f"/{endpoint}"]["post"]["description"]
        named = re.findall(r"Requires the \[`(\w+)`\]", description)
        assert named == [permission], f"{endpoint}: spec names {named}, sandbox uses {permission}"


def test_every_served_endpoint_is_in_spec(spec):
    for endpoint in ENDPOINT_PERMISSIONS:
        assert f"/{endpoint}" in spec["paths"], endpoint


def test_reference_lists_conform(call):
    call("apiKey.info", {})
    sources = call("source.list", {"includeArchived": True})["results"]
    lavalier = [s for s in sources if s["title"] == "Lavalier"]
    assert len(lavalier) == 1
    assert lavalier[0]["sourceType"]["title"] == "Platform"
    call("archiveReason.list", {"includeArchived": True})
    call("department.list", {"includeArchived": True, "limit": 3})
    call("location.list", {"includeArchived": True})
    call("user.list", {"includeDeactivated": True, "limit": 5})
    plans = call("interviewPlan.list", {"includeArchived": True})["results"]
    stages = call("interviewStage.list", {"interviewPlanId": plans[0]["id"]})["results"]
    assert {s["type"] for s in stages} == {"Lead", "PreInterviewScreen", "Active", "Offer",
                                           "Hired", "Archived"}
    error = call("interviewStage.list",
                 {"interviewPlanId": "00000000-0000-4000-8000-000000000000"},
                 expect_success=False)
    assert error["errorInfo"]["code"] == "interview_plan_not_found"


def test_jobs_and_postings_conform(call):
    jobs = call("job.list", {"status": ["Draft", "Open", "Closed", "Archived"],
                             "expand": ["location"], "includeUnpublishedJobPostingsIds": True})
    job = jobs["results"][0]
    call("job.info", {"id": job["id"], "expand": ["location", "openings"]})
    call("job.update", {"jobId": job["id"], "title": "Renamed Job"})
    postings = call("jobPosting.list", {"listedOnly": False})["results"]
    call("jobPosting.info", {"jobPostingId": postings[0]["id"], "expand": ["job"]})
    error = call("job.info", {"id": "00000000-0000-4000-8000-000000000000"},
                 expect_success=False)
    assert error["errorInfo"]["code"] == "job_not_found"
    error = call("jobPosting.info", {"jobPostingId": "00000000-0000-4000-8000-000000000000"},
                 expect_success=False)
    assert error["errorInfo"]["code"] == "job_posting_not_found"


def test_applications_conform(call):
    page = call("application.list", {"limit": 50, "expand": ["openings"]})
    archived = call("application.list", {"status": "Archived", "limit": 5})["results"]
    assert archived and all("archiveReason" in a for a in archived)
    app = page["results"][0]
    call("application.info", {"applicationId": app["id"],
                              "expand": ["openings", "applicationFormSubmissions", "referrals"]})
    stages = call("interviewStage.list",
                  {"interviewPlanId": app["currentInterviewStage"]["interviewPlanId"]})["results"]
    active = next(s for s in stages if s["type"] == "Active")
    moved = call("application.changeStage", {"applicationId": app["id"],
                                             "interviewStageId": active["id"]})
    assert moved["results"]["currentInterviewStage"]["id"] == active["id"]
    error = call("application.changeStage", {"applicationId": app["id"],
                                             "interviewStageId": next(
                                                 s["id"] for s in stages
                                                 if s["type"] == "Archived")},
                 expect_success=False)
    assert error["errorInfo"]["code"] == "invalid_input"

    candidate = call("candidate.create", {"name": "Conformance Candidate"})["results"]
    open_job = call("job.list", {"status": ["Open"]})["results"][0]
    created = call("application.create", {"candidateId": candidate["id"],
                                          "jobId": open_job["id"]})["results"]
    assert created["currentInterviewStage"]["type"] == "Lead"
    error = call("application.info", {"applicationId": "00000000-0000-4000-8000-000000000000"},
                 expect_success=False)
    assert error["errorInfo"]["code"] == "application_not_found"


def test_candidates_and_files_conform(call, sandbox):
    page = call("candidate.list", {"limit": 20})
    with_resume = next(c for c in page["results"] if "resumeFileHandle" in c)
    call("candidate.info", {"id": with_resume["id"]})
    email = with_resume["primaryEmailAddress"]["value"]
    found = call("candidate.search", {"email": email})["results"]
    assert [c["id"] for c in found] == [with_resume["id"]]
    created = call("candidate.create", {
        "name": "Spec Person", "email": "spec.person@example.com", "phoneNumber": "+1 555 0100",
        "linkedInUrl": "https://www.linkedin.com/in/spec-person", "website": "https://spec.dev",
        "alternateEmailAddresses": ["spec.alt@example.com"],
        "location": {"city": "Berlin", "country": "Germany"}})["results"]
    call("candidate.update", {"candidateId": created["id"], "name": "Spec Person Updated",
                              "sendNotifications": False,
                              "socialLinks": [{"type": "GitHub", "url": "https://github.com/sp"}]})
    file_url = call("file.info", {"fileHandle": with_resume["resumeFileHandle"]["handle"]})
    assert file_url["results"]["url"].startswith(sandbox.url + "/_sandbox/files/")

    pdf = b"%PDF-1.4\n%%EOF\n"
    upload = call("file.createFileUploadHandle", {
        "fileUploadContext": "CandidateResume", "filename": "cv.pdf",
        "contentType": "application/pdf", "contentLength": len(pdf)})["results"]
    response = httpx.post(upload["url"], data=upload["fields"],
                          files={"file": ("cv.pdf", pdf, "application/pdf")})
    assert response.status_code == 204, response.text
    attached = call("candidate.uploadResume", {"candidateId": created["id"],
                                               "resumeHandle": upload["handle"]})
    assert attached["results"]["resumeFileHandle"]["name"] == "cv.pdf"

    error = call("candidate.info", {"id": "00000000-0000-4000-8000-000000000000"},
                 expect_success=False)
    assert error["errorInfo"]["code"] == "candidate_not_found"
    error = call("candidate.create", {"name": "Bad", "email": "not-an-email"},
                 expect_success=False)
    assert error["errorInfo"]["code"] == "invalid_input"
    error = call("file.info", {"fileHandle": "garbage"}, expect_success=False)
    assert error["errorInfo"]["code"] == "file_not_found"


def test_error_envelopes_conform(sandbox, registry):
    response = httpx.post(f"{sandbox.url}/candidate.list", json={},
                          auth=("sandbox_no_interviews_read", ""))
    assert response.status_code == 200
    response = httpx.post(f"{sandbox.url}/interviewStage.list", json={"interviewPlanId": "x"},
                          auth=("sandbox_no_interviews_read", ""))
    assert response.status_code == 403
    validate(registry, "interviewStage.list", "response", response.json())
    response = httpx.post(f"{sandbox.url}/candidate.list", json={"limit": 500},
                          auth=("sandbox_full", ""))
    validate(registry, "candidate.list", "response", response.json())
    assert response.json()["errorInfo"]["code"] == "invalid_input"
