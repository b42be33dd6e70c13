"""One sync run against Ashby: reads every list Lavalier mirrors and upserts it in bulk.

Order matters. Interview plans and jobs come first, so that applications find their stage
and role, and candidates come before applications, so that applications find their
candidate. The visibility rule runs after both, and resumes come last, only for visible
candidates.

Safety of a rerun: every upsert keys on (organization, provider, remote id) with
INSERT … ON CONFLICT, each page commits on its own, and a list's sync token is stored
only after its whole pass was saved. A run killed at any point leaves rows that the next
run completes; it never duplicates them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, F, Q, Value
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.dateparse import parse_date

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

from .client import AshbyClient, Pages
from .errors import (
    AshbyAuthError,
    AshbyCursorExpired,
    AshbyError,
    AshbyFileTooLarge,
    AshbyPermissionError,
    AshbySyncTokenExpired,
)

logger = logging.getLogger(__name__)

PROVIDER = "ashby"
# A cursor that keeps expiring restarts its pass at most this many times per run.
MAX_PASS_RESTARTS = 3

WORK_TYPES = {
    "FullTime": WorkType.FULL_TIME,
    "PartTime": WorkType.PART_TIME,
    "Contract": WorkType.CONTRACT,
    "Intern": WorkType.INTERNSHIP,
    "Temporary": WorkType.TEMPORARY,
}
JOB_STATUSES = {
    "Open": Role.Status.OPEN,
    "Closed": Role.Status.CLOSED,
    "Draft": Role.Status.DRAFT,
    "Archived": Role.Status.ARCHIVED,
}
STAGE_TYPES = {
    "Lead": PipelineStage.StageType.LEAD,
    "PreInterviewScreen": PipelineStage.StageType.PRE_INTERVIEW_SCREEN,
    "Active": PipelineStage.StageType.ACTIVE,
    "Offer": PipelineStage.StageType.OFFER,
    "Hired": PipelineStage.StageType.HIRED,
    "Archived": PipelineStage.StageType.ARCHIVED,
}
APPLICATION_STATUSES = {
    "Active": Application.Status.ACTIVE,
    "Hired": Application.Status.HIRED,
    "Archived": Application.Status.ARCHIVED,
    "Lead": Application.Status.LEAD,
}


def _contacts(entries) -> list[dict]:
    contacts = []
    for entry in entries or []:
        if isinstance(entry, dict) and isinstance(entry.get("value"), str):
            contacts.append(
                {
                    "value": _text(entry["value"], 254),
                    "type": _text(entry.get("type"), 32),
                    "is_primary": bool(entry.get("isPrimary")),
                }
            )
    return contacts


def _social_links(entries) -> list[dict]:
    return [
        {"type": _text(entry.get("type"), 32), "url": _text(entry.get("url"), 500)}
        for entry in entries or []
        if isinstance(entry, dict) and isinstance(entry.get("url"), str)
    ]


def _location_text(location) -> str:
    if isinstance(location, dict):
        return _text(location.get("locationSummary") or location.get("name"), 300)
    return ""


class AshbySync:
    """Runs the passes of one sync; construct one per run."""

    def __init__(
        self, integration: Integration, run: SyncRun, recorder: RunRecorder, client: AshbyClient
    ):
        self.integration = integration
        self.organization_id = integration.organization_id
        self.run_record = run
        self.recorder = recorder
        self.client = client
        self.full = run.is_full
        self.started_at = timezone.now()
        # Set once any row is written, so that a run with nothing new can skip work.
        self.changed = False
        self.departments: dict[str, str] = {}
        self.locations: dict[str, str] = {}
        self.stage_ids: dict[str, int] = {}
        self.role_ids: dict[str, int] = {}

    def log_extra(self, **fields) -> dict:
        return {
            "organization_id": self.organization_id,
            "integration_id": self.integration.pk,
            "run_id": self.run_record.pk,
            **fields,
        }

    # The run ----------------------------------------------------------------------------

    def run(self) -> None:
        self.sync_reference_lists()
        self.sync_interview_plans()
        self.sync_jobs()
        self.sync_job_postings()
        self.sync_candidates()
        self.sync_applications()
        if self.full:
            self.unlink_unseen()
        if self.visibility_may_be_stale():
            self.update_candidate_visibility()
        self.sync_resumes()

    def visibility_may_be_stale(self) -> bool:
        """Return False when no row changed and the previous run finished its work.

        The visibility rule scans every synced candidate, which costs more than the rest of
        an incremental run with nothing new. A run that died after its upserts but before
        this step leaves stale visibility behind, so any run after an unsuccessful one
        updates it whatever it saw.
        """
        if self.full or self.changed:
            return True
        previous = (
            SyncRun.objects.filter(
                integration=self.integration, started_at__lt=self.run_record.started_at
            )
            .exclude(pk=self.run_record.pk)
            .order_by("-started_at", "-id")
            .values_list("outcome", flat=True)
            .first()
        )
        return previous != SyncRun.Outcome.SUCCESS

    def _records(self, model):
        return model.objects.filter(organization_id=self.organization_id, provider=PROVIDER)

    # Incremental passes -----------------------------------------------------------------

    def _stored_token(self, list_name: str) -> str | None:
        if self.full:
            return None
        cursor = SyncCursor.objects.filter(
            integration=self.integration, list_name=list_name
        ).first()
        return cursor.sync_token if cursor and cursor.sync_token else None

    def _store_token(self, list_name: str, token: str | None) -> None:
        if token:
            SyncCursor.objects.update_or_create(
                integration=self.integration, list_name=list_name, defaults={"sync_token": token}
            )

    def run_pass(
        self,
        list_name: str,
        make_pages: Callable[[str | None], Pages],
        save_page: Callable[[list[dict]], None],
        *,
        incremental: bool = True,
    ) -> bool:
        """Fetch one list page by page, saving each page as it arrives.

        Returns True when the pass covered the whole list (no sync token was used), which
        is what reconciliation of unseen records needs. An expired or invalid token drops
        to a full pass, recorded as a run note; an expired cursor restarts the pass.
        """
        token = self._stored_token(list_name) if incremental else None
        restarts = 0
        self.recorder.start_entity(list_name)
        while True:
            pages = make_pages(token)
            try:
                for page in pages:
                    save_page(page)
                    self.recorder.page_done(len(page))
            except AshbySyncTokenExpired:
                if token is None:
                    raise
                logger.info("sync token rejected; full pass", extra=self.log_extra(list=list_name))
                self.recorder.note(
                    f"{list_name}: Ashby rejected the stored sync token, "
                    "so the list was synced in full."
                )
                SyncCursor.objects.filter(
                    integration=self.integration, list_name=list_name
                ).delete()
                token = None
                continue
            except AshbyCursorExpired:
                restarts += 1
                if restarts > MAX_PASS_RESTARTS:
                    raise
                logger.info(
                    "page cursor expired; restarting pass", extra=self.log_extra(list=list_name)
                )
                self.recorder.note(f"{list_name}: a page cursor expired, so the pass restarted.")
                continue
            break
        if incremental:
            self._store_token(list_name, pages.sync_token)
        return token is None

    # Upserts -----------------------------------------------------------------------------

    def upsert(
        self,
        model,
        entity: str,
        rows: dict[str, dict],
        *,
        update_fields: list[str],
        skip_remote_ids: Iterable[str] = (),
        skip_when: Q | None = None,
        compare_fields: tuple[str, ...] = (),
    ) -> dict[str, int]:
        """Insert or update rows keyed by remote id; return {remote id: pk} for all of them.

        `rows` maps each remote id to the field values of its model row. Rows whose
        `remote_updated_at` equals the stored one and that are still linked count as
        unchanged and are only stamped as seen. Rows in `skip_remote_ids`, and stored rows
        matching `skip_when`, keep a local change waiting to be pushed and are left alone.
        `skip_when` is evaluated in the query that reads the stored rows, so it costs no
        query of its own. Records the ATS sends without an update time are compared on
        `compare_fields` (column names) instead.
        """
        if not rows:
            return {}
        stored = self._records(model).filter(remote_id__in=list(rows))
        if skip_when is not None:
            skipped = ExpressionWrapper(skip_when, output_field=BooleanField())
            stored = stored.annotate(skipped=skipped)
        else:
            stored = stored.annotate(skipped=Value(False))
        existing = {}
        skip = set(skip_remote_ids)
        stored_values = {}
        for remote_id, pk, updated_at, linked, skipped, *compared in stored.values_list(
            "remote_id", "pk", "remote_updated_at", "is_linked", "skipped", *compare_fields
        ):
            existing[remote_id] = (pk, updated_at, linked)
            stored_values[remote_id] = tuple(compared)
            if skipped:
                skip.add(remote_id)
        now = timezone.now()
        to_write = []
        unchanged_pks = []
        created = updated = 0
        for remote_id, values in rows.items():
            current = existing.get(remote_id)
            if remote_id in skip:
                unchanged_pks.append(current[0])
                continue
            if (
                current is not None
                and current[2]
                and self._unchanged(values, current[1], stored_values[remote_id], compare_fields)
            ):
                unchanged_pks.append(current[0])
                continue
            if current is None:
                created += 1
            else:
                updated += 1
            to_write.append(
                model(
                    organization_id=self.organization_id,
                    provider=PROVIDER,
                    remote_id=remote_id,
                    is_linked=True,
                    last_synced_at=now,
                    **values,
                )
            )
        if to_write:
            self.changed = True
            for obj in to_write:
                if hasattr(obj, "refresh_search_text"):
                    obj.refresh_search_text()
            model.objects.bulk_create(
                to_write,
                update_conflicts=True,
                unique_fields=["organization", "provider", "remote_id"],
                update_fields=[*update_fields, "is_linked", "last_synced_at", "remote_updated_at"],
            )
        if unchanged_pks and self.full:
            # Stamp as seen, so reconciliation can tell unseen rows from unchanged ones.
            model.objects.filter(pk__in=unchanged_pks).update(last_synced_at=now)
        self.recorder.count(entity, created=created, updated=updated, unchanged=len(unchanged_pks))
        ids = {remote_id: pk for remote_id, (pk, _, _) in existing.items()}
        # PostgreSQL and SQLite 3.35+ return the ids of upserted rows (INSERT … RETURNING),
        # so the extra query below runs only on databases that do not.
        ids.update((obj.remote_id, obj.pk) for obj in to_write if obj.pk is not None)
        missing = [remote_id for remote_id in rows if remote_id not in ids]
        if missing:
            ids.update(
                self._records(model).filter(remote_id__in=missing).values_list("remote_id", "pk")
            )
        return ids

    @staticmethod
    def _unchanged(values: dict, stored_updated_at, stored_compared: tuple, compare_fields) -> bool:
        if compare_fields:
            return tuple(values[name] for name in compare_fields) == stored_compared
        updated_at = values.get("remote_updated_at")
        return updated_at is not None and updated_at == stored_updated_at

    # Reference lists ---------------------------------------------------------------------

    def sync_reference_lists(self) -> None:
        """Departments and locations name roles; sources and archive reasons feed forms."""
        self.recorder.start_entity("departments and locations")
        for page in self.client.department_list():
            self.departments.update(
                (d["id"], _text(d.get("name"), 200)) for d in page if isinstance(d.get("id"), str)
            )
        for page in self.client.location_list():
            self.locations.update(
                (loc["id"], _text(loc.get("name"), 200))
                for loc in page
                if isinstance(loc.get("id"), str)
            )
        sources = [
            {
                "id": s["id"],
                "title": _text(s.get("title"), 200),
                "type": _text((s.get("sourceType") or {}).get("title"), 200),
            }
            for page in self.client.source_list()
            for s in page
            if isinstance(s.get("id"), str) and not s.get("isArchived")
        ]
        reasons = [
            {
                "id": r["id"],
                "text": _text(r.get("text"), 200),
                "type": _text(r.get("reasonType"), 64),
            }
            for page in self.client.archive_reason_list()
            for r in page
            if isinstance(r.get("id"), str) and not r.get("isArchived")
        ]
        with transaction.atomic():
            # Re-read under a row lock so that an Owner's setting saved meanwhile survives.
            locked = Integration.objects.select_for_update().get(pk=self.integration.pk)
            options = dict(locked.options)
            options["departments"] = [{"id": k, "name": v} for k, v in self.departments.items()]
            options["locations"] = [{"id": k, "name": v} for k, v in self.locations.items()]
            options["sources"] = sources
            options["archive_reasons"] = reasons
            Integration.objects.filter(pk=self.integration.pk).update(options=options)
        self.integration.options = options

    # Interview plans and stages -----------------------------------------------------------

    def sync_interview_plans(self) -> None:
        plans: dict[str, dict] = {}
        for page in self.client.interview_plan_list():
            for plan in page:
                if isinstance(plan.get("id"), str):
                    plans[plan["id"]] = {
                        "title": _text(plan.get("title"), 300) or "Interview plan",
                        "remote_updated_at": _datetime(plan.get("updatedAt")),
                    }
        self.recorder.start_entity("interview plans")
        plan_ids = self.upsert(InterviewPlan, "interview_plans", plans, update_fields=["title"])
        self.recorder.page_done(len(plans))

        for remote_plan_id, plan_pk in plan_ids.items():
            stages: dict[str, dict] = {}
            for page in self.client.interview_stage_list(remote_plan_id):
                for stage in page:
                    if not isinstance(stage.get("id"), str):
                        continue
                    raw_type = stage.get("type")
                    stage_type = STAGE_TYPES.get(raw_type)
                    if stage_type is None:
                        logger.warning(
                            "unknown interview stage type; treated as active",
                            extra=self.log_extra(
                                stage_id=stage["id"], stage_type=str(raw_type)[:40]
                            ),
                        )
                        stage_type = PipelineStage.StageType.ACTIVE
                    order = stage.get("orderInInterviewPlan")
                    stages[stage["id"]] = {
                        "plan_id": plan_pk,
                        "title": _text(stage.get("title"), 300) or "Stage",
                        "order": order if isinstance(order, int) else 0,
                        "stage_type": stage_type,
                        # Stages carry no updatedAt, so upsert compares their fields.
                        "remote_updated_at": None,
                    }
            self.stage_ids.update(
                self.upsert(
                    PipelineStage,
                    "pipeline_stages",
                    stages,
                    update_fields=["plan", "title", "order", "stage_type"],
                    compare_fields=("plan_id", "title", "order", "stage_type"),
                )
            )
            self.recorder.page_done(len(stages))

    # Jobs and job postings ---------------------------------------------------------------

    def _job_row(self, job: dict) -> dict:
        status = JOB_STATUSES.get(job.get("status"), Role.Status.CLOSED)
        location = self.locations.get(job.get("locationId") or "", "")
        if not location and isinstance(job.get("location"), dict):
            location = _text(job["location"].get("name"), 200)
        plan_remote_id = job.get("defaultInterviewPlanId") or next(
            iter(job.get("interviewPlanIds") or []), None
        )
        return {
            "title": _text(job.get("title"), 300) or "Untitled job",
            "department": self.departments.get(job.get("departmentId") or "", ""),
            "location": location,
            "status": status,
            "work_type": WORK_TYPES.get(job.get("employmentType"), ""),
            "interview_plan_id": self._plan_pk(plan_remote_id),
            "is_visible": status == Role.Status.OPEN,
            "remote_updated_at": _datetime(job.get("updatedAt")),
        }

    def _plan_pk(self, remote_id) -> int | None:
        if not isinstance(remote_id, str):
            return None
        if not hasattr(self, "_plan_pks"):
            self._plan_pks = dict(self._records(InterviewPlan).values_list("remote_id", "pk"))
        return self._plan_pks.get(remote_id)

    def sync_jobs(self) -> None:
        def save_page(page: list[dict]) -> None:
            rows = {job["id"]: self._job_row(job) for job in page if isinstance(job.get("id"), str)}
            self.upsert(
                Role,
                "roles",
                rows,
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

        self.run_pass("jobs", lambda token: self.client.job_list(sync_token=token), save_page)
        self.role_ids = dict(self._records(Role).values_list("remote_id", "pk"))

    def sync_job_postings(self) -> None:
        def save_page(page: list[dict]) -> None:
            rows = {}
            for posting in page:
                role_pk = self.role_ids.get(posting.get("jobId") or "")
                if not isinstance(posting.get("id"), str) or role_pk is None:
                    continue
                rows[posting["id"]] = {
                    "role_id": role_pk,
                    "title": _text(posting.get("title"), 300) or "Job posting",
                    "location": _text(posting.get("locationName"), 200),
                    "work_type": WORK_TYPES.get(posting.get("employmentType"), ""),
                    "is_listed": bool(posting.get("isListed", True)),
                    "published_on": parse_date(posting["publishedDate"][:10])
                    if isinstance(posting.get("publishedDate"), str)
                    else None,
                    "apply_url": _text(
                        posting.get("applyLink") or posting.get("externalLink"), 500
                    ),
                    "remote_updated_at": _datetime(posting.get("updatedAt")),
                }
            self.upsert(
                JobPost,
                "job_posts",
                rows,
                update_fields=[
                    "role",
                    "title",
                    "location",
                    "work_type",
                    "is_listed",
                    "published_on",
                    "apply_url",
                ],
            )

        # jobPosting.list has no sync token, so every run reads it whole; it lists only
        # published postings and is small next to candidates and applications.
        self.run_pass(
            "job_postings",
            lambda token: self.client.job_posting_list(),
            save_page,
            incremental=False,
        )

    # Candidates --------------------------------------------------------------------------

    def _candidate_row(self, candidate: dict) -> dict:
        resume = candidate.get("resumeFileHandle")
        remote_resume = {}
        if isinstance(resume, dict) and isinstance(resume.get("handle"), str):
            remote_resume = {
                "id": _text(resume.get("id"), 128) or resume["handle"][:128],
                "name": _text(resume.get("name"), 255),
                "handle": resume["handle"],
            }
        source = candidate.get("source")
        return {
            "name": _text(candidate.get("name"), 300) or "Unnamed candidate",
            "email_addresses": _contacts(candidate.get("emailAddresses"))
            or _contacts([candidate.get("primaryEmailAddress")]),
            "phone_numbers": _contacts(candidate.get("phoneNumbers"))
            or _contacts([candidate.get("primaryPhoneNumber")]),
            "social_links": _social_links(candidate.get("socialLinks")),
            "title": _text(candidate.get("position"), 300),
            "company": _text(candidate.get("company"), 300),
            "location": _location_text(candidate.get("location")),
            "source": _text(source.get("title"), 300) if isinstance(source, dict) else "",
            "remote_resume": remote_resume,
            "origin": Candidate.Origin.ATS,
            # New rows start hidden; update_candidate_visibility decides at the end of the run.
            "is_visible": False,
            "remote_updated_at": _datetime(candidate.get("updatedAt")),
        }

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
        "source",
        "remote_resume",
    ]

    # Candidates whose local edits still wait for the push, which a sync must not undo.
    PENDING_CANDIDATE = Q(push_state=PushState.PENDING) | Q(creation_pending=True)

    # Ashby's candidate.create takes no title or company, and a free-text location does not
    # fit its structured one, so for candidates created in Lavalier these stay local.
    LOCAL_ONLY_FIELDS = ("title", "company", "location")

    def sync_candidates(self) -> None:
        # Pushed candidates are rare; look them up per page only when the organization has any.
        has_pushed = self._records(Candidate).filter(origin=Candidate.Origin.LAVALIER).exists()

        def save_page(page: list[dict]) -> None:
            rows = {c["id"]: self._candidate_row(c) for c in page if isinstance(c.get("id"), str)}
            pushed = {}
            if has_pushed:
                pushed_ids = set(
                    self._records(Candidate)
                    .filter(remote_id__in=list(rows), origin=Candidate.Origin.LAVALIER)
                    .values_list("remote_id", flat=True)
                )
                pushed = {remote_id: rows.pop(remote_id) for remote_id in pushed_ids}
            self.upsert(
                Candidate,
                "candidates",
                rows,
                update_fields=self.CANDIDATE_FIELDS,
                skip_when=self.PENDING_CANDIDATE,
            )
            if pushed:
                for values in pushed.values():
                    values.pop("origin")
                self.upsert(
                    Candidate,
                    "candidates",
                    pushed,
                    update_fields=[
                        f for f in self.CANDIDATE_FIELDS if f not in self.LOCAL_ONLY_FIELDS
                    ],
                    skip_when=self.PENDING_CANDIDATE,
                )

        self.run_pass(
            "candidates", lambda token: self.client.candidate_list(sync_token=token), save_page
        )

    # Applications ------------------------------------------------------------------------

    def _ensure_candidates(self, applications: list[dict]) -> dict[str, int]:
        """Return candidate pks for the page, adding a stub for any candidate not synced yet.

        A candidate created in Ashby after the candidate pass ran is known here only by the
        summary the application carries. The next candidate pass fills in the rest.
        """
        wanted = {
            a["candidate"]["id"]: a["candidate"]
            for a in applications
            if isinstance(a.get("candidate"), dict) and isinstance(a["candidate"].get("id"), str)
        }
        ids = dict(
            self._records(Candidate)
            .filter(remote_id__in=list(wanted))
            .values_list("remote_id", "pk")
        )
        stubs = []
        for remote_id, summary in wanted.items():
            if remote_id in ids:
                continue
            stub = Candidate(
                organization_id=self.organization_id,
                provider=PROVIDER,
                remote_id=remote_id,
                is_linked=True,
                origin=Candidate.Origin.ATS,
                is_visible=False,
                last_synced_at=timezone.now(),
                name=_text(summary.get("name"), 300) or "Unnamed candidate",
                email_addresses=_contacts([summary.get("primaryEmailAddress")]),
                phone_numbers=_contacts([summary.get("primaryPhoneNumber")]),
            )
            stub.refresh_search_text()
            stubs.append(stub)
        if stubs:
            self.changed = True
            Candidate.objects.bulk_create(stubs, ignore_conflicts=True)
            ids.update(
                self._records(Candidate)
                .filter(remote_id__in=[s.remote_id for s in stubs])
                .values_list("remote_id", "pk")
            )
        return ids

    def _ensure_role(self, job: dict) -> int | None:
        """Return the role pk of an application's job, adding a hidden stub if unseen.

        job.list leaves out drafts and, without confidential access, confidential jobs.
        """
        remote_id = job.get("id") if isinstance(job, dict) else None
        if not isinstance(remote_id, str):
            return None
        if remote_id not in self.role_ids:
            role, _ = Role.objects.get_or_create(
                organization_id=self.organization_id,
                provider=PROVIDER,
                remote_id=remote_id,
                defaults={
                    "title": _text(job.get("title"), 300) or "Untitled job",
                    "status": Role.Status.CLOSED,
                    "is_visible": False,
                    "is_linked": True,
                },
            )
            self.role_ids[remote_id] = role.pk
        return self.role_ids[remote_id]

    def sync_applications(self) -> None:
        def save_page(page: list[dict]) -> None:
            candidate_ids = self._ensure_candidates(page)
            rows = {}
            for application in page:
                remote_id = application.get("id")
                candidate = application.get("candidate") or {}
                candidate_pk = candidate_ids.get(candidate.get("id") or "")
                role_pk = self._ensure_role(application.get("job"))
                if not isinstance(remote_id, str) or candidate_pk is None or role_pk is None:
                    logger.warning(
                        "application skipped: no id, candidate or job",
                        extra=self.log_extra(application_id=str(remote_id)[:64]),
                    )
                    continue
                stage = application.get("currentInterviewStage") or {}
                reason = application.get("archiveReason") or {}
                rows[remote_id] = {
                    "candidate_id": candidate_pk,
                    "role_id": role_pk,
                    "stage_id": self.stage_ids.get(stage.get("id") or ""),
                    "status": APPLICATION_STATUSES.get(
                        application.get("status"), Application.Status.ACTIVE
                    ),
                    "archive_reason": _text(reason.get("text"), 300)
                    if isinstance(reason, dict)
                    else "",
                    "applied_at": _datetime(application.get("createdAt")),
                    "archived_at": _datetime(application.get("archivedAt")),
                    "remote_updated_at": _datetime(application.get("updatedAt")),
                }
            self.upsert(
                Application,
                "applications",
                rows,
                update_fields=[
                    "candidate",
                    "role",
                    "stage",
                    "status",
                    "archive_reason",
                    "applied_at",
                    "archived_at",
                ],
                skip_when=Q(push_state=PushState.PENDING),
            )

        self.run_pass(
            "applications", lambda token: self.client.application_list(sync_token=token), save_page
        )

    # Reconciliation and visibility -------------------------------------------------------

    def unlink_unseen(self) -> None:
        """After a full pass, unlink rows Ashby no longer lists (deleted, merged, hidden).

        The rows stay for recruiters' history; unlinked roles and candidates leave the lists.
        """
        cutoff = Q(last_synced_at__lt=self.started_at) | Q(last_synced_at__isnull=True)
        for model, entity in (
            (Role, "roles"),
            (Candidate, "candidates"),
            (Application, "applications"),
        ):
            stale = self._records(model).filter(cutoff, is_linked=True)
            if model is Candidate:
                stale = stale.exclude(origin=Candidate.Origin.LAVALIER)
            extra = {"is_visible": False} if model is not Application else {}
            hidden = stale.update(is_linked=False, **extra)
            self.changed = self.changed or bool(hidden)
            self.recorder.count(entity, hidden=hidden)

    def update_candidate_visibility(self) -> None:
        """Apply Lavalier's visibility rule to this organization's synced candidates."""
        self.recorder.start_entity("visibility")
        shown, hidden = candidate_visibility_update(
            organization_id=self.organization_id, provider=PROVIDER
        )
        self.recorder.count("visibility", created=shown, hidden=hidden)

    # Resumes -----------------------------------------------------------------------------

    def sync_resumes(self) -> None:
        """Download the current resume of each visible candidate that lacks it.

        The file URL comes fresh from file.info for each download and is never stored. A
        file that is too large or not a PDF, DOC or DOCX is refused with a log line, and
        the failure does not stop the run.
        """
        self.recorder.start_entity("resumes")
        # Compared in SQL, so an incremental run does not read every visible candidate.
        candidates = (
            self._records(Candidate)
            .filter(is_visible=True, origin=Candidate.Origin.ATS)
            .exclude(remote_resume={})
            .annotate(listed_resume_id=KeyTextTransform("id", "remote_resume"))
            .exclude(listed_resume_id=F("resume_remote_id"))
            .only("pk", "organization_id", "remote_resume", "resume_remote_id", "resume")
        )
        stored = failed = unchanged = 0
        for candidate in candidates.iterator(chunk_size=200):
            remote = candidate.remote_resume or {}
            if not remote.get("handle"):
                unchanged += 1
                continue
            try:
                self._store_resume(candidate, remote)
                stored += 1
            except AshbyFileTooLarge:
                failed += 1
                self._mark_resume_rejected(candidate, remote)
                logger.warning(
                    "resume rejected: larger than the size limit",
                    extra=self.log_extra(candidate_id=candidate.pk),
                )
            except ValueError as exc:
                failed += 1
                self._mark_resume_rejected(candidate, remote)
                logger.warning(
                    "resume rejected: %s", exc, extra=self.log_extra(candidate_id=candidate.pk)
                )
            except (AshbyAuthError, AshbyPermissionError):
                raise
            except AshbyError as exc:
                failed += 1
                logger.warning(
                    "resume download failed",
                    extra=self.log_extra(candidate_id=candidate.pk, error=type(exc).__name__),
                )
            self.recorder.page_done(1)
        self.recorder.count("resumes", created=stored, unchanged=unchanged, hidden=failed)

    def _mark_resume_rejected(self, candidate: Candidate, remote: dict) -> None:
        """Remember a refused file, so later runs do not download it again until it changes."""
        Candidate.objects.filter(pk=candidate.pk).update(resume_remote_id=remote.get("id", ""))

    def _store_resume(self, candidate: Candidate, remote: dict) -> None:
        info = self.client.file_info(remote["handle"])
        url = info.get("url") if isinstance(info, dict) else None
        if not isinstance(url, str):
            raise ValueError("file.info returned no url")
        content, _ = self.client.download_file(url, max_bytes=MAX_RESUME_BYTES)
        kind = resume_kind(content)
        if kind is None:
            raise ValueError("not a PDF, DOC or DOCX file")
        content_type, extension = kind
        display_name = (
            (remote.get("name") or f"resume{extension}").replace("/", "_").replace("\\", "_")
        )
        old_name = candidate.resume.name if candidate.resume else ""
        candidate.resume.save(f"resume{extension}", ContentFile(content), save=False)
        Candidate.objects.filter(pk=candidate.pk).update(
            resume=candidate.resume.name,
            resume_name=display_name[:255],
            resume_content_type=content_type,
            resume_remote_id=remote.get("id", ""),
        )
        if old_name and old_name != candidate.resume.name:
            candidate.resume.storage.delete(old_name)
