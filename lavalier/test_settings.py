"""Settings for the test suite: production settings with test-only conveniences.

Tests run with DEBUG off, as production does, so they may use the development secrets
unless the test command supplies its own.
"""

import os

os.environ.setdefault("LAVALIER_ALLOW_DEVELOPMENT_SECRETS", "true")

from .settings import *  # noqa: E402,F403

# A fast hasher: the suite creates many users, and hashing strength is not under test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
