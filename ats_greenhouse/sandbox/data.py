"""Deterministic seed data for the Greenhouse sandbox, shaped like Harvest v3 records.

Records are plain dicts keyed by integer id, with relations flattened to `*_id` fields as
Harvest v3 returns them. Seeded timestamps lie in 2025, so live changes made through the
API or the control routes always sort after them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

SEED_START = datetime(2025, 1, 1, tzinfo=UTC)
STAGE_NAMES = (
    "Application Review",
    "Preliminary Phone Screen",
    "Phone Interview",
    "Face to Face",
    "Reference Check",
    "Offer",
)
EMPLOYMENT_TYPES = ("Full-time", "Part-time", "Contract", "Intern", "Temporary")
DEPARTMENTS = ("Engineering", "Design", "Sales", "Marketing", "Finance", "People", "Support")
OFFICES = ("Berlin", "London", "New York", "Remote", "San Francisco", "Toronto")
JOB_TITLES = (
    "Backend Engineer",
    "Frontend Engineer",
    "Product Designer",
    "Account Executive",
    "Growth Marketer",
    "Financial Analyst",
    "Recruiter",
    "Support Specialist",
    "Data Engineer",
    "Engineering Manager",
    "Sales Development Rep",
    "Content Writer",
)
FIRST_NAMES = (
    "Ada",
    "Bruno",
    "Chiara",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Luca",
    "Mira",
    "Nils",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
)
LAST_NAMES = (
    "Abara",
    "Berg",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Rossi",
    "Sato",
)
COMPANIES = ("Initech", "Globex", "Hooli", "Umbrella", "Stark Industries", "Wayne Enterprises")
SOURCES = (
    ("LinkedIn", "Prospecting"),
    ("Referral", "Referral"),
    ("Company website", "Inbound"),
    ("Indeed", "Job board"),
    ("Lavalier", "Other"),
)
REJECTION_REASONS = (
    ("Lacking skill(s)/qualification(s)", "we_rejected"),
    ("Hired another candidate", "we_rejected"),
    ("Took another offer", "they_rejected"),
)


def timestamp(value: datetime) -> str:
    """Format a datetime as Harvest does: ISO 8601 in UTC with milliseconds."""
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


def resume_pdf(name: str, version: int = 1) -> bytes:
    """Return a small valid PDF whose text names the candidate."""
    text = f"Resume of {name} (version {version})".replace("(", "[").replace(")", "]")
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


class Ids:
    """Integer id sequences, one per resource, in separate ranges like Greenhouse's."""

    STARTS = {
        "departments": 4001,
        "offices": 5001,
        "users": 1001,
        "sources": 7001,
        "rejection_reasons": 8001,
        "jobs": 100001,
        "job_posts": 200001,
        "job_interview_stages": 300001,
        "candidates": 10000001,
        "applications": 20000001,
        "attachments": 30000001,
    }

    def __init__(self):
        self.next = dict(self.STARTS)

    def take(self, resource: str) -> int:
        value = self.next[resource]
        self.next[resource] += 1
        return value


