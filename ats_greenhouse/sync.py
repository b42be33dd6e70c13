"""One sync run against Greenhouse Harvest v3: reads the lists Lavalier mirrors and upserts
them in bulk, keyed on remote ids.

Order: reference lists, jobs (with one interview plan per job, because Greenhouse stages
belong to a job), job interview stages, job posts, candidates, applications, resume
attachments; then, on a full run, the sweep that unlinks what Greenhouse no longer lists;
then the visibility rule; then resume downloads for visible candidates.

Incremental runs filter each list on `updated_at` from a watermark stored per list in
`SyncCursor` (ISO timestamp as the token). A watermark is the server's `Date` at the
start of a pass, and it is stored only after that pass was saved completely, so a run
killed at any point repeats work on the next run and never skips it.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from candidates.models import Application, Candidate, PushState
from integrations.models import Integration, SyncCursor, SyncRun
from integrations.sync_runs import RunRecorder
from integrations.sync_support import (
    MAX_RESUME_BYTES,
    resume_kind,
)
from integrations.sync_support import clip_text as _text
from integrations.sync_support import parse_remote_datetime as _datetime
from integrations.visibility import candidate_visibility_update
from roles.models import InterviewPlan, JobPost, PipelineStage, Role, WorkType

from .client import GreenhouseClient, updated_since
from .errors import GreenhouseAuthError, GreenhouseError, GreenhousePermissionError

logger = logging.getLogger(__name__)

PROVIDER = "greenhouse"
# Integration.options key naming the job custom field that contains the employment type.
WORK_TYPE_FIELD_OPTION = "work_type_field"

JOB_STATUSES = {"open": Role.Status.OPEN, "closed": Role.Status.CLOSED, "draft": Role.Status.DRAFT}
APPLICATION_STATUSES = {
    "active": Application.Status.ACTIVE,
    "hired": Application.Status.HIRED,
    "rejected": Application.Status.ARCHIVED,
}
# Custom field values, lowercased with everything but letters removed, mapped to work types.
WORK_TYPE_WORDS = {
    "fulltime": WorkType.FULL_TIME,
    "permanent": WorkType.FULL_TIME,
    "parttime": WorkType.PART_TIME,
    "contract": WorkType.CONTRACT,
    "contractor": WorkType.CONTRACT,
    "freelance": WorkType.CONTRACT,
    "intern": WorkType.INTERNSHIP,
    "internship": WorkType.INTERNSHIP,
    "temporary": WorkType.TEMPORARY,
    "temp": WorkType.TEMPORARY,
    "seasonal": WorkType.TEMPORARY,
}


def _remote_id(value) -> str | None:
    """Greenhouse ids are integers; Lavalier stores remote ids as strings."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value in ("", None):
        return None
    return str(value)


def work_type_from_value(value) -> str:
    """Map a custom field value (text, or an option object with a name) to a work type."""
    if isinstance(value, dict):
        value = value.get("name") or value.get("value")
    if isinstance(value, list) and value:
        return work_type_from_value(value[0])
    if not isinstance(value, str):
        return ""
    return WORK_TYPE_WORDS.get(re.sub(r"[^a-z]", "", value.lower()), "")


def _contacts(entries) -> list[dict]:
    contacts = []
    for entry in entries or []:
        if isinstance(entry, dict) and isinstance(entry.get("value"), str) and entry["value"]:
            contacts.append(
                {
                    "value": entry["value"][:254],
                    "type": _text(entry.get("type"), 32),
                    "is_primary": not contacts,
                }
            )
    return contacts


def _social_links(candidate: dict) -> list[dict]:
    links = []
    for entry in candidate.get("social_media_addresses") or []:
        url = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(url, str) and url:
            link_type = "Website"
            if "linkedin." in url:
                link_type = "LinkedIn"
            elif "github." in url:
                link_type = "GitHub"
            links.append({"type": link_type, "url": url[:500]})
    for entry in candidate.get("website_addresses") or []:
        url = entry.get("value") if isinstance(entry, dict) else None
        if isinstance(url, str) and url:
            links.append({"type": "Website", "url": url[:500]})
    return links


