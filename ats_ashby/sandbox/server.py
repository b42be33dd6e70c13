"""HTTP layer: Ashby's `POST /<category>.<method>` transport plus the `/_sandbox/` routes."""

import base64
import binascii
import ipaddress
import itertools
import json
import logging
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import api_applications, api_candidates, api_jobs, api_reference
from .control import ControlApi
from .errors import AshbyError
from .faults import FaultPlan
from .files import parse_multipart, resume_pdf
from .keys import ENDPOINT_PERMISSIONS, KeyRing, permission_to_scope
from .records import StoredFile
from .state import RequestContext, SandboxState

logger = logging.getLogger(__name__)

HANDLERS = {**api_reference.HANDLERS, **api_jobs.HANDLERS, **api_applications.HANDLERS,
            **api_candidates.HANDLERS}
MAX_BODY_BYTES = 20 * 1024 * 1024


class RequestStats:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self, state=None):
        with self._lock:
            self.endpoints = Counter()
            self.statuses = Counter()
            self.faults = Counter()
            self.total = 0
        if state is not None:
            with state.lock:
                state.ignored_fields.clear()

    def record(self, endpoint, status, fault):
        with self._lock:
            self.total += 1
            self.endpoints[endpoint] += 1
            self.statuses[str(status)] += 1
            if fault:
                self.faults[fault] += 1

    def snapshot(self, state):
        with self._lock:
            result = {"total": self.total, "endpoints": dict(self.endpoints),
                      "statuses": dict(self.statuses), "faults": dict(self.faults)}
        with state.lock:
            result["ignoredFields"] = dict(state.ignored_fields)
        return result


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY the client's delayed
    # ACK stalls every keep-alive response by about 40 ms.
    disable_nagle_algorithm = True
    server_version = "AshbySandbox/1.0"
    timeout = 120  # seconds an idle keep-alive connection is kept open

    def do_POST(self):  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        self.server.sandbox.dispatch(self, "POST")

    def do_GET(self):  # noqa: N802
        self.server.sandbox.dispatch(self, "GET")

    def do_DELETE(self):  # noqa: N802
        self.server.sandbox.dispatch(self, "DELETE")

    def do_PUT(self):  # noqa: N802
        self.server.sandbox.dispatch(self, "PUT")

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass  # Requests are logged through `logging` in Sandbox.dispatch.


