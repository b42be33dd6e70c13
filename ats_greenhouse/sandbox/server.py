"""HTTP handling of the Greenhouse sandbox: the token endpoint, Harvest v3 routes, files
and the control API under /_sandbox/."""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from .state import DEFAULT_CREDENTIALS, SandboxState

logger = logging.getLogger(__name__)

MAX_PER_PAGE = 500
DEFAULT_PER_PAGE = 100
MAX_IDS = 50
# Filters each list accepts besides ids, created_at, updated_at, per_page, fields, cursor.
LIST_FILTERS = {
    "jobs": {"status": "status", "department_ids": "department_id"},
    "job_posts": {"job_ids": "job_id"},
    "job_interview_stages": {"job_ids": "job_id"},
    "applications": {
        "job_ids": "job_id",
        "candidate_ids": "candidate_id",
        "status": "status",
        "stage_ids": "stage_id",
        "source_ids": "source_id",
    },
    "candidates": {},
    "attachments": {
        "application_ids": "application_id",
        "candidate_ids": "candidate_id",
        "type": "type",
    },
    "sources": {},
    "rejection_reasons": {},
    "departments": {},
    "offices": {},
    "users": {},
}
COMMON_PARAMETERS = {"ids", "created_at", "updated_at", "per_page", "fields"}
CONTACT_FIELDS = (
    "email_addresses",
    "phone_numbers",
    "addresses",
    "website_addresses",
    "social_media_addresses",
)
CANDIDATE_TEXT_FIELDS = ("first_name", "last_name", "company", "title")
ID_LIST_FIELDS = {
    "job_ids",
    "candidate_ids",
    "application_ids",
    "stage_ids",
    "source_ids",
    "department_ids",
    "ids",
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list | None = None,
        headers: dict | None = None,
        body: dict | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.body = body or {"message": message, "errors": errors or []}
        self.headers = headers or {}


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _time_filter(name: str, raw: str):
    operator, _, moment = raw.partition("|")
    if operator not in ("gte", "gt", "lte", "lt") or not moment:
        raise ApiError(422, f"Invalid {name} filter; expected <gte|gt|lte|lt>|<ISO 8601 time>")
    try:
        bound = _parse_time(moment)
    except ValueError:
        raise ApiError(422, f"Invalid time in {name} filter: {moment}") from None
    compare = {
        "gte": lambda v: v >= bound,
        "gt": lambda v: v > bound,
        "lte": lambda v: v <= bound,
        "lt": lambda v: v < bound,
    }[operator]
    return lambda record: record.get(name) is not None and compare(_parse_time(record[name]))


def _int_list(name: str, raw: str) -> set[int]:
    try:
        values = {int(part) for part in raw.split(",") if part.strip()}
    except ValueError:
        raise ApiError(422, f"{name} must be comma-separated integers") from None
    if len(values) > MAX_IDS:
        raise ApiError(422, f"{name} accepts at most {MAX_IDS} ids")
    return values


class Handler(BaseHTTPRequestHandler):
    server_version = "GreenhouseSandbox/1.0"
    protocol_version = "HTTP/1.1"

    @property
    def state(self) -> SandboxState:
        return self.server.state  # type: ignore[attr-defined]

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by http.server
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # Plumbing ----------------------------------------------------------------------------

    def _base_url(self) -> str:
        return f"http://{self.headers.get('Host') or '%s:%d' % self.server.server_address[:2]}"

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self, raw: bytes) -> dict:
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise ApiError(400, "The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise ApiError(422, "The request body must be a JSON object")
        return body

    def _send(
        self,
        status: int,
        payload,
        headers: dict | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> None:
        body = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Date", formatdate(usegmt=True))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(body)

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        raw = self._read_body()
        try:
            if path.startswith("/_sandbox"):
                with self.state.lock:
                    status, payload = self._control(method, path, query, raw)
                self._send(status, payload)
                return
            if path.startswith("/_files/"):
                self._serve_file(path, query)
                return
            self._api(method, path, query, raw)
        except ApiError as exc:
            self._send(exc.status, exc.body, exc.headers)
        except Exception:  # the sandbox must respond, never hang a test
            logger.exception("sandbox request failed: %s %s", method, path)
            self._send(500, {"message": "Sandbox internal error"})

    # API ---------------------------------------------------------------------------------

    def _label(self, method: str, path: str) -> str:
        parts = [p for p in path.split("/") if p]
        if parts and parts[0] == "v3":
            parts = parts[1:]
        named = ["{id}" if p.isdigit() else p for p in parts]
        return f"{method} /" + "/".join(named)

    def _api(self, method: str, path: str, query: dict, raw: bytes) -> None:
        label = self._label(method, path)
        state = self.state
        with state.lock:
            state.stats[label] += 1
            state.requests.append({"label": label, "query": {k: v[-1] for k, v in query.items()}})
            fault = self._take_fault(label)
            limited = self._rate_limited()
        if limited is not None:
            raise ApiError(429, "Rate limit exceeded", headers=limited)
        if fault is not None and fault.get("timeout"):
            time.sleep(float(fault["timeout"]))
        if fault is not None and not fault.get("after_store"):
            self._send_fault(fault)
            return
        with state.lock:
            status, payload, headers = self._route(method, path, query, raw, label)
        if fault is not None:
            self._send_fault(fault)
            return
        headers = {**headers, **self._rate_headers()}
        self._send(status, payload, headers)

    def _send_fault(self, fault: dict) -> None:
        if fault.get("malformed"):
            self._send(200, None, raw=b"{not json", content_type="application/json")
            return
        status = int(fault.get("status", 500))
        headers = (
            {"Retry-After": fault["retry_after"]} if fault.get("retry_after") is not None else {}
        )
        self._send(status, {"message": f"Injected failure {status}"}, headers)

    def _take_fault(self, label: str) -> dict | None:
        for fault in self.state.faults:
            endpoints = fault.get("endpoints") or []
            if endpoints and label not in endpoints:
                continue
            fault["count"] = int(fault.get("count", 1)) - 1
            if fault["count"] <= 0:
                self.state.faults.remove(fault)
            return fault
        return None

    def _rate_limited(self) -> dict | None:
        state = self.state
        if state.rate_limit is None:
            return None
        now = time.time()
        while state.hits and state.hits[0] <= now - state.rate_window:
            state.hits.popleft()
        if len(state.hits) >= state.rate_limit:
            reset = state.hits[0] + state.rate_window
            return {
                "Retry-After": max(1, int(reset - now + 0.999)),
                "X-RateLimit-Reset": int(reset),
            }
        state.hits.append(now)
        return None

    def _rate_headers(self) -> dict:
        state = self.state
        if state.rate_limit is None:
            return {}
        return {
            "X-RateLimit-Limit": state.rate_limit,
            "X-RateLimit-Remaining": max(0, state.rate_limit - len(state.hits)),
        }

    def _route(self, method: str, path: str, query: dict, raw: bytes, label: str):
        if label == "POST /token":
            return self._token(raw)
        if label == "POST /introspect":
            return self._introspect(raw)
        if not path.startswith("/v3/"):
            raise ApiError(404, f"No route {method} {path}")
        token_info = self._authenticate()
        parts = [p for p in path.split("/") if p][1:]
        resource = parts[0]
        if resource not in LIST_FILTERS:
            raise ApiError(404, f"No resource {resource}")
        if method == "GET":
            self._require(token_info, f"harvest:{resource}:list")
            if len(parts) == 1:
                return self._list(resource, query)
            record = self._get(resource, parts[1])
            return 200, self._serialize(resource, record), {}
        body = self._json_body(raw)
        if label == "POST /candidates":
            self._require(token_info, "harvest:candidates:create")
            return 201, self._candidate_write(None, body), {}
        if label == "PATCH /candidates/{id}":
            self._require(token_info, "harvest:candidates:update")
            return 200, self._candidate_write(self._get("candidates", parts[1]), body), {}
        if label == "PATCH /jobs/{id}":
            self._require(token_info, "harvest:jobs:update")
            return 200, self._job_update(self._get("jobs", parts[1]), body), {}
        if label == "POST /applications":
            self._require(token_info, "harvest:applications:create")
            return 201, self._application_create(body), {}
        if label == "POST /applications/{id}/move":
            self._require(token_info, "harvest:applications:move")
            return 200, self._application_move(self._get("applications", parts[1]), body), {}
        if label == "POST /attachments":
            self._require(token_info, "harvest:attachments:create")
            return 201, self._attachment_create(body), {}
        raise ApiError(404, f"No route {method} {path}")

    def _authenticate(self) -> dict:
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "Missing bearer token")
        info = self.state.token_info(token.strip())
        if info is None:
            raise ApiError(401, "The access token is invalid or expired")
        return info

    def _require(self, token_info: dict, scope: str) -> None:
        if scope not in token_info["scopes"]:
            raise ApiError(
                403,
                f"The access token is missing the scope {scope}",
                errors=[{"message": "missing scope", "field": scope}],
            )

    def _token(self, raw: bytes):
        header = self.headers.get("Authorization") or ""
        scheme, _, encoded = header.partition(" ")
        client_id = secret = ""
        if scheme.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                pass
        config = self.state.credentials.get(client_id)
        if config is None or config.get("secret") != secret or config.get("revoked"):
            raise ApiError(
                401,
                "invalid_client",
                body={
                    "error": "invalid_client",
                    "error_description": "Client authentication failed.",
                },
            )
        form = {k: v[-1] for k, v in parse_qs(raw.decode(errors="replace")).items()}
        if form.get("grant_type") != "client_credentials":
            raise ApiError(
                400,
                "unsupported_grant_type",
                body={
                    "error": "unsupported_grant_type",
                    "error_description": "Only grant_type=client_credentials is supported.",
                },
            )
        sub = form.get("sub")
        if sub is not None:
            user = self.state.db["users"].get(int(sub)) if sub.isdigit() else None
            if user is None or user.get("disabled"):
                raise ApiError(
                    400,
                    "invalid_grant",
                    body={
                        "error": "invalid_grant",
                        "error_description": f"No active Greenhouse user has the id {sub}.",
                    },
                )
        return (
            200,
            self.state.issue_token(client_id, int(sub) if sub else None),
            {"Cache-Control": "no-store"},
        )

    def _introspect(self, raw: bytes):
        form = {k: v[-1] for k, v in parse_qs(raw.decode(errors="replace")).items()}
        info = self.state.token_info(form.get("token", ""))
        if info is None:
            return 200, {"active": False}, {}
        return (
            200,
            {
                "active": True,
                "scope": " ".join(info["scopes"]),
                "sub": info["sub"],
                "client_id": info["client_id"],
                "exp": int(info["expires"]),
            },
            {},
        )

    # Lists -------------------------------------------------------------------------------

    def _list(self, resource: str, query: dict):
        params = {name: values[-1] for name, values in query.items()}
        if "cursor" in params:
            if len(params) != 1:
                raise ApiError(422, "cursor must be the only query parameter")
            try:
                decoded = json.loads(
                    base64.urlsafe_b64decode(params["cursor"] + "=" * (-len(params["cursor"]) % 4))
                )
                params, after = decoded["q"], int(decoded["after"])
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise ApiError(422, "Invalid cursor") from None
        else:
            after = 0
        allowed = COMMON_PARAMETERS | set(LIST_FILTERS[resource])
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise ApiError(422, f"Unknown parameter(s): {', '.join(unknown)}")
        try:
            per_page = int(params.get("per_page", DEFAULT_PER_PAGE))
        except ValueError:
            raise ApiError(422, "per_page must be an integer") from None
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ApiError(422, f"per_page must be between 1 and {MAX_PER_PAGE}")

        checks = []
        for name, raw_value in params.items():
            if name in ("created_at", "updated_at"):
                checks.append(_time_filter(name, raw_value))
            elif name == "ids":
                wanted = _int_list(name, raw_value)
                checks.append(lambda r, wanted=wanted: r["id"] in wanted)
            elif name in LIST_FILTERS[resource]:
                field = LIST_FILTERS[resource][name]
                if name in ID_LIST_FIELDS:
                    wanted = _int_list(name, raw_value)
                else:
                    wanted = set(raw_value.split(","))
                checks.append(lambda r, field=field, wanted=wanted: r.get(field) in wanted)
        records = sorted(
            (
                r
                for r in self.state.db[resource].values()
                if r["id"] > after and all(c(r) for c in checks)
            ),
            key=lambda r: r["id"],
        )
        page = records[:per_page]
        headers = {}
        if len(records) > per_page:
            cursor = (
                base64.urlsafe_b64encode(
                    json.dumps({"q": params, "after": page[-1]["id"]}).encode()
                )
                .rstrip(b"=")
                .decode()
            )
            url = f"{self._base_url()}/v3/{resource}?{urlencode({'cursor': cursor})}"
            headers["Link"] = f'<{url}>; rel="next"'
        fields = [f for f in params.get("fields", "").split(",") if f]
        if len(fields) > 50:
            raise ApiError(422, "fields accepts at most 50 names")
        body = [self._serialize(resource, r, fields) for r in page]
        return 200, body, headers

    def _get(self, resource: str, raw_id: str) -> dict:
        record = self.state.db[resource].get(int(raw_id)) if raw_id.isdigit() else None
        if record is None:
            raise ApiError(
                404, f"{resource[:-1].replace('_', ' ').capitalize()} {raw_id} not found"
            )
        return record

    def _serialize(self, resource: str, record: dict, fields: list[str] | None = None) -> dict:
        out = json.loads(json.dumps(record))
        if resource == "attachments":
            out["url"] = self.state.file_url(self._base_url(), record["id"])
        if fields:
            out = {key: value for key, value in out.items() if key in fields or key == "id"}
        return out

    # Writes ------------------------------------------------------------------------------

    def _candidate_write(self, candidate: dict | None, body: dict) -> dict:
        allowed = set(CANDIDATE_TEXT_FIELDS) | set(CONTACT_FIELDS) | {"tags", "private"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ApiError(
                422,
                "Unknown candidate field(s)",
                errors=[{"message": "is not a writable field", "field": f} for f in unknown],
            )
        for name in CANDIDATE_TEXT_FIELDS:
            if name in body and not (body[name] is None or isinstance(body[name], str)):
                raise ApiError(
                    422, "Invalid field", errors=[{"message": "must be a string", "field": name}]
                )
        for name in CONTACT_FIELDS:
            entries = body.get(name)
            if name in body and (
                not isinstance(entries, list)
                or not all(
                    isinstance(e, dict) and isinstance(e.get("value"), str) and e["value"]
                    for e in entries
                )
            ):
                raise ApiError(
                    422,
                    "Invalid field",
                    errors=[{"message": "must be a list of {value, type}", "field": name}],
                )
        if candidate is None:
            for name in ("first_name", "last_name"):
                if not body.get(name):
                    raise ApiError(
                        422, "Missing field", errors=[{"message": "is required", "field": name}]
                    )
            now = datetime.now(UTC)
            from .data import timestamp

            candidate = {
                "id": self.state.ids.take("candidates"),
                "first_name": "",
                "last_name": "",
                "company": None,
                "title": None,
                "private": False,
                "can_email": True,
                "time_zone": None,
                "tags": [],
                **{name: [] for name in CONTACT_FIELDS},
                "custom_fields": {},
                "created_at": timestamp(now),
                "updated_at": timestamp(now),
            }
            self.state.db["candidates"][candidate["id"]] = candidate
        candidate.update(json.loads(json.dumps(body)))
        self.state.touch(candidate)
        return self._serialize("candidates", candidate)

    def _job_update(self, job: dict, body: dict) -> dict:
        allowed = {"name", "requisition_id", "department_id", "office_ids", "custom_fields"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ApiError(
                422,
                "Unknown job field(s)",
                errors=[{"message": "is not a writable field", "field": f} for f in unknown],
            )
        if "name" in body and not (isinstance(body["name"], str) and body["name"].strip()):
            raise ApiError(
                422, "Invalid field", errors=[{"message": "can't be blank", "field": "name"}]
            )
        if (
            "department_id" in body
            and body["department_id"] is not None
            and body["department_id"] not in self.state.db["departments"]
        ):
            raise ApiError(
                422,
                "Invalid field",
                errors=[{"message": "unknown department", "field": "department_id"}],
            )
        if "office_ids" in body and not all(
            o in self.state.db["offices"] for o in body["office_ids"] or []
        ):
            raise ApiError(
                422, "Invalid field", errors=[{"message": "unknown office", "field": "office_ids"}]
            )
        for key, value in (body.pop("custom_fields", None) or {}).items():
            if key not in job["custom_fields"]:
                raise ApiError(
                    422, "Invalid field", errors=[{"message": "unknown custom field", "field": key}]
                )
            job["custom_fields"][key]["value"] = value
        job.update(body)
        self.state.touch(job)
        return self._serialize("jobs", job)

    def _application_create(self, body: dict) -> dict:
        allowed = {"candidate_id", "job_id", "source_id", "initial_stage_id", "prospect"}
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise ApiError(
                422,
                "Unknown application field(s)",
                errors=[{"message": "is not a writable field", "field": f} for f in unknown],
            )
        if body.get("candidate_id") not in self.state.db["candidates"]:
            raise ApiError(
                422,
                "Invalid field",
                errors=[{"message": "unknown candidate", "field": "candidate_id"}],
            )
        prospect = bool(body.get("prospect"))
        job_id = body.get("job_id")
        if job_id is None and not prospect:
            raise ApiError(
                422, "Missing field", errors=[{"message": "is required", "field": "job_id"}]
            )
        stage = None
        if job_id is not None:
            job = self.state.db["jobs"].get(job_id)
            if job is None or job["status"] != "open":
                raise ApiError(
                    422, "Invalid field", errors=[{"message": "job is not open", "field": "job_id"}]
                )
            if not prospect and any(
                a["candidate_id"] == body["candidate_id"] and a["job_id"] == job_id
                for a in self.state.db["applications"].values()
            ):
                raise ApiError(
                    422,
                    "The candidate already has an application for this job",
                    errors=[{"message": "has already been taken", "field": "job_id"}],
                )
            if body.get("initial_stage_id") is not None:
                stage = next(
                    (
                        s
                        for s in self.state.stages_of(job_id)
                        if s["id"] == body["initial_stage_id"]
                    ),
                    None,
                )
                if stage is None:
                    raise ApiError(
                        422,
                        "Invalid field",
                        errors=[{"message": "not a stage of the job", "field": "initial_stage_id"}],
                    )
        if body.get("source_id") is not None and body["source_id"] not in self.state.db["sources"]:
            raise ApiError(
                422, "Invalid field", errors=[{"message": "unknown source", "field": "source_id"}]
            )
        application = self.state.create_application(
            body["candidate_id"],
            job_id,
            stage=stage,
            source_id=body.get("source_id"),
            prospect=prospect,
        )
        return self._serialize("applications", application)

    def _application_move(self, application: dict, body: dict) -> dict:
        if application["prospect"] or application["status"] != "active":
            raise ApiError(422, "Only active candidate applications can be moved")
        stages = self.state.stages_of(application["job_id"])
        target_id = body.get("to_stage_id")
        if body.get("to_job_id") not in (None, application["job_id"]):
            raise ApiError(422, "Moving to another job is not supported by the sandbox")
        if target_id is None:
            index = next(i for i, s in enumerate(stages) if s["id"] == application["stage_id"])
            if index + 1 >= len(stages):
                raise ApiError(422, "The application is in the last stage")
            target_id = stages[index + 1]["id"]
        if target_id not in {s["id"] for s in stages}:
            raise ApiError(
                422,
                "Invalid field",
                errors=[{"message": "not a stage of the job", "field": "to_stage_id"}],
            )
        application["stage_id"] = target_id
        self.state.touch(application)
        return self._serialize("applications", application)

    def _attachment_create(self, body: dict) -> dict:
        application = self.state.db["applications"].get(body.get("application_id"))
        if application is None:
            raise ApiError(
                422,
                "Invalid field",
                errors=[{"message": "unknown application", "field": "application_id"}],
            )
        filename = body.get("filename")
        if (
            not isinstance(filename, str)
            or "." not in filename
            or filename.lower().endswith((".html", ".exe"))
        ):
            raise ApiError(
                422, "Invalid field", errors=[{"message": "invalid file name", "field": "filename"}]
            )
        if body.get("type") not in ("resume", "cover_letter", "take_home_test", "other"):
            raise ApiError(
                422, "Invalid field", errors=[{"message": "invalid type", "field": "type"}]
            )
        if ("content" in body) == ("url" in body):
            raise ApiError(422, "Send exactly one of content or url")
        if "url" in body:
            raise ApiError(
                422,
                "The sandbox accepts only content uploads",
                errors=[{"message": "unsupported", "field": "url"}],
            )
        try:
            content = base64.b64decode(body["content"], validate=True)
        except (binascii.Error, TypeError):
            raise ApiError(
                422, "Invalid field", errors=[{"message": "not base64", "field": "content"}]
            ) from None
        attachment = self.state.add_attachment(
            application, filename, body["type"], content, body.get("visibility")
        )
        return self._serialize("attachments", attachment)

    # Files -------------------------------------------------------------------------------

    def _serve_file(self, path: str, query: dict) -> None:
        raw_id = path.rsplit("/", 1)[-1]
        with self.state.lock:
            self.state.stats["GET /_files"] += 1
            expires = query.get("expires", ["0"])[-1]
            signature = query.get("signature", [""])[-1]
            attachment_id = int(raw_id) if raw_id.isdigit() else -1
            valid = (
                expires.isdigit()
                and int(expires) > time.time()
                and signature == self.state.file_signature(attachment_id, int(expires))
            )
            content = self.state.files.get(attachment_id)
        if not valid:
            self._send(
                403,
                None,
                raw=b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
                content_type="application/xml",
            )
            return
        if content is None:
            self._send(
                404,
                None,
                raw=b"<Error><Code>NoSuchKey</Code></Error>",
                content_type="application/xml",
            )
            return
        self._send(200, None, raw=content, content_type="application/pdf")

    # Control API -------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: dict, raw: bytes):
        state = self.state
        body = self._json_body(raw) if method == "POST" else {}
        action = path[len("/_sandbox/") :]
        if method == "GET" and action == "dump":
            kind = query.get("kind", [""])[-1]
            if kind not in state.db:
                raise ApiError(404, f"Unknown kind {kind}")
            records = list(state.db[kind].values())
            if "id" in query:
                records = [r for r in records if str(r["id"]) == query["id"][-1]]
            return 200, {"results": json.loads(json.dumps(records))}
        if method == "GET" and action == "stats":
            return 200, {"endpoints": dict(state.stats), "requests": list(state.requests)}
        if method == "POST" and action == "stats/reset":
            state.stats.clear()
            state.requests.clear()
            return 200, {}
        if method == "POST" and action == "faults":
            fault = {"status": 500, "count": 1, **body}
            state.faults.append(fault)
            return 200, {"faults": state.faults}
        if method == "POST" and action == "faults/clear":
            state.faults.clear()
            return 200, {}
        if method == "POST" and action == "rate_limit":
            state.rate_limit = body.get("limit")
            state.rate_window = float(body.get("window", 10))
            state.hits.clear()
            return 200, {"limit": state.rate_limit, "window": state.rate_window}
        if method == "GET" and action == "credentials":
            return 200, state.credentials
        if method == "POST" and action == "credentials":
            for client_id, config in body.items():
                state.credentials.setdefault(client_id, {}).update(config)
            return 200, state.credentials
        if method == "POST" and action == "expire":
            if body.get("tokens"):
                state.tokens.clear()
            if body.get("attachment_urls"):
                state.url_generation += 1
            return 200, {}
        if method == "POST" and action == "activity":
            return 200, state.activity(body)
        if method == "POST" and action == "delete":
            return 200, {
                "deleted": [state.delete_candidate(int(c)) for c in body.get("candidate_ids", [])]
            }
        if method == "POST" and action == "merge":
            return 200, state.merge_candidates(int(body["from"]), int(body["into"]))
        raise ApiError(404, f"No control route {method} {path}")


class Sandbox:
    """A running sandbox: `url` (token endpoint host), `api_url` (Harvest base) and `stop()`."""

    def __init__(
        self, host: str, port: int, seed: int, jobs: int, candidates: int, credentials: dict | None
    ):
        self.state = SandboxState(seed, jobs, candidates, credentials)
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.server.state = self.state  # type: ignore[attr-defined]
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="greenhouse-sandbox", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/v3"

    def start(self) -> Sandbox:
        self.thread.start()
        logger.info("greenhouse sandbox listening on %s", self.url)
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def start_sandbox(
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 1,
    jobs: int = 30,
    candidates: int = 600,
    credentials: dict | None = None,
) -> Sandbox:
    """Generate the organization and serve it in a background thread.

    `credentials` replaces the default client credentials; its shape is
    `{"<client id>": {"secret": ..., "scopes": ["harvest:jobs:list", ...], "token_ttl": 3600}}`.
    The token endpoint is at `<url>/token` and the Harvest API at `<url>/v3`.
    """
    return Sandbox(host, port, seed, jobs, candidates, credentials or DEFAULT_CREDENTIALS).start()
