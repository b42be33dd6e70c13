"""Validation of client request bodies against Ashby's OpenAPI document.

The helpers here are shared by the other ``test_client*`` modules. The OpenAPI file is found
through the environment variable ``ASHBY_OPENAPI_SPEC``, defaulting to
``<repository>/../shared/ashby-openapi.json``.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import httpx
import pytest
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

REPOSITORY = Path(__file__).resolve().parents[2]
DEFAULT_SPEC_PATH = REPOSITORY.parent / "shared" / "ashby-openapi.json"
SPEC_URI = "urn:ashby-openapi"


def spec_path() -> Path:
    return Path(os.environ.get("ASHBY_OPENAPI_SPEC", str(DEFAULT_SPEC_PATH)))


@functools.cache
def load_spec() -> dict:
    path = spec_path()
    if not path.is_file():
        message = f"Ashby OpenAPI document not found at {path}; set ASHBY_OPENAPI_SPEC to its path"
        # CI always has the document, so there a missing file is an error. A checkout
        # without it skips the conformance checks instead of failing the whole run.
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def _json_pointer_segment(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


@functools.cache
def body_validator(endpoint: str) -> OAS31Validator:
    """Return a validator for the JSON requestBody schema of ``POST /<endpoint>``.

    The schema's ``$ref``s point into other paths of the document, so the whole document is
    registered and the schema is reached through a reference into it.
    """
    path = f"/{endpoint}"
    operation = load_spec()["paths"].get(path, {}).get("post")
    if operation is None:
        pytest.fail(f"Endpoint {endpoint} is not in the Ashby OpenAPI document", pytrace=False)
    if "application/json" not in operation.get("requestBody", {}).get("content", {}):
        pytest.fail(f"Endpoint {endpoint} has no JSON requestBody in the spec", pytrace=False)
    pointer = (
        f"#/paths/{_json_pointer_segment(path)}/post/requestBody/content/"
        f"{_json_pointer_segment('application/json')}/schema"
    )
    return OAS31Validator(
        {"$ref": SPEC_URI + pointer},
        registry=_registry(),
        format_checker=OAS31Validator.FORMAT_CHECKER,
    )


def validate_body(endpoint: str, body: object) -> None:
    """Fail the test when ``body`` does not conform to the endpoint's requestBody schema."""
    errors = sorted(body_validator(endpoint).iter_errors(body), key=lambda error: error.path)
    if errors:
        details = "; ".join(
            f"{'/'.join(map(str, error.path)) or '<root>'}: {error.message}" for error in errors
        )
        pytest.fail(f"Request body for {endpoint} violates the spec: {details}", pytrace=False)


def validate_request(request: httpx.Request, base_url: str) -> str | None:
    """Validate an Ashby JSON request; return its endpoint, or None for other requests."""
    url = str(request.url)
    if not url.startswith(base_url.rstrip("/") + "/"):
        return None
    if not request.headers.get("content-type", "").startswith("application/json"):
        return None
    endpoint = request.url.path.rsplit("/", 1)[-1]
    if f"/{endpoint}" not in load_spec()["paths"]:
        return None
    validate_body(endpoint, json.loads(request.content or b"null"))
    return endpoint


class ValidatingTransport(httpx.BaseTransport):
    """Transport wrapper that validates every Ashby request body before sending it."""

    def __init__(self, inner: httpx.BaseTransport, base_url: str) -> None:
        self.inner = inner
        self.base_url = base_url
        self.validated: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        endpoint = validate_request(request, self.base_url)
        if endpoint:
            self.validated.append(endpoint)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


# The validator itself must reject bodies that break the spec, or the checks prove nothing.


def test_spec_validator_accepts_valid_body():
    validate_body(
        "candidate.update",
        {"candidateId": "0b8d3a7e-39a4-4b8e-9d5f-3d5a2b0f9c11", "name": "Ada Lovelace"},
    )


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("job.update", {"title": "No job id"}),
        ("candidate.info", {"id": "not-a-uuid"}),
        ("application.list", {"status": "Open"}),
        ("location.list", {"includeArchived": True, "limit": 100}),
        ("file.createFileUploadHandle", {"fileUploadContext": "Resume", "filename": "a.pdf"}),
    ],
)
def test_spec_validator_rejects_invalid_body(endpoint, body):
    assert list(body_validator(endpoint).iter_errors(body)), f"{endpoint} accepted {body}"


def test_spec_validator_resolves_refs_into_other_paths():
    # job.list's schema is an allOf whose first part is a $ref to opening.list's schema.
    with pytest.raises(ValidationError):
        body_validator("job.list").validate({"cursor": 5})
