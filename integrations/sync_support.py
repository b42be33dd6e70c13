"""Parsing helpers every provider's sync uses on data from an ATS, which is untrusted."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

# Largest resume file a sync downloads, in bytes.
MAX_RESUME_BYTES = 10 * 1024 * 1024

# File signatures of the resume formats Lavalier stores, with their content types.
RESUME_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (
        b"PK\x03\x04",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".docx",
    ),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/msword", ".doc"),
)


def parse_remote_datetime(value) -> datetime | None:
    """Parse an ISO-8601 timestamp; naive ones are taken as UTC, anything else is None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def clip_text(value, limit: int) -> str:
    """Return a string cut to `limit` characters, or "" for anything that is not a string.

    NUL characters are removed: PostgreSQL text and jsonb columns reject them, so one in
    the ATS's data would fail a whole page of upserts.
    """
    return value.replace("\x00", "")[:limit] if isinstance(value, str) else ""


def resume_kind(content: bytes) -> tuple[str, str] | None:
    """Return (content type, extension) when the bytes start like a resume format we keep."""
    for signature, content_type, extension in RESUME_SIGNATURES:
        if content.startswith(signature):
            return content_type, extension
    return None
