"""Mutable state of one sandbox: the organization, its change sequence, tokens and uploads."""

import hashlib
import random
import threading
import time
import uuid
from collections import Counter
from datetime import datetime

from .data import generate_organization, location_for_place
from .errors import invalid_input, not_found
from .files import FileSigner
from .paging import TokenCodec
from .serialize import Serializer


class RequestContext:
    """The caller's key configuration and request id, passed to every endpoint handler."""

    def __init__(self, key_config, request_id):
        self.confidential_access = bool(key_config.get("confidential"))
        self.key_config = key_config
        self.request_id = request_id


class SandboxState:
    """The organization plus everything that changes while the sandbox runs.

    Every read and write of the organization happens under `lock`. Each write increments
    `seq` and stamps the changed record with it. A sync token stores a `seq`, so an incremental
    pass returns only the records stamped later.
    """

    def __init__(self, seed, jobs, candidates):
        self.seed = seed
        self.org = generate_organization(seed, jobs, candidates)
        self.lock = threading.RLock()
        self.seq = 0
        self.rng = random.Random(f"ashby-sandbox:{seed}:writes")
        secret = hashlib.sha256(f"ashby-sandbox-signing:{seed}".encode()).digest()
        self.codec = TokenCodec(secret)
        self.signer = FileSigner(secret)
        self.serializer = Serializer(self.org)
        self.uploads = {}
        self.base_url = ""
        self.activity_calls = 0
        self.ignored_fields = Counter()

    # Change tracking --------------------------------------------------------------------------

    def new_id(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def touch(self, record):
        """Stamp a changed record with the next change sequence value and a new updatedAt."""
        self.seq += 1
        now = int(time.time() * 1000)
        if isinstance(record, dict):
            record["seq"] = self.seq
            record["updated_ms"] = max(now, record["updated_ms"] + 1)
        else:
            record.seq = self.seq
            record.updated_ms = max(now, record.updated_ms + 1)

    # Visibility -------------------------------------------------------------------------------

    def job_visible(self, job, ctx):
        return ctx.confidential_access or not job["confidential"]

    def application_visible(self, app, ctx):
        return self.job_visible(self.org.job_by_id[app.job_id], ctx)

    def visible_application_ids(self, candidate, ctx):
        if ctx.confidential_access or candidate.public_apps == candidate.total_apps:
            return list(candidate.application_ids)
        apps = self.org.application_by_id
        return [a for a in candidate.application_ids if self.application_visible(apps[a], ctx)]

    def serialize_candidate(self, candidate, ctx):
        return self.serializer.candidate(candidate, self.visible_application_ids(candidate, ctx))

    # Lookups that raise Ashby's errors --------------------------------------------------------

    def get_job(self, job_id, ctx):
        job = self.org.job_by_id.get(job_id) if isinstance(job_id, str) else None
        if not job or not self.job_visible(job, ctx):
            raise not_found("job", job_id)
        return job

    def get_candidate(self, candidate_id, ctx):
        found = (self.org.candidate_by_id.get(candidate_id)
                 if isinstance(candidate_id, str) else None)
        if not found or found.is_hidden(ctx.confidential_access):
            raise not_found("candidate", candidate_id)
        return found

    def get_application(self, application_id, ctx):
        app = (self.org.application_by_id.get(application_id)
               if isinstance(application_id, str) else None)
        if not app or not self.application_visible(app, ctx):
            raise not_found("application", application_id)
        return app

    def check_reference(self, kind, value):
        """Raise `<kind>_not_found` unless `value` is the id of a source, user, department..."""
        table = {"source": self.org.sources, "user": self.org.users,
                 "department": self.org.departments, "location": self.org.locations,
                 "interview_plan": self.org.plans, "archive_reason": self.org.archive_reasons}[kind]
        if not any(row["id"] == value for row in table):
            raise not_found(kind, value)

    def candidate_location(self, value):
        if not isinstance(value, dict):
            raise invalid_input("location must be an object with city, region and country")
        parts = []
        for field in ("city", "region", "country"):
            part = value.get(field, "")
            if part is None:
                part = ""
            if not isinstance(part, str):
                raise invalid_input(f"location.{field} must be a string")
            parts.append(part.strip())
        if not any(parts):
            return None
        location_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "sandbox-location:" + "|".join(parts)))
        return location_for_place(*parts, location_id)


def parse_iso_ms(value, field):
    if not isinstance(value, str):
        raise invalid_input(f"{field} must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_input(f"{field} is not a valid ISO 8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        raise invalid_input(f"{field} must include a time zone, e.g. 2024-05-01T12:00:00Z")
    return int(parsed.timestamp() * 1000)
