"""Deterministic generation of a realistic Ashby organization from a seed."""

import logging
import random
import time
import uuid
from datetime import UTC, datetime

from .records import Application, Candidate, Organization, StoredFile

logger = logging.getLogger(__name__)

# Generated history ends here, so the same seed gives the same data on any day.
ANCHOR_MS = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp() * 1000)
DAY_MS = 86_400_000

EMPLOYMENT_TYPES = ("FullTime", "PartTime", "Contract", "Intern", "Temporary")
# Job i gets status JOB_STATUS_CYCLE[i % 10]; job 5 of every ten is an Open confidential job.
JOB_STATUS_CYCLE = ("Open", "Open", "Closed", "Open", "Archived", "Open", "Draft", "Open",
                    "Closed", "Open")
CONFIDENTIAL_SLOT = 5

STAGE_TEMPLATE = (
    ("New Lead", "Lead"),
    ("Application Review", "PreInterviewScreen"),
    ("Recruiter Screen", "Active"),
    ("Technical Interview", "Active"),
    ("Onsite", "Active"),
    ("Offer", "Offer"),
    ("Hired", "Hired"),
    ("Archived", "Archived"),
)
PLAN_TITLES = ("Engineering Interview Plan", "Business Interview Plan", "Design Interview Plan",
               "Internship Interview Plan")

DEPARTMENTS = (("Engineering", None), ("Platform", "Engineering"), ("Data", "Engineering"),
               ("Design", None), ("Sales", None), ("Marketing", None), ("People", None),
               ("Finance", None), ("Legacy Operations", None))
ARCHIVED_DEPARTMENTS = {"Legacy Operations"}

LOCATIONS = (
    ("Berlin", "Germany", "Berlin", "10115", "OnSite", False),
    ("London", "United Kingdom", "England", "EC1A 1BB", "Hybrid", False),
    ("New York", "United States", "New York", "10001", "Hybrid", False),
    ("San Francisco", "United States", "California", "94105", "OnSite", False),
    ("Toronto", "Canada", "Ontario", "M5H 2N2", "Hybrid", False),
    ("Remote (Europe)", "", "", "", "Remote", True),
    ("Remote (Americas)", "", "", "", "Remote", True),
    ("Dublin", "Ireland", "Leinster", "D02 X285", "OnSite", False),
)
ARCHIVED_LOCATIONS = {"Dublin"}

SOURCE_TYPES = ("Inbound", "Outbound", "Referral", "Agency", "Platform")
SOURCES = (("Applied", "Inbound", False), ("LinkedIn", "Inbound", False),
           ("Company Website", "Inbound", False), ("Sourced", "Outbound", False),
           ("Employee Referral", "Referral", False), ("Talent Partners", "Agency", False),
           ("Lavalier", "Platform", False), ("Job Fair 2023", "Inbound", True))

ARCHIVE_REASONS = (("Skills mismatch", "RejectedByOrg", False),
                   ("Position filled", "RejectedByOrg", False),
                   ("Not enough experience", "RejectedByOrg", False),
                   ("Accepted another offer", "RejectedByCandidate", False),
                   ("Compensation expectations", "RejectedByCandidate", False),
                   ("Duplicate application", "Other", False),
                   ("Headcount frozen", "Other", True))

FIRST_NAMES = ("Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances",
               "Edsger", "Radia", "Tim", "Hedy", "John", "Katherine", "Donald", "Shafi", "Leslie",
               "Sophie", "Yukihiro", "Guido", "Anita", "Bjarne", "Karen", "Niklaus", "Adele",
               "Whitfield", "Mary", "Vint", "Evelyn", "Jean", "Ivan", "Lynn", "Carlos", "Priya",
               "Mei", "Tomasz", "Amara", "Kofi", "Ingrid", "Mateo", "Aisha", "Lars", "Chen",
               "Fatima", "Olu", "Nadia", "Rafael", "Yara", "Henrik")
LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov",
              "Thompson", "Allen", "Dijkstra", "Perlman", "Berners-Lee", "Lamarr", "McCarthy",
              "Johnson", "Knuth", "Goldwasser", "Lamport", "Wilson", "Matsumoto", "van Rossum",
              "Borg", "Stroustrup", "Jones", "Wirth", "Goldberg", "Diffie", "Shaw", "Cerf",
              "Berezin", "Sammet", "Sutherland", "Conway", "Garcia", "Patel", "Zhang", "Nowak",
              "Okafor", "Mensah", "Larsen", "Rossi", "Khan", "Nilsson", "Wang", "Haddad",
              "Adeyemi", "Petrova", "Souza", "Costa", "Berg")
