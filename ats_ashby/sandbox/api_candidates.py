"""Endpoints for candidates, resumes and files."""

import time

from .errors import AshbyError, invalid_input
from .files import parse_multipart
from .paging import paginate
from .records import Candidate, StoredFile
from .serialize import file_handle_for, file_id_from_handle
from .state import parse_iso_ms
from .validation import field, record_ignored_fields

SOCIAL_LINK_TYPES = ("LinkedIn", "GitHub", "Twitter", "Medium", "StackOverflow", "YouTube",
                     "CodePen", "Website")
SEARCH_LIMIT = 100


def candidate_list(state, body, ctx):
    def matches(candidate, _filters):
        return not candidate.is_hidden(ctx.confidential_access)

    envelope = paginate(state.codec, body, "candidate", state.org.candidates, state.seq, matches,
                        {}, incremental=True)
    envelope["results"] = [state.serialize_candidate(c, ctx) for c in envelope["results"]]
    return envelope


def candidate_info(state, body, ctx):
    candidate_id = field(body, "id", "uuid")
    external_id = field(body, "externalMappingId", "string")
    if not candidate_id and not external_id:
        raise invalid_input("Send id or externalMappingId")
    if not candidate_id:
        # The sandbox has no HRIS mappings.
        raise AshbyError("candidate_not_found",
                         f"No candidate found with externalMappingId {external_id!r}")
    candidate = state.get_candidate(candidate_id, ctx)
    return {"success": True, "results": state.serialize_candidate(candidate, ctx)}


CREATE_FIELDS = ("name", "email", "phoneNumber", "linkedInUrl", "githubUrl", "website",
                 "alternateEmailAddresses", "sourceId", "creditedToUserId", "location",
                 "createdAt")


def candidate_create(state, body, ctx):
    name = field(body, "name", "string", required=True)
    if not name.strip():
        raise invalid_input("name must not be empty")
    email = _email(field(body, "email", "string"), "email")
    phone = field(body, "phoneNumber", "string")
    alternates = field(body, "alternateEmailAddresses", "array") or []
    for index, value in enumerate(alternates):
        _email(value if isinstance(value, str) else None, f"alternateEmailAddresses[{index}]")
        if not isinstance(value, str):
            raise invalid_input(f"alternateEmailAddresses[{index}] must be a string")
    links = [(kind, field(body, name_, "string"))
             for kind, name_ in (("LinkedIn", "linkedInUrl"), ("GitHub", "githubUrl"),
                                 ("Website", "website"))]
    source_id = field(body, "sourceId", "uuid")
    credited_id = field(body, "creditedToUserId", "uuid")
    if source_id:
        state.check_reference("source", source_id)
    if credited_id:
        state.check_reference("user", credited_id)
    location = (state.candidate_location(body["location"])
                if body.get("location") is not None else None)
    created_ms = (parse_iso_ms(body["createdAt"], "createdAt")
                  if body.get("createdAt") is not None else int(time.time() * 1000))
    record_ignored_fields(state, "candidate.create", body, CREATE_FIELDS)

    emails = [(email, "Personal")] if email else []
    emails += [(value, "Other") for value in alternates if value != email]
    candidate = Candidate(
        id=state.new_id(), ord=len(state.org.candidates), name=name.strip(), emails=emails,
        phones=[(phone, "Personal")] if phone else [],
        social_links=[(kind, url) for kind, url in links if url],
        location=location, source_id=source_id, credited_user_id=credited_id,
        application_ids=[], file_ids=[], created_ms=created_ms, updated_ms=created_ms, seq=0,
        public_apps=0, total_apps=0,
    )
    state.org.candidates.append(candidate)
    state.org.candidate_by_id[candidate.id] = candidate
    for value, _kind in candidate.emails:
        state.org.index_email(value, candidate.id)
    state.touch(candidate)
    return {"success": True, "results": state.serialize_candidate(candidate, ctx)}


UPDATE_FIELDS = ("candidateId", "name", "email", "phoneNumber", "linkedInUrl", "githubUrl",
                 "websiteUrl", "alternateEmail", "socialLinks", "sourceId", "creditedToUserId",
                 "location", "createdAt", "sendNotifications")


