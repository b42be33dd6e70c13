"""Encryption at rest for ATS credentials.

Keys come from FIELD_ENCRYPTION_KEY (comma-separated Fernet keys). The first key
encrypts; every key decrypts, so a new key can be put first and old tokens re-encrypted
with `rotate` before the old key is removed.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialDecryptionError(Exception):
    """The stored credential does not decrypt with any configured key."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise CredentialDecryptionError(
            "The stored credential cannot be decrypted with FIELD_ENCRYPTION_KEY. "
            "Restore the key it was encrypted with, or update the key in Settings → Integrations."
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token with the first configured key."""
    return _current().rotate(token.encode()).decode()
