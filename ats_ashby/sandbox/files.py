"""Signed download URLs, presigned uploads and multipart parsing for resumes."""

import hashlib
import hmac
import time
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs, urlencode

from .pdf import build_pdf

DOWNLOAD_URL_TTL_SECONDS = 300
# Ashby documents that the presigned upload URL expires after 10 minutes.
UPLOAD_URL_TTL_SECONDS = 600


class FileSigner:
    """Signs and checks `/_sandbox/files/<id>` download URLs and `/_sandbox/uploads/<id>` forms."""

    def __init__(self, secret):
        self._secret = secret
        # URLs whose expiry is at or before this time are expired; the control API raises it.
        self.expired_before = 0

    def _mac(self, *parts):
        message = "|".join(str(p) for p in parts).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def download_url(self, base_url, file_id, now=None):
        expires = int(now or time.time()) + DOWNLOAD_URL_TTL_SECONDS
        query = urlencode({"expires": expires, "signature": self._mac("get", file_id, expires)})
        return f"{base_url}/_sandbox/files/{file_id}?{query}"

    def check_download(self, file_id, query_string, now=None):
        """Return None when the URL is valid, else the reason it is rejected."""
        query = parse_qs(query_string)
        try:
            expires = int(query["expires"][0])
            signature = query["signature"][0]
        except (KeyError, ValueError, IndexError):
            return "missing or invalid expires/signature query parameters"
        if not hmac.compare_digest(signature, self._mac("get", file_id, expires)):
            return "signature does not match"
        if expires <= self.expired_before or expires < int(now or time.time()):
            return "URL has expired"
        return None

    def upload_fields(self, upload_id, content_type, now=None):
        expires = int(now or time.time()) + UPLOAD_URL_TTL_SECONDS
        return {
            "key": upload_id,
            "Content-Type": content_type,
            "x-sandbox-expires": str(expires),
            "x-sandbox-signature": self._mac("put", upload_id, content_type, expires),
        }

    def check_upload(self, upload_id, fields, now=None):
        try:
            expires = int(fields["x-sandbox-expires"])
            signature = fields["x-sandbox-signature"]
            content_type = fields["Content-Type"]
        except (KeyError, ValueError):
            return "missing upload policy fields; send every field from file.createFileUploadHandle"
        if fields.get("key") != upload_id:
            return "key field does not match the upload URL"
        if not hmac.compare_digest(signature, self._mac("put", upload_id, content_type, expires)):
            return "signature does not match"
        if expires <= self.expired_before or expires < int(now or time.time()):
            return "upload URL has expired"
        return None


def resume_pdf(candidate):
    """Return the generated resume of a candidate as PDF bytes."""
    lines = [candidate.name]
    if candidate.position or candidate.company:
        lines.append(" at ".join(p for p in (candidate.position, candidate.company) if p))
    if candidate.emails:
        lines.append(candidate.emails[0][0])
    if candidate.school:
        lines.append(f"Education: {candidate.school}")
    return build_pdf(lines)


def parse_multipart(content_type, body):
    """Parse a multipart/form-data body into an ordered list of (name, filename, bytes).

    Raises ValueError when the body is not valid multipart/form-data.
    """
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise ValueError("Content-Type must be multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ValueError("body is not a multipart message")
    parts = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            raise ValueError("a multipart part has no name")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        parts.append((name, filename, payload))
    return parts