def candidate_update(state, body, ctx):
    """Apply the fields Ashby's `candidate.update` schema defines.

    `position`, `company` and `school` are not in that schema: like any other unknown field they
    are ignored (and counted in `/_sandbox/stats`), so the stored values do not change.
    """
    candidate = state.get_candidate(field(body, "candidateId", "uuid", required=True), ctx)
    name = field(body, "name", "string")
    email = _email(field(body, "email", "string"), "email")
    alternate = _email(field(body, "alternateEmail", "string"), "alternateEmail")
    phone = field(body, "phoneNumber", "string")
    social_links = _social_links(field(body, "socialLinks", "array"))
    single_links = {kind: field(body, name_, "string")
                    for kind, name_ in (("LinkedIn", "linkedInUrl"), ("GitHub", "githubUrl"),
                                        ("Website", "websiteUrl"))}
    source_id = field(body, "sourceId", "uuid")
    credited_id = field(body, "creditedToUserId", "uuid")
    field(body, "sendNotifications", "boolean")
    if name is not None and not name.strip():
        raise invalid_input("name must not be empty")
    if source_id:
        state.check_reference("source", source_id)
    if credited_id:
        state.check_reference("user", credited_id)
    location = (state.candidate_location(body["location"])
                if body.get("location") is not None else None)
    created_ms = (parse_iso_ms(body["createdAt"], "createdAt")
                  if body.get("createdAt") is not None else None)
    record_ignored_fields(state, "candidate.update", body, UPDATE_FIELDS)

    if name is not None:
        candidate.name = name.strip()
    if email:
        candidate.emails = _with_primary(candidate.emails, email, "Personal")
        state.org.index_email(email, candidate.id)
    if alternate and all(v.lower() != alternate.lower() for v, _ in candidate.emails):
        candidate.emails = candidate.emails + [(alternate, "Other")]
        state.org.index_email(alternate, candidate.id)
    if phone:
        candidate.phones = _with_primary(candidate.phones, phone, "Personal")
    if social_links is not None:
        # Ashby: socialLinks replaces every link, and linkedInUrl/githubUrl/websiteUrl are ignored.
        candidate.social_links = social_links
    else:
        for kind, url in single_links.items():
            if url is None:
                continue
            kept = [(k, u) for k, u in candidate.social_links if k != kind]
            candidate.social_links = kept + ([(kind, url)] if url else [])
    if source_id:
        candidate.source_id = source_id
    if credited_id:
        candidate.credited_user_id = credited_id
    if "location" in body:
        candidate.location = location
    if created_ms is not None:
        candidate.created_ms = created_ms
    state.touch(candidate)
    return {"success": True, "results": state.serialize_candidate(candidate, ctx)}


def candidate_search(state, body, ctx):
    email = field(body, "email", "string")
    name = field(body, "name", "string")
    if not email and not name:
        raise invalid_input("Send email and/or name to search for candidates")
    if email:
        ids = state.org.email_index.get(email.strip().lower(), set())
        pool = sorted((state.org.candidate_by_id[i] for i in ids), key=lambda c: c.ord)
        # The index keeps old addresses; check the candidate still has this one.
        pool = [c for c in pool if any(v.lower() == email.strip().lower() for v, _ in c.emails)]
    else:
        pool = state.org.candidates
    needle = name.strip().lower() if name else None
    results = []
    for candidate in pool:
        if candidate.is_hidden(ctx.confidential_access):
            continue
        if needle and needle not in candidate.name.lower():
            continue
        results.append(state.serialize_candidate(candidate, ctx))
        if len(results) == SEARCH_LIMIT:
            break
    return {"success": True, "results": results}


def candidate_upload_resume(state, body, ctx):
    candidate = state.get_candidate(field(body, "candidateId", "uuid", required=True), ctx)
    handle = field(body, "resumeHandle", "string", required=True)
    file_id = file_id_from_handle(handle)
    upload = state.uploads.get(file_id) if file_id else None
    if not upload or upload["context"] != "CandidateResume":
        raise invalid_input("resumeHandle does not come from file.createFileUploadHandle with "
                            "fileUploadContext CandidateResume")
    stored = state.org.files.get(file_id)
    if stored is None:
        raise invalid_input("The file for resumeHandle has not been uploaded yet; POST it to "
                            "the upload url first")
    attach_resume(state, candidate, stored)
    return {"success": True, "results": state.serialize_candidate(candidate, ctx)}