def generate(
    seed: int, jobs: int, candidates: int
) -> tuple[dict[str, dict[int, dict]], dict[int, bytes], Ids]:
    """Build the organization: returns (records by resource, file bytes by attachment id, ids)."""
    rng = random.Random(seed)
    ids = Ids()
    db: dict[str, dict[int, dict]] = {name: {} for name in Ids.STARTS}
    files: dict[int, bytes] = {}

    def moment(after: datetime | None = None) -> datetime:
        start = after or SEED_START
        return start + timedelta(
            days=rng.randint(0, 200),
            seconds=rng.randint(0, 86399),
            milliseconds=rng.randint(0, 999),
        )

    def add(resource: str, record: dict) -> dict:
        record["id"] = ids.take(resource)
        created = moment()
        record.setdefault("created_at", timestamp(created))
        record.setdefault(
            "updated_at", timestamp(moment(created) if rng.random() < 0.5 else created)
        )
        db[resource][record["id"]] = record
        return record

    for name in DEPARTMENTS:
        add("departments", {"name": name, "parent_id": None, "external_id": None})
    for name in OFFICES:
        add("offices", {"name": name, "parent_id": None, "external_id": None})
    for first, last in (("Sandra", "Admin"), ("Rita", "Recruiter"), ("Colin", "Coordinator")):
        add(
            "users",
            {
                "first_name": first,
                "last_name": last,
                "name": f"{first} {last}",
                "site_admin": first == "Sandra",
                "disabled": False,
            },
        )
    for name, type_name in SOURCES:
        add(
            "sources",
            {"name": name, "type": {"id": 1 + SOURCES.index((name, type_name)), "name": type_name}},
        )
    for index, (name, key) in enumerate(REJECTION_REASONS, start=1):
        add(
            "rejection_reasons",
            {"name": name, "type": {"id": index, "key": key, "name": key.replace("_", " ")}},
        )

    department_ids = list(db["departments"])
    office_ids = list(db["offices"])
    stages_by_job: dict[int, list[int]] = {}
    for index in range(jobs):
        roll = rng.random()
        status = "open" if roll < 0.7 else "closed" if roll < 0.9 else "draft"
        title = JOB_TITLES[index % len(JOB_TITLES)]
        if index >= len(JOB_TITLES):
            title = f"{title} {index // len(JOB_TITLES) + 1}"
        job = add(
            "jobs",
            {
                "name": title,
                "status": status,
                "requisition_id": f"REQ-{1000 + index}",
                "confidential": False,
                "is_template": False,
                "copied_from_id": None,
                "department_id": rng.choice(department_ids),
                "office_ids": [rng.choice(office_ids)],
                "opened_at": None,
                "closed_at": None,
                "custom_fields": {
                    "employment_type": {
                        "name": "Employment Type",
                        "type": "single_select",
                        "value": rng.choice(EMPLOYMENT_TYPES),
                    },
                    "cost_center": {
                        "name": "Cost Center",
                        "type": "short_text",
                        "value": f"CC-{rng.randint(10, 99)}",
                    },
                },
            },
        )
        if status != "draft":
            job["opened_at"] = job["created_at"]
        if status == "closed":
            job["closed_at"] = job["updated_at"]
        stages_by_job[job["id"]] = []
        for order, name in enumerate(STAGE_NAMES):
            stage = add(
                "job_interview_stages",
                {
                    "job_id": job["id"],
                    "name": name,
                    "active": True,
                    "sort_order": order,
                    "created_at": job["created_at"],
                    "updated_at": job["created_at"],
                },
            )
            stages_by_job[job["id"]].append(stage["id"])
        if status == "draft":
            continue
        add(
            "job_posts",
            {
                "job_id": job["id"],
                "title": title,
                "content": f"<p>Join us as a {title}.</p>",
                "language": "en",
                "active": True,
                "live": status == "open",
                "internal": False,
                "featured": False,
                "job_board_id": 1,
                "public_url": f"https://boards.example.test/acme/jobs/{job['id']}",
                "first_published_at": job["created_at"],
                "demographic_question_set_id": None,
                "questions": [],
                "created_at": job["created_at"],
                "updated_at": job["updated_at"],
            },
        )
        if rng.random() < 0.3:
            add(
                "job_posts",
                {
                    "job_id": job["id"],
                    "title": f"{title} (internal)",
                    "content": "<p>Internal transfer.</p>",
                    "language": "en",
                    "active": True,
                    "live": True,
                    "internal": True,
                    "featured": False,
                    "job_board_id": 2,
                    "public_url": None,
                    "first_published_at": job["created_at"],
                    "demographic_question_set_id": None,
                    "questions": [],
                    "created_at": job["created_at"],
                    "updated_at": job["updated_at"],
                },
            )

    applicable_jobs = [job_id for job_id, job in db["jobs"].items() if job["status"] != "draft"]
    source_ids = list(db["sources"])
    reason_ids = list(db["rejection_reasons"])
    for index in range(candidates):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        handle = f"{first}.{last}.{index}".lower()
        candidate = add(
            "candidates",
            {
                "first_name": first,
                "last_name": last,
                "company": rng.choice(COMPANIES),
                "title": rng.choice(JOB_TITLES),
                "private": False,
                "can_email": True,
                "time_zone": None,
                "tags": [],
                "email_addresses": [{"value": f"{handle}@example.test", "type": "personal"}],
                "phone_numbers": [{"value": f"+1 555 {index:07d}", "type": "mobile"}],
                "addresses": [{"value": rng.choice(OFFICES), "type": "home"}],
                "website_addresses": [],
                "social_media_addresses": [{"value": f"https://www.linkedin.com/in/{handle}"}],
                "custom_fields": {},
            },
        )
        chosen = rng.sample(applicable_jobs, k=min(len(applicable_jobs), rng.randint(1, 3)))
        for job_id in chosen:
            prospect = rng.random() < 0.1
            roll = rng.random()
            status = "active" if roll < 0.7 else "rejected" if roll < 0.9 else "hired"
            stages = stages_by_job[job_id]
            stage_id = stages[-1] if status == "hired" else rng.choice(stages)
            application = add(
                "applications",
                {
                    "candidate_id": candidate["id"],
                    "job_id": None if prospect else job_id,
                    "prospective_job_ids": [job_id] if prospect else [],
                    "prospect": prospect,
                    "status": "active" if prospect else status,
                    "stage_id": None if prospect else stage_id,
                    "source_id": rng.choice(source_ids),
                    "rejection_reason_id": rng.choice(reason_ids)
                    if status == "rejected" and not prospect
                    else None,
                    "created_at": candidate["created_at"],
                    "updated_at": candidate["updated_at"],
                },
            )
            application["applied_at"] = application["created_at"]
            if rng.random() < 0.7:
                attachment = add(
                    "attachments",
                    {
                        "application_id": application["id"],
                        "candidate_id": candidate["id"],
                        "filename": f"{first}_{last}_resume.pdf",
                        "type": "resume",
                        "visibility": "public",
                        "created_at": application["created_at"],
                        "updated_at": application["created_at"],
                    },
                )
                files[attachment["id"]] = resume_pdf(f"{first} {last}")
    return db, files, ids