class Sandbox:
    """A running sandbox server; create it with `start_sandbox()`."""

    def __init__(self, host="127.0.0.1", port=0, seed=1, jobs=40, candidates=2000, keys=None):
        self.state = SandboxState(seed, jobs, candidates)
        self.keys = KeyRing(keys)
        self.faults = FaultPlan(seed)
        self.stats = RequestStats()
        self.control = ControlApi(self)
        self._stopping = threading.Event()
        self._request_numbers = itertools.count(1)
        self._httpd = _Server((host, port), _Handler)
        self._httpd.sandbox = self
        bound_host, bound_port = self._httpd.server_address[:2]
        self.url = f"http://{bound_host}:{bound_port}"
        self.state.base_url = self.url
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="ashby-sandbox",
                                        kwargs={"poll_interval": 0.1}, daemon=True)

    def start(self):
        self._thread.start()
        logger.info("sandbox.started url=%s", self.url)
        return self

    def stop(self):
        """Stop serving, release hanging requests and wait for the server thread."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)
        logger.info("sandbox.stopped url=%s", self.url)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    # Dispatch -------------------------------------------------------------------------------

    def dispatch(self, handler, method):
        started = time.monotonic()
        parts = urlsplit(handler.path)
        try:
            raw = self._read_body(handler)
        except ValueError as exc:
            self._send(handler, 400, {"error": str(exc)})
            handler.close_connection = True
            return
        if parts.path.startswith("/_sandbox/"):
            self._dispatch_sandbox(handler, method, parts, raw)
        else:
            self._dispatch_api(handler, method, parts.path.lstrip("/"), raw, started)

    @staticmethod
    def _read_body(handler):
        length = handler.headers.get("Content-Length")
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise ValueError("Chunked request bodies are not supported; send Content-Length")
        if not length:
            return b""
        size = int(length)
        if size < 0 or size > MAX_BODY_BYTES:
            raise ValueError(f"Request body of {size} bytes is not allowed")
        return handler.rfile.read(size)

    def _dispatch_sandbox(self, handler, method, parts, raw):
        path = parts.path
        if path.startswith("/_sandbox/files/") and method == "GET":
            self._serve_file(handler, path.rsplit("/", 1)[-1], parts.query)
            return
        if path.startswith("/_sandbox/uploads/") and method == "POST":
            self._receive_upload(handler, path.rsplit("/", 1)[-1], raw)
            return
        if not _is_loopback(handler.client_address[0]):
            self._send(handler, 403, {"error": "The control API only accepts loopback clients"})
            return
        status, payload = self.control.handle(method, path, parts.query, raw)
        logger.debug("sandbox.control method=%s path=%s status=%d", method, path, status)
        self._send(handler, status, payload)

    def _dispatch_api(self, handler, method, endpoint, raw, started):
        request_id = f"sbx{next(self._request_numbers):023d}"
        fault = None
        status = 200
        try:
            ctx = self._authenticate(handler, request_id)
            if method != "POST" or endpoint not in HANDLERS:
                # NOTE: the status and code Ashby uses for an unknown endpoint are not documented.
                raise AshbyError("endpoint_not_found",
                                 f"No endpoint {method} /{endpoint}; Ashby endpoints are POST "
                                 f"/<category>.<method>", status=404)
            self._authorize(ctx, endpoint)
            fault, latency, config = self.faults.decide(endpoint)
            if latency and self._stopping.wait(latency):
                return
            if fault == "rate_429":
                retry = config["retry_after"]
                raise AshbyError("rate_limit_exceeded",
                                 f"Rate limit exceeded. Try again in {retry} seconds.",
                                 status=429, headers={"Retry-After": str(int(retry))})
            if fault == "rate_5xx":
                raise AshbyError("internal_server_error", "An internal error occurred",
                                 status=config["status_5xx"])
            if fault == "timeout_rate":
                self._hang(handler, config)
                status = "hang"
                return
            envelope = self._call(handler, endpoint, raw, ctx)
            if fault == "fail_after_store":
                if config["fail_after_store_mode"] == "hang":
                    self._hang(handler, config)
                    status = "hang"
                    return
                raise AshbyError("internal_server_error",
                                 "An internal error occurred after the change was saved",
                                 status=500)
        except AshbyError as error:
            status = error.status
            self._send(handler, status, _error_envelope(error, request_id), error.headers)
            return
        finally:
            self.stats.record(endpoint, status, fault)
            logger.debug("sandbox.request endpoint=%s status=%s fault=%s request_id=%s ms=%.1f",
                         endpoint, status, fault, request_id, (time.monotonic() - started) * 1000)
        body = json.dumps(envelope, separators=(",", ":")).encode()
        if fault == "malformed_json_rate":
            self._send_raw(handler, 200, body[: max(1, len(body) // 3)] + b"<html>", None)
        elif fault == "truncated_page_rate":
            self._send_truncated(handler, body)
        else:
            self._send_raw(handler, 200, body, None)

    def _authenticate(self, handler, request_id):
        header = handler.headers.get("Authorization", "")
        # NOTE: Ashby documents 401 for a missing key and 403 for a wrong or deactivated key,
        # but not the error codes; the codes below are the sandbox's choice.
        if not header.startswith("Basic "):
            raise AshbyError("unauthenticated", "Missing API key: send it as the HTTP Basic auth "
                             "username with an empty password", status=401)
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise AshbyError("unauthenticated", "Malformed Basic Authorization header",
                             status=401) from None
        key = decoded.partition(":")[0]
        if not key:
            raise AshbyError("unauthenticated", "Missing API key: send it as the HTTP Basic auth "
                             "username with an empty password", status=401)
        config = self.keys.get(key)
        if config is None:
            raise AshbyError("invalid_api_key", "The API key is not valid", status=403)
        if config["deactivated"]:
            raise AshbyError("api_key_deactivated", "The API key has been deactivated",
                             status=403)
        return RequestContext(config, request_id)

    @staticmethod
    def _authorize(ctx, endpoint):
        permission = ENDPOINT_PERMISSIONS[endpoint]
        if permission_to_scope(permission) not in ctx.key_config["scopes"]:
            raise AshbyError("missing_endpoint_permission",
                             f"The API key is missing the {permission} permission required "
                             f"for {endpoint}", status=403)

    def _call(self, handler, endpoint, raw, ctx):
        content_type = handler.headers.get("Content-Type", "")
        media_type = content_type.split(";")[0].strip().lower()
        state = self.state
        if endpoint == "candidate.uploadResume" and media_type == "multipart/form-data":
            with state.lock:
                return api_candidates.candidate_upload_resume_multipart(state, content_type, raw,
                                                                        ctx)
        if media_type != "application/json":
            raise AshbyError("invalid_input", "Content-Type must be application/json, got "
                             f"{content_type or 'none'!r}")
        try:
            body = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise AshbyError("invalid_input", "Request payload is malformed") from None
        if not isinstance(body, dict):
            raise AshbyError("invalid_input", "Request payload must be a JSON object")
        with state.lock:
            return HANDLERS[endpoint](state, body, ctx)

    # Files ----------------------------------------------------------------------------------

    def _serve_file(self, handler, file_id, query):
        state = self.state
        reason = state.signer.check_download(file_id, query)
        stored = state.org.files.get(file_id)
        if reason or stored is None:
            detail = reason or "file not found"
            logger.debug("sandbox.file_rejected file_id=%s reason=%s", file_id, detail)
            self._send_raw(handler, 403, f"<Error><Code>AccessDenied</Code><Message>{detail}"
                           "</Message></Error>".encode(), "application/xml")
            return
        data = stored.data
        if data is None:
            with state.lock:
                data = resume_pdf(state.org.candidate_by_id[stored.candidate_id])
        self._send_raw(handler, 200, data, stored.content_type,
                       {"Content-Disposition": f'attachment; filename="{stored.name}"'})

    def _receive_upload(self, handler, upload_id, raw):
        state = self.state
        upload = state.uploads.get(upload_id)
        try:
            parts = parse_multipart(handler.headers.get("Content-Type", ""), raw)
        except ValueError as exc:
            self._send_raw(handler, 400, f"<Error>{exc}</Error>".encode(), "application/xml")
            return
        fields = {name: data.decode("utf-8", "replace") for name, filename, data in parts[:-1]}
        problem = None
        if upload is None:
            problem = "unknown upload URL"
        elif not parts or parts[-1][0] != "file":
            problem = "the file must be the last part, named 'file'"
        else:
            problem = state.signer.check_upload(upload_id, fields)
        if problem is None and len(parts[-1][2]) != upload["length"]:
            problem = (f"file has {len(parts[-1][2])} bytes but contentLength was "
                       f"{upload['length']}")
        if problem:
            logger.debug("sandbox.upload_rejected upload_id=%s reason=%s", upload_id, problem)
            self._send_raw(handler, 403, f"<Error>{problem}</Error>".encode(), "application/xml")
            return
        with state.lock:
            state.org.files[upload_id] = StoredFile(upload_id, upload["filename"],
                                                    upload["content_type"], parts[-1][2])
        self._send_raw(handler, 204, b"", None)

    # Responses ------------------------------------------------------------------------------

    def _hang(self, handler, config):
        """Keep the client waiting, then drop the connection without a response."""
        self._stopping.wait(config["hang_seconds"])
        handler.close_connection = True
        try:
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, handler, status, payload, headers=None):
        body = json.dumps(payload, separators=(",", ":")).encode()
        self._send_raw(handler, status, body, "application/json", headers)

    @staticmethod
    def _send_raw(handler, status, body, content_type="application/json", headers=None):
        try:
            handler.send_response(status)
            if content_type or status != 204:
                handler.send_header("Content-Type", content_type or "application/json")
            handler.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    @staticmethod
    def _send_truncated(handler, body):
        """Announce the full body length, send only part of it, then close the connection."""
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        handler.close_connection = True


def _error_envelope(error, request_id):
    return {"success": False, "errors": [error.code],
            "errorInfo": {"code": error.code, "message": error.message, "requestId": request_id}}


def _is_loopback(address):
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def start_sandbox(host="127.0.0.1", port=0, seed=1, jobs=40, candidates=2000, keys=None):
    """Generate the organization and serve it in a background thread.

    `keys` replaces the default keys; it has the shape of the `--keys` JSON file:
    `{"<key>": {"title": ..., "scopes": ["jobs:read", ...], "deactivated": false}}`.
    Returns a `Sandbox` with `.url` and `.stop()`; it is also a context manager.
    """
    return Sandbox(host, port, seed, jobs, candidates, keys).start()
