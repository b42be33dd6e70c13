"""Turn sandbox records into the JSON shapes of Ashby's API responses."""

import uuid

from .data import iso

EMPLOYMENT_TYPE_LINKED_DATA = {"FullTime": "FULL_TIME", "PartTime": "PART_TIME",
                               "Contract": "CONTRACTOR", "Temporary": "TEMPORARY",
                               "Intern": "INTERN"}
HISTORY_NAMESPACE = uuid.UUID("6f1c7c2e-55a3-4d55-9a43-0d6f2f0b6a51")


class Serializer:
    def __init__(self, org):
        self.org = org

    # Reference data -------------------------------------------------------------------------

    def user(self, user_id):
        for user in self.org.users:
            if user["id"] == user_id:
                return dict(user)
        return None

    def source(self, source_id):
        for source in self.org.sources:
            if source["id"] == source_id:
                return {**source, "sourceType": dict(source["sourceType"])}
        return None

    def archive_reason(self, reason_id):
        for reason in self.org.archive_reasons:
            if reason["id"] == reason_id:
                return {**reason, "customFields": []}
        return None

    def department(self, department_id):
        return next((d for d in self.org.departments if d["id"] == department_id), None)

    def location(self, location_id):
        return next((loc for loc in self.org.locations if loc["id"] == location_id), None)

    # Jobs and postings ------------------------------------------------------------------------

    def published_posting_ids(self, job, include_unpublished=False):
        if include_unpublished or job["status"] == "Open":
            return list(job["jobPostingIds"])
        return []

    def job(self, job, include_unpublished=False, expand=()):
        result = {key: job[key] for key in (
            "id", "title", "confidential", "status", "employmentType", "locationId",
            "departmentId", "defaultInterviewPlanId")}
        result["interviewPlanIds"] = list(job["interviewPlanIds"])
        result["customFields"] = []
        result["jobPostingIds"] = self.published_posting_ids(job, include_unpublished)
        if job.get("customRequisitionId"):
            result["customRequisitionId"] = job["customRequisitionId"]
        result["hiringTeam"] = [dict(member) for member in job["hiringTeam"]]
        author = self.user(job["authorId"])
        if author:
            result["author"] = author
        result["createdAt"] = iso(job["created_ms"])
        result["updatedAt"] = iso(job["updated_ms"])
        if job["opened_ms"]:
            result["openedAt"] = iso(job["opened_ms"])
        if job["closed_ms"]:
            result["closedAt"] = iso(job["closed_ms"])
        if "location" in expand:
            location = self.location(job["locationId"])
            if location:
                result["location"] = dict(location)
        if "openings" in expand:
            result["openings"] = []
        return result

    def posting_summary(self, posting):
        job = self.org.job_by_id[posting["jobId"]]
        department = self.department(job["departmentId"]) or {"name": ""}
        location = self.location(job["locationId"]) or {"name": "", "workplaceType": "OnSite"}
        return {
            "id": posting["id"], "title": posting["title"], "jobId": job["id"],
            "departmentName": department["name"], "teamName": department["name"],
            "locationName": location["name"],
            "locationIds": {"primaryLocationId": job["locationId"], "secondaryLocationIds": []},
            "workplaceType": location.get("workplaceType", "OnSite"),
            "employmentType": job["employmentType"],
            "isListed": posting["isListed"],
            "publishedDate": iso(posting["published_ms"] or job["created_ms"])[:10],
            "externalLink": f"https://jobs.sandbox.example.com/{posting['id']}",
            "applyLink": f"https://jobs.sandbox.example.com/{posting['id']}/application",
            "shouldDisplayCompensationOnJobBoard": False,
            "updatedAt": iso(posting["updated_ms"]),
        }

    def posting_detail(self, posting, expand=()):
        summary = self.posting_summary(posting)
        job = self.org.job_by_id[posting["jobId"]]
        opening = f"<p>Join our team as a {posting['title']}.</p>"
        body = "<p>You will work with a small team on problems that matter.</p>"
        closing = "<p>We welcome applicants of every background.</p>"

        def plain(html):
            return html.replace("<p>", "").replace("</p>", "")

        detail = {
            **summary,
            "descriptionPlain": plain(opening + "\n" + body + "\n" + closing),
            "descriptionHtml": opening + body + closing,
            "descriptionSocial": f"We are hiring a {posting['title']}."[:200],
            "descriptionParts": {
                "descriptionOpening": {"html": opening, "plain": plain(opening)},
                "descriptionBody": {"html": body, "plain": plain(body)},
                "descriptionClosing": {"html": closing, "plain": plain(closing)},
            },
            "teamNameHierarchy": [summary["teamName"]],
            "linkedData": {
                "@context": "https://schema.org/", "@type": "JobPosting",
                "title": posting["title"], "description": plain(body),
                "identifier": {"@type": "PropertyValue", "name": "Sandbox Org",
                               "value": posting["id"]},
                "datePosted": summary["publishedDate"],
                "hiringOrganization": {"@type": "Organization", "name": "Sandbox Org",
                                       "sameAs": "https://sandbox-org.example.com"},
                "jobLocation": {"@type": "Place", "address": {"@type": "PostalAddress"}},
                "employmentType": EMPLOYMENT_TYPE_LINKED_DATA[job["employmentType"]],
            },
            "applicationFormDefinition": {"sections": []},
            "surveyFormDefinitions": [],
            "isRemote": summary["workplaceType"] == "Remote",
            "compensation": {"compensationTiers": [],
                             "shouldDisplayCompensationOnJobBoard": False},
        }
        if "job" in expand:
            detail["job"] = self.job(job)
        return detail

    # Applications ---------------------------------------------------------------------------

    def stage(self, stage_id):
        return dict(self.org.stage_by_id[stage_id])

    def application(self, app, expand=(), detail=False):
        candidate = self.org.candidate_by_id[app.candidate_id]
        job = self.org.job_by_id[app.job_id]
        summary = {"id": candidate.id, "name": candidate.name}
        if candidate.emails:
            summary["primaryEmailAddress"] = _contact(candidate.emails[0], True)
        if candidate.phones:
            summary["primaryPhoneNumber"] = _contact(candidate.phones[0], True)
        result = {
            "id": app.id, "createdAt": iso(app.created_ms), "updatedAt": iso(app.updated_ms),
            "status": app.status, "customFields": [], "candidate": summary,
            "currentInterviewStage": self.stage(app.stage_id),
            "job": {"id": job["id"], "title": job["title"], "locationId": job["locationId"],
                    "departmentId": job["departmentId"]},
            "hiringTeam": [dict(member) for member in job["hiringTeam"]],
        }
        source = self.source(app.source_id) if app.source_id else None
        if source:
            result["source"] = source
        if app.archive_reason_id:
            result["archiveReason"] = self.archive_reason(app.archive_reason_id)
        if app.archived_ms:
            result["archivedAt"] = iso(app.archived_ms)
        credited = self.user(app.credited_user_id) if app.credited_user_id else None
        if credited:
            result["creditedToUser"] = credited
        if "openings" in expand:
            result["openings"] = []
        if detail:
            result["applicationHistory"] = self.application_history(app)
            if "applicationFormSubmissions" in expand:
                result["applicationFormSubmissions"] = []
            if "referrals" in expand:
                result["referrals"] = []
            resume = self.file_handle(candidate.resume_file_id)
            if resume:
                result["resumeFileHandle"] = resume
        return result

    def application_history(self, app):
        """Return the stage history, deriving it for generated applications.

        Generated applications went through their plan's stages in order up to the current one
        (or, when archived, up to the stage they were archived from).
        """
        if app.history is None:
            entries = []
            stages = self.org.stages_by_plan[app.plan_id]
            last_id = app.prev_stage_id or app.stage_id
            for stage in stages:
                if stage["type"] in ("Archived", "Hired") and stage["id"] != last_id:
                    continue
                entries.append(stage["id"])
                if stage["id"] == last_id:
                    break
            if app.prev_stage_id:
                entries.append(app.stage_id)
            step = max(1, (app.updated_ms - app.created_ms) // max(1, len(entries)))
            history = [(stage_id, app.created_ms + i * step) for i, stage_id in enumerate(entries)]
        else:
            history = app.history
        result = []
        for number, (stage_id, entered_ms) in enumerate(history):
            entry = {
                "id": str(uuid.uuid5(HISTORY_NAMESPACE, f"{app.id}:{number}")),
                "stageId": stage_id,
                "title": self.org.stage_by_id[stage_id]["title"],
                "enteredStageAt": iso(entered_ms),
                "stageNumber": number,
                "allowedActions": ["set_entered_at"],
            }
            if number + 1 < len(history):
                entry["leftStageAt"] = iso(history[number + 1][1])
            result.append(entry)
        return result

    # Candidates -----------------------------------------------------------------------------

    def file_handle(self, file_id):
        stored = self.org.files.get(file_id) if file_id else None
        if not stored:
            return None
        return {"id": stored.id, "name": stored.name, "handle": file_handle_for(stored.id)}

    def candidate(self, candidate, visible_application_ids):
        result = {
            "id": candidate.id,
            "createdAt": iso(candidate.created_ms),
            "updatedAt": iso(candidate.updated_ms),
            "name": candidate.name,
            "emailAddresses": [_contact(e, i == 0) for i, e in enumerate(candidate.emails)],
            "phoneNumbers": [_contact(p, i == 0) for i, p in enumerate(candidate.phones)],
            "socialLinks": [{"type": t, "url": u} for t, u in candidate.social_links],
            "tags": [],
            "applicationIds": visible_application_ids,
            "fileHandles": [h for h in (self.file_handle(f) for f in candidate.file_ids) if h],
            "customFields": [],
            "profileUrl": f"https://app.ashbyhq.com/candidate-searches/new/right-side/candidates/"
                          f"{candidate.id}",
        }
        if candidate.timezone:
            result["timezone"] = candidate.timezone
        if candidate.emails:
            result["primaryEmailAddress"] = _contact(candidate.emails[0], True)
        if candidate.phones:
            result["primaryPhoneNumber"] = _contact(candidate.phones[0], True)
        for field in ("position", "company", "school"):
            value = getattr(candidate, field)
            if value:
                result[field] = value
        resume = self.file_handle(candidate.resume_file_id)
        if resume:
            result["resumeFileHandle"] = resume
        source = self.source(candidate.source_id) if candidate.source_id else None
        if source:
            result["source"] = source
        credited = self.user(candidate.credited_user_id) if candidate.credited_user_id else None
        if credited:
            result["creditedToUser"] = credited
        if candidate.location:
            result["location"] = {
                **candidate.location,
                "locationComponents": [dict(c) for c in candidate.location["locationComponents"]],
            }
        return result


def _contact(entry, is_primary):
    value, kind = entry
    return {"value": value, "type": kind, "isPrimary": is_primary}


def file_handle_for(file_id):
    """Return the opaque handle Ashby-style APIs pass around for a stored file."""
    return "fh_" + uuid.UUID(file_id).hex


def file_id_from_handle(handle):
    if not isinstance(handle, str) or not handle.startswith("fh_"):
        return None
    try:
        return str(uuid.UUID(hex=handle[3:]))
    except ValueError:
        return None
