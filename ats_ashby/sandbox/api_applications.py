"""Endpoints for applications: list, info, create and stage changes."""

import time

from .errors import AshbyError, invalid_input
from .paging import paginate
from .records import Application
from .state import parse_iso_ms
from .validation import field, record_ignored_fields

APPLICATION_STATUSES = ("Hired", "Archived", "Active", "Lead")
STATUS_BY_STAGE_TYPE = {"Lead": "Lead", "Hired": "Hired", "Archived": "Archived"}


def status_for_stage(stage):
    return STATUS_BY_STAGE_TYPE.get(stage["type"], "Active")


def application_list(state, body, ctx):
    filters = {
        "status": field(body, "status", "string", enum=APPLICATION_STATUSES),
        "jobId": field(body, "jobId", "uuid"),
        "createdAfter": field(body, "createdAfter", "integer"),
    }
    expand = field(body, "expand", "array", enum=("openings",)) or []
    jobs = state.org.job_by_id

    def matches(app, f):
        if not ctx.confidential_access and jobs[app.job_id]["confidential"]:
            return False
        if f["status"] and app.status != f["status"]:
            return False
        if f["jobId"] and app.job_id != f["jobId"]:
            return False
        return not (f["createdAfter"] is not None and app.created_ms <= f["createdAfter"])

    envelope = paginate(state.codec, body, "application", state.org.applications, state.seq,
                        matches, filters, incremental=True)
    envelope["results"] = [state.serializer.application(a, expand) for a in envelope["results"]]
    return envelope


def application_info(state, body, ctx):
    application_id = field(body, "applicationId", "uuid")
    form_instance_id = field(body, "submittedFormInstanceId", "uuid")
    expand = field(body, "expand", "array",
                   enum=("openings", "applicationFormSubmissions", "referrals")) or []
    if not application_id and not form_instance_id:
        raise invalid_input("Send applicationId or submittedFormInstanceId")
    if not application_id:
        # The sandbox has no submitted application forms.
        raise AshbyError("application_not_found",
                         f"No application found for submitted form {form_instance_id!r}")
    app = state.get_application(application_id, ctx)
    return {"success": True, "results": state.serializer.application(app, expand, detail=True)}


APPLICATION_CREATE_FIELDS = ("candidateId", "jobId", "interviewPlanId", "interviewStageId",
                             "sourceId", "creditedToUserId", "createdAt", "applicationHistory")


def application_create(state, body, ctx):
    candidate = state.get_candidate(field(body, "candidateId", "uuid", required=True), ctx)
    job = state.get_job(field(body, "jobId", "uuid", required=True), ctx)
    plan_id = field(body, "interviewPlanId", "uuid") or job["defaultInterviewPlanId"]
    stage_value = field(body, "interviewStageId", "string")
    source_id = field(body, "sourceId", "uuid")
    credited_id = field(body, "creditedToUserId", "uuid")
    created_at = body.get("createdAt")
    field(body, "applicationHistory", "array")
    if plan_id not in job["interviewPlanIds"]:
        raise AshbyError("interview_plan_not_found",
                         f"Interview plan {plan_id!r} is not a plan of job {job['id']!r}")
    stage = _initial_stage(state, plan_id, stage_value)
    if source_id:
        state.check_reference("source", source_id)
    if credited_id:
        state.check_reference("user", credited_id)
    created_ms = parse_iso_ms(created_at, "createdAt") if created_at is not None else None
    for app_id in candidate.application_ids:
        if state.org.application_by_id[app_id].job_id == job["id"]:
            # NOTE: Ashby allows one application per candidate and job; the exact error code it
            # returns for a duplicate is not documented, so this code is the sandbox's choice.
            raise AshbyError("application_already_exists",
                             f"Candidate {candidate.id!r} already has application {app_id!r} "
                             f"for job {job['id']!r}")
    record_ignored_fields(state, "application.create", body, APPLICATION_CREATE_FIELDS)

    now_ms = int(time.time() * 1000)
    app = Application(
        id=state.new_id(), ord=len(state.org.applications), candidate_id=candidate.id,
        job_id=job["id"], plan_id=plan_id, stage_id=stage["id"], status=status_for_stage(stage),
        source_id=source_id or candidate.source_id, credited_user_id=credited_id,
        created_ms=created_ms or now_ms, updated_ms=created_ms or now_ms, seq=0,
        history=[(stage["id"], created_ms or now_ms)],
    )
    state.org.applications.append(app)
    state.org.application_by_id[app.id] = app
    candidate.application_ids.append(app.id)
    candidate.total_apps += 1
    if not job["confidential"]:
        candidate.public_apps += 1
    state.touch(app)
    state.touch(candidate)
    return {"success": True, "results": state.serializer.application(app)}