def candidate_upload_resume_multipart(state, content_type, raw, ctx):
    """Handle the deprecated multipart form of `candidate.uploadResume`.

    The form has a `candidateId` field and a `resume` file part.
    """
    try:
        parts = parse_multipart(content_type, raw)
    except ValueError as exc:
        raise invalid_input(f"Invalid multipart/form-data body: {exc}") from None
    values = {name: (filename, data) for name, filename, data in parts}
    if "candidateId" not in values or "resume" not in values:
        raise invalid_input("Multipart upload needs a candidateId field and a resume file part")
    candidate_id = values["candidateId"][1].decode("utf-8", "replace")
    candidate = state.get_candidate(candidate_id, ctx)
    filename, data = values["resume"]
    stored = StoredFile(state.new_id(), filename or "resume.pdf", "application/pdf", data)
    state.org.files[stored.id] = stored
    attach_resume(state, candidate, stored)
    return {"success": True, "results": state.serialize_candidate(candidate, ctx)}


def attach_resume(state, candidate, stored):
    # Ashby parses the resume but keeps existing candidate data; the sandbox parses nothing.
    stored.candidate_id = candidate.id
    candidate.resume_file_id = stored.id
    if stored.id not in candidate.file_ids:
        candidate.file_ids = candidate.file_ids + [stored.id]
    state.touch(candidate)


def file_create_upload_handle(state, body, ctx):
    context = field(body, "fileUploadContext", "string", required=True,
                    enum=("CandidateResume", "CandidateFiles", "ApplicationForm"))
    filename = field(body, "filename", "string", required=True)
    content_type = field(body, "contentType", "string", required=True)
    length = field(body, "contentLength", "integer", required=True)
    if length < 0:
        raise invalid_input("contentLength must not be negative")
    upload_id = state.new_id()
    state.uploads[upload_id] = {"context": context, "filename": filename,
                                "content_type": content_type, "length": length}
    return {"success": True, "results": {
        "handle": file_handle_for(upload_id),
        "url": f"{state.base_url}/_sandbox/uploads/{upload_id}",
        "fields": state.signer.upload_fields(upload_id, content_type),
    }}


def file_info(state, body, ctx):
    handle = field(body, "fileHandle", "string", required=True)
    file_id = file_id_from_handle(handle)
    stored = state.org.files.get(file_id) if file_id else None
    owner = state.org.candidate_by_id.get(stored.candidate_id) if stored else None
    if not stored or not owner or owner.is_hidden(ctx.confidential_access):
        raise AshbyError("file_not_found", "No file found for this fileHandle")
    return {"success": True, "results": {"url": state.signer.download_url(state.base_url,
                                                                          stored.id)}}


def _email(value, name):
    if value is None:
        return None
    value = value.strip()
    local, _, domain = value.partition("@")
    if not local or "." not in domain:
        raise invalid_input(f"{name} is not a valid email address: {value!r}")
    return value


def _with_primary(entries, value, kind):
    rest = [(v, k) for v, k in entries if v.lower() != value.lower()]
    existing = next((k for v, k in entries if v.lower() == value.lower()), kind)
    return [(value, existing)] + rest


def _social_links(value):
    if value is None:
        return None
    links = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise invalid_input(f"socialLinks[{index}] must be an object with type and url")
        kind = field(item, "type", "string", required=True, enum=SOCIAL_LINK_TYPES)
        url = field(item, "url", "string", required=True)
        links.append((kind, url))
    return links


HANDLERS = {
    "candidate.list": candidate_list,
    "candidate.info": candidate_info,
    "candidate.create": candidate_create,
    "candidate.update": candidate_update,
    "candidate.search": candidate_search,
    "candidate.uploadResume": candidate_upload_resume,
    "file.createFileUploadHandle": file_create_upload_handle,
    "file.info": file_info,
}