POSITIONS = ("Software Engineer", "Senior Software Engineer", "Staff Engineer", "Product Designer",
             "Data Scientist", "Engineering Manager", "Account Executive", "Marketing Manager",
             "Recruiter", "Financial Analyst", "DevOps Engineer", "QA Engineer")
COMPANIES = ("Initech", "Globex", "Umbrella Labs", "Hooli", "Vandelay Industries", "Acme Corp",
             "Stark Systems", "Wayne Analytics", "Soylent Data", "Cyberdyne", "Tyrell Software")
SCHOOLS = ("ETH Zurich", "MIT", "University of Toronto", "TU Munich", "Imperial College London",
           "Stanford University", "University of Lagos", "Tsinghua University")
CANDIDATE_PLACES = (("Berlin", "Berlin", "Germany"), ("Munich", "Bavaria", "Germany"),
                    ("London", "England", "United Kingdom"), ("Austin", "Texas", "United States"),
                    ("New York", "New York", "United States"), ("Toronto", "Ontario", "Canada"),
                    ("Lagos", "Lagos", "Nigeria"), ("Warsaw", "Masovia", "Poland"),
                    ("Lisbon", "Lisbon", "Portugal"), ("Bangalore", "Karnataka", "India"))
JOB_TITLES = ("Backend Engineer", "Frontend Engineer", "Data Engineer", "Product Designer",
              "Site Reliability Engineer", "Account Executive", "Marketing Manager",
              "Technical Recruiter", "Financial Controller", "Engineering Manager",
              "Machine Learning Engineer", "Customer Success Manager")
JOB_LEVELS = ("", "Senior ", "Staff ", "Junior ", "Lead ")
TIMEZONES = ("Europe/Berlin", "Europe/London", "America/New_York", "America/Toronto",
             "Africa/Lagos", "Asia/Kolkata")

# Candidate mix: weight, profile. Profiles decide how the candidate's applications look, so that
# some satisfy Lavalier's sync rule (an Active application past the screening stages on an Open
# job) and others do not for each possible reason.
PROFILES = ((34, "qualifies"), (18, "early_stages"), (12, "closed_jobs_only"),
            (18, "archived_only"), (8, "hired"), (4, "leads_only"), (3, "confidential_only"),
            (3, "no_applications"))


def new_uuid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso(ms):
    """Format milliseconds since the epoch as Ashby does: ISO 8601 in UTC with milliseconds."""
    seconds, millis = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def location_for_place(city, region, country, location_id):
    components = []
    if country:
        components.append({"type": "Country", "name": country})
    if region:
        components.append({"type": "Region", "name": region})
    if city:
        components.append({"type": "City", "name": city})
    summary = ", ".join(part for part in (city, region, country) if part)
    return {"id": location_id, "locationSummary": summary, "locationComponents": components}


def generate_organization(seed, jobs, candidates):
    """Build the organization for `seed` with `jobs` jobs and `candidates` candidates."""
    started = time.monotonic()
    rng = random.Random(f"ashby-sandbox:{seed}")
    org = Organization()
    _generate_reference_data(org, rng)
    _generate_plans(org, rng)
    _generate_jobs(org, rng, jobs)
    _generate_candidates(org, rng, candidates)
    logger.info(
        "sandbox.generated seed=%s jobs=%d candidates=%d applications=%d seconds=%.2f",
        seed, len(org.jobs), len(org.candidates), len(org.applications),
        time.monotonic() - started,
    )
    return org


