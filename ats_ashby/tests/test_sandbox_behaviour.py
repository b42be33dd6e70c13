"""Behaviour of the Ashby sandbox: auth, pagination, sync tokens, faults, writes, files."""

import threading
import time

import httpx
import pytest

from ats_ashby.sandbox import DEFAULT_KEYS, start_sandbox
from ats_ashby.sandbox.data import generate_organization

CONFIDENTIAL_KEY = {
    "sandbox_confidential": {"title": "Confidential access",
                             "scopes": DEFAULT_KEYS["sandbox_full"]["scopes"],
                             "confidential": True},
}


@pytest.fixture
def sandbox():
    with start_sandbox(seed=7, jobs=20, candidates=300) as running:
        yield running


@pytest.fixture
def client(sandbox):
    with httpx.Client(base_url=sandbox.url, auth=("sandbox_full", ""), timeout=10) as http:
        yield http


def post(client, endpoint, body=None):
    response = client.post(f"/{endpoint}", json=body or {})
    return response.status_code, response.json()


def control(sandbox, method, path, body=None):
    response = httpx.request(method, f"{sandbox.url}/_sandbox/{path}", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def list_all(client, endpoint, body=None):
    body = dict(body or {})
    pages = []
    while True:
        status, page = post(client, endpoint, body)
        assert status == 200, page
        assert page["success"], page
        pages.append(page)
        if not page["moreDataAvailable"]:
            return pages
        body["cursor"] = page["nextCursor"]


# Auth ----------------------------------------------------------------------------------------

def test_auth_missing_key_is_401(sandbox):
    response = httpx.post(f"{sandbox.url}/candidate.list", json={})
    assert response.status_code == 401
    assert response.json()["success"] is False


def test_auth_wrong_and_deactivated_key_are_403(sandbox):
    for key in ("not_a_key", "sandbox_deactivated"):
        response = httpx.post(f"{sandbox.url}/candidate.list", json={}, auth=(key, ""))
        assert response.status_code == 403, key
        assert response.json()["errorInfo"]["code"] != "missing_endpoint_permission"


def test_auth_missing_permission(sandbox):
    response = httpx.post(f"{sandbox.url}/candidate.create", json={"name": "X"},
                          auth=("sandbox_no_candidates_write", ""))
    assert response.status_code == 403
    info = response.json()["errorInfo"]
    assert info["code"] == "missing_endpoint_permission"
    assert "candidatesWrite" in info["message"]
    assert "candidate.create" in info["message"]


def test_keys_control_deactivates_key(sandbox, client):
    control(sandbox, "POST", "keys", {"sandbox_full": {**DEFAULT_KEYS["sandbox_full"],
                                                       "deactivated": True}})
    assert client.post("/apiKey.info", json={}).status_code == 403


def test_non_json_content_type_rejected(client):
    response = client.post("/candidate.list", content=b"limit=5",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200
    assert response.json()["errorInfo"]["code"] == "invalid_input"


def test_unknown_endpoint(client):
    response = client.post("/candidate.explode", json={})
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_api_key_info_scopes(client):
    _, payload = post(client, "apiKey.info")
    assert "candidates:write" in payload["results"]["scopes"]
    assert "reports:read" not in payload["results"]["scopes"]


# Data ----------------------------------------------------------------------------------------

def test_generation_is_deterministic():
    first = generate_organization(5, 12, 200)
    second = generate_organization(5, 12, 200)
    assert [c.id for c in first.candidates] == [c.id for c in second.candidates]
    assert [a.stage_id for a in first.applications] == [a.stage_id for a in second.applications]
    assert [j["status"] for j in first.jobs] == [j["status"] for j in second.jobs]


def test_generation_covers_statuses_and_rule(client, sandbox):
    jobs = list_all(client, "job.list", {"status": ["Draft", "Open", "Closed", "Archived"]})
    jobs = [j for page in jobs for j in page["results"]]
    assert {j["status"] for j in jobs} == {"Draft", "Open", "Closed", "Archived"}
    assert {j["employmentType"] for j in jobs} == {"FullTime", "PartTime", "Contract", "Intern",
                                                  "Temporary"}
    assert not any(j["confidential"] for j in jobs)
    default = [j for page in list_all(client, "job.list") for j in page["results"]]
    assert "Draft" not in {j["status"] for j in default}

    job_status = {j["id"]: j["status"] for j in jobs}
    apps = [a for page in list_all(client, "application.list") for a in page["results"]]
    assert {a["status"] for a in apps} == {"Active", "Hired", "Archived", "Lead"}
    qualifying = {a["candidate"]["id"] for a in apps
                  if a["status"] == "Active" and job_status[a["job"]["id"]] == "Open"
                  and a["currentInterviewStage"]["type"] not in ("Lead", "PreInterviewScreen")}
    candidates = {a["candidate"]["id"] for a in apps}
    assert qualifying and candidates - qualifying


def test_generation_speed():
    started = time.monotonic()
    organization = generate_organization(1, 40, 2000)
    assert time.monotonic() - started < 3
    assert len(organization.applications) > 4000


def test_confidential_jobs_hidden_by_default():
    with start_sandbox(seed=7, jobs=20, candidates=300, keys={**DEFAULT_KEYS,
                                                              **CONFIDENTIAL_KEY}) as box:
        with httpx.Client(base_url=box.url, timeout=10) as http:
            def count(key):
                body = {"status": ["Open", "Closed", "Archived"]}
                jobs = http.post("/job.list", json=body, auth=(key, "")).json()["results"]
                candidates = 0
                cursor = None
                while True:
                    page = http.post("/candidate.list", auth=(key, ""),
                                     json={"cursor": cursor} if cursor else {}).json()
                    candidates += len(page["results"])
                    if not page["moreDataAvailable"]:
                        return len(jobs), candidates
                    cursor = page["nextCursor"]

            jobs_default, candidates_default = count("sandbox_full")
            jobs_all, candidates_all = count("sandbox_confidential")
    assert jobs_all > jobs_default
    assert candidates_all > candidates_default


# Pagination and incremental sync ---------------------------------------------------------------

def test_pagination_237_records_three_pages():
    with start_sandbox(seed=2, jobs=10, candidates=237, keys=CONFIDENTIAL_KEY) as box:
        with httpx.Client(base_url=box.url, auth=("sandbox_confidential", ""),
                          timeout=10) as http:
            pages = list_all(http, "candidate.list")
    assert [len(p["results"]) for p in pages] == [100, 100, 37]
    assert ["syncToken" in p for p in pages] == [False, False, True]
    ids = [c["id"] for p in pages for c in p["results"]]
    assert len(set(ids)) == 237


def test_incremental_returns_exactly_changed(sandbox, client):
    first = list_all(client, "application.list")
    unchanged = list_all(client, "application.list", {"syncToken": first[-1]["syncToken"]})
    assert unchanged[-1]["results"] == []
    token = first[-1]["syncToken"]
    candidate_token = list_all(client, "candidate.list")[-1]["syncToken"]
    job_token = list_all(client, "job.list")[-1]["syncToken"]

    changed = control(sandbox, "POST", "activity", {"moves": 3, "archives": 2, "unarchives": 2,
                                                    "close_jobs": 1, "new_candidates": 2})
    expected_apps = set(changed["moved"] + changed["archived"] + changed["unarchived"]
                        + changed["new_applications"])
    assert len(expected_apps) == 9

    pages = list_all(client, "application.list", {"syncToken": token})
    assert {a["id"] for p in pages for a in p["results"]} == expected_apps
    assert "syncToken" in pages[-1]
    pages = list_all(client, "candidate.list", {"syncToken": candidate_token})
    assert {c["id"] for p in pages for c in p["results"]} == set(changed["new_candidates"])
    pages = list_all(client, "job.list", {"syncToken": job_token})
    assert {j["id"] for p in pages for j in p["results"]} == set(changed["closed_jobs"])


def test_sync_token_wrong_endpoint_invalid(client):
    job_token = list_all(client, "job.list")[-1]["syncToken"]
    status, payload = post(client, "application.list", {"syncToken": job_token})
    assert status == 200
    assert payload["errorInfo"]["code"] == "sync_token_invalid"


def test_activity_is_deterministic():
    results = []
    for _ in range(2):
        with start_sandbox(seed=11, jobs=10, candidates=100) as box:
            results.append(httpx.post(f"{box.url}/_sandbox/activity",
                                      json={"moves": 4, "archives": 2}).json())
    assert results[0] == results[1]


def test_cursor_and_token_expiry(sandbox, client):
    token = list_all(client, "candidate.list")[-1]["syncToken"]
    _, first = post(client, "candidate.list", {"limit": 10})
    control(sandbox, "POST", "expire", {"cursors": True})
    _, payload = post(client, "candidate.list", {"cursor": first["nextCursor"]})
    assert payload["errorInfo"]["code"] == "next_cursor_expired"
    control(sandbox, "POST", "expire", {"sync_tokens": True})
    _, payload = post(client, "candidate.list", {"syncToken": token})
    assert payload["errorInfo"]["code"] == "sync_token_expired"
    _, payload = post(client, "candidate.list", {"cursor": "garbage"})
    assert payload["errorInfo"]["code"] == "invalid_next_cursor"
    _, payload = post(client, "candidate.list", {"syncToken": "garbage"})
    assert payload["errorInfo"]["code"] == "sync_token_invalid"


def test_pagination_stable_under_inserts(sandbox, client):
    _, first = post(client, "candidate.list", {"limit": 100})
    control(sandbox, "POST", "activity", {"new_candidates": 5})
    rest = list_all(client, "candidate.list", {"cursor": first["nextCursor"]})
    ids = [c["id"] for c in first["results"]] + [c["id"] for p in rest for c in p["results"]]
    assert len(ids) == len(set(ids))
    dump = control(sandbox, "GET", "dump?kind=candidates")["results"]
    visible = [c["id"] for c in dump if not c["_hiddenWithoutConfidentialAccess"]]
    assert ids == visible


# Faults --------------------------------------------------------------------------------------

def test_fault_429_has_retry_after(sandbox, client):
    control(sandbox, "POST", "faults", {"rate_429": 1, "retry_after": 7, "count": 1})
    response = client.post("/candidate.list", json={})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert client.post("/candidate.list", json={}).status_code == 200


def test_fault_5xx_and_endpoint_filter(sandbox, client):
    control(sandbox, "POST", "faults", {"rate_5xx": 1, "endpoints": ["job.list"]})
    assert client.post("/job.list", json={}).status_code == 500
    assert client.post("/candidate.list", json={}).status_code == 200
    control(sandbox, "DELETE", "faults")
    assert client.post("/job.list", json={}).status_code == 200


def test_fault_timeout_hangs(sandbox, client):
    control(sandbox, "POST", "faults", {"timeout_rate": 1, "hang_seconds": 2, "count": 1})
    with pytest.raises(httpx.TimeoutException):
        client.post("/candidate.list", json={}, timeout=0.5)


def test_fault_malformed_json(sandbox, client):
    control(sandbox, "POST", "faults", {"malformed_json_rate": 1, "count": 1})
    response = client.post("/candidate.list", json={})
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_fault_truncated_page(sandbox, client):
    control(sandbox, "POST", "faults", {"truncated_page_rate": 1, "count": 1})
    with pytest.raises(httpx.TransportError):
        client.post("/candidate.list", json={})


def test_fault_latency(sandbox, client):
    control(sandbox, "POST", "faults", {"latency_ms": 300, "count": 1})
    started = time.monotonic()
    assert client.post("/apiKey.info", json={}).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_fail_after_store(sandbox, client):
    control(sandbox, "POST", "faults", {"fail_after_store": ["candidate.create"]})
    response = client.post("/candidate.create", json={"name": "Stored Anyway",
                                                      "email": "stored.anyway@example.com"})
    assert response.status_code == 500
    dump = control(sandbox, "GET", "dump?kind=candidates")["results"]
    matches = [c for c in dump if c["name"] == "Stored Anyway"]
    assert len(matches) == 1


def test_faults_rates_deterministic():
    outcomes = []
    for _ in range(2):
        with start_sandbox(seed=4, jobs=5, candidates=20) as box:
            httpx.post(f"{box.url}/_sandbox/faults", json={"rate_429": 0.5})
            with httpx.Client(base_url=box.url, auth=("sandbox_full", "")) as http:
                outcomes.append([http.post("/apiKey.info", json={}).status_code
                                 for _ in range(20)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 429}


def test_stats_count_requests(sandbox, client):
    control(sandbox, "POST", "stats/reset")
    post(client, "candidate.list")
    post(client, "candidate.list")
    post(client, "candidate.update", {"candidateId": "x", "position": "CTO"})
    stats = control(sandbox, "GET", "stats")
    assert stats["endpoints"]["candidate.list"] == 2
    assert stats["total"] == 3


# Writes --------------------------------------------------------------------------------------

def test_candidate_update_round_trip(sandbox, client):
    _, page = post(client, "candidate.list", {"limit": 1})
    candidate = page["results"][0]
    _, updated = post(client, "candidate.update", {
        "candidateId": candidate["id"], "name": "Renamed Person",
        "email": "renamed.person@example.com", "position": "CTO", "company": "Elsewhere",
        "location": {"city": "Lisbon", "country": "Portugal"}, "sendNotifications": False})
    result = updated["results"]
    assert result["name"] == "Renamed Person"
    assert result["primaryEmailAddress"]["value"] == "renamed.person@example.com"
    assert result.get("position") == candidate.get("position")
    assert result.get("company") == candidate.get("company")
    assert result["location"]["locationSummary"] == "Lisbon, Portugal"
    assert result["updatedAt"] > candidate["updatedAt"]
    _, info = post(client, "candidate.info", {"id": candidate["id"]})
    assert info["results"] == result
    stats = control(sandbox, "GET", "stats")
    assert stats["ignoredFields"]["candidate.update:position"] == 1


def test_candidate_create_then_search(sandbox, client):
    _, created = post(client, "candidate.create", {"name": "Unique Person",
                                                   "email": "unique.person@example.com"})
    _, found = post(client, "candidate.search", {"email": "UNIQUE.person@example.com"})
    assert [c["id"] for c in found["results"]] == [created["results"]["id"]]
    dump = control(sandbox, "GET", "dump?kind=candidates")["results"]
    emails = [e["value"] for c in dump for e in c["emailAddresses"]]
    assert emails.count("unique.person@example.com") == 1


def test_job_update_ignores_unsupported_fields(client):
    _, jobs = post(client, "job.list", {"status": ["Open"]})
    job = jobs["results"][0]
    _, updated = post(client, "job.update", {"jobId": job["id"], "title": "New Title",
                                             "employmentType": "Intern", "status": "Closed"})
    assert updated["results"]["title"] == "New Title"
    assert updated["results"]["employmentType"] == job["employmentType"]
    assert updated["results"]["status"] == "Open"


def test_application_create_and_change_stage(client):
    _, created = post(client, "candidate.create", {"name": "Stage Walker"})
    candidate_id = created["results"]["id"]
    _, jobs = post(client, "job.list", {"status": ["Open"]})
    job = jobs["results"][0]
    _, app = post(client, "application.create", {"candidateId": candidate_id, "jobId": job["id"],
                                                 "interviewStageId": "FirstPreInterviewScreen"})
    app = app["results"]
    assert app["currentInterviewStage"]["type"] == "PreInterviewScreen"
    assert app["status"] == "Active"
    _, duplicate = post(client, "application.create", {"candidateId": candidate_id,
                                                       "jobId": job["id"]})
    assert duplicate["success"] is False

    _, stages = post(client, "interviewStage.list",
                     {"interviewPlanId": app["currentInterviewStage"]["interviewPlanId"]})
    by_type = {s["type"]: s for s in stages["results"]}
    _, reasons = post(client, "archiveReason.list")
    reason_id = reasons["results"][0]["id"]

    _, error = post(client, "application.changeStage", {"applicationId": app["id"],
                                                        "interviewStageId": by_type["Active"]["id"],
                                                        "archiveReasonId": reason_id})
    assert error["errorInfo"]["code"] == "invalid_input"
    _, error = post(client, "application.changeStage", {
        "applicationId": app["id"], "interviewStageId": by_type["Archived"]["id"],
        "archiveReasonId": "00000000-0000-4000-8000-000000000000"})
    assert error["errorInfo"]["code"] == "archive_reason_not_found"
    _, error = post(client, "application.changeStage", {
        "applicationId": app["id"], "interviewStageId": "00000000-0000-4000-8000-000000000000"})
    assert error["errorInfo"]["code"] == "interview_stage_not_found"
    _, error = post(client, "application.changeStage", {
        "applicationId": "00000000-0000-4000-8000-000000000000",
        "interviewStageId": by_type["Active"]["id"]})
    assert error["errorInfo"]["code"] == "application_not_found"

    _, archived = post(client, "application.changeStage", {
        "applicationId": app["id"], "interviewStageId": by_type["Archived"]["id"],
        "archiveReasonId": reason_id})
    assert archived["results"]["status"] == "Archived"
    assert archived["results"]["archiveReason"]["id"] == reason_id
    _, info = post(client, "application.info", {"applicationId": app["id"]})
    assert [h["stageId"] for h in info["results"]["applicationHistory"]] == [
        by_type["PreInterviewScreen"]["id"], by_type["Archived"]["id"]]
    _, candidate = post(client, "candidate.info", {"id": candidate_id})
    assert candidate["results"]["applicationIds"] == [app["id"]]


# Files ---------------------------------------------------------------------------------------

def test_resume_download_and_tampering(sandbox, client):
    _, page = post(client, "candidate.list")
    candidate = next(c for c in page["results"] if "resumeFileHandle" in c)
    _, info = post(client, "file.info", {"fileHandle": candidate["resumeFileHandle"]["handle"]})
    url = info["results"]["url"]
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert response.content.rstrip().endswith(b"%%EOF")
    assert httpx.get(url.replace("signature=", "signature=0")).status_code == 403
    control(sandbox, "POST", "expire", {"file_urls": True})
    assert httpx.get(url).status_code == 403


def test_upload_flow_attaches_resume(client):
    _, page = post(client, "candidate.list", {"limit": 1})
    candidate_id = page["results"][0]["id"]
    data = b"%PDF-1.4\nuploaded\n%%EOF\n"
    _, handle = post(client, "file.createFileUploadHandle", {
        "fileUploadContext": "CandidateResume", "filename": "new.pdf",
        "contentType": "application/pdf", "contentLength": len(data)})
    upload = handle["results"]
    _, early = post(client, "candidate.uploadResume", {"candidateId": candidate_id,
                                                       "resumeHandle": upload["handle"]})
    assert early["success"] is False
    bad = httpx.post(upload["url"], data={**upload["fields"], "x-sandbox-signature": "0"},
                     files={"file": ("new.pdf", data, "application/pdf")})
    assert bad.status_code == 403
    good = httpx.post(upload["url"], data=upload["fields"],
                      files={"file": ("new.pdf", data, "application/pdf")})
    assert good.status_code == 204
    _, attached = post(client, "candidate.uploadResume", {"candidateId": candidate_id,
                                                          "resumeHandle": upload["handle"]})
    handle = attached["results"]["resumeFileHandle"]
    _, info = post(client, "file.info", {"fileHandle": handle["handle"]})
    assert httpx.get(info["results"]["url"]).content == data


def test_stop_releases_hanging_request():
    box = start_sandbox(seed=1, jobs=5, candidates=10)
    httpx.post(f"{box.url}/_sandbox/faults", json={"timeout_rate": 1, "hang_seconds": 60})

    def hang():
        try:
            httpx.post(f"{box.url}/apiKey.info", json={}, auth=("sandbox_full", ""), timeout=30)
        except httpx.HTTPError:
            pass

    thread = threading.Thread(target=hang)
    thread.start()
    time.sleep(0.3)
    started = time.monotonic()
    box.stop()
    thread.join(timeout=10)
    assert time.monotonic() - started < 5
    assert not thread.is_alive()
