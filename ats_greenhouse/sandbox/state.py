"""The sandbox's mutable state: records, credentials, tokens, faults and statistics.

Every method that reads or changes records runs under one lock, so concurrent requests
see a consistent organization.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
from collections import Counter, deque
from datetime import UTC, datetime

from .data import generate, resume_pdf, timestamp

# Every scope the sandbox accepts, named as Harvest v3 does: harvest:<resource>:<action>.
LIST_RESOURCES = (
    "jobs",
    "job_posts",
    "job_interview_stages",
    "applications",
    "candidates",
    "attachments",
    "sources",
    "rejection_reasons",
    "departments",
    "offices",
    "users",
)
WRITE_SCOPES = (
    "harvest:candidates:create",
    "harvest:candidates:update",
    "harvest:jobs:update",
    "harvest:applications:create",
    "harvest:applications:move",
    "harvest:attachments:create",
)
ALL_SCOPES = tuple(f"harvest:{name}:list" for name in LIST_RESOURCES) + WRITE_SCOPES
DEFAULT_SECRET = "sandbox_secret"
DEFAULT_USER_ID = 1001
DEFAULT_CREDENTIALS = {
    "sandbox_full": {"secret": DEFAULT_SECRET, "scopes": list(ALL_SCOPES)},
    "sandbox_read_only": {
        "secret": DEFAULT_SECRET,
        "scopes": [f"harvest:{name}:list" for name in LIST_RESOURCES],
    },
    "sandbox_no_candidates": {
        "secret": DEFAULT_SECRET,
        "scopes": [
            s
            for s in ALL_SCOPES
            if s not in ("harvest:candidates:list", "harvest:attachments:list")
        ],
    },
}
TOKEN_TTL_SECONDS = 3600
# Greenhouse documents that attachment URLs expire after 7 days.
FILE_URL_TTL_SECONDS = 7 * 24 * 3600


def now_text() -> str:
    return timestamp(datetime.now(UTC))


class SandboxState:
    def __init__(self, seed: int, jobs: int, candidates: int, credentials: dict | None = None):
        self.lock = threading.RLock()
        self.db, self.files, self.ids = generate(seed, jobs, candidates)
        self.rng = random.Random(seed + 1)
        self.credentials = json.loads(json.dumps(credentials or DEFAULT_CREDENTIALS))
        self.tokens: dict[str, dict] = {}
        self.signing_key = secrets.token_bytes(32)
        self.url_generation = 0
        self.faults: list[dict] = []
        self.rate_limit: int | None = None
        self.rate_window = 10.0
        self.hits: deque[float] = deque()
        self.stats: Counter[str] = Counter()
        self.requests: deque[dict] = deque(maxlen=500)

    # Tokens ----------------------------------------------------------------------------

    def issue_token(self, client_id: str, sub: int | None) -> dict:
        config = self.credentials[client_id]
        ttl = int(config.get("token_ttl", TOKEN_TTL_SECONDS))
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = {
            "sub": sub,
            "client_id": client_id,
            "exp": int(time.time()) + ttl,
            "jti": secrets.token_hex(8),
        }
        payload = _b64(json.dumps(claims).encode())
        signature = _b64(
            hmac.new(self.signing_key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        )
        token = f"{header}.{payload}.{signature}"
        self.tokens[token] = {
            "client_id": client_id,
            "sub": sub,
            "expires": time.time() + ttl,
            "scopes": list(config.get("scopes", [])),
        }
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": " ".join(config.get("scopes", [])),
        }

    def token_info(self, token: str) -> dict | None:
        info = self.tokens.get(token)
        if info is None or info["expires"] <= time.time():
            return None
        if self.credentials.get(info["client_id"], {}).get("revoked"):
            return None
        return info

    # Attachment URLs -----------------------------------------------------------------------

    def file_signature(self, attachment_id: int, expires: int) -> str:
        message = f"{attachment_id}:{expires}:{self.url_generation}".encode()
        return hmac.new(self.signing_key, message, hashlib.sha256).hexdigest()[:32]

    def file_url(self, base_url: str, attachment_id: int) -> str:
        expires = int(time.time()) + FILE_URL_TTL_SECONDS
        return (
            f"{base_url}/_files/{attachment_id}?expires={expires}"
            f"&signature={self.file_signature(attachment_id, expires)}"
        )

    # Changes ---------------------------------------------------------------------------

    def touch(self, record: dict) -> None:
        record["updated_at"] = now_text()

    def stages_of(self, job_id: int) -> list[dict]:
        stages = [s for s in self.db["job_interview_stages"].values() if s["job_id"] == job_id]
        return sorted(stages, key=lambda s: (s["sort_order"], s["id"]))

    def add_attachment(
        self,
        application: dict,
        filename: str,
        kind: str,
        content: bytes,
        visibility: str | None = None,
    ) -> dict:
        if kind in ("resume", "cover_letter"):
            for other in self.db["attachments"].values():
                if other["candidate_id"] == application["candidate_id"] and other["type"] == kind:
                    other["type"] = "other"
                    self.touch(other)
        now = now_text()
        attachment = {
            "id": self.ids.take("attachments"),
            "application_id": application["id"],
            "candidate_id": application["candidate_id"],
            "filename": filename,
            "type": kind,
            "visibility": visibility or ("admin_only" if kind.startswith("offer") else "public"),
            "created_at": now,
            "updated_at": now,
        }
        self.db["attachments"][attachment["id"]] = attachment
        self.files[attachment["id"]] = content
        candidate = self.db["candidates"].get(application["candidate_id"])
        if candidate is not None:
            self.touch(candidate)
        return attachment

    def delete_candidate(self, candidate_id: int) -> dict:
        """Delete a candidate with its applications and attachments, as Greenhouse does."""
        self.db["candidates"].pop(candidate_id, None)
        applications = [
            a for a in self.db["applications"].values() if a["candidate_id"] == candidate_id
        ]
        for application in applications:
            self.db["applications"].pop(application["id"], None)
        attachments = [
            a for a in self.db["attachments"].values() if a["candidate_id"] == candidate_id
        ]
        for attachment in attachments:
            self.db["attachments"].pop(attachment["id"], None)
            self.files.pop(attachment["id"], None)
        return {
            "candidate_id": candidate_id,
            "deleted_application_ids": [a["id"] for a in applications],
        }

    def merge_candidates(self, source_id: int, target_id: int) -> dict:
        """Merge one candidate into another: applications and files move, the source goes."""
        moved = []
        for application in self.db["applications"].values():
            if application["candidate_id"] == source_id:
                application["candidate_id"] = target_id
                self.touch(application)
                moved.append(application["id"])
        for attachment in self.db["attachments"].values():
            if attachment["candidate_id"] == source_id:
                attachment["candidate_id"] = target_id
                self.touch(attachment)
        self.db["candidates"].pop(source_id, None)
        self.touch(self.db["candidates"][target_id])
        return {"from": source_id, "into": target_id, "moved_application_ids": moved}

    def activity(self, request: dict) -> dict:
        """Simulate recruiters at work; each count is the number of changes of that kind."""
        changed: dict[str, list[int]] = {
            "moved": [],
            "rejected": [],
            "closed_jobs": [],
            "opened_jobs": [],
            "new_candidates": [],
            "edited": [],
            "new_resumes": [],
        }
        active = [
            a
            for a in self.db["applications"].values()
            if a["status"] == "active" and not a["prospect"]
        ]
        self.rng.shuffle(active)
        for application in active[: int(request.get("moves", 0))]:
            stages = [
                s["id"]
                for s in self.stages_of(application["job_id"])
                if s["id"] != application["stage_id"]
            ]
            application["stage_id"] = self.rng.choice(stages)
            self.touch(application)
            changed["moved"].append(application["id"])
        rest = active[int(request.get("moves", 0)) :]
        for application in rest[: int(request.get("rejects", 0))]:
            application["status"] = "rejected"
            application["rejection_reason_id"] = next(iter(self.db["rejection_reasons"]))
            self.touch(application)
            changed["rejected"].append(application["id"])
        open_jobs = [j for j in self.db["jobs"].values() if j["status"] == "open"]
        closed_jobs = [j for j in self.db["jobs"].values() if j["status"] == "closed"]
        self.rng.shuffle(open_jobs)
        self.rng.shuffle(closed_jobs)
        for job in open_jobs[: int(request.get("close_jobs", 0))]:
            job["status"] = "closed"
            job["closed_at"] = now_text()
            self.touch(job)
            changed["closed_jobs"].append(job["id"])
        for job in closed_jobs[: int(request.get("open_jobs", 0))]:
            job["status"] = "open"
            job["closed_at"] = None
            self.touch(job)
            changed["opened_jobs"].append(job["id"])
        still_open = [j for j in self.db["jobs"].values() if j["status"] == "open"]
        for index in range(int(request.get("new_candidates", 0))):
            now = now_text()
            candidate_id = self.ids.take("candidates")
            self.db["candidates"][candidate_id] = {
                "id": candidate_id,
                "first_name": "New",
                "last_name": f"Applicant {candidate_id}",
                "company": "Initech",
                "title": "Engineer",
                "private": False,
                "can_email": True,
                "time_zone": None,
                "tags": [],
                "email_addresses": [
                    {"value": f"new.{candidate_id}@example.test", "type": "personal"}
                ],
                "phone_numbers": [],
                "addresses": [],
                "website_addresses": [],
                "social_media_addresses": [],
                "custom_fields": {},
                "created_at": now,
                "updated_at": now,
            }
            job = still_open[index % len(still_open)]
            application = self.create_application(
                candidate_id, job["id"], stage=self.stages_of(job["id"])[2]
            )
            self.add_attachment(
                application,
                f"new_{candidate_id}.pdf",
                "resume",
                resume_pdf(f"New Applicant {candidate_id}"),
            )
            changed["new_candidates"].append(candidate_id)
        candidates = list(self.db["candidates"].values())
        self.rng.shuffle(candidates)
        for candidate in candidates[: int(request.get("edits", 0))]:
            candidate["title"] = f"{candidate['title']} (updated)"
            self.touch(candidate)
            changed["edited"].append(candidate["id"])
        with_resume = {
            a["candidate_id"]: a for a in self.db["attachments"].values() if a["type"] == "resume"
        }
        for candidate_id in list(with_resume)[: int(request.get("new_resumes", 0))]:
            old = with_resume[candidate_id]
            application = self.db["applications"][old["application_id"]]
            candidate = self.db["candidates"][candidate_id]
            self.add_attachment(
                application,
                "updated_resume.pdf",
                "resume",
                resume_pdf(f"{candidate['first_name']} {candidate['last_name']}", version=2),
            )
            changed["new_resumes"].append(candidate_id)
        return changed

    def create_application(
        self,
        candidate_id: int,
        job_id: int | None,
        *,
        stage: dict | None = None,
        source_id: int | None = None,
        prospect: bool = False,
    ) -> dict:
        now = now_text()
        if job_id is not None and stage is None:
            stage = self.stages_of(job_id)[0]
        application = {
            "id": self.ids.take("applications"),
            "candidate_id": candidate_id,
            "job_id": None if prospect else job_id,
            "prospective_job_ids": [job_id] if prospect and job_id else [],
            "prospect": prospect,
            "status": "active",
            "stage_id": None if prospect or stage is None else stage["id"],
            "source_id": source_id,
            "rejection_reason_id": None,
            "applied_at": now,
            "created_at": now,
            "updated_at": now,
        }
        self.db["applications"][application["id"]] = application
        candidate = self.db["candidates"].get(candidate_id)
        if candidate is not None:
            self.touch(candidate)
        return application


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
