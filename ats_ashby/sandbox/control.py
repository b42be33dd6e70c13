"""The sandbox's own control API under `/_sandbox/`, outside Ashby's namespace.

JSON in and out, no authentication, and only for clients on a loopback address.
"""

import json
from urllib.parse import parse_qs

from .activity import run_activity
from .state import RequestContext

CONTROL_ROUTES = {
    ("POST", "/_sandbox/activity"): "activity",
    ("GET", "/_sandbox/faults"): "faults_get",
    ("POST", "/_sandbox/faults"): "faults_set",
    ("DELETE", "/_sandbox/faults"): "faults_clear",
    ("POST", "/_sandbox/expire"): "expire",
    ("GET", "/_sandbox/keys"): "keys_get",
    ("POST", "/_sandbox/keys"): "keys_set",
    ("GET", "/_sandbox/stats"): "stats_get",
    ("POST", "/_sandbox/stats/reset"): "stats_reset",
    ("GET", "/_sandbox/dump"): "dump",
}
DUMP_KINDS = ("candidates", "applications", "jobs")


class ControlApi:
    def __init__(self, sandbox):
        self.sandbox = sandbox

    def handle(self, method, path, query, raw_body):
        """Return (HTTP status, JSON-serialisable payload)."""
        route = CONTROL_ROUTES.get((method, path))
        if route is None:
            known = ", ".join(f"{m} {p}" for m, p in CONTROL_ROUTES)
            return 404, {"error": f"Unknown control endpoint {method} {path}; known: {known}"}
        body = {}
        if raw_body:
            try:
                body = json.loads(raw_body)
            except ValueError as exc:
                return 400, {"error": f"Invalid JSON body: {exc}"}
            if not isinstance(body, dict):
                return 400, {"error": "The JSON body must be an object"}
        try:
            return 200, getattr(self, route)(body, parse_qs(query))
        except ValueError as exc:
            return 400, {"error": str(exc)}

    def activity(self, body, _query):
        state = self.sandbox.state
        with state.lock:
            return run_activity(state, body)

    def faults_get(self, _body, _query):
        return {"faults": self.sandbox.faults.config}

    def faults_set(self, body, _query):
        return {"faults": self.sandbox.faults.configure(body)}

    def faults_clear(self, _body, _query):
        self.sandbox.faults.clear()
        return {"faults": {}}

    def expire(self, body, _query):
        state = self.sandbox.state
        with state.lock:
            if body.get("sync_tokens"):
                state.codec.token_epoch += 1
            if body.get("cursors"):
                state.codec.cursor_epoch += 1
            if body.get("file_urls"):
                state.signer.expired_before = 2**62
        return {"expired": sorted(k for k in ("sync_tokens", "cursors", "file_urls")
                                  if body.get(k))}

    def keys_get(self, _body, _query):
        return {"keys": sorted(self.sandbox.keys.describe())}

    def keys_set(self, body, _query):
        return {"updated": self.sandbox.keys.update(body)}

    def stats_get(self, _body, _query):
        return self.sandbox.stats.snapshot(self.sandbox.state)

    def stats_reset(self, _body, _query):
        self.sandbox.stats.reset(self.sandbox.state)
        return {"reset": True}

    def dump(self, _body, query):
        kind = (query.get("kind") or [""])[0]
        if kind not in DUMP_KINDS:
            raise ValueError(f"kind must be one of {', '.join(DUMP_KINDS)}")
        wanted_id = (query.get("id") or [None])[0]
        state = self.sandbox.state
        everything = RequestContext({"confidential": True}, "dump")
        with state.lock:
            if kind == "candidates":
                rows = [(c, state.serialize_candidate(c, everything)) for c in state.org.candidates
                        if wanted_id in (None, c.id)]
                return {"results": [{**data, "_seq": c.seq, "_hiddenWithoutConfidentialAccess":
                                     c.is_hidden(False)} for c, data in rows]}
            if kind == "applications":
                return {"results": [{**state.serializer.application(a), "_seq": a.seq}
                                    for a in state.org.applications if wanted_id in (None, a.id)]}
            return {"results": [{**state.serializer.job(j, include_unpublished=True),
                                 "_seq": j["seq"]}
                                for j in state.org.jobs if wanted_id in (None, j["id"])]}
