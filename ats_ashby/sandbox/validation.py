"""Request-body checks that produce Ashby's `invalid_input` error."""

import uuid

from .errors import invalid_input

_TYPES = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "array": (list,),
    "object": (dict,),
}


def field(body, name, kind, required=False, enum=None):
    """Return `body[name]` after checking its JSON type; None when absent and optional."""
    if name not in body or body[name] is None:
        if required:
            raise invalid_input(f"Missing required field {name!r}")
        return None
    value = body[name]
    if kind == "uuid":
        if not isinstance(value, str) or not _is_uuid(value):
            raise invalid_input(f"{name} must be a UUID string, got {value!r}")
        return value
    bad_bool = isinstance(value, bool) and kind in ("integer", "number")
    if bad_bool or not isinstance(value, _TYPES[kind]):
        raise invalid_input(f"{name} must be of type {kind}, got {type(value).__name__}")
    if enum is not None:
        values = value if kind == "array" else [value]
        for item in values:
            if item not in enum:
                raise invalid_input(f"{name} has an invalid value {item!r}; expected one of "
                                    f"{', '.join(enum)}")
    return value


def _is_uuid(value):
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def record_ignored_fields(state, endpoint, body, accepted):
    """Count request fields that the endpoint's schema does not define.

    Ashby's request schemas do not forbid extra properties, so the sandbox ignores them (for
    example `position` or `company` on `candidate.update`) and counts them for `/_sandbox/stats`.
    """
    ignored = sorted(set(body) - set(accepted))
    for name in ignored:
        state.ignored_fields[f"{endpoint}:{name}"] += 1
    return ignored
