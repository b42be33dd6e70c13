"""Checks and naming for uploaded resumes."""

from pathlib import PurePath

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import get_valid_filename

MAX_RESUME_BYTES = 10 * 1024 * 1024

# Content type by extension, and the bytes each format starts with. The content type is
# chosen here, never taken from the browser, so a download cannot be served as HTML.
RESUME_FORMATS = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".doc": ("application/msword", (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
}


def resume_validate(upload: UploadedFile) -> str:
    """Check the extension, size and leading bytes of an upload; return its content type.

    Raises ValidationError naming the file when any check fails.
    """
    name = upload.name or ""
    extension = PurePath(name).suffix.lower()
    if extension not in RESUME_FORMATS:
        raise ValidationError(
            f"The resume {name!r} is not a PDF, DOC or DOCX file. Upload one of those formats."
        )
    if upload.size is not None and upload.size > MAX_RESUME_BYTES:
        raise ValidationError(
            f"The resume {name!r} is {upload.size:,} bytes; the maximum is 10 MB "
            f"({MAX_RESUME_BYTES:,} bytes)."
        )
    content_type, signatures = RESUME_FORMATS[extension]
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not any(head.startswith(signature) for signature in signatures):
        raise ValidationError(
            f"The resume {name!r} does not contain {extension[1:].upper()} data. "
            "Export it again and upload the new file."
        )
    return content_type


def resume_download_name(original_name: str, content_type: str) -> str:
    """Return a file name safe for a Content-Disposition header, with the right extension."""
    extension = next(
        (ext for ext, (known_type, _) in RESUME_FORMATS.items() if known_type == content_type),
        ".pdf",
    )
    stem = PurePath(original_name.replace("\\", "/")).stem if original_name else ""
    try:
        stem = get_valid_filename(stem)[:100]
    except SuspiciousFileOperation:  # Raised for names such as "", "." or "..".
        stem = ""
    return f"{stem or 'resume'}{extension}"
