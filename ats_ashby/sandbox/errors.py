"""Error type that endpoint code raises to produce Ashby's error envelope."""


class AshbyError(Exception):
    """A failed API call, turned into `{"success": false, "errors": [...], "errorInfo": {...}}`.

    `status` is the HTTP status. Ashby returns most business errors with 200, so that is the
    default. Authentication and permission errors and rate limits use 401, 403 and 429.
    """

    def __init__(self, code, message, status=200, headers=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.headers = headers or {}


def invalid_input(message):
    return AshbyError("invalid_input", message)


def not_found(entity, value):
    # NOTE: Ashby documents `application_not_found`, `interview_stage_not_found`,
    # `interview_plan_not_found` and `archive_reason_not_found`; the other `<entity>_not_found`
    # codes follow the same pattern but are not confirmed against a live account.
    label = entity.replace("_", " ")
    return AshbyError(f"{entity}_not_found", f"No {label} found with id {value!r}")