def _generate_reference_data(org, rng):
    created = iso(ANCHOR_MS - 900 * DAY_MS)
    by_name = {}
    for name, parent in DEPARTMENTS:
        dept = {"id": new_uuid(rng), "name": name, "isArchived": name in ARCHIVED_DEPARTMENTS,
                "createdAt": created, "updatedAt": created}
        if parent:
            dept["parentId"] = by_name[parent]["id"]
        by_name[name] = dept
        org.departments.append(dept)

    for name, country, region, postal, workplace, remote in LOCATIONS:
        location = {"id": new_uuid(rng), "name": name, "isArchived": name in ARCHIVED_LOCATIONS,
                    "isRemote": remote, "workplaceType": workplace, "type": "Location"}
        if not remote:
            location["address"] = {"postalAddress": {
                "addressCountry": country, "addressRegion": region,
                "addressLocality": name, "postalCode": postal}}
        else:
            location["address"] = {"postalAddress": {}}
        org.locations.append(location)

    roles = ("Organization Admin", "Elevated Access", "Limited Access", "External Recruiter")
    for index in range(24):
        first = FIRST_NAMES[(index * 7) % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 11 + 3) % len(LAST_NAMES)]
        org.users.append({
            "id": new_uuid(rng), "firstName": first, "lastName": last,
            "email": f"{first.lower()}.{last.lower().replace(' ', '')}@sandbox-org.example.com",
            "globalRole": roles[0] if index < 2 else roles[1 + index % 3],
            "isEnabled": index % 11 != 10,
            "updatedAt": iso(ANCHOR_MS - (400 - index) * DAY_MS),
        })

    type_by_title = {}
    for title in SOURCE_TYPES:
        source_type = {"id": new_uuid(rng), "title": title, "isArchived": False}
        type_by_title[title] = source_type
        org.source_types.append(source_type)
    for title, type_title, archived in SOURCES:
        org.sources.append({"id": new_uuid(rng), "title": title, "isArchived": archived,
                            "sourceType": dict(type_by_title[type_title])})

    for text, reason_type, archived in ARCHIVE_REASONS:
        org.archive_reasons.append({"id": new_uuid(rng), "text": text, "reasonType": reason_type,
                                    "isArchived": archived})


def _generate_plans(org, rng):
    for index, title in enumerate(PLAN_TITLES):
        created_ms = ANCHOR_MS - (800 - 10 * index) * DAY_MS
        plan = {"id": new_uuid(rng), "title": title, "isArchived": index == len(PLAN_TITLES) - 1,
                "createdAt": iso(created_ms), "updatedAt": iso(created_ms + 30 * DAY_MS)}
        org.plans.append(plan)
        stages = []
        for position, (stage_title, stage_type) in enumerate(STAGE_TEMPLATE):
            stage = {"id": new_uuid(rng), "title": stage_title, "type": stage_type,
                     # Ashby's orders are large and sparse; clients must sort, not index.
                     "orderInInterviewPlan": 1000 + 7 * index + 3 * position,
                     "interviewStageGroupId": None, "interviewPlanId": plan["id"]}
            stage.pop("interviewStageGroupId")
            stages.append(stage)
            org.stage_by_id[stage["id"]] = stage
        org.stages_by_plan[plan["id"]] = stages


