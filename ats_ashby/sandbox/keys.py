"""API keys, their scopes, and the permission each endpoint needs."""

import copy
import threading

MODULES = (
    "jobs",
    "candidates",
    "interviews",
    "hiringProcessMetadata",
    "organization",
    "offers",
    "apiKeys",
    "approvals",
    "reports",
)

# Permission named in each endpoint's description in Ashby's API reference
# ("Requires the `candidatesRead` permission").
ENDPOINT_PERMISSIONS = {
    "apiKey.info": "apiKeysRead",
    "job.list": "jobsRead",
    "job.info": "jobsRead",
    "job.update": "jobsWrite",
    "jobPosting.list": "jobsRead",
    "jobPosting.info": "jobsRead",
    "interviewPlan.list": "interviewsRead",
    "interviewStage.list": "interviewsRead",
    "application.list": "candidatesRead",
    "application.info": "candidatesRead",
    "application.create": "candidatesWrite",
    "application.changeStage": "candidatesWrite",
    "candidate.list": "candidatesRead",
    "candidate.info": "candidatesRead",
    "candidate.create": "candidatesWrite",
    "candidate.update": "candidatesWrite",
    "candidate.search": "candidatesRead",
    "candidate.uploadResume": "candidatesWrite",
    "file.createFileUploadHandle": "candidatesWrite",
    "file.info": "candidatesRead",
    "source.list": "hiringProcessMetadataRead",
    "archiveReason.list": "hiringProcessMetadataRead",
    "department.list": "organizationRead",
    "location.list": "organizationRead",
    "user.list": "organizationRead",
}

_FULL_READ = ("jobs", "candidates", "interviews", "hiringProcessMetadata", "organization",
              "offers", "apiKeys", "approvals")
_FULL_SCOPES = [f"{module}:read" for module in _FULL_READ] + ["jobs:write", "candidates:write"]

DEFAULT_KEYS = {
    "sandbox_full": {
        "title": "Sandbox key with the permissions Lavalier needs",
        "scopes": list(_FULL_SCOPES),
        "deactivated": False,
    },
    "sandbox_no_candidates_write": {
        "title": "Sandbox key without candidates:write",
        "scopes": [s for s in _FULL_SCOPES if s != "candidates:write"],
        "deactivated": False,
    },
    "sandbox_no_interviews_read": {
        "title": "Sandbox key without interviews:read",
        "scopes": [s for s in _FULL_SCOPES if s != "interviews:read"],
        "deactivated": False,
    },
    "sandbox_deactivated": {
        "title": "Deactivated sandbox key",
        "scopes": list(_FULL_SCOPES),
        "deactivated": True,
    },
}

KEY_CREATED_AT = "2025-01-15T09:30:00.000Z"


def permission_to_scope(permission):
    """Map `candidatesWrite` to `candidates:write`."""
    for suffix in ("Read", "Write"):
        if permission.endswith(suffix):
            return f"{permission[: -len(suffix)]}:{suffix.lower()}"
    raise ValueError(f"Invalid permission name {permission!r}: expected a Read or Write suffix")


def validate_key_config(key, config):
    """Return a normalised copy of one key's config; raise ValueError on a malformed entry."""
    if not isinstance(config, dict):
        raise ValueError(f"Key {key!r}: expected an object with title, scopes and deactivated")
    scopes = config.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ValueError(f"Key {key!r}: scopes must be a list of strings like 'jobs:read'")
    for scope in scopes:
        module, _, access = scope.partition(":")
        if module not in MODULES or access not in ("read", "write"):
            raise ValueError(f"Key {key!r}: invalid scope {scope!r}; use '<module>:read|write' "
                             f"with a module from {', '.join(MODULES)}")
    return {
        "title": str(config.get("title", key)),
        "scopes": list(scopes),
        "deactivated": bool(config.get("deactivated", False)),
        # Ashby's per-key toggle "Allow access to confidential jobs and projects".
        "confidential": bool(config.get("confidential", False)),
    }


class KeyRing:
    """Thread-safe table of API keys; replaced or extended at run time by the control API."""

    def __init__(self, keys=None):
        self._lock = threading.Lock()
        source = DEFAULT_KEYS if keys is None else keys
        self._keys = {k: validate_key_config(k, v) for k, v in source.items()}

    def get(self, key):
        with self._lock:
            config = self._keys.get(key)
            return copy.deepcopy(config) if config else None

    def update(self, keys):
        normalised = {k: validate_key_config(k, v) for k, v in keys.items()}
        with self._lock:
            self._keys.update(normalised)
        return sorted(normalised)

    def describe(self):
        with self._lock:
            return copy.deepcopy(self._keys)
