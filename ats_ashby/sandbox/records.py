"""Record types for the sandbox's in-memory organization.

Candidates and applications are the bulk of the data (hundreds of thousands in a benchmark), so
they are slotted classes; reference data (jobs, stages, users...) stays in plain dicts shaped
like Ashby's responses. Times are integers in milliseconds since the Unix epoch. `seq` is the
value of the organization's change sequence when the record last changed (0 for generated data).
"""


class Candidate:
    __slots__ = (
        "id", "ord", "name", "emails", "phones", "social_links", "position", "company", "school",
        "location", "source_id", "credited_user_id", "application_ids", "resume_file_id",
        "file_ids", "created_ms", "updated_ms", "seq", "timezone", "public_apps", "total_apps",
    )

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    def is_hidden(self, confidential_access):
        """Whether a key without confidential access must not see this candidate.

        Ashby hides candidates whose every application is on a confidential job.
        """
        return not confidential_access and self.total_apps > 0 and self.public_apps == 0


class Application:
    __slots__ = (
        "id", "ord", "candidate_id", "job_id", "plan_id", "stage_id", "status", "source_id",
        "archive_reason_id", "archived_ms", "prev_stage_id", "credited_user_id", "created_ms",
        "updated_ms", "seq", "history",
    )

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))


class StoredFile:
    """A file the sandbox can serve: a generated resume (`data` is None) or an upload."""

    __slots__ = ("id", "name", "content_type", "data", "candidate_id")

    def __init__(self, id, name, content_type="application/pdf", data=None, candidate_id=None):
        self.id = id
        self.name = name
        self.content_type = content_type
        self.data = data
        self.candidate_id = candidate_id


class Organization:
    """All state of one sandbox organization; `SandboxState` owns it and its lock."""

    def __init__(self):
        self.departments = []
        self.locations = []
        self.users = []
        self.source_types = []
        self.sources = []
        self.archive_reasons = []
        self.plans = []
        self.stages_by_plan = {}
        self.stage_by_id = {}
        self.jobs = []
        self.job_by_id = {}
        self.postings = []
        self.posting_by_id = {}
        self.candidates = []
        self.candidate_by_id = {}
        self.applications = []
        self.application_by_id = {}
        self.files = {}
        self.email_index = {}

    def index_email(self, email, candidate_id):
        self.email_index.setdefault(email.lower(), set()).add(candidate_id)