def _generate_jobs(org, rng, count):
    departments = [d for d in org.departments if not d["isArchived"]]
    locations = [loc for loc in org.locations if not loc["isArchived"]]
    active_plans = [p for p in org.plans if not p["isArchived"]]
    for index in range(count):
        status = JOB_STATUS_CYCLE[index % len(JOB_STATUS_CYCLE)]
        created_ms = ANCHOR_MS - rng.randrange(120, 700) * DAY_MS
        plan = active_plans[index % len(active_plans)]
        author = org.users[index % len(org.users)]
        team = [org.users[(index + offset) % len(org.users)] for offset in (1, 2)]
        job = {
            "id": new_uuid(rng),
            "title": f"{rng.choice(JOB_LEVELS)}{rng.choice(JOB_TITLES)}",
            "confidential": index % len(JOB_STATUS_CYCLE) == CONFIDENTIAL_SLOT,
            "status": status,
            "employmentType": EMPLOYMENT_TYPES[(index + index // 10) % len(EMPLOYMENT_TYPES)],
            "locationId": locations[index % len(locations)]["id"],
            "departmentId": departments[(index * 3) % len(departments)]["id"],
            "defaultInterviewPlanId": plan["id"],
            "interviewPlanIds": [plan["id"]],
            "customFields": [],
            "jobPostingIds": [],
            "hiringTeam": [
                {"userId": u["id"], "firstName": u["firstName"], "lastName": u["lastName"],
                 "email": u["email"], "role": role}
                for u, role in zip(team, ("Hiring Manager", "Recruiter"), strict=True)
            ],
            "authorId": author["id"],
            "created_ms": created_ms,
            "updated_ms": created_ms + rng.randrange(1, 60) * DAY_MS,
            "opened_ms": None if status == "Draft" else created_ms + DAY_MS,
            "closed_ms": (created_ms + rng.randrange(60, 110) * DAY_MS
                          if status in ("Closed", "Archived") else None),
            "seq": 0,
            "ord": index,
        }
        org.jobs.append(job)
        org.job_by_id[job["id"]] = job
        if status != "Draft":
            _add_posting(org, rng, job, listed=index % 4 != 3)


def _add_posting(org, rng, job, listed):
    posting = {"id": new_uuid(rng), "jobId": job["id"], "title": job["title"], "isListed": listed,
               "published_ms": job["opened_ms"], "updated_ms": job["updated_ms"]}
    job["jobPostingIds"].append(posting["id"])
    org.postings.append(posting)
    org.posting_by_id[posting["id"]] = posting


def _job_pools(org):
    pools = {"open_public": [], "open_confidential": [], "closed": []}
    for job in org.jobs:
        if job["status"] == "Open":
            pools["open_confidential" if job["confidential"] else "open_public"].append(job)
        elif job["status"] in ("Closed", "Archived") and not job["confidential"]:
            pools["closed"].append(job)
    fallback = [job for job in org.jobs if job["status"] != "Draft"] or org.jobs
    return {name: jobs or fallback for name, jobs in pools.items()}


def _stages_of_type(org, plan_id):
    by_type = {}
    for stage in org.stages_by_plan[plan_id]:
        by_type.setdefault(stage["type"], []).append(stage)
    return by_type


def _generate_candidates(org, rng, count):
    if not org.jobs:
        return
    pools = _job_pools(org)
    stage_types = {plan["id"]: _stages_of_type(org, plan["id"]) for plan in org.plans}
    weights = [w for w, _ in PROFILES]
    names = [p for _, p in PROFILES]
    active_sources = [s for s in org.sources if not s["isArchived"]]
    active_reasons = [r for r in org.archive_reasons if not r["isArchived"]]
    enabled_users = [u for u in org.users if u["isEnabled"]]
    place_ids = [new_uuid(rng) for _ in CANDIDATE_PLACES]

    for ordinal in range(count):
        profile = rng.choices(names, weights)[0]
        candidate = _new_candidate(org, rng, ordinal, active_sources, enabled_users, place_ids)
        org.candidates.append(candidate)
        org.candidate_by_id[candidate.id] = candidate
        for value, _type in candidate.emails:
            org.index_email(value, candidate.id)

        for slot, (pool, kind) in enumerate(_application_plan(rng, profile)):
            job = rng.choice(pools[pool])
            stage_kinds = stage_types[job["defaultInterviewPlanId"]]
            application = _new_application(
                org, rng, candidate, job, kind, stage_kinds, active_sources, active_reasons,
                slot)
            org.applications.append(application)
            org.application_by_id[application.id] = application
            candidate.application_ids.append(application.id)
            candidate.total_apps += 1
            if not job["confidential"]:
                candidate.public_apps += 1


def _application_plan(rng, profile):
    """Return (job pool, application kind) pairs for one candidate of `profile`."""
    extra = rng.choice((1, 2, 2, 3))
    if profile == "qualifies":
        rest = [(rng.choice(("open_public", "closed")), rng.choice(("archived", "early", "late")))
                for _ in range(extra)]
        return [("open_public", "late")] + rest
    if profile == "early_stages":
        return [("open_public", "early") for _ in range(extra + 1)]
    if profile == "closed_jobs_only":
        return [("closed", "late") for _ in range(extra + 1)]
    if profile == "archived_only":
        return [(rng.choice(("open_public", "closed")), "archived") for _ in range(extra + 1)]
    if profile == "hired":
        return [("closed", "hired")] + [("closed", "archived") for _ in range(extra)]
    if profile == "leads_only":
        return [("open_public", "lead") for _ in range(extra)]
    if profile == "confidential_only":
        return [("open_confidential", "late") for _ in range(extra)]
    return []


def _new_candidate(org, rng, ordinal, sources, users, place_ids):
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    slug = f"{first}.{last}".lower().replace(" ", "").replace("-", "")
    emails = [(f"{slug}.{ordinal}@example.com", "Personal")]
    if rng.random() < 0.6:
        emails.append((f"{first.lower()}{ordinal}@work.example.org", "Work"))
    if rng.random() < 0.2:
        emails.append((f"{slug}{ordinal}@mail.example.net", "Other"))
    phones = [(f"+1-555-{ordinal % 1000:03d}-{rng.randrange(10000):04d}", "Personal")]
    if rng.random() < 0.3:
        phones.append((f"+44-20-{rng.randrange(10000):04d}-{ordinal % 10000:04d}", "Work"))
    handle = f"{slug.replace('.', '')}{ordinal}"
    links = [("LinkedIn", f"https://www.linkedin.com/in/{handle}")]
    if rng.random() < 0.4:
        links.append(("GitHub", f"https://github.com/{handle}"))
    if rng.random() < 0.15:
        links.append(("Website", f"https://{handle}.example.dev"))
    place_index = rng.randrange(len(CANDIDATE_PLACES))
    created_ms = ANCHOR_MS - rng.randrange(1, 700) * DAY_MS - rng.randrange(DAY_MS)
    candidate_id = new_uuid(rng)
    resume_id = None
    if rng.random() < 0.85:
        resume_id = new_uuid(rng)
        org.files[resume_id] = StoredFile(resume_id, f"{first}_{last}_Resume.pdf".replace(" ", "_"),
                                          candidate_id=candidate_id)
    return Candidate(
        id=candidate_id, ord=ordinal, name=f"{first} {last}",
        emails=emails, phones=phones,
        social_links=links,
        position=rng.choice(POSITIONS) if rng.random() < 0.8 else None,
        company=rng.choice(COMPANIES) if rng.random() < 0.75 else None,
        school=rng.choice(SCHOOLS) if rng.random() < 0.5 else None,
        location=(location_for_place(*CANDIDATE_PLACES[place_index], place_ids[place_index])
                  if rng.random() < 0.9 else None),
        source_id=rng.choice(sources)["id"], credited_user_id=rng.choice(users)["id"],
        application_ids=[], resume_file_id=resume_id,
        file_ids=[resume_id] if resume_id else [],
        created_ms=created_ms, updated_ms=created_ms + rng.randrange(DAY_MS, 30 * DAY_MS),
        seq=0, timezone=rng.choice(TIMEZONES), public_apps=0, total_apps=0,
    )


def _new_application(org, rng, candidate, job, kind, stage_kinds, sources, reasons, slot):
    plan_id = job["defaultInterviewPlanId"]
    archive_reason_id = None
    archived_ms = None
    prev_stage_id = None
    if kind == "lead":
        stage = stage_kinds["Lead"][0]
    elif kind == "early":
        stage = rng.choice(stage_kinds["Lead"] + stage_kinds["PreInterviewScreen"])
    elif kind == "late":
        stage = rng.choice(stage_kinds["Active"] + stage_kinds["Offer"])
    elif kind == "hired":
        stage = stage_kinds["Hired"][0]
    else:
        stage = stage_kinds["Archived"][0]
        prev_stage_id = rng.choice(stage_kinds["PreInterviewScreen"] + stage_kinds["Active"])["id"]
        archive_reason_id = rng.choice(reasons)["id"]
    created_ms = candidate.created_ms + slot * DAY_MS + rng.randrange(DAY_MS)
    updated_ms = created_ms + rng.randrange(DAY_MS, 20 * DAY_MS)
    if archive_reason_id:
        archived_ms = updated_ms
    status = {"Lead": "Lead", "Hired": "Hired", "Archived": "Archived"}.get(stage["type"], "Active")
    return Application(
        id=new_uuid(rng), ord=len(org.applications), candidate_id=candidate.id, job_id=job["id"],
        plan_id=plan_id, stage_id=stage["id"], status=status,
        source_id=candidate.source_id if slot == 0 else rng.choice(sources)["id"],
        archive_reason_id=archive_reason_id, archived_ms=archived_ms,
        prev_stage_id=prev_stage_id, credited_user_id=candidate.credited_user_id,
        created_ms=created_ms, updated_ms=updated_ms, seq=0, history=None,
    )