def _initial_stage(state, plan_id, stage_value):
    stages = sorted(state.org.stages_by_plan[plan_id], key=lambda s: s["orderInInterviewPlan"])
    if stage_value in (None, "FirstPreInterviewScreen"):
        wanted = "Lead" if stage_value is None else "PreInterviewScreen"
        stage = next((s for s in stages if s["type"] == wanted), stages[0])
    else:
        stage = next((s for s in stages if s["id"] == stage_value), None)
        if stage is None:
            raise AshbyError("interview_stage_not_found",
                             f"No interview stage {stage_value!r} in interview plan {plan_id!r}")
    if stage["type"] == "Archived":
        raise invalid_input("A new application cannot start in an archive stage; create it, then "
                            "archive it with application.changeStage")
    return stage


CHANGE_STAGE_FIELDS = ("applicationId", "interviewStageId", "archiveReasonId", "archiveEmail")


def application_change_stage(state, body, ctx):
    app = state.get_application(field(body, "applicationId", "uuid", required=True), ctx)
    stage_id = field(body, "interviewStageId", "uuid", required=True)
    reason_id = field(body, "archiveReasonId", "uuid")
    archive_email = field(body, "archiveEmail", "object")
    stage = state.org.stage_by_id.get(stage_id)
    if stage is None or stage["interviewPlanId"] != app.plan_id:
        raise AshbyError("interview_stage_not_found",
                         f"No interview stage {stage_id!r} in the application's interview plan")
    if stage["type"] == "Archived":
        if not reason_id:
            raise invalid_input("Archive reason ID is required for archive stages")
        state.check_reference("archive_reason", reason_id)
        if archive_email is not None:
            template_id = field(archive_email, "communicationTemplateId", "uuid", required=True)
            # The sandbox has no communication templates, so every template id is unknown.
            raise AshbyError("communication_template_not_found",
                             f"No communication template found with id {template_id!r}")
    elif reason_id or archive_email is not None:
        raise invalid_input("Archive fields are not allowed for non-archive stages")
    record_ignored_fields(state, "application.changeStage", body, CHANGE_STAGE_FIELDS)
    move_application(state, app, stage, reason_id)
    return {"success": True, "results": state.serializer.application(app)}


def move_application(state, app, stage, reason_id=None):
    """Move `app` to `stage`, keeping status, archive fields and history consistent."""
    if app.history is None:
        app.history = [(entry["stageId"], _entered_ms(entry))
                       for entry in state.serializer.application_history(app)]
    now_ms = int(time.time() * 1000)
    if stage["type"] == "Archived":
        app.prev_stage_id = app.stage_id
        app.archive_reason_id = reason_id
        app.archived_ms = now_ms
    else:
        app.prev_stage_id = None
        app.archive_reason_id = None
        app.archived_ms = None
    app.stage_id = stage["id"]
    app.status = status_for_stage(stage)
    app.history.append((stage["id"], now_ms))
    state.touch(app)


def _entered_ms(entry):
    return parse_iso_ms(entry["enteredStageAt"], "enteredStageAt")


HANDLERS = {
    "application.list": application_list,
    "application.info": application_info,
    "application.create": application_create,
    "application.changeStage": application_change_stage,
}