class GreenhouseSync:
    """Runs the passes of one sync; construct one per run."""

    def __init__(
        self,
        integration: Integration,
        run: SyncRun,
        recorder: RunRecorder,
        client: GreenhouseClient,
    ):
        self.integration = integration
        self.organization_id = integration.organization_id
        self.run_record = run
        self.recorder = recorder
        self.client = client
        self.full = run.is_full
        self.departments: dict[str, str] = {}
        self.offices: dict[str, str] = {}
        self.rejection_reasons: dict[str, str] = {}
        self.role_ids: dict[str, int] = {}
        self.plan_ids: dict[str, int] = {}
        self.stage_ids: dict[str, int] = {}
        # Remote ids listed in this run, per model; used by the full run's sweep.
        self.seen: dict[str, set[str]] = defaultdict(set)

    def log_extra(self, **fields) -> dict:
        return {
            "organization_id": self.organization_id,
            "integration_id": self.integration.pk,
            "run_id": self.run_record.pk,
            **fields,
        }

    def run(self) -> None:
        self.sync_reference_lists()
        self.sync_jobs()
        self.sync_stages()
        self.sync_job_posts()
        self.sync_candidates()
        self.sync_applications()
        self.sync_resume_attachments()
        if self.full:
            self.unlink_unseen()
        self.update_candidate_visibility()
        self.download_resumes()

    def _records(self, model):
        return model.objects.filter(organization_id=self.organization_id, provider=PROVIDER)

    # Passes ------------------------------------------------------------------------------

    def run_pass(self, list_name: str, save_page: Callable[[list[dict]], None], **filters) -> None:
        """Read one list page by page, filtered on the stored watermark unless the run is full.

        The new watermark is stored only after the last page was saved.
        """
        self.recorder.start_entity(list_name)
        watermark = None
        if not self.full:
            cursor = SyncCursor.objects.filter(
                integration=self.integration, list_name=list_name
            ).first()
            watermark = _datetime(cursor.sync_token) if cursor and cursor.sync_token else None
        if watermark is not None:
            filters["updated_at"] = updated_since(watermark)
        started = timezone.now()
        pages = self.client.list(list_name, **filters)
        for page in pages:
            save_page(page)
            self.recorder.page_done(len(page))
        new_watermark = pages.server_time or started
        SyncCursor.objects.update_or_create(
            integration=self.integration,
            list_name=list_name,
            defaults={"sync_token": new_watermark.isoformat()},
        )

    def upsert(
        self,
        model,
        entity: str,
        rows: dict[str, dict],
        *,
        update_fields: list[str],
        skip_remote_ids: Iterable[str] = (),
        compare_updated_at: bool = True,
    ) -> dict[str, int]:
        """Insert or update rows keyed by remote id; return {remote id: pk} for all of them.

        A row whose `remote_updated_at` matches the stored one and is still linked counts as
        unchanged. Rows in `skip_remote_ids` keep a local change waiting to be pushed.
        """
        if not rows:
            return {}
        self.seen[model.__name__].update(rows)
        existing = {
            remote_id: (pk, updated_at, linked)
            for remote_id, pk, updated_at, linked in self._records(model)
            .filter(remote_id__in=list(rows))
            .values_list("remote_id", "pk", "remote_updated_at", "is_linked")
        }
        skip = set(skip_remote_ids)
        now = timezone.now()
        to_write = []
        created = updated = unchanged = 0
        for remote_id, values in rows.items():
            current = existing.get(remote_id)
            if remote_id in skip or (
                compare_updated_at
                and current is not None
                and current[2]
                and values.get("remote_updated_at") is not None
                and current[1] == values["remote_updated_at"]
            ):
                unchanged += 1
                continue
            if current is None:
                created += 1
            else:
                updated += 1
            obj = model(
                organization_id=self.organization_id,
                provider=PROVIDER,
                remote_id=remote_id,
                is_linked=True,
                last_synced_at=now,
                **values,
            )
            if hasattr(obj, "refresh_search_text"):
                obj.refresh_search_text()
            to_write.append(obj)
        if to_write:
            model.objects.bulk_create(
                to_write,
                update_conflicts=True,
                unique_fields=["organization", "provider", "remote_id"],
                update_fields=[*update_fields, "is_linked", "last_synced_at", "remote_updated_at"],
            )
        self.recorder.count(entity, created=created, updated=updated, unchanged=unchanged)
        ids = {remote_id: pk for remote_id, (pk, _, _) in existing.items()}
        missing = [remote_id for remote_id in rows if remote_id not in ids]
        if missing:
            ids.update(
                self._records(model).filter(remote_id__in=missing).values_list("remote_id", "pk")
            )
        return ids

    def _save_options(self, changes: dict) -> None:
        with transaction.atomic():
            # Re-read under a row lock so that an Owner's setting saved meanwhile survives.
            locked = Integration.objects.select_for_update().get(pk=self.integration.pk)
            options = {**locked.options, **changes}
            Integration.objects.filter(pk=self.integration.pk).update(options=options)
        self.integration.options = options

    # Reference lists ---------------------------------------------------------------------

    def sync_reference_lists(self) -> None:
        """Departments and offices name roles; sources and rejection reasons feed forms."""
        self.recorder.start_entity("departments and offices")
        for resource, target in (
            ("departments", self.departments),
            ("offices", self.offices),
            ("rejection_reasons", self.rejection_reasons),
        ):
            for record in self.client.list(resource).records():
                remote_id = _remote_id(record.get("id"))
                if remote_id:
                    target[remote_id] = _text(record.get("name"), 200)
        sources = []
        for source in self.client.list("sources").records():
            remote_id = _remote_id(source.get("id"))
            if remote_id:
                kind = source.get("type") if isinstance(source.get("type"), dict) else {}
                sources.append(
                    {
                        "id": remote_id,
                        "title": _text(source.get("name"), 200),
                        "type": _text(kind.get("name"), 200),
                    }
                )
        self._save_options(
            {
                "departments": [{"id": k, "name": v} for k, v in self.departments.items()],
                "offices": [{"id": k, "name": v} for k, v in self.offices.items()],
                "sources": sources,
                "rejection_reasons": [
                    {"id": k, "text": v} for k, v in self.rejection_reasons.items()
                ],
            }
        )

    # Jobs, plans, stages and posts ------------------------------------------------------

    def _job_row(self, job: dict, work_type_field: str) -> dict:
        status = JOB_STATUSES.get(job.get("status"), Role.Status.CLOSED)
        custom = job.get("custom_fields") if isinstance(job.get("custom_fields"), dict) else {}
        work_type = ""
        if work_type_field and isinstance(custom.get(work_type_field), dict):
            work_type = work_type_from_value(custom[work_type_field].get("value"))
        offices = [
            self.offices.get(str(office_id), "") for office_id in job.get("office_ids") or []
        ]
        return {
            "title": _text(job.get("name"), 300) or "Untitled job",
            "department": self.departments.get(str(job.get("department_id")), ""),
            "location": ", ".join(name for name in offices if name)[:200],
            "status": status,
            "work_type": work_type,
            "is_visible": status == Role.Status.OPEN,
            "remote_updated_at": _datetime(job.get("updated_at")),
        }

    def sync_jobs(self) -> None:
        work_type_field = self.integration.options.get(WORK_TYPE_FIELD_OPTION) or ""
        custom_fields = {
            entry["id"]: entry["name"]
            for entry in self.integration.options.get("job_custom_fields", [])
        }

        def save_page(page: list[dict]) -> None:
            rows, plans = {}, {}
            for job in page:
                remote_id = _remote_id(job.get("id"))
                if remote_id is None or job.get("is_template"):
                    continue
                rows[remote_id] = self._job_row(job, work_type_field)
                plans[remote_id] = {
                    "title": f"{rows[remote_id]['title']} hiring plan"[:300],
                    "remote_updated_at": rows[remote_id]["remote_updated_at"],
                }
                for key, field in (job.get("custom_fields") or {}).items():
                    if isinstance(field, dict):
                        custom_fields[key] = _text(field.get("name"), 200) or key
            plan_ids = self.upsert(InterviewPlan, "interview_plans", plans, update_fields=["title"])
            for remote_id, row in rows.items():
                row["interview_plan_id"] = plan_ids.get(remote_id)
            pending = self._records(Role).filter(
                remote_id__in=list(rows), push_state=PushState.PENDING
            )
            # The work type depends on an Owner's setting as well as the job, so every listed
            # job is rewritten rather than skipped as unchanged.
            self.upsert(
                Role,
                "roles",
                rows,
                compare_updated_at=False,
                skip_remote_ids=pending.values_list("remote_id", flat=True),
                update_fields=[
                    "title",
                    "department",
                    "location",
                    "status",
                    "work_type",
                    "interview_plan",
                    "is_visible",
                ],
            )

        self.run_pass("jobs", save_page)
        self._save_options(
            {"job_custom_fields": [{"id": k, "name": v} for k, v in sorted(custom_fields.items())]}
        )
        self.role_ids = dict(self._records(Role).values_list("remote_id", "pk"))
        self.plan_ids = dict(self._records(InterviewPlan).values_list("remote_id", "pk"))

    def sync_stages(self) -> None:
        touched_plans: set[int] = set()

        def save_page(page: list[dict]) -> None:
            rows = {}
            for stage in page:
                remote_id = _remote_id(stage.get("id"))
                plan_pk = self.plan_ids.get(_remote_id(stage.get("job_id")) or "")
                if remote_id is None or plan_pk is None:
                    continue
                order = stage.get("sort_order")
                rows[remote_id] = {
                    "plan_id": plan_pk,
                    "title": _text(stage.get("name"), 300) or "Stage",
                    "order": order if isinstance(order, int) else 0,
                    # Placeholder: classify_stages sets the type from the stage's position.
                    "stage_type": PipelineStage.StageType.ACTIVE,
                    "remote_updated_at": _datetime(stage.get("updated_at")),
                }
                touched_plans.add(plan_pk)
            self.upsert(
                PipelineStage,
                "pipeline_stages",
                rows,
                compare_updated_at=False,
                update_fields=["plan", "title", "order"],
            )

        self.run_pass("job_interview_stages", save_page)
        self.classify_stages(touched_plans)
        self.stage_ids = dict(self._records(PipelineStage).values_list("remote_id", "pk"))

    def classify_stages(self, plan_pks: set[int]) -> None:
        """Type the stages of each plan: the first (application review) is pre-interview.

        Greenhouse stages carry no type. The first stage of a job's plan is where new
        applications wait for review, so applications there are not yet candidates for
        Lavalier; a stage named Offer is the offer stage; every other stage is active.
        """
        by_type: dict[str, list[int]] = defaultdict(list)
        stages = (
            self._records(PipelineStage)
            .filter(plan_id__in=plan_pks)
            .order_by("plan_id", "order", "id")
        )
        first_seen: set[int] = set()
        for pk, plan_id, title in stages.values_list("pk", "plan_id", "title"):
            if plan_id not in first_seen:
                first_seen.add(plan_id)
                by_type[PipelineStage.StageType.PRE_INTERVIEW_SCREEN].append(pk)
            elif "offer" in title.lower():
                by_type[PipelineStage.StageType.OFFER].append(pk)
            else:
                by_type[PipelineStage.StageType.ACTIVE].append(pk)
        for stage_type, pks in by_type.items():
            PipelineStage.objects.filter(pk__in=pks).exclude(stage_type=stage_type).update(
                stage_type=stage_type
            )

    def sync_job_posts(self) -> None:
        work_types = dict(self._records(Role).values_list("pk", "work_type"))

        def save_page(page: list[dict]) -> None:
            rows = {}
            for post in page:
                remote_id = _remote_id(post.get("id"))
                role_pk = self.role_ids.get(_remote_id(post.get("job_id")) or "")
                if remote_id is None or role_pk is None:
                    continue
                published = _datetime(post.get("first_published_at"))
                rows[remote_id] = {
                    "role_id": role_pk,
                    "title": _text(post.get("title"), 300) or "Job post",
                    "work_type": work_types.get(role_pk, ""),
                    "is_listed": bool(post.get("live"))
                    and bool(post.get("active", True))
                    and not post.get("internal"),
                    "published_on": published.date() if published else None,
                    "apply_url": _text(post.get("public_url"), 500),
                    "remote_updated_at": _datetime(post.get("updated_at")),
                }
            self.upsert(
                JobPost,
                "job_posts",
                rows,
                compare_updated_at=False,
                update_fields=[
                    "role",
                    "title",
                    "work_type",
                    "is_listed",
                    "published_on",
                    "apply_url",
                ],
            )

        self.run_pass("job_posts", save_page)

    # Candidates and applications ---------------------------------------------------------

    CANDIDATE_FIELDS = [
        "name",
        "email_addresses",
        "phone_numbers",
        "social_links",
        "primary_email",
        "search_text",
        "title",
        "company",
        "location",
    ]

    def _candidate_row(self, candidate: dict) -> dict:
        name = " ".join(
            filter(
                None,
                [_text(candidate.get("first_name"), 150), _text(candidate.get("last_name"), 150)],
            )
        )
        addresses = _contacts(candidate.get("addresses"))
        return {
            "name": name or "Unnamed candidate",
            "email_addresses": _contacts(candidate.get("email_addresses")),
            "phone_numbers": _contacts(candidate.get("phone_numbers")),
            "social_links": _social_links(candidate),
            "title": _text(candidate.get("title"), 300),
            "company": _text(candidate.get("company"), 300),
            "location": addresses[0]["value"][:300] if addresses else "",
            "origin": Candidate.Origin.ATS,
            # New rows start hidden; update_candidate_visibility decides at the end of the run.
            "is_visible": False,
            "remote_updated_at": _datetime(candidate.get("updated_at")),
        }

    def sync_candidates(self) -> None:
        def save_page(page: list[dict]) -> None:
            rows = {}
            for candidate in page:
                remote_id = _remote_id(candidate.get("id"))
                if remote_id is not None:
                    rows[remote_id] = self._candidate_row(candidate)
            pending = (
                self._records(Candidate)
                .filter(remote_id__in=list(rows))
                .filter(Q(push_state=PushState.PENDING) | Q(creation_pending=True))
            )
            self.upsert(
                Candidate,
                "candidates",
                rows,
                update_fields=self.CANDIDATE_FIELDS,
                skip_remote_ids=pending.values_list("remote_id", flat=True),
            )

        self.run_pass("candidates", save_page)

    def _candidate_pks(self, remote_ids: set[str]) -> dict[str, int]:
        """Return candidate pks by remote id, adding hidden stubs for candidates not synced yet.

        A candidate created in Greenhouse after the candidate pass read its page is known
        here only by id. The next candidate pass fills in the rest.
        """
        ids = dict(
            self._records(Candidate)
            .filter(remote_id__in=list(remote_ids))
            .values_list("remote_id", "pk")
        )
        stubs = [
            Candidate(
                organization_id=self.organization_id,
                provider=PROVIDER,
                remote_id=remote_id,
                is_linked=True,
                origin=Candidate.Origin.ATS,
                is_visible=False,
                last_synced_at=timezone.now(),
                name="Unnamed candidate",
            )
            for remote_id in remote_ids
            if remote_id not in ids
        ]
        if stubs:
            Candidate.objects.bulk_create(stubs, ignore_conflicts=True)
            ids.update(
                self._records(Candidate)
                .filter(remote_id__in=[s.remote_id for s in stubs])
                .values_list("remote_id", "pk")
            )
        return ids

    def _role_pk(self, job_remote_id: str) -> int:
        """Return the role pk of a job, adding a hidden stub for a job created after the job pass."""
        if job_remote_id not in self.role_ids:
            role, _ = Role.objects.get_or_create(
                organization_id=self.organization_id,
                provider=PROVIDER,
                remote_id=job_remote_id,
                defaults={
                    "title": "Untitled job",
                    "status": Role.Status.CLOSED,
                    "is_visible": False,
                    "is_linked": True,
                },
            )
            self.role_ids[job_remote_id] = role.pk
        return self.role_ids[job_remote_id]

    def sync_applications(self) -> None:
        def save_page(page: list[dict]) -> None:
            # Prospect applications have no current job: prospects are not candidates yet.
            applications = [
                a for a in page if not a.get("prospect") and _remote_id(a.get("job_id"))
            ]
            self.recorder.count("applications", hidden=len(page) - len(applications))
            candidate_pks = self._candidate_pks(
                {
                    _remote_id(a.get("candidate_id"))
                    for a in applications
                    if _remote_id(a.get("candidate_id"))
                }
            )
            rows = {}
            for application in applications:
                remote_id = _remote_id(application.get("id"))
                candidate_pk = candidate_pks.get(_remote_id(application.get("candidate_id")) or "")
                if remote_id is None or candidate_pk is None:
                    continue
                status = APPLICATION_STATUSES.get(
                    application.get("status"), Application.Status.ACTIVE
                )
                # NOTE: the v3 field holding an application's current stage is not documented;
                # `stage_id` is assumed, with v1's `current_stage.id` as the fallback.
                stage_remote = _remote_id(application.get("stage_id")) or _remote_id(
                    (application.get("current_stage") or {}).get("id")
                )
                reason = self.rejection_reasons.get(
                    _remote_id(application.get("rejection_reason_id")) or "", ""
                )
                rows[remote_id] = {
                    "candidate_id": candidate_pk,
                    "role_id": self._role_pk(_remote_id(application["job_id"])),
                    "stage_id": self.stage_ids.get(stage_remote or ""),
                    "status": status,
                    "archive_reason": reason[:300] if status == Application.Status.ARCHIVED else "",
                    "applied_at": _datetime(
                        application.get("applied_at") or application.get("created_at")
                    ),
                    "archived_at": _datetime(
                        application.get("rejected_at") or application.get("updated_at")
                    )
                    if status == Application.Status.ARCHIVED
                    else None,
                    "remote_updated_at": _datetime(application.get("updated_at")),
                }
            pending = self._records(Application).filter(
                remote_id__in=list(rows), push_state=PushState.PENDING
            )
            self.upsert(
                Application,
                "applications",
                rows,
                skip_remote_ids=pending.values_list("remote_id", flat=True),
                update_fields=[
                    "candidate",
                    "role",
                    "stage",
                    "status",
                    "archive_reason",
                    "applied_at",
                    "archived_at",
                ],
            )

        self.run_pass("applications", save_page)

    def sync_resume_attachments(self) -> None:
        """Record each candidate's newest resume attachment; the file is fetched later.

        Uploading a resume in Greenhouse turns the previous one into type `other`, so the
        newest attachment of type `resume` is the current one.
        """

        def save_page(page: list[dict]) -> None:
            newest: dict[str, dict] = {}
            for attachment in page:
                candidate_remote = _remote_id(attachment.get("candidate_id"))
                if not candidate_remote or not _remote_id(attachment.get("id")):
                    continue
                current = newest.get(candidate_remote)
                if current is None or (attachment.get("created_at") or "") > (
                    current.get("created_at") or ""
                ):
                    newest[candidate_remote] = attachment
            candidates = (
                self._records(Candidate)
                .filter(remote_id__in=list(newest))
                .only("pk", "remote_id", "remote_resume")
            )
            changed = 0
            for candidate in candidates:
                attachment = newest[candidate.remote_id]
                stored = candidate.remote_resume or {}
                if stored.get("id") == str(attachment["id"]) or (stored.get("created_at") or "") > (
                    attachment.get("created_at") or ""
                ):
                    continue
                Candidate.objects.filter(pk=candidate.pk).update(
                    remote_resume={
                        "id": str(attachment["id"]),
                        "name": _text(attachment.get("filename"), 255),
                        "created_at": attachment.get("created_at") or "",
                    }
                )
                changed += 1
            self.recorder.count(
                "resume_attachments", updated=changed, unchanged=len(page) - changed
            )

        self.run_pass("attachments", save_page, type="resume")

    # Sweep and visibility ---------------------------------------------------------------

    def unlink_unseen(self) -> None:
        """After a full run, unlink rows Greenhouse no longer lists (deleted or merged away).

        The rows stay for recruiters' history; unlinked roles and candidates leave the lists.
        Candidates whose creation in Greenhouse is still pending are left alone.
        """
        self.recorder.start_entity("deletion sweep")
        for model, entity in (
            (Role, "roles"),
            (JobPost, "job_posts"),
            (Candidate, "candidates"),
            (Application, "applications"),
        ):
            stale = (
                self._records(model)
                .filter(is_linked=True)
                .exclude(remote_id__in=self.seen[model.__name__])
            )
            if model is Candidate:
                stale = stale.exclude(creation_pending=True)
                hidden = stale.filter(origin=Candidate.Origin.ATS).update(
                    is_linked=False, is_visible=False
                )
                hidden += stale.update(is_linked=False)
            elif model is Role:
                hidden = stale.update(is_linked=False, is_visible=False)
            else:
                hidden = stale.update(is_linked=False)
            if hidden:
                logger.info(
                    "unlinked records Greenhouse no longer lists",
                    extra=self.log_extra(entity=entity, count=hidden),
                )
            self.recorder.count(entity, hidden=hidden)

    def update_candidate_visibility(self) -> None:
        """Apply Lavalier's visibility rule to this organization's synced candidates."""
        self.recorder.start_entity("visibility")
        shown, hidden = candidate_visibility_update(
            organization_id=self.organization_id, provider=PROVIDER
        )
        self.recorder.count("visibility", created=shown, hidden=hidden)

    # Resume files ------------------------------------------------------------------------

    def download_resumes(self) -> None:
        """Download the current resume of each visible candidate that lacks it.

        Attachment URLs expire, so each batch of up to 50 attachments is listed again for
        fresh URLs right before the downloads, and URLs are never stored. A file that is
        too large or not a PDF, DOC or DOCX is skipped with a log line.
        """
        self.recorder.start_entity("resumes")
        wanted = [
            candidate
            for candidate in self._records(Candidate)
            .filter(is_visible=True, origin=Candidate.Origin.ATS)
            .exclude(remote_resume={})
            .only("pk", "organization_id", "remote_resume", "resume_remote_id", "resume")
            if candidate.remote_resume.get("id")
            and candidate.remote_resume["id"] != candidate.resume_remote_id
        ]
        stored = failed = 0
        for start in range(0, len(wanted), 50):
            batch = {c.remote_resume["id"]: c for c in wanted[start : start + 50]}
            for attachment in self.client.list_by_ids("attachments", list(batch)):
                candidate = batch.get(str(attachment.get("id")))
                if candidate is None or not isinstance(attachment.get("url"), str):
                    continue
                try:
                    self._store_resume(candidate, attachment)
                    stored += 1
                except (GreenhouseAuthError, GreenhousePermissionError):
                    raise
                except (GreenhouseError, ValueError) as exc:
                    failed += 1
                    logger.warning(
                        "resume download failed",
                        extra=self.log_extra(candidate_id=candidate.pk, error=type(exc).__name__),
                    )
            self.recorder.page_done(len(batch))
        self.recorder.count("resumes", created=stored, hidden=failed, unchanged=0)

    def _store_resume(self, candidate: Candidate, attachment: dict) -> None:
        content = self.client.download(attachment["url"], max_bytes=MAX_RESUME_BYTES)
        kind = resume_kind(content)
        if kind is None:
            raise ValueError("not a PDF, DOC or DOCX file")
        content_type, extension = kind
        display_name = (
            (_text(attachment.get("filename"), 255) or f"resume{extension}")
            .replace("/", "_")
            .replace("\\", "_")
        )
        old_name = candidate.resume.name if candidate.resume else ""
        candidate.resume.save(f"resume{extension}", ContentFile(content), save=False)
        Candidate.objects.filter(pk=candidate.pk).update(
            resume=candidate.resume.name,
            resume_name=display_name,
            resume_content_type=content_type,
            resume_remote_id=str(attachment["id"]),
        )
        if old_name and old_name != candidate.resume.name:
            candidate.resume.storage.delete(old_name)
