"""A log formatter that appends the `extra` fields of a record as key=value pairs.

Services log a fixed event name with ids passed in `extra=`; the standard formatter
drops those fields, this one prints them. Fields whose names suggest a secret are
printed as "[redacted]" whatever their value.
"""

from __future__ import annotations

import json
import logging

# Attributes every LogRecord has; anything else on a record came from `extra`.
STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("name", logging.INFO, "path", 1, "message", None, None))
) | {"message", "asctime", "taskName"}
SECRET_MARKERS = ("password", "secret", "credential", "api_key", "apikey", "authorization", "token")
MAX_VALUE_CHARS = 500


def _format_value(value) -> str:
    if isinstance(value, (dict, list, tuple)):
        # Compact JSON has no spaces; json.dumps escapes control characters in strings.
        return json.dumps(value, default=str, separators=(",", ":"), sort_keys=True)[
            :MAX_VALUE_CHARS
        ]
    text = str(value)[:MAX_VALUE_CHARS]
    # Quote values with spaces, quotes or control characters so a line stays one line.
    if not text or any(ch.isspace() or ch in '"=' or not ch.isprintable() for ch in text):
        text = json.dumps(text)
    return text


class KeyValueFormatter(logging.Formatter):
    """Format the record as usual, then append ` key=value` for each extra field, sorted."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        pairs = []
        for key in sorted(vars(record)):
            if key in STANDARD_ATTRIBUTES or key.startswith("_"):
                continue
            value = getattr(record, key)
            if any(marker in key.lower() for marker in SECRET_MARKERS):
                value = "[redacted]"
            pairs.append(f"{key}={_format_value(value)}")
        if not pairs:
            return line
        # Keep key=value pairs on the first line, before any traceback.
        head, newline, rest = line.partition("\n")
        return f"{head} {' '.join(pairs)}{newline}{rest}"
